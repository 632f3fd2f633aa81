from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgan.datasets import load_adult_sample

# Small but complete settings for fits inside tests: seconds, not minutes.
TINY = dict(epochs=2, batch_size=40, pac=4, embedding_dim=16,
            generator_dim=(32,), discriminator_dim=(32,), device="cpu")


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    return load_adult_sample().iloc[:400].reset_index(drop=True)


def make_mixed(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": rng.normal(10, 3, n),
            "count": rng.integers(0, 50, n),
            "color": rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]),
            "flag": rng.random(n) < 0.3,
        }
    )
    return df


@pytest.fixture
def mixed() -> pd.DataFrame:
    return make_mixed()


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tiny networks gain nothing from threads, and oversubscribed cores slow them badly."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def tiny_networks(*, n: int = 200, seed: int = 0, critic=(16,), pac: int = 1, **critic_kw):
    """A fitted transformer on ``make_mixed(n)``, its encoded table and a small generator
    and critic initialised from ``torch.Generator().manual_seed(seed)`` (returned as
    ``rng``), for tests that build a trainer by hand."""
    from types import SimpleNamespace

    import torch

    from tabgan.critic import Discriminator
    from tabgan.networks import Generator, init_weights, materialize
    from tabgan.transformer import DataTransformer

    cpu = torch.device("cpu")
    df = make_mixed(n)
    rng = np.random.default_rng(0)
    tr = DataTransformer().fit(df, rng=rng)
    data = tr.transform_compact(df, rng=rng)
    layout = tr.layout_
    g = torch.Generator().manual_seed(seed)
    G = materialize(lambda: Generator(8, layout.condition_width, (16,), layout.width), cpu)
    D = materialize(
        lambda: Discriminator(layout.width + layout.condition_width, critic, pac=pac,
                              **critic_kw),
        cpu,
    )
    init_weights(G, g)
    init_weights(D, g)
    return SimpleNamespace(transformer=tr, data=data, layout=layout, G=G, D=D, rng=g)
