"""Calibrated sampling: generated rows re-weighted to the training table's histograms.

A GAN's rows drift from the training distribution in ways its critic does not correct:
on UCI Adult, the generator wrote 60 % men against 67 % in the data and 81 % White
against 85 %, each discrete column pulled towards uniform by training-by-sampling
(which conditions on rare categories more often than they occur). A calibrated sample
draws more rows than asked from the generator (:data:`POOL`) and keeps the requested
number, each row with a chance that corrects the drift:

1. every column is binned (:mod:`tabgan.binning`), in the training rows once at fit
   time and in the generated rows at sampling time;
2. weights on the generated rows are found by iterative proportional fitting
   (raking): repeatedly, each column's (``"marginals"``), or also each pair's
   (``"pairs"``), weighted histogram is scaled to the training one;
3. the rows' chances to be kept (at most 1, summing to the requested number) are
   what the raking scales, and the rows are drawn by systematic sampling in a random
   order: each row with its chance, no row twice, every kept row the generator's.

The rows also keep the orders between numeric columns that every training row keeps
(``open_il_12m <= open_il_24m``, a vehicle's year at most the accident's). A generated
row breaking one is repaired before the raking (:meth:`Calibration.repair`: the larger
column is raised to the smaller one's value, so the raking still sees the whole pool and
corrects the histograms the repair moved); where the two columns differ in dtype
(datetimes, an integer and a float column) rows breaking an order are not drawn while
enough others are left.

Only histogram cells held by at least :data:`MIN_CELL_ROWS` training rows are
corrected and saved with the model, so no cell of fewer people can be read from the
file; the counts of column pairs are also rounded to a multiple of
:data:`MIN_CELL_ROWS`, so that a small pair cell cannot be recovered exactly by
subtracting the saved cells from a column's total either (a single column's counts are
exact: the transformer keeps exact category counts anyway). Cells left out keep their
generated share. A pair's correction per pass is
bounded (:data:`MAX_STEP`), so that no cell's few rows decide the sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .binning import Binning
from .columns import numeric_values
from .errors import InvalidParameterError

__all__ = ["MAX_PAIRS", "MIN_CELL_ROWS", "POOL", "Calibration"]

#: Generated rows per requested row (the pool that the sample is drawn from).
POOL = 2.0
#: Cells (bins, bin pairs) with fewer training rows are neither corrected nor saved.
MIN_CELL_ROWS = 20
#: Column pairs corrected at most (a seeded sample of wider tables' pairs).
MAX_PAIRS = 200
#: Raking passes: (columns) for "marginals"; (pairs, then columns) for "pairs".
MARGINAL_PASSES = 10
PAIR_PASSES = 3
#: Largest factor by which one pass over a pair may move a row's weight.
MAX_STEP = 5.0
#: Raking passes over the columns once the chances are capped at 1.
CAPPED_PASSES = 3
MODES = ("marginals", "pairs")
#: Orders between numeric columns are looked for among at most this many of them.
MAX_ORDER_COLUMNS = 60


def _cells(codes: np.ndarray, size: int, *, rounded: bool) -> tuple[list[int], list[float]]:
    """The cells held by at least MIN_CELL_ROWS rows: their indices and shares; with
    ``rounded``, each count rounded to a multiple of MIN_CELL_ROWS first (so that a cell
    left out cannot be recovered exactly by subtracting the saved ones from a total)."""
    counts = np.bincount(codes, minlength=size)
    keep = np.flatnonzero(counts >= MIN_CELL_ROWS)
    kept = counts[keep].astype(np.float64)
    if rounded:
        kept = np.maximum(np.round(kept / MIN_CELL_ROWS), 1) * MIN_CELL_ROWS
    return keep.tolist(), (kept / max(len(codes), 1)).tolist()


def _inclusion(w: np.ndarray, n: int) -> np.ndarray:
    """``min(1, c * w)`` with ``c`` such that the chances sum to ``n``: the ``k`` largest
    weights are certain, the others share ``n - k`` in proportion to their weight, with
    the smallest ``k`` that leaves every share at most 1.

    Rows are made certain in rounds (each round, every row whose share passes 1), which
    is exact and usually over in a few cheap rounds; after :data:`_ROUNDS` rounds the
    cut-off is found by one sort instead."""
    m = len(w)
    if n >= m:
        return np.ones(m)
    certain = np.zeros(m, dtype=bool)
    for _ in range(_ROUNDS):
        free = np.where(certain, 0.0, w)
        pi = free * ((n - certain.sum()) / max(free.sum(), 1e-300))
        over = pi > 1.0
        if not over.any():
            pi[certain] = 1.0
            return pi
        certain |= over
    # The cut-off from the largest weights alone: sort the top `size` of them (doubling
    # while none of their ranks fits), not all m. Rank n - 1 always fits, and equal
    # weights are never split by the cut-off, so the result does not depend on ties.
    size = min(m, n, max(256, 4 * int(certain.sum())))
    while True:
        top = np.argpartition(-w, size - 1)[:size] if size < m else np.arange(m)
        top = top[np.argsort(-w[top], kind="stable")]
        sw = w[top]
        # the weights from rank k on, summed from the smallest up (a total less the
        # largest ones would lose the small remainder to rounding)
        outside = np.ones(m, dtype=bool)
        outside[top] = False
        tail = np.cumsum(sw[::-1])[::-1] + w[outside].sum()
        k = np.arange(size)
        fits = sw * (n - k) <= tail  # with the first k certain, rank k's share <= 1
        if fits.any() or size >= min(m, n):
            break
        size = min(2 * size, m, n)
    first = int(np.argmax(fits)) if fits.any() else size - 1
    with np.errstate(over="ignore"):  # the certain rows' products, set to 1 below
        pi = w * ((n - first) / max(tail[first], 1e-300))
    pi[top[:first]] = 1.0
    return np.minimum(pi, 1.0)


_ROUNDS = 6


def _orders(table: pd.DataFrame, binnings: Sequence[Binning]) -> list[tuple[int, int]]:
    """The pairs (i, j) of numeric columns with ``table[i] <= table[j]`` in every row where
    both are present, both columns varying, and the ranges overlapping (otherwise the
    clipping of decoded values to the observed range keeps the order anyway)."""
    numeric = [k for k, b in enumerate(binnings) if b.numeric][:MAX_ORDER_COLUMNS]
    values = {k: numeric_values(binnings[k].name, table[binnings[k].name], binnings[k].kind)
              for k in numeric}
    low = {k: np.nanmin(v) if np.isfinite(v).any() else np.nan for k, v in values.items()}
    high = {k: np.nanmax(v) if np.isfinite(v).any() else np.nan for k, v in values.items()}
    found = []
    for i in numeric:
        for j in numeric:
            if i == j or not low[i] < high[i] or not low[j] < high[j] or high[i] <= low[j]:
                continue
            a, b = values[i], values[j]
            both = ~(np.isnan(a) | np.isnan(b))
            if both.sum() >= MIN_CELL_ROWS and np.all(a[both] <= b[both]):
                found.append((i, j))
    return found


class Calibration:
    """The training table's binned histograms, and the raking that draws generated rows
    to them (see the module's docstring). Build with :meth:`fit`."""

    def __init__(
        self,
        mode: str,
        binnings: Sequence[Binning],
        single: Sequence[tuple[list[int], list[float]]],
        pairs: Sequence[tuple[int, int]],
        joint: Sequence[tuple[list[int], list[float]]],
        orders: Sequence[tuple[int, int]] = (),
    ) -> None:
        self.mode = mode
        #: (i, j): column i is at most column j in every training row where both are
        #: present, and their ranges overlap (so that the clipping of values to the
        #: observed range does not already ensure it)
        self.orders = [tuple(o) for o in orders]
        self.binnings = list(binnings)
        self.single = [(np.asarray(i, dtype=np.int64), np.asarray(s)) for i, s in single]
        self.pairs = [tuple(p) for p in pairs]
        self.joint = [(np.asarray(i, dtype=np.int64), np.asarray(s)) for i, s in joint]

    @classmethod
    def fit(
        cls, table: pd.DataFrame, kinds: Mapping[str, str], *, mode: str,
        rng: np.random.Generator, formats: Mapping[str, str] | None = None,
    ) -> "Calibration":
        """The histograms of ``table``; ``mode``: ``"marginals"`` or ``"pairs"``;
        ``formats``: the formats of datetime columns given as strings."""
        if mode not in MODES:
            raise InvalidParameterError(
                f"The 'mode' parameter of Calibration.fit must be one of {MODES}; got {mode!r}."
            )
        formats = formats or {}
        binnings = [Binning.fit(c, kinds[c], table[c], format=formats.get(c))
                    for c in table.columns]
        codes = [b.codes(table[b.name]) for b in binnings]
        # one column's counts are exact (the transformer keeps exact category counts
        # anyway); pair counts are rounded
        single = [_cells(c, b.n_bins, rounded=False) for c, b in zip(codes, binnings)]
        pairs: list[tuple[int, int]] = []
        joint = []
        if mode == "pairs":
            k = len(binnings)
            pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
            if len(pairs) > MAX_PAIRS:
                pick = np.sort(rng.choice(len(pairs), size=MAX_PAIRS, replace=False))
                pairs = [pairs[p] for p in pick]
            for i, j in pairs:
                nb = binnings[j].n_bins
                joint.append(_cells(codes[i] * nb + codes[j], binnings[i].n_bins * nb,
                                    rounded=True))
        return cls(mode, binnings, single, pairs, joint, _orders(table, binnings))

    @classmethod
    def from_releases(
        cls, releases: Sequence[Any], formats: Mapping[str, str] | None = None
    ) -> "Calibration":
        """Marginal calibration to a private fit's released histograms (the noisy
        category counts and value histograms of :mod:`tabgan.privacy.preprocessing`):
        post-processing of differentially private numbers, so it costs no budget. Each
        released category, value bin and missing count of at least
        :data:`MIN_CELL_ROWS` (noisy) rows is a cell; a numeric column's bins are the
        released ones (its two end points and the intervals between them, or one point
        per value of a short integer range)."""
        from .columns import MISSING, OTHER

        binnings, single = [], []
        for rel in releases:
            if hasattr(rel, "categories"):  # CategoryRelease
                cats = [c for c in rel.categories if c not in (MISSING, OTHER)]
                b = Binning(rel.name, rel.kind, categories=cats)
                counts = np.zeros(b.n_bins)
                for c, k in zip(rel.categories, rel.counts):
                    counts[b.n_bins - 1 if c == MISSING else b.lookup.get(c, b.n_bins - 2)] += k
            else:  # NumericRelease
                starts, widths = np.asarray(rel.starts), np.asarray(rel.widths)
                points = starts[widths == 0]
                edges = starts[widths > 0][1:]  # between consecutive intervals
                b = Binning(rel.name, rel.kind, points=points.tolist(),
                            edges=edges.tolist(), format=(formats or {}).get(rel.name))
                counts = np.zeros(b.n_bins)
                # released bins in order: points and intervals interleaved by position
                is_point = widths == 0
                point_at = np.cumsum(is_point) - 1
                interval_at = len(points) + np.cumsum(~is_point) - 1
                where = np.where(is_point, point_at, interval_at)
                np.add.at(counts, where, np.asarray(rel.weights, dtype=np.float64))
                counts[-1] = rel.missing if rel.has_missing else 0.0
            keep = np.flatnonzero(counts >= MIN_CELL_ROWS)
            total = max(counts.sum(), 1e-300)
            binnings.append(b)
            single.append((keep.tolist(), (counts[keep] / total).tolist()))
        return cls("marginals", binnings, single, [], [], [])

    def inclusion(self, table: pd.DataFrame, n: int) -> np.ndarray:
        """Each row's chance to be among ``n`` rows drawn from ``table`` (same columns as
        at fit): at most 1, summing to ``n``, found by raking so that the expected
        histograms of the drawn rows are the training ones where that can be."""
        codes = [b.codes(table[b.name]) for b in self.binnings]
        w = np.ones(len(table))
        pi = _inclusion(w, n)

        def rake(cell: np.ndarray, size: int, target: tuple[np.ndarray, np.ndarray],
                 step: float | None, chances: bool) -> None:
            nonlocal w, pi
            index, share = target
            if not len(index):
                return
            weight = pi if chances else w
            current = np.bincount(cell, weights=weight, minlength=size)[index]
            # within the corrected cells only: the others keep their generated share
            current = current / max(current.sum(), 1e-300)
            ratio = np.ones(size)
            ratio[index] = np.where(
                current > 0, (share / share.sum()) / np.maximum(current, 1e-300), 1.0
            )
            if step is not None:
                np.clip(ratio, 1.0 / step, step, out=ratio)
            w = w * ratio[cell]
            if chances:
                pi = _inclusion(w, n)

        def marginals(chances: bool) -> None:
            for c, b, target in zip(codes, self.binnings, self.single):
                rake(c, b.n_bins, target, None, chances)

        # raking of the weights (cheap), then of the chances, which are capped at 1
        if self.mode == "marginals":
            for _ in range(MARGINAL_PASSES):
                marginals(False)
        else:
            for _ in range(PAIR_PASSES):
                for (i, j), target in zip(self.pairs, self.joint):
                    nb = self.binnings[j].n_bins
                    rake(codes[i] * nb + codes[j], self.binnings[i].n_bins * nb, target,
                         MAX_STEP, False)
                marginals(False)
        pi = _inclusion(w, n)
        for _ in range(CAPPED_PASSES):
            marginals(True)
        return pi

    def select(self, table: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
        """Positions of ``n`` distinct rows of ``table``, each drawn with its chance from
        :meth:`inclusion` (systematic sampling in a random order), in increasing order."""
        if n >= len(table):
            return np.arange(len(table))
        # rows that break an order of the training rows are not drawn while enough
        # others are left (then those breaking the fewest come first)
        broken = self.violations(table)
        pool = np.arange(len(table))
        if broken.any():
            pool = np.argsort(broken, kind="stable")[: max(n, int((broken == 0).sum()))]
            pool.sort()
            table = table.iloc[pool]
        pi = self.inclusion(table, n)
        order = rng.permutation(len(table))
        edges = np.cumsum(pi[order])
        edges *= n / edges[-1]
        # a row is drawn when its interval crosses an integer after the random start;
        # a chance of at most 1 crosses at most one
        crossed = np.diff(np.floor(np.r_[0.0, edges] + rng.random())) > 0
        picked = order[crossed]
        if len(picked) != n:  # rounding at the very end: mend by the largest chances
            if len(picked) > n:
                picked = picked[np.argsort(-pi[picked], kind="stable")[:n]]
            else:
                left = np.setdiff1d(np.arange(len(table)), picked)
                extra = left[np.argsort(-pi[left], kind="stable")[: n - len(picked)]]
                picked = np.concatenate([picked, extra])
        return np.sort(pool[picked])

    def repair(self, table: pd.DataFrame, fixed: frozenset[str] = frozenset()) -> pd.DataFrame:
        """``table`` with every broken order between two numeric columns of one dtype
        mended: where ``table[i] > table[j]`` for an order ``(i, j)`` of the training
        rows, column ``j`` takes column ``i``'s value, or column ``i`` column ``j``'s
        where ``j`` is in ``fixed`` (columns whose values hold other relations, such as
        derived columns); an order between two fixed columns is left to :meth:`select`.
        Passes run until none is broken, as orders chain. A missing value breaks
        nothing. The frame is copied only if a row changes."""
        pairs = [(self.binnings[i].name, self.binnings[j].name) for i, j in self.orders]
        pairs = [(a, b) for a, b in pairs if a in table and b in table
                 and not (a in fixed and b in fixed)
                 and table[a].dtype == table[b].dtype
                 and pd.api.types.is_numeric_dtype(table[a].dtype)
                 and not pd.api.types.is_bool_dtype(table[a].dtype)]
        copied = False
        for _ in range(len(pairs)):
            changed = False
            for a, b in pairs:
                with np.errstate(invalid="ignore"):
                    low = table[a].to_numpy(dtype=np.float64, na_value=np.nan)
                    high = table[b].to_numpy(dtype=np.float64, na_value=np.nan)
                    broken = low > high
                if broken.any():
                    if not copied:
                        table, copied = table.copy(), True
                    to, source = (a, b) if b in fixed else (b, a)
                    table.loc[broken, to] = table.loc[broken, source].to_numpy()
                    changed = True
            if not changed:
                break
        return table

    def violations(self, table: pd.DataFrame) -> np.ndarray:
        """Per row, how many of the training rows' orders (:attr:`orders`) it breaks."""
        out = np.zeros(len(table), dtype=np.int64)
        if not self.orders:
            return out
        values = {}
        for i, j in self.orders:
            for k in (i, j):
                if k not in values:
                    b = self.binnings[k]
                    values[k] = numeric_values(b.name, table[b.name], b.kind, fmt=b.format)
            with np.errstate(invalid="ignore"):
                out += values[i] > values[j]  # a missing value breaks nothing
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "binnings": [b.to_dict() for b in self.binnings],
            "single": [[i.tolist(), s.tolist()] for i, s in self.single],
            "pairs": [list(p) for p in self.pairs],
            "joint": [[i.tolist(), s.tolist()] for i, s in self.joint],
            "orders": [list(o) for o in self.orders],
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> "Calibration":
        return cls(
            state["mode"], [Binning.from_dict(b) for b in state["binnings"]],
            [tuple(x) for x in state["single"]], [tuple(p) for p in state["pairs"]],
            [tuple(x) for x in state["joint"]], [tuple(o) for o in state.get("orders", [])],
        )
