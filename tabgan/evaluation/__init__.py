"""How good is a synthetic table? Fidelity, utility and detection metrics, and a report.

The entry point is :func:`evaluate`, which runs every metric and returns an
:class:`EvaluationReport` (``.score``, ``.columns``, ``.pairs``, ``.utility``,
``.detection_auc``; ``to_dict``, ``to_json``, ``to_html``). The metric families
are also available one by one:

* :func:`compare_column`, :func:`total_variation_distance` (``columns``),
* :func:`compare_pair`, :func:`cramers_v` (``pairs``),
* :func:`ml_utility` (``utility``),
* :func:`detect`, :func:`detection_score` (``detection``).

Definitions, ranges and how to read the report: ``docs/evaluation.md``.
"""

from __future__ import annotations

from ._prepare import EvaluationWarning
from .columns import (
    QUANTILES,
    CategoricalColumnResult,
    NumericColumnResult,
    compare_column,
    total_variation_distance,
)
from .detection import DetectionResult, detect, detection_score
from .evaluator import evaluate
from .pairs import PairResult, compare_pair, cramers_v
from .report import EvaluationReport
from .utility import UtilityResult, ml_utility

__all__ = [
    "QUANTILES",
    "CategoricalColumnResult",
    "DetectionResult",
    "EvaluationReport",
    "EvaluationWarning",
    "NumericColumnResult",
    "PairResult",
    "UtilityResult",
    "compare_column",
    "compare_pair",
    "cramers_v",
    "detect",
    "detection_score",
    "evaluate",
    "ml_utility",
    "total_variation_distance",
]
