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
