"""Noisy counts of column pairs, released at the end of a private fit for calibrated sampling.

The marginal releases (:mod:`tabgan.privacy.preprocessing`) correct each column's
distribution in the generated rows; the pairs correct the strongest relations
between columns. After training, with ``calibrate="pairs"`` (the default):

1. the trained generator writes a pool of rows (post-processing of the private
   model: no budget);
2. each column is cut into a few coarse bins (:data:`PAIR_BINS` quantile bins of a
   numeric column, its frequent categories for a discrete one), and the
   :data:`MAX_PAIRS` pairs with the highest mutual information are chosen, both
   from the pool alone (no budget);
3. the real rows are counted in each chosen pair's grid of bins and Gaussian noise is
   added (one mechanism: a row adds one to one cell of each grid, so the grids
   together have L2 sensitivity ``sqrt(pairs)``);
4. sampling rakes the generated rows to the cells whose noisy count clears
   ``2 sigma`` (:class:`tabgan.calibration.Calibration`), which is post-processing.

The share of epsilon spent here is :data:`PAIRS_SHARE`, taken from training's share;
``calibrate="marginals"`` (or ``None``) releases no pairs and leaves it to training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..binning import Binning
from ..columns import numeric_values, py_scalar
from .accountant import gaussian_mu
from .ledger import LedgerEntry

__all__ = ["MAX_PAIRS", "PAIRS_SHARE", "pair_binnings", "release_pairs", "select_pairs"]

#: Share of epsilon spent on the pair counts (with ``calibrate="pairs"``).
PAIRS_SHARE = 0.1
#: Column pairs released at most.
MAX_PAIRS = 20
#: Quantile bins of a numeric column (outside its point masses) in a pair's grid.
PAIR_BINS = 6
#: Categories of a discrete column with a bin of their own in a pair's grid, at most ...
PAIR_CATEGORIES = 12
#: ... each held by at least this share of the generated rows; also a numeric column's
#: point masses (such as capital-gain's zeros) hold at least POINT_SHARE of them.
CATEGORY_SHARE = 0.01
POINT_SHARE = 0.05
#: Generated rows that the bins and the choice of pairs are taken from.
POOL_ROWS = 50_000
_NUMERIC = ("continuous", "integer", "datetime")
_COMPOSITION = "sequential: adds to the other entries"


def pair_binnings(pool: pd.DataFrame, kinds: Mapping[str, str]) -> list[Binning]:
    """Coarse bins of each column of ``pool`` (generated rows), for the pair grids."""
    out = []
    for name in pool.columns:
        kind = kinds[name]
        if kind in _NUMERIC:
            x = numeric_values(name, pool[name], kind)
            x = x[~np.isnan(x)]
            uniq, counts = np.unique(x, return_counts=True)
            points = uniq[counts >= POINT_SHARE * max(len(x), 1)]
            rest = x[~np.isin(x, points)]
            edges = (np.unique(np.quantile(rest, np.linspace(0, 1, PAIR_BINS + 1)[1:-1]))
                     if len(rest) else np.array([]))
            out.append(Binning(name, kind, points=points.tolist(),
                               edges=list(map(float, edges))))
        else:
            vc = pool[name].astype(object).value_counts(dropna=True)
            vc = vc[vc >= CATEGORY_SHARE * len(pool)]
            out.append(Binning(name, kind,
                               categories=[py_scalar(c) for c in vc.index[:PAIR_CATEGORIES]]))
    return out


def _mutual_information(a: np.ndarray, b: np.ndarray, na: int, nb: int) -> float:
    table = np.bincount(a * nb + b, minlength=na * nb).reshape(na, nb).astype(np.float64)
    table /= max(table.sum(), 1.0)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True)
    held = table > 0
    return float((table[held] * np.log(table[held] / expected[held])).sum())


def select_pairs(
    pool: pd.DataFrame, binnings: Sequence[Binning], k: int = MAX_PAIRS
) -> list[tuple[int, int]]:
    """The ``k`` pairs ``(i, j)``, ``i < j``, of binned columns with the highest mutual
    information in ``pool`` (generated rows), in the columns' order."""
    codes = [b.codes(pool[b.name]) for b in binnings]
    scored = []
    for i in range(len(binnings)):
        for j in range(i + 1, len(binnings)):
            mi = _mutual_information(codes[i], codes[j], binnings[i].n_bins, binnings[j].n_bins)
            scored.append((-mi, i, j))
    scored.sort()
    return sorted((i, j) for mi, i, j in scored[:k] if mi < 0)


def release_pairs(
    data: pd.DataFrame,
    binnings: Sequence[Binning],
    pairs: Sequence[tuple[int, int]],
    *,
    epsilon: float,
    delta: float,
    rng: np.random.Generator,
) -> tuple[list[tuple[list[int], list[float]]], LedgerEntry]:
    """Noisy counts of ``data``'s rows in each pair's grid of ``binnings`` (one Gaussian
    mechanism, L2 sensitivity ``sqrt(len(pairs))``), as the calibration's targets: per
    pair, the cells whose noisy count is at least ``2 sigma`` and their shares."""
    k = len(pairs)
    mu = gaussian_mu(epsilon, delta)
    sigma = float(np.sqrt(k) / mu)
    codes = {}
    targets = []
    for i, j in pairs:
        for c in (i, j):
            if c not in codes:
                codes[c] = binnings[c].codes(data[binnings[c].name])
        nb = binnings[j].n_bins
        size = binnings[i].n_bins * nb
        noisy = np.bincount(codes[i] * nb + codes[j], minlength=size) + rng.normal(0, sigma, size)
        keep = np.flatnonzero(noisy >= 2 * sigma)
        share = noisy[keep] / max(noisy[keep].sum(), 1e-300)
        targets.append((keep.tolist(), share.tolist()))
    names = [f"{binnings[i].name} x {binnings[j].name}" for i, j in pairs]
    entry = LedgerEntry(
        component="pairs",
        uses=(
            f"counts of the rows in a grid of coarse bins for each of {k} column pair(s) chosen "
            "by their mutual information in generated rows (bins and choice: post-processing "
            "of the trained model); calibrated sampling draws generated rows to them"
        ),
        epsilon=epsilon,
        delta=delta,
        mechanism=(
            f"Gaussian mechanism (sigma={sigma:.3g}, L2 sensitivity sqrt({k})); cells below "
            f"{2 * sigma:.1f} left uncorrected (post-processing)"
        ),
        composition=_COMPOSITION,
        details={"sigma": sigma, "sensitivity": float(np.sqrt(k)), "pairs": names},
    )
    return targets, entry
