"""Tests for tabgan/audit/neighbors.py: the chunked exact search against brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabgan.audit import MixedTypeDistance
from tabgan.audit import neighbors as neighbors_module
from tabgan.datasets import load_adult_sample


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult_sample()


def _brute_force(dist: MixedTypeDistance, q: pd.DataFrame, r: pd.DataFrame, k: int):
    d = dist.pairwise(q, r)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, order, axis=1)


frames = st.integers(min_value=0, max_value=2**31 - 1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=frames, nq=st.integers(1, 40), nr=st.integers(2, 60), k=st.integers(1, 3))
def test_chunked_search_equals_brute_force(monkeypatch_block, seed, nq, nr, k):
    rng = np.random.default_rng(seed)

    def table(n):
        x = rng.normal(size=n)
        x[rng.random(n) < 0.2] = np.nan
        return pd.DataFrame(
            {
                "x": x,
                "n": rng.integers(0, 5, size=n),
                "c": rng.choice(["a", "b", None], size=n),
                "h": rng.choice([f"v{i}" for i in range(80)], size=n),  # high-cardinality path
            }
        )

    q, r = table(nq), table(nr)
    dist = MixedTypeDistance(chunk_elements=7).fit(r)
    nn = dist.nearest(q, r, k=k)
    expected = _brute_force(dist, q, r, min(k, nr))
    np.testing.assert_allclose(nn.distances, expected, atol=1e-6)
    full = dist.pairwise(q, r)
    picked = np.take_along_axis(full, nn.indices, axis=1)
    np.testing.assert_allclose(picked, nn.distances, atol=1e-6)


@pytest.fixture
def monkeypatch_block():
    # a tiny reference block exercises the merge of per-block results
    old = neighbors_module._MAX_BLOCK
    neighbors_module._MAX_BLOCK = 5
    yield
    neighbors_module._MAX_BLOCK = old


def test_kernel_density_and_exclude_self(monkeypatch_block, adult):
    t = adult.iloc[:51]  # blocks of 5: the last block holds only row 50 itself
    dist = MixedTypeDistance(chunk_elements=11).fit(t)
    h = 0.05
    nn = dist.nearest(t, t, k=1, bandwidth=h, exclude_self=True)
    d = dist.pairwise(t, t)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(nn.distances[:, 0], d.min(axis=1), atol=1e-6)
    expected = np.log(np.exp(-d / h).sum(axis=1) / (len(t) - 1))
    assert nn.log_density is not None
    np.testing.assert_allclose(nn.log_density, expected, rtol=1e-4, atol=1e-4)


def test_thread_setting_is_restored(adult):
    import torch

    before = torch.get_num_threads()
    MixedTypeDistance(n_threads=1).fit(adult.iloc[:30]).nearest(adult.iloc[:5], adult.iloc[:30])
    assert torch.get_num_threads() == before
