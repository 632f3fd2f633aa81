"""The result of :func:`tabgan.evaluate`: scores, tables and exports (dict, JSON, HTML)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EvaluationReport"]

_NAN = float("nan")


@dataclass(frozen=True, repr=False, eq=False)
class EvaluationReport:
    """How closely a synthetic table follows a real one.

    Attributes
    ----------
    score:
        Overall score in [0, 1], higher is better: the mean of
        :attr:`column_shape` and :attr:`pair_trend` (whichever are defined).
    column_shape:
        Mean over columns of ``1 - KS`` (numeric) or ``1 - TVD`` (categorical).
    pair_trend:
        Mean over the evaluated pairs of ``1 - |Δ Pearson| / 2`` (numeric pairs)
        or ``1 - contingency TVD`` (other pairs).
    columns:
        One row per column (index: column name); see ``docs/evaluation.md``.
    pairs:
        One row per evaluated column pair.
    utility:
        Train-on-real versus train-on-synthetic scores on the holdout
        (:meth:`UtilityResult.to_dict`); empty when no ``target`` was given.
    detection:
        Real-versus-synthetic classifier results (:meth:`DetectionResult.to_dict`);
        empty when detection was switched off.
    pairs_sampled:
        True when only a seeded sample of ``max_pairs`` pairs was evaluated.
    n_pairs_total:
        Number of column pairs in the table (evaluated or not).
    n_rows_real, n_rows_synthetic:
        Table sizes.
    notes:
        Everything the evaluation had to say: degenerate input (also issued as
        warnings) and choices made (pair sampling, holdout split, subsampling).
    """

    score: float
    column_shape: float
    pair_trend: float
    columns: pd.DataFrame
    pairs: pd.DataFrame
    utility: dict[str, Any]
    detection: dict[str, Any]
    pairs_sampled: bool
    n_pairs_total: int
    n_rows_real: int
    n_rows_synthetic: int
    notes: tuple[str, ...] = ()
    plot_data: dict[str, dict[str, Any]] = field(default_factory=dict)

    # ----------------------------------------------------------- shortcuts
    @property
    def detection_auc(self) -> float:
        """Cross-validated ROC AUC of the real-vs-synthetic classifier (0.5 = indistinguishable).

        NaN when detection was not run.
        """
        return float(self.detection.get("auc", _NAN))

    @property
    def detection_score(self) -> float:
        """``min(1, 2 * (1 - detection_auc))`` clipped to [0, 1]; NaN when not run."""
        return float(self.detection.get("score", _NAN))

    @property
    def utility_score(self) -> float:
        """Mean utility ratio clipped to [0, 1] (see ``docs/evaluation.md``); NaN if not run."""
        return float(self.utility.get("score", _NAN))

    def worst_columns(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` columns with the lowest score (undefined scores last)."""
        return self.columns.sort_values("score", na_position="last").head(n)

    def worst_pairs(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` pairs with the lowest score (undefined scores last)."""
        return self.pairs.sort_values("score", na_position="last").head(n)

    # -------------------------------------------------------------- exports
    def to_dict(self) -> dict[str, Any]:
        """The report as plain Python types (NaN stays ``float('nan')``)."""
        columns = self.columns.reset_index()
        return _plain(
            {
                "score": self.score,
                "column_shape": self.column_shape,
                "pair_trend": self.pair_trend,
                "detection_auc": self.detection_auc,
                "detection_score": self.detection_score,
                "utility_score": self.utility_score,
                "n_rows_real": self.n_rows_real,
                "n_rows_synthetic": self.n_rows_synthetic,
                "pairs_sampled": self.pairs_sampled,
                "n_pairs_total": self.n_pairs_total,
                "n_pairs_evaluated": len(self.pairs),
                "utility": self.utility,
                "detection": self.detection,
                "columns": columns.to_dict(orient="records"),
                "pairs": self.pairs.to_dict(orient="records"),
                "notes": list(self.notes),
            }
        )

    def to_json(self, path: str | None = None, *, indent: int | None = 2) -> str:
        """The report as JSON (NaN written as ``null``); written to ``path`` if given."""
        text = json.dumps(_nan_to_none(self.to_dict()), indent=indent, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    def to_html(self, path: str | None = None, *, max_plots: int = 24) -> str:
        """One self-contained HTML page (plots embedded as PNG); written to ``path`` if given.

        ``max_plots`` caps the per-column distribution plots (worst columns first).
        """
        from ._html import render_html

        text = render_html(self, max_plots=max_plots)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    def summary(self, n_worst: int = 5, n_worst_pairs: int = 3) -> str:
        """A short plain-text summary (what ``tabgan evaluate`` prints): the scores,
        utility, detection, the ``n_worst`` worst columns and ``n_worst_pairs`` worst pairs."""
        lines = [
            f"overall score   {_fmt(self.score)}",
            f"column shape    {_fmt(self.column_shape)}   (mean of 1-KS / 1-TVD over "
            f"{len(self.columns)} columns)",
            f"pair trend      {_fmt(self.pair_trend)}   ({len(self.pairs)} of "
            f"{self.n_pairs_total} pairs{', sampled' if self.pairs_sampled else ''})",
        ]
        if self.detection:
            lines.append(
                f"detection AUC   {_fmt(self.detection_auc)}   (0.5 = indistinguishable; "
                f"score {_fmt(self.detection_score)}, {self.detection['n_folds']}-fold)"
            )
        if self.utility:
            u = self.utility
            lines.append(
                f"utility         {_fmt(self.utility_score)}   ({u['task']} of "
                f"{u['target']!r}, holdout {u['holdout']}, {u['n_holdout']} rows)"
            )
            for metric, real in u["real"].items():
                lines.append(
                    f"  {metric:<12}  real {_fmt(real)}  synthetic {_fmt(u['synthetic'][metric])}"
                    f"  ratio {_fmt(u['ratio'][metric])}"
                )
        worst = self.worst_columns(n_worst)
        if len(worst):
            lines.append("worst columns:")
            width = max(len(str(c)) for c in worst.index)
            for name, row in worst.iterrows():
                lines.append(
                    f"  {str(name):<{width}}  {row['kind']:<10}  score {_fmt(row['score'])}  "
                    f"({row['metric']} {_fmt(row['statistic'])})"
                )
        pairs = self.worst_pairs(n_worst_pairs)
        if len(pairs):
            lines.append("worst pairs:")
            names = [f"{a} × {b}" for a, b in zip(pairs["column_a"], pairs["column_b"])]
            width = max(len(n) for n in names)
            for name, (_, row) in zip(names, pairs.iterrows()):
                what = (
                    f"Pearson {_fmt(row['pearson_real'])} vs {_fmt(row['pearson_synthetic'])}"
                    if row["kind"] == "numeric"
                    else f"contingency TVD {_fmt(row['contingency_tvd'])}"
                )
                lines.append(
                    f"  {name:<{width}}  {row['kind']:<11}  score {_fmt(row['score'])}  ({what})"
                )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"EvaluationReport(score={_fmt(self.score)}, column_shape={_fmt(self.column_shape)}, "
            f"pair_trend={_fmt(self.pair_trend)}, detection_auc={_fmt(self.detection_auc)}, "
            f"utility_score={_fmt(self.utility_score)}, columns={len(self.columns)}, "
            f"pairs={len(self.pairs)})"
        )


def _fmt(value: Any) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "  nan" if math.isnan(value) else f"{value:.3f}"


def _plain(obj: Any) -> Any:
    """Recursively turn numpy/pandas scalars and containers into plain Python types."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_plain(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj if isinstance(obj, str) else str(obj)


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
