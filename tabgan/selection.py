"""Model selection: a cheap fidelity check on held-out rows, and the best snapshot.

A GAN's losses do not say how good its rows are: the critic's loss of a Wasserstein
GAN wanders while the samples improve or degrade. A fit with ``check_every`` set holds
out a slice of the training rows, and every few epochs generates rows from the
averaged weights and scores them against that slice with :class:`FidelityCheck`; the
weights of the best check are kept (:class:`BestSnapshot`), and training may stop
early when the checks stop improving.

The check is a scaled-down evaluator, built to cost little next to an epoch: every
column is binned (:mod:`tabgan.binning`: point masses and quantile bins of numeric
columns, the categories of discrete ones, a bin for missing values), and the score is the mean of ``1 - TVD`` over the column marginals and ``1 - TVD``
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

from .binning import Binning

__all__ = ["BestSnapshot", "FidelityCheck", "MAX_PAIRS", "split_holdout"]

#: Column pairs scored at most (a seeded sample of wider tables' pairs).
MAX_PAIRS = 200


def split_holdout(
    n: int, share: float, most: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions ``(kept for training, held out)``: ``share`` of ``n >= 2`` rows held
    out, at most ``most`` and at least one, never all."""
    k = int(min(max(round(share * n), 1), most, n - 1))
    order = rng.permutation(n)
    return np.sort(order[k:]), np.sort(order[:k])


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
    formats:
        The formats of datetime columns given as strings (the generated rows hold them).
    """

    def __init__(
        self, reference: pd.DataFrame, kinds: Mapping[str, str], *, rng: np.random.Generator,
        formats: Mapping[str, str] | None = None,
    ) -> None:
        self.columns = list(reference.columns)
        formats = formats or {}
        self.binnings = [Binning.fit(c, kinds[c], reference[c], format=formats.get(c))
                         for c in self.columns]
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

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The record as JSON-able numbers and the best weights (for checkpoints)."""
        doc = {"best_score": float(self.best_score) if np.isfinite(self.best_score) else None,
               "best_epoch": self.best_epoch, "scores": [list(s) for s in self.scores],
               "waited": self._waited}
        return doc, dict(self.state or {})

    def load_state(self, doc: dict[str, Any], tensors: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`'s output."""
        self.best_score = -np.inf if doc["best_score"] is None else doc["best_score"]
        self.best_epoch = doc["best_epoch"]
        self.scores = [tuple(s) for s in doc["scores"]]
        self._waited = doc["waited"]
        self.state = tensors or None

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
