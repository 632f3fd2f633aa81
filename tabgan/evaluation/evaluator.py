"""``evaluate``: every metric of a synthetic table against the real one, in one report."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .._validation import (
    boolean,
    check_random_state,
    int_at_least,
    int_or_none_at_least,
    validate_params,
)
from .._validation import (
    random_state as random_state_rule,
)
from ..errors import InvalidParameterError
from ..limits import limit_threads
from ._plots import column_plot_data
from ._prepare import Notes, child_seeds, prepare
from .columns import column_result, columns_table
from .detection import DEFAULT_FOLDS, DEFAULT_MAX_ROWS, detection_result
from .pairs import DEFAULT_BINS, PairView, pair_result, pairs_table, select_pairs
from .report import EvaluationReport
from .utility import check_target, encode_holdout, utility_result

__all__ = ["DEFAULT_MAX_PAIRS", "evaluate"]

#: Pairs evaluated at most; wider tables get a seeded sample of pairs.
DEFAULT_MAX_PAIRS = 1000

_PARAMS = {
    "max_pairs": int_at_least(0),
    "detection": boolean(),
    "detection_folds": int_at_least(2),
    "detection_max_rows": int_at_least(2),
    "random_state": random_state_rule(),
    "n_threads": int_or_none_at_least(1),
}


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    target: str | None = None,
    holdout: pd.DataFrame | None = None,
    metadata: Any = None,
    random_state: int | np.random.Generator | None = None,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    detection: bool = True,
    detection_folds: int = DEFAULT_FOLDS,
    detection_max_rows: int = DEFAULT_MAX_ROWS,
    n_threads: int | None = None,
) -> EvaluationReport:
    """Compare a synthetic table with the real one it imitates.

    Parameters
    ----------
    real, synthetic:
        DataFrames with the same columns (order may differ; the real order is used).
    target:
        Column to predict for the machine-learning utility test; no utility test
        if omitted.
    holdout:
        Real rows unseen by the synthesizer, used to test the utility models. If
        omitted (and ``target`` given), a seeded 20 % of ``real`` is held out and
        the report says so.
    metadata:
        Column kinds, as for :meth:`tabgan.Metadata.detect` (a ``Metadata`` or a
        mapping ``{column: kind}``); undeclared columns are detected from ``real``.
    random_state:
        Seed or ``numpy.random.Generator`` for pair sampling, the utility split and
        models, and detection; ``None`` gives a fresh, unreproducible seed.
    max_pairs:
        Evaluate at most this many column pairs (a seeded sample for wide tables;
        the report's ``pairs_sampled`` says so). 0 skips pair metrics.
    detection:
        Whether to run the real-versus-synthetic classifier.
    detection_folds:
        Cross-validation folds for detection (>= 2).
    detection_max_rows:
        Detection subsamples each table to at most this many rows.
    n_threads:
        OpenMP threads for the utility and detection models; ``None`` keeps
        scikit-learn's default (all cores). ``1`` is much faster on a machine
        whose cores are busy with other work.

    Returns
    -------
    EvaluationReport

    Raises
    ------
    InvalidDataError
        If a table is not a DataFrame, is empty, or the column sets differ.
    InvalidParameterError
        If a parameter is out of range, ``target`` is not a column, or a
        ``holdout`` is given without a ``target``.

    Warns
    -----
    EvaluationWarning
        For degenerate but legal input (constant or all-missing columns, a single
        row, ...); the affected metrics are NaN. The messages are also in
        ``report.notes``.
    """
    validate_params(
        "evaluate",
        {
            "max_pairs": max_pairs,
            "detection": detection,
            "detection_folds": detection_folds,
            "detection_max_rows": detection_max_rows,
            "random_state": random_state,
            "n_threads": n_threads,
        },
        _PARAMS,
    )
    rng = check_random_state(random_state)
    pair_seed, utility_seed, detection_seed = child_seeds(rng, 3)

    notes = Notes()
    _, columns, synthetic = prepare(real, synthetic, metadata=metadata)
    holdout_codes = None
    if target is not None:
        check_target(target, list(real.columns), "evaluate")
        holdout_codes = encode_holdout(holdout, columns) if holdout is not None else None
    elif holdout is not None:
        raise InvalidParameterError(
            "The 'holdout' parameter of evaluate is only used with a 'target'; pass "
            "target='<column to predict>' as well, or drop the holdout."
        )
    for role, n in (("real", len(real)), ("synthetic", len(synthetic))):
        if n < 2:
            notes.warn(
                f"The {role} table has a single row: correlations, Cramér's V and detection "
                "are undefined (NaN) and the other metrics say little."
            )

    column_results = [column_result(c, notes) for c in columns]

    views = [PairView.build(c, DEFAULT_BINS) for c in columns]
    chosen, n_pairs_total = select_pairs(len(columns), max_pairs, np.random.default_rng(pair_seed))
    pair_results = [pair_result(views[i], views[j], notes) for i, j in chosen]
    sampled = len(chosen) < n_pairs_total
    if sampled:
        notes.info(
            f"The table has {n_pairs_total:,} column pairs; a seeded sample of "
            f"{len(chosen):,} was evaluated (max_pairs={max_pairs})."
        )

    utility: dict[str, Any] = {}
    detected: dict[str, Any] = {}
    with limit_threads(n_threads):
        if target is not None:
            utility = utility_result(
                columns, target=target, holdout=holdout_codes, seed=utility_seed, notes=notes
            ).to_dict()
        if detection:
            detected = detection_result(
                columns,
                n_folds=detection_folds,
                max_rows=detection_max_rows,
                seed=detection_seed,
                notes=notes,
            ).to_dict()

    shape = _mean(r.score for r in column_results)
    trend = _mean(r.score for r in pair_results)
    report = EvaluationReport(
        score=_mean((shape, trend)),
        column_shape=shape,
        pair_trend=trend,
        columns=columns_table(columns, column_results),
        pairs=pairs_table(pair_results),
        utility=utility,
        detection=detected,
        pairs_sampled=sampled,
        n_pairs_total=n_pairs_total,
        n_rows_real=len(real),
        n_rows_synthetic=len(synthetic),
        notes=notes.messages,
        plot_data={str(c.name): column_plot_data(c) for c in columns},
    )
    notes.emit(stacklevel=2)
    return report


def _mean(values: Iterable[float]) -> float:
    """Mean of the defined (non-NaN) values; NaN if there are none."""
    defined = [float(v) for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")
