"""Detection: can a classifier tell real rows from synthetic ones?

A :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (native categorical
support) learns to label rows as real (0) or synthetic (1). Its ROC AUC on
held-out rows is averaged over k stratified, shuffled, seeded folds in which
identical rows always share a fold (see :func:`group_folds`). Tables larger than
``max_rows`` are first subsampled (seeded) to ``max_rows`` rows each.

An AUC of 0.5 means the classifier cannot tell the tables apart; 1.0 means it
separates them perfectly. The *detection score* is ``min(1, 2 * (1 - AUC))``,
clipped to [0, 1]: 1 at AUC <= 0.5, 0 at AUC = 1. Cross-validated AUCs slightly
below 0.5 happen by chance on indistinguishable tables and count as 1, not as a
penalty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from .._validation import (
    check_random_state,
    int_at_least,
    int_or_none_at_least,
    validate_params,
)
from .._validation import random_state as random_state_rule
from ..limits import limit_threads, subsample_rows
from ._prepare import (
    EncodedColumn,
    Notes,
    child_seeds,
    feature_matrix,
    prepare,
    usable_features,
)

__all__ = [
    "DEFAULT_FOLDS",
    "DEFAULT_MAX_ROWS",
    "DetectionResult",
    "detect",
    "detection_score",
    "group_folds",
]

DEFAULT_FOLDS = 5
DEFAULT_MAX_ROWS = 20_000
_NAN = float("nan")


def detection_score(auc: float) -> float:
    """``min(1, 2 * (1 - auc))`` clipped to [0, 1]; NaN stays NaN."""
    if math.isnan(auc):
        return _NAN
    return float(min(1.0, max(0.0, 2.0 * (1.0 - auc))))


@dataclass(frozen=True)
class DetectionResult:
    """Cross-validated ROC AUC of a real-versus-synthetic classifier.

    Attributes
    ----------
    auc:
        Mean ROC AUC over the folds (0.5 = indistinguishable); NaN if too few rows.
    fold_aucs:
        The AUC of each fold.
    n_real, n_synthetic:
        Rows used from each table (after subsampling).
    n_folds:
        Folds actually used.
    subsampled:
        Whether either table was subsampled to ``max_rows``.
    """

    auc: float
    fold_aucs: tuple[float, ...]
    n_real: int
    n_synthetic: int
    n_folds: int
    subsampled: bool

    @property
    def statistic(self) -> float:
        return self.auc

    @property
    def score(self) -> float:
        """:func:`detection_score` of :attr:`auc` (1 = indistinguishable)."""
        return detection_score(self.auc)

    def to_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "score": self.score,
            "fold_aucs": list(self.fold_aucs),
            "n_real": self.n_real,
            "n_synthetic": self.n_synthetic,
            "n_folds": self.n_folds,
            "subsampled": self.subsampled,
        }


# ------------------------------------------------------------------ public API
def detect(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Any = None,
    n_folds: int = DEFAULT_FOLDS,
    max_rows: int = DEFAULT_MAX_ROWS,
    random_state: int | np.random.Generator | None = None,
    n_threads: int | None = None,
) -> DetectionResult:
    """Cross-validated ROC AUC of a classifier telling real from synthetic rows.

    Parameters
    ----------
    real, synthetic:
        Tables with the same columns.
    metadata:
        Column-kind overrides, as for :meth:`tabgan.Metadata.detect`.
    n_folds:
        Number of folds (>= 2); fewer when a table has fewer rows.
    max_rows:
        Larger tables are subsampled (seeded) to this many rows each.
    random_state:
        Seed or generator for the subsample, the folds and the classifier.
    n_threads:
        OpenMP threads for the classifier; ``None`` keeps scikit-learn's default.
    """
    validate_params(
        "detect",
        {
            "n_folds": n_folds,
            "max_rows": max_rows,
            "random_state": random_state,
            "n_threads": n_threads,
        },
        {
            "n_folds": int_at_least(2),
            "max_rows": int_at_least(2),
            "random_state": random_state_rule(),
            "n_threads": int_or_none_at_least(1),
        },
    )
    rng = check_random_state(random_state)
    notes = Notes()
    _, columns, _ = prepare(real, synthetic, metadata=metadata)
    with limit_threads(n_threads):
        result = detection_result(
            columns, n_folds=n_folds, max_rows=max_rows, seed=child_seeds(rng, 1)[0], notes=notes
        )
    notes.emit(stacklevel=2)
    return result


# -------------------------------------------------------------------- internal
def detection_result(
    columns: Sequence[EncodedColumn], *, n_folds: int, max_rows: int, seed: int, notes: Notes
) -> DetectionResult:
    rng = np.random.default_rng(seed)
    n_real, n_synth = len(columns[0].real), len(columns[0].synthetic)
    rows_real = subsample_rows(n_real, max_rows, rng)
    rows_synth = subsample_rows(n_synth, max_rows, rng)
    subsampled = len(rows_real) < n_real or len(rows_synth) < n_synth
    if subsampled:
        notes.info(f"Detection used a seeded subsample of at most {max_rows:,} rows of each table.")
    smallest = min(len(rows_real), len(rows_synth))
    if smallest < 2:
        notes.warn("Detection needs at least 2 rows in each table; the detection AUC is NaN.")
        return DetectionResult(_NAN, (), len(rows_real), len(rows_synth), 0, subsampled)
    folds = min(n_folds, smallest)
    if folds < n_folds:
        notes.warn(
            f"A table has only {smallest} rows, fewer than the {n_folds} detection folds; "
            f"{folds} folds are used."
        )
    X, mask = feature_matrix(
        columns,
        [np.concatenate([c.real[rows_real], c.synthetic[rows_synth]]) for c in columns],
    )
    y = np.r_[np.zeros(len(rows_real), dtype="int64"), np.ones(len(rows_synth), dtype="int64")]
    split_seed, model_seed = child_seeds(rng, 2)
    fold = group_folds(X, y, folds, np.random.default_rng(split_seed))
    aucs = []
    for f in range(folds):
        test = fold == f
        if len(np.unique(y[test])) < 2 or len(np.unique(y[~test])) < 2:
            continue
        X_train, X_test, categorical = usable_features(X[~test], X[test], mask)
        model = HistGradientBoostingClassifier(
            categorical_features=categorical, random_state=model_seed
        )
        model.fit(X_train, y[~test])
        aucs.append(float(roc_auc_score(y[test], model.predict_proba(X_test)[:, 1])))
    if not aucs:
        notes.warn(
            "Detection found no fold with both real and synthetic rows on each side (the "
            "tables hold too few distinct rows); the detection AUC is NaN."
        )
        return DetectionResult(_NAN, (), len(rows_real), len(rows_synth), folds, subsampled)
    return DetectionResult(
        auc=float(np.mean(aucs)),
        fold_aucs=tuple(aucs),
        n_real=len(rows_real),
        n_synthetic=len(rows_synth),
        n_folds=folds,
        subsampled=subsampled,
    )


def group_folds(X: np.ndarray, y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Fold number of each row: identical rows share a fold; folds stratified by group type.

    Rows with identical features form a group. Groups are split into three strata
    (only real rows, only synthetic rows, both) and each stratum is dealt
    round-robin, in a seeded random order, over the ``k`` folds. Keeping copies
    together stops the classifier from scoring a test row by the opposite label
    of its copy in the training folds, which would push the AUC of identical
    tables far below 0.5.
    """
    hashes = pd.util.hash_pandas_object(pd.DataFrame(X), index=False).to_numpy()
    groups, uniques = pd.factorize(hashes)
    n_groups = len(uniques)
    has_real = np.bincount(groups, weights=(y == 0), minlength=n_groups) > 0
    has_synth = np.bincount(groups, weights=(y == 1), minlength=n_groups) > 0
    stratum = np.where(has_real & has_synth, 2, np.where(has_synth, 1, 0))
    fold_of_group = np.empty(n_groups, dtype="int64")
    start = 0
    for s in (0, 1, 2):
        members = rng.permutation(np.flatnonzero(stratum == s))
        fold_of_group[members] = (np.arange(len(members)) + start) % k
        start += len(members)
    return fold_of_group[groups]
