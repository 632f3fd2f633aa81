"""Machine-learning utility: train on real versus train on synthetic, test on a holdout.

Two scikit-learn :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (or
``...Regressor``) models with the same settings are trained, one on the real
table and one on the synthetic table, to predict ``target`` from every other
column; both are scored on the same holdout rows. Categorical features use the
models' native categorical support (codes from the union of the real and
synthetic categories; holdout categories seen in neither are treated as
missing).

* classification (a ``discrete`` or ``boolean`` target): accuracy, macro F1 and
  ROC AUC (binary: AUC of the positive class, the larger of the two classes in
  sorted order, e.g. ``'>50K'`` or ``True``; multiclass: one-vs-rest AUC averaged
  over the classes present in the holdout);
* regression (a numeric target): R² and mean absolute error.

``ratio`` is ``synthetic / real`` for each metric. The utility *score* is the mean
over metrics of that ratio clipped to [0, 1], using ``real / synthetic`` for MAE
(lower is better), so 1 means the synthetic table trains models as good as the
real one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import f1_score, mean_absolute_error, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from .._validation import check_random_state, int_or_none_at_least, validate_params
from .._validation import random_state as random_state_rule
from ..errors import InvalidDataError, InvalidParameterError
from ..limits import limit_threads
from ._prepare import (
    EncodedColumn,
    Notes,
    check_table,
    child_seeds,
    encode_like,
    feature_matrix,
    prepare,
    usable_features,
)

__all__ = ["CLASSIFICATION_METRICS", "REGRESSION_METRICS", "UtilityResult", "ml_utility"]

CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "f1_macro", "roc_auc")
REGRESSION_METRICS: tuple[str, ...] = ("r2", "mae")
_LOWER_IS_BETTER = frozenset({"mae"})
_NAN = float("nan")
#: Share of the real table held out when no holdout table is given.
HOLDOUT_SHARE = 0.2
_MIN_ROWS_FOR_SPLIT = 5


@dataclass(frozen=True)
class UtilityResult:
    """Scores of the model trained on real rows and of the one trained on synthetic rows.

    Attributes
    ----------
    target, task:
        The predicted column and ``"classification"`` or ``"regression"``.
    holdout:
        ``"given"``, or ``"split"`` when a seeded 20 % of the real table was held
        out (the real model then trains on the other 80 %).
    n_train_real, n_train_synthetic, n_holdout:
        Rows used (rows with a missing target are left out).
    real, synthetic:
        Metric name -> value on the holdout.
    """

    target: str
    task: str
    holdout: str
    n_train_real: int
    n_train_synthetic: int
    n_holdout: int
    real: dict[str, float] = field(default_factory=dict)
    synthetic: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> dict[str, float]:
        """``synthetic / real`` for each metric (NaN where the real value is 0 or NaN)."""
        return {m: _ratio(self.synthetic[m], self.real[m]) for m in self.real}

    @property
    def score(self) -> float:
        """Mean of the per-metric ratios clipped to [0, 1] (MAE inverted); NaN if none."""
        parts = []
        for m in self.real:
            r = (
                _ratio(self.real[m], self.synthetic[m])
                if m in _LOWER_IS_BETTER
                else _ratio(self.synthetic[m], self.real[m])
            )
            if not math.isnan(r):
                parts.append(min(1.0, max(0.0, r)))
        return float(np.mean(parts)) if parts else _NAN

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "task": self.task,
            "holdout": self.holdout,
            "n_train_real": self.n_train_real,
            "n_train_synthetic": self.n_train_synthetic,
            "n_holdout": self.n_holdout,
            "real": dict(self.real),
            "synthetic": dict(self.synthetic),
            "ratio": self.ratio,
            "score": self.score,
        }


def _ratio(num: float, den: float) -> float:
    if math.isnan(num) or math.isnan(den) or den == 0:
        return _NAN
    return num / den


# ------------------------------------------------------------------ public API
def ml_utility(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    target: str,
    holdout: pd.DataFrame | None = None,
    metadata: Any = None,
    random_state: int | np.random.Generator | None = None,
    n_threads: int | None = None,
) -> UtilityResult:
    """Train-on-real versus train-on-synthetic scores on a holdout (see module docstring).

    Parameters
    ----------
    real, synthetic:
        Tables with the same columns.
    target:
        The column to predict; its kind (from ``metadata``) picks classification
        (discrete, boolean) or regression (numeric).
    holdout:
        Real rows neither model has seen. If omitted, a seeded 20 % of ``real`` is
        held out and the result's ``holdout`` says ``"split"``.
    metadata:
        Column-kind overrides, as for :meth:`tabgan.Metadata.detect`.
    random_state:
        Seed or generator for the split and the models.
    n_threads:
        OpenMP threads for the models; ``None`` keeps scikit-learn's default.
    """
    validate_params(
        "ml_utility",
        {"random_state": random_state, "n_threads": n_threads},
        {"random_state": random_state_rule(), "n_threads": int_or_none_at_least(1)},
    )
    rng = check_random_state(random_state)
    notes = Notes()
    _, columns, _ = prepare(real, synthetic, metadata=metadata)
    check_target(target, list(real.columns), "ml_utility")
    hold = encode_holdout(holdout, columns) if holdout is not None else None
    with limit_threads(n_threads):
        result = utility_result(
            columns, target=target, holdout=hold, seed=child_seeds(rng, 1)[0], notes=notes
        )
    notes.emit(stacklevel=2)
    return result


# -------------------------------------------------------------------- internal
def check_target(target: Any, names: Sequence[str], owner: str) -> None:
    if target not in names:
        raise InvalidParameterError(
            f"The 'target' parameter of {owner} must name a column of the tables. Got "
            f"{target!r} instead; the columns are {list(names)}."
        )


def encode_holdout(holdout: Any, columns: Sequence[EncodedColumn]) -> list[np.ndarray]:
    """The holdout table in the shared encoding (it needs every column of the real table)."""
    holdout = check_table(holdout, "holdout")
    missing = [c.name for c in columns if c.name not in holdout.columns]
    if missing:
        raise InvalidDataError(
            f"The holdout table lacks columns of the real table: {missing}. It must hold "
            "the same columns (extra ones are ignored)."
        )
    return [encode_like(holdout[c.name], c, role="holdout") for c in columns]


def _present(y: np.ndarray, numeric: bool) -> np.ndarray:
    return ~np.isnan(y) if numeric else y >= 0


def utility_result(
    columns: Sequence[EncodedColumn],
    *,
    target: str,
    holdout: list[np.ndarray] | None,
    seed: int,
    notes: Notes,
) -> UtilityResult:
    """Train both models and score them (``holdout`` in the shared encoding, or None)."""
    t = [c.name for c in columns].index(target)
    tcol = columns[t]
    numeric = tcol.is_numeric
    task = "regression" if numeric else "classification"
    metrics = REGRESSION_METRICS if numeric else CLASSIFICATION_METRICS
    features = [c for c in columns if c.name != target]
    split_seed, model_seed = child_seeds(np.random.default_rng(seed), 2)

    real_rows = np.arange(len(tcol.real))
    if holdout is None:
        source = "split"
        if len(real_rows) < _MIN_ROWS_FOR_SPLIT:
            notes.warn(
                f"Utility needs at least {_MIN_ROWS_FOR_SPLIT} real rows to hold some out "
                f"when no holdout table is given; got {len(real_rows)}. Utility is NaN."
            )
            return _empty(target, task, source, metrics)
        stratify = None if numeric else tcol.real
        try:
            train, test = train_test_split(
                real_rows, test_size=HOLDOUT_SHARE, random_state=split_seed, stratify=stratify
            )
        except ValueError:  # a class too rare to stratify on
            train, test = train_test_split(
                real_rows, test_size=HOLDOUT_SHARE, random_state=split_seed
            )
        train, test = np.sort(train), np.sort(test)
        notes.info(
            f"No holdout table was given: utility is tested on a seeded {HOLDOUT_SHARE:.0%} "
            "of the real table, held out from the real model's training rows. If the "
            "synthesizer was trained on the whole real table, those rows are not unseen by it."
        )
        hold_arrays = [c.real[test] for c in columns]
        real_arrays = [c.real[train] for c in columns]
    else:
        source = "given"
        hold_arrays = list(holdout)
        real_arrays = [c.real for c in columns]
    synth_arrays = [c.synthetic for c in columns]

    if not features:
        notes.warn("Utility needs at least one column besides the target; utility is NaN.")
        return _empty(target, task, source, metrics)

    feat_idx = [i for i in range(len(columns)) if i != t]
    sets = {}
    for role, arrays in (
        ("real", real_arrays),
        ("synthetic", synth_arrays),
        ("holdout", hold_arrays),
    ):
        y = arrays[t]
        keep = _present(y, numeric)
        if not keep.all():
            what = "missing or unseen" if role == "holdout" and not numeric else "missing"
            notes.info(
                f"{int((~keep).sum())} {role} row(s) whose target {target!r} is {what} are "
                "left out of the utility computation."
            )
        X, mask = feature_matrix(features, [arrays[i][keep] for i in feat_idx])
        sets[role] = (X, y[keep])
    X_hold, y_hold = sets["holdout"]
    if len(y_hold) == 0:
        notes.warn("The utility holdout has no row with a target; utility is NaN.")
        return _empty(target, task, source, metrics)

    scores: dict[str, dict[str, float]] = {}
    for role in ("real", "synthetic"):
        X, y = sets[role]
        if len(y) == 0:
            notes.warn(f"The {role} table has no row with a target; its utility is NaN.")
            scores[role] = dict.fromkeys(metrics, _NAN)
        elif numeric:
            pred = _fit_regressor(X, y, X_hold, mask, model_seed, role, notes)
            scores[role] = _regression_scores(y_hold, pred, notes)
        else:
            proba = _fit_classifier(
                X, y, X_hold, mask, len(tcol.categories), model_seed, role, notes
            )
            scores[role] = _classification_scores(y_hold, proba, tcol, notes)
    return UtilityResult(
        target=target,
        task=task,
        holdout=source,
        n_train_real=len(sets["real"][1]),
        n_train_synthetic=len(sets["synthetic"][1]),
        n_holdout=len(y_hold),
        real=scores["real"],
        synthetic=scores["synthetic"],
    )


def _empty(target: str, task: str, source: str, metrics: Sequence[str]) -> UtilityResult:
    return UtilityResult(
        target=target,
        task=task,
        holdout=source,
        n_train_real=0,
        n_train_synthetic=0,
        n_holdout=0,
        real=dict.fromkeys(metrics, _NAN),
        synthetic=dict.fromkeys(metrics, _NAN),
    )


def _fit_classifier(
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray,
    mask: np.ndarray,
    n_classes: int,
    seed: int,
    role: str,
    notes: Notes,
) -> np.ndarray:
    """Class probabilities for ``X_test``, one column per target category code."""
    proba = np.zeros((len(X_test), n_classes))
    classes = np.unique(y)
    if len(classes) < 2:
        notes.warn(
            f"The target has a single class in the {role} training rows; that model "
            "always predicts it."
        )
        proba[:, classes[0]] = 1.0
        return proba
    X, X_test, categorical = usable_features(X, X_test, mask)
    model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=seed)
    model.fit(X, y)
    proba[:, model.classes_] = model.predict_proba(X_test)
    return proba


def _fit_regressor(
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray,
    mask: np.ndarray,
    seed: int,
    role: str,
    notes: Notes,
) -> np.ndarray:
    if len(y) < 2:
        notes.warn(f"The {role} table has a single training row; that model predicts its target.")
        return np.full(len(X_test), float(y.mean()))
    X, X_test, categorical = usable_features(X, X_test, mask)
    model = HistGradientBoostingRegressor(categorical_features=categorical, random_state=seed)
    return model.fit(X, y).predict(X_test)


def _classification_scores(
    y: np.ndarray, proba: np.ndarray, target: EncodedColumn, notes: Notes
) -> dict[str, float]:
    pred = proba.argmax(axis=1)
    out = {
        "accuracy": float(np.mean(pred == y)),
        "f1_macro": float(f1_score(y, pred, average="macro", zero_division=0)),
    }
    real_classes = np.flatnonzero(
        np.bincount(target.real[target.real >= 0], minlength=len(target.categories))
    )
    present = np.unique(y)
    if len(present) < 2:
        notes.warn("The utility holdout holds a single target class; ROC AUC is NaN.")
        out["roc_auc"] = _NAN
    elif len(real_classes) == 2:
        positive = positive_class(target.categories, real_classes)
        out["roc_auc"] = float(roc_auc_score(y == positive, proba[:, positive]))
    else:
        out["roc_auc"] = float(np.mean([roc_auc_score(y == c, proba[:, c]) for c in present]))
    return out


def positive_class(categories: Sequence[Any], codes: np.ndarray) -> int:
    """Of two category codes, the one whose category sorts last (``True``, ``'>50K'``)."""
    a, b = (int(c) for c in codes)
    try:
        return b if categories[b] > categories[a] else a
    except TypeError:  # categories of unorderable types: compare their text
        return b if str(categories[b]) > str(categories[a]) else a


def _regression_scores(y: np.ndarray, pred: np.ndarray, notes: Notes) -> dict[str, float]:
    if len(y) < 2:
        notes.warn("The utility holdout has a single row; R² is NaN.")
        r2 = _NAN
    else:
        r2 = float(r2_score(y, pred))
    return {"r2": r2, "mae": float(mean_absolute_error(y, pred))}
