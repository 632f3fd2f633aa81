"""Tests for tabgan/audit/distance.py: the mixed-type distance, the search and the DCR audit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabgan.audit import MixedTypeDistance, distance_to_closest_record
from tabgan.audit import distance as distance_module
from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError, InvalidParameterError, NotFittedError


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult_sample()


def test_distance_definition_by_hand():
    train = pd.DataFrame(
        {
            "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            "c": list("aabbccddeef"),
        }
    )
    dist = MixedTypeDistance().fit(train)
    scale = np.quantile(train["x"], 0.99) - np.quantile(train["x"], 0.01)
    assert dist.robust_range("x") == pytest.approx(scale)
    a = pd.DataFrame({"x": [0.0, np.nan, np.nan, 100.0], "c": ["a", None, "a", "zzz"]})
    b = pd.DataFrame({"x": [2.0, np.nan], "c": ["b", None]})
    d = dist.pairwise(a, b)
    # (|0 - 2| / scale + mismatch) / 2 columns
    assert d[0, 0] == pytest.approx((2 / scale + 1) / 2, rel=1e-6)
    # missing numeric vs present: full mismatch; missing category vs present: full mismatch
    assert d[0, 1] == pytest.approx(1.0)
    # both missing in both columns: identical
    assert d[1, 1] == pytest.approx(0.0)
    # missing x vs missing x: 0; 'a' vs missing: 1
    assert d[2, 1] == pytest.approx(0.5)
    # far outlier is clipped at a full mismatch; unseen category mismatches
    assert d[3, 0] == pytest.approx(1.0)
    assert np.all((d >= 0) & (d <= 1))


def test_categories_compare_as_text_and_bool_columns_work():
    train = pd.DataFrame({"code": [1, 2, 3, 1], "flag": [True, False, True, True]})
    dist = MixedTypeDistance(metadata={"code": "discrete"}).fit(train)
    other = pd.DataFrame({"code": ["1"], "flag": [True]})
    assert dist.pairwise(other, train)[0, 0] == pytest.approx(0.0)


def test_datetime_columns_are_numeric():
    train = pd.DataFrame({"t": pd.date_range("2020-01-01", periods=101, freq="D")})
    dist = MixedTypeDistance().fit(train)
    d = dist.pairwise(train.iloc[[0]], train.iloc[[10, 100]])
    assert d[0, 0] == pytest.approx(10 / 98, rel=1e-3)  # robust range: 1st..99th pct = 98 days
    assert d[0, 1] == pytest.approx(1.0)


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
    old = distance_module._MAX_BLOCK
    distance_module._MAX_BLOCK = 5
    yield
    distance_module._MAX_BLOCK = old


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


def test_select_equals_encoding_a_subset(adult):
    t = adult.iloc[:120].assign(key=[f"k{i % 90}" for i in range(120)])  # high cardinality
    q = adult.iloc[120:160].assign(key=[f"k{i}" for i in range(40)])
    dist = MixedTypeDistance().fit(t)
    cols = ["age", "education", "key", "sex", "hours-per-week"]
    eq, et = dist.encode(q, t)
    sq, st_ = dist.encode(q, t, columns=cols)
    a = dist.search(eq.select(cols), et.select(cols), k=3)
    b = dist.search(sq, st_, k=3)
    np.testing.assert_allclose(a.distances, b.distances, atol=1e-6)
    assert eq.select(cols).n_columns == len(cols)


def test_thread_setting_is_restored(adult):
    import torch

    before = torch.get_num_threads()
    MixedTypeDistance(n_threads=1).fit(adult.iloc[:30]).nearest(adult.iloc[:5], adult.iloc[:30])
    assert torch.get_num_threads() == before


def test_invalid_parameters_and_unfitted(adult):
    with pytest.raises(InvalidParameterError, match="chunk_elements"):
        MixedTypeDistance(chunk_elements=0).fit(adult)
    with pytest.raises(InvalidParameterError, match="n_threads"):
        MixedTypeDistance(n_threads=0).fit(adult)
    with pytest.raises(NotFittedError):
        MixedTypeDistance().encode(adult)
    dist = MixedTypeDistance().fit(adult.iloc[:20])
    with pytest.raises(InvalidParameterError, match="'k'"):
        dist.nearest(adult.iloc[:3], adult.iloc[:20], k=0)
    with pytest.raises(InvalidParameterError, match="bandwidth"):
        dist.nearest(adult.iloc[:3], adult.iloc[:20], bandwidth=0.0)


def test_non_numeric_value_in_numeric_column_raises(adult):
    train = adult.iloc[:200]
    syn = train.copy()
    syn["age"] = syn["age"].astype(object)
    syn.loc[0, "age"] = "old"
    with pytest.raises(InvalidDataError, match="'age'"):
        distance_to_closest_record(train, adult.iloc[200:400], syn, random_state=0)


# ------------------------------------------------------------------ DCR audit
def test_dcr_copying_generator(adult):
    train, holdout = adult.iloc[:400], adult.iloc[400:800]
    res = distance_to_closest_record(train, holdout, train, random_state=0)
    assert res.exact_copy_rate == pytest.approx(1.0)
    assert res.holdout_exact_copy_rate < 0.01
    assert res.share_closer_to_train > 0.95
    assert res.median_synthetic == 0.0
    assert res.median_holdout > 0.0
    assert res.median_nndr_synthetic == 0.0


def test_dcr_independent_draw(adult):
    train, holdout, syn = adult.iloc[:600], adult.iloc[600:1200], adult.iloc[1200:1800]
    res = distance_to_closest_record(train, holdout, syn, random_state=0)
    lo, hi = res.share_closer_to_train_ci
    assert lo <= 0.5 <= hi
    assert abs(res.share_closer_to_train - 0.5) < 0.05
    assert res.exact_copy_rate < 0.01
    assert res.median_synthetic == pytest.approx(res.median_holdout, rel=0.2)
    d = res.to_dict()
    assert {"median_synthetic_to_train", "share_closer_to_train", "exact_copy_rate"} <= set(d)


def test_dcr_seeded_and_subsampled(adult):
    train, holdout, syn = adult.iloc[:300], adult.iloc[300:600], adult.iloc[600:1200]
    a = distance_to_closest_record(train, holdout, syn, max_rows=100, random_state=3)
    b = distance_to_closest_record(train, holdout, syn, max_rows=100, random_state=3)
    assert a.n_synthetic == 100 and a.n_holdout == 100
    assert a.to_dict() == b.to_dict()


def test_mixed_types_nans_and_single_category_column():
    rng = np.random.default_rng(0)
    n = 300

    def table():
        x = rng.normal(size=n)
        x[rng.random(n) < 0.1] = np.nan
        return pd.DataFrame(
            {
                "x": x,
                "i": rng.integers(0, 100, size=n),
                "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
                "cat": rng.choice(["a", "b", "c", None], size=n),
                "flag": rng.random(n) < 0.3,
                "const": ["same"] * n,
            }
        )

    train, holdout, syn = table(), table(), table()
    with pytest.warns(UserWarning, match="'const' has a single value"):
        res = distance_to_closest_record(train, holdout, syn, random_state=0)
    assert np.isfinite(res.median_synthetic)
    assert 0.0 <= res.share_closer_to_train <= 1.0


def test_mismatched_columns_raise(adult):
    train = adult.iloc[:100]
    with pytest.raises(InvalidDataError, match="missing \\['income'\\]"):
        distance_to_closest_record(train, train, train.drop(columns="income"))
    with pytest.raises(InvalidDataError, match="unexpected \\['extra'\\]"):
        distance_to_closest_record(train, train.assign(extra=1), train)
    with pytest.raises(InvalidDataError, match="DataFrame"):
        distance_to_closest_record(train, train.to_numpy(), train)  # type: ignore[arg-type]
    with pytest.raises(InvalidDataError, match="empty"):
        distance_to_closest_record(train, train.iloc[:0], train)


def test_column_order_does_not_matter(adult):
    train, holdout, syn = adult.iloc[:200], adult.iloc[200:400], adult.iloc[400:600]
    shuffled = syn[list(reversed(syn.columns))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = distance_to_closest_record(train, holdout, syn, random_state=1)
        b = distance_to_closest_record(train, holdout, shuffled, random_state=1)
    assert a.to_dict() == b.to_dict()
