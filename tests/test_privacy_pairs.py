"""tabgan.privacy.pairs: the coarse bins, the choice of pairs, the noisy pair counts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tabgan.binning import Binning
from tabgan.calibration import Calibration
from tabgan.privacy.accountant import gaussian_mu
from tabgan.privacy.pairs import PAIR_BINS, pair_binnings, release_pairs, select_pairs

KINDS = {"a": "discrete", "b": "discrete", "x": "continuous", "noise": "continuous"}


def tied(n: int, seed: int = 0) -> pd.DataFrame:
    """a and x depend on each other; b and noise on nothing."""
    r = np.random.default_rng(seed)
    a = r.choice(["p", "q", "r"], n)
    x = np.where(a == "p", 0.0, np.where(a == "q", 5.0, 10.0)) + r.normal(0, 1, n)
    x[r.random(n) < 0.05] = np.nan
    return pd.DataFrame({"a": a, "b": r.choice(["u", "v"], n), "x": x,
                         "noise": r.normal(0, 1, n)})


def test_coarse_bins_and_the_strongest_pair():
    pool = tied(5000)
    bins = pair_binnings(pool, KINDS)
    assert [b.name for b in bins] == list(pool.columns)
    assert sorted(bins[0].categories) == ["p", "q", "r"]
    assert len(bins[2].edges) == PAIR_BINS - 1 and bins[2].n_bins == PAIR_BINS + 1
    assert select_pairs(pool, bins, k=1) == [(0, 2)]  # a x x
    assert len(select_pairs(pool, bins)) == 6  # every pair when fewer than MAX_PAIRS


def test_each_row_adds_one_to_one_cell_of_each_grid():
    df = tied(3000)
    bins = pair_binnings(tied(5000, seed=1), KINDS)
    pairs = [(0, 2), (1, 3)]
    # an epsilon so large that the noise is far below one row
    targets, entry = release_pairs(df, bins, pairs, epsilon=1e4, delta=1e-6,
                                   rng=np.random.default_rng(0))
    assert entry.details["sigma"] < 0.05
    for (i, j), (index, share) in zip(pairs, targets):
        nb = bins[j].n_bins
        exact = np.bincount(bins[i].codes(df[bins[i].name]) * nb + bins[j].codes(df[bins[j].name]),
                            minlength=bins[i].n_bins * nb)
        held = np.flatnonzero(exact > 0)
        assert index == held.tolist()
        np.testing.assert_allclose(np.asarray(share) * len(df), exact[held], atol=0.5)


def test_noise_has_the_scale_of_the_sensitivity_sqrt_pairs():
    df = tied(2000)
    bins = pair_binnings(df, KINDS)
    pairs = [(0, 1), (0, 2), (1, 3), (2, 3)]
    eps, delta = 0.5, 1e-6
    sigma = math.sqrt(len(pairs)) / gaussian_mu(eps, delta)
    rng = np.random.default_rng(0)
    a = bins[0].codes(df["a"]) * bins[1].n_bins + bins[1].codes(df["b"])
    exact = np.bincount(a, minlength=bins[0].n_bins * bins[1].n_bins)
    cell = int(np.argmax(exact))
    draws = []
    for _ in range(300):
        targets, entry = release_pairs(df, bins, pairs, epsilon=eps, delta=delta, rng=rng)
        index, share = targets[0]
        assert entry.details["sigma"] == pytest.approx(sigma)
        draws.append(share[index.index(cell)])  # the largest cell always clears 2 sigma
    # its share varies by about sigma / n (less its own part in the kept total); an
    # L2 sensitivity of len(pairs) instead of its square root would double it
    assert np.std(draws) * len(df) == pytest.approx(sigma * math.sqrt(1 - exact[cell] / len(df)),
                                                    rel=0.35)


def test_calibration_with_pairs_draws_rows_towards_the_released_pair():
    r = np.random.default_rng(0)
    n = 20_000
    pool = pd.DataFrame({"a": r.choice(["p", "q"], n), "b": r.choice(["u", "v"], n)})
    base = Calibration.fit(pool, {"a": "discrete", "b": "discrete"}, mode="marginals", rng=r)
    coarse = [Binning("a", "discrete", categories=["p", "q"]),
              Binning("b", "discrete", categories=["u", "v"])]
    # the released pair: a == "p" goes with b == "u" three times in four
    nb = coarse[1].n_bins
    cells = [0 * nb + 0, 0 * nb + 1, 1 * nb + 0, 1 * nb + 1]
    cal = base.with_pairs(coarse, [(0, 1)], [(cells, [0.375, 0.125, 0.125, 0.375])])
    assert cal.mode == "pairs" and cal.pairs == [(2, 3)]
    out = pool.iloc[cal.select(pool, 5000, np.random.default_rng(1))]
    together = (out["a"].eq("p") & out["b"].eq("u")).mean()
    assert together == pytest.approx(0.375, abs=0.03)  # 0.25 in the pool
    assert out["a"].eq("p").mean() == pytest.approx(0.5, abs=0.03)
    again = Calibration.from_dict(cal.to_dict())
    assert again.select(pool, 5000, np.random.default_rng(1)).tolist() == \
        cal.select(pool, 5000, np.random.default_rng(1)).tolist()
