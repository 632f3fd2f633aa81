"""Model selection: a cheap fidelity check on held-out rows, and the best snapshot.

A GAN's losses do not say how good its rows are: the critic's loss of a Wasserstein
GAN wanders while the samples improve or degrade. A fit with ``check_every`` set holds
out a slice of the training rows, and every few epochs generates rows from the
averaged weights and scores them against that slice with :class:`FidelityCheck`; the
weights of the best check are kept (:class:`BestSnapshot`), and training may stop
early when the checks stop improving.

The check is a scaled-down evaluator, built to cost little next to an epoch: every
column is binned (numeric: quantile bins of the held-out rows, plus a bin for missing
values; discrete: the held-out rows' categories, plus one bin for any other value),
and the score is the mean of ``1 - TVD`` over the column marginals and ``1 - TVD``
over the joint histograms of column pairs (at most :data:`MAX_PAIRS`, a seeded
sample), half each. Pairs weigh as much as columns because rows, not only columns,
should be faithful.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .columns import numeric_values

__all__ = ["BestSnapshot", "FidelityCheck", "MAX_PAIRS", "split_holdout"]

#: Column pairs scored at most (a seeded sample of wider tables' pairs).
MAX_PAIRS = 200
#: Quantile bins per numeric column.
BINS = 10
#: Most categories per discrete column (the rest share one bin).
MAX_CATEGORIES = 50


def split_holdout(
    n: int, share: float, most: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions ``(kept for training, held out)``: ``share`` of ``n`` rows held out,
    at most ``most`` and at least one, never all."""
    k = int(min(max(round(share * n), 1), most, n - 1))
    order = rng.permutation(n)
    return np.sort(order[k:]), np.sort(order[:k])


class _Binning:
    """How one column's values become bin codes ``0 .. n_bins - 1``."""

    def __init__(self, name: str, kind: str, series: pd.Series) -> None:
        self.name, self.kind = name, kind
        self.numeric = kind in ("continuous", "integer", "datetime")
        if self.numeric:
            x = numeric_values(name, series, kind)
            x = x[~np.isnan(x)]
            edges = np.unique(np.quantile(x, np.linspace(0, 1, BINS + 1)[1:-1])) if len(x) else []
            self.edges = np.asarray(edges, dtype=np.float64)
            self.n_bins = len(self.edges) + 2  # the bins, then missing
        else:
            counts = series.astype(object).value_counts(dropna=True)
            self.lookup = {v: i for i, v in enumerate(counts.index[:MAX_CATEGORIES])}
            self.n_bins = len(self.lookup) + 2  # the categories, another value, missing

    def codes(self, series: pd.Series) -> np.ndarray:
        if self.numeric:
            x = numeric_values(self.name, series, self.kind)
            out = np.searchsorted(self.edges, x, side="right")
            out[np.isnan(x)] = self.n_bins - 1
            return out.astype(np.int64)
        values = series.astype(object)
        rows, uniques = pd.factorize(values, use_na_sentinel=True)
        table = np.array(
            [self.lookup.get(u, self.n_bins - 2) for u in uniques] + [self.n_bins - 1],
            dtype=np.int64,
        )
        return table[rows]


def _tvd(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


class FidelityCheck:
    """Scores synthetic rows against reference rows: 1 is a perfect match of every binned
    marginal and pair, 0 none (see the module's docstring).

    Parameters
    ----------
    reference:
        The held-out real rows.
    kinds:
        Each column's kind (``"continuous"``, ``"integer"``, ``"datetime"``,
        ``"discrete"`` or ``"boolean"``).
    rng:
        Picks the pairs of tables with more than :data:`MAX_PAIRS` of them.
    """

    def __init__(
        self, reference: pd.DataFrame, kinds: Mapping[str, str], *, rng: np.random.Generator
    ) -> None:
        self.columns = list(reference.columns)
        self.binnings = [_Binning(c, kinds[c], reference[c]) for c in self.columns]
        pairs = [(i, j) for i in range(len(self.columns)) for j in range(i + 1, len(self.columns))]
        if len(pairs) > MAX_PAIRS:
            pick = np.sort(rng.choice(len(pairs), size=MAX_PAIRS, replace=False))
            pairs = [pairs[k] for k in pick]
        self.pairs = pairs
        self.reference = self._histograms(self._codes(reference))

    def _codes(self, table: pd.DataFrame) -> list[np.ndarray]:
        return [b.codes(table[b.name]) for b in self.binnings]

    def _histograms(self, codes: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        n = max(len(codes[0]), 1) if codes else 1
        single = [np.bincount(c, minlength=b.n_bins) / n for c, b in zip(codes, self.binnings)]
        joint = []
        for i, j in self.pairs:
            k = self.binnings[j].n_bins
            size = self.binnings[i].n_bins * k
            joint.append(np.bincount(codes[i] * k + codes[j], minlength=size) / n)
        return single, joint

    def score(self, synthetic: pd.DataFrame) -> float:
        """The fidelity of ``synthetic`` (same columns as the reference) in [0, 1]."""
        single, joint = self._histograms(self._codes(synthetic))
        ref_single, ref_joint = self.reference
        columns = np.mean([1 - _tvd(p, q) for p, q in zip(single, ref_single)])
        if not self.pairs:
            return float(columns)
        pairs = np.mean([1 - _tvd(p, q) for p, q in zip(joint, ref_joint)])
        return float(0.5 * columns + 0.5 * pairs)


@dataclass
class BestSnapshot:
    """Keeps the state of the best-scoring check and says when to stop.

    ``patience``: stop after this many checks in a row without an improvement of more
    than ``min_delta`` (``None``: never stop early).
    """

    patience: int | None = None
    min_delta: float = 0.0
    best_score: float = -np.inf
    best_epoch: int = 0
    state: Any = None
    scores: list[tuple[int, float]] = field(default_factory=list)
    _waited: int = 0

    def offer(self, epoch: int, score: float, snapshot: Any) -> bool:
        """Record the check of ``epoch``; ``snapshot()`` is called (and its result kept)
        only when ``score`` is the best so far. Returns whether to stop training."""
        self.scores.append((epoch, float(score)))
        if score > self.best_score + self.min_delta or len(self.scores) == 1:
            self.best_score, self.best_epoch = float(score), epoch
            self.state = snapshot()
            self._waited = 0
        else:
            self._waited += 1
        return self.patience is not None and self._waited >= self.patience
