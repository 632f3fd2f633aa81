"""The result of :func:`tabgan.evaluate`: scores, tables and exports (dict, JSON, HTML)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..reporting import image, json_text, page, plain, save, table
from ._plots import MAX_HEATMAP_COLUMNS, REAL_COLOR, SYNTH_COLOR, column_figure, heatmap_figure

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
        return plain(
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
        return save(json_text(self.to_dict(), indent=indent), path)

    def to_html(self, path: str | None = None, *, max_plots: int = 24) -> str:
        """One self-contained HTML page (plots embedded as PNG); written to ``path`` if given.

        ``max_plots`` caps the per-column distribution plots (worst columns first).
        """
        return save(_render_html(self, max_plots=max_plots), path)

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


# ------------------------------------------------------------------------ HTML
def _num(value: Any, digits: int = 3) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    if math.isnan(number):
        return "–"
    if number != 0 and (abs(number) >= 1e5 or abs(number) < 1e-3):
        return f"{number:.{digits}g}"
    return f"{number:.{digits}f}"


def _frame_table(frame: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> str:
    """A DataFrame as an HTML table: text columns escaped, the others formatted by :func:`_num`."""
    header = [str(c) for c in frame.columns]
    rows = [
        [html.escape(str(v)) if c in text_columns else _num(v) for c, v in zip(header, values)]
        for values in frame.itertuples(index=False, name=None)
    ]
    return table(header, rows, text_columns=text_columns)


def _card(label: str, value: float, hint: str, bar: bool = True) -> str:
    width = 0.0 if math.isnan(value) else max(0.0, min(1.0, value)) * 100
    meter = f'<div class="bar"><div style="width:{width:.0f}%"></div></div>' if bar else ""
    return (
        f'<div class="card"><div class="l">{html.escape(label)}</div>'
        f'<div class="v">{_num(value)}</div>{meter}'
        f'<div class="l">{html.escape(hint)}</div></div>'
    )


_WORST_COLUMNS = (
    "kind",
    "score",
    "metric",
    "statistic",
    "wasserstein_iqr",
    "out_of_range_share",
    "category_coverage",
    "unseen_share",
    "missing_diff",
)
_WORST_PAIRS = (
    "column_a",
    "column_b",
    "kind",
    "score",
    "association_real",
    "association_synthetic",
    "pearson_diff",
    "contingency_tvd",
    "cramers_v_diff",
)


def _render_html(report: EvaluationReport, *, max_plots: int) -> str:
    """The whole report page as one HTML string."""
    parts = [
        "<h1>Synthetic data evaluation</h1>",
        f"<p class='sub'>{report.n_rows_real:,} real rows vs {report.n_rows_synthetic:,} "
        f"synthetic rows, {len(report.columns)} columns. Scores run from 0 to 1; higher is "
        "better.</p>",
        "<div class='cards'>",
        _card("Overall score", report.score, "mean of shape and trend"),
        _card("Column shape", report.column_shape, "mean of 1−KS / 1−TVD"),
        _card(
            "Pair trend",
            report.pair_trend,
            f"{len(report.pairs)} of {report.n_pairs_total} pairs"
            + (" (sampled)" if report.pairs_sampled else ""),
        ),
    ]
    if report.detection:
        parts.append(
            _card(
                "Detection AUC",
                report.detection_auc,
                "0.5 = indistinguishable, 1 = separable",
                bar=False,
            )
        )
        parts.append(_card("Detection score", report.detection_score, "1 − 2·max(0, AUC − 0.5)"))
    if report.utility:
        parts.append(
            _card("Utility score", report.utility_score, f"predicting {report.utility['target']!r}")
        )
    parts.append("</div>")

    if report.notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
        parts.append(f"<h2>Notes</h2><ul class='notes'>{items}</ul>")

    parts.append("<h2>Worst columns</h2>")
    cols = report.worst_columns(10).reset_index()
    keep = ["column"] + [c for c in _WORST_COLUMNS if c in cols.columns]
    parts.append(_frame_table(cols[keep], text_columns=("column", "kind", "metric")))
    if len(report.pairs):
        parts.append("<h2>Worst pairs</h2>")
        pairs = report.worst_pairs(10)
        keep = [c for c in _WORST_PAIRS if c in pairs.columns]
        parts.append(_frame_table(pairs[keep], text_columns=("column_a", "column_b", "kind")))

    if report.utility:
        u = report.utility
        source = "given" if u["holdout"] == "given" else "split off the real table"
        parts.append("<h2>Machine-learning utility</h2>")
        parts.append(
            f"<p>{html.escape(u['task'].capitalize())} of <b>{html.escape(str(u['target']))}"
            f"</b>: a HistGradientBoosting model trained on {u['n_train_real']:,} real rows "
            f"versus one trained on {u['n_train_synthetic']:,} synthetic rows, both tested on "
            f"{u['n_holdout']:,} holdout rows ({source}).</p>"
        )
        frame = pd.DataFrame(
            {
                "metric": list(u["real"]),
                "train on real": list(u["real"].values()),
                "train on synthetic": list(u["synthetic"].values()),
                "ratio": list(u["ratio"].values()),
            }
        )
        parts.append(_frame_table(frame, text_columns=("metric",)))

    if report.detection:
        d = report.detection
        parts.append("<h2>Detection</h2>")
        parts.append(
            f"<p>A HistGradientBoosting classifier tried to tell {d['n_real']:,} real from "
            f"{d['n_synthetic']:,} synthetic rows: {d['n_folds']}-fold cross-validated ROC AUC "
            f"<b>{_num(d['auc'])}</b> (folds: {', '.join(_num(a) for a in d['fold_aucs'])}). "
            "0.5 means it cannot tell them apart; 1.0 means it always can.</p>"
        )

    if len(report.pairs):
        parts.append("<h2>Associations</h2>")
        shown = min(len(report.columns), MAX_HEATMAP_COLUMNS)
        extra = f" Only the first {shown} columns are shown." if shown < len(report.columns) else ""
        sampled = " Grey cells: pairs not evaluated (sampled)." if report.pairs_sampled else ""
        parts.append(
            "<p>Pearson correlation for numeric pairs, Cramér's V (numeric side binned at real "
            f"quantiles) for the others.{extra}{sampled}</p>"
        )
        parts.append(
            image(heatmap_figure(report.columns.index, report.pairs), "association heatmaps")
        )

    parts.append("<h2>Column distributions</h2>")
    parts.append(
        "<p class='legend'>Worst columns first.<span style='background:"
        f"{REAL_COLOR}'></span>real<span style='background:{SYNTH_COLOR}'></span>synthetic</p>"
    )
    order = report.columns.sort_values("score", na_position="last").index
    parts.append("<div class='grid'>")
    for name in order[:max_plots]:
        row = report.columns.loc[name]
        data = report.plot_data.get(str(name), {"type": "empty"})
        stat = f"{row['metric']} {_num(row['statistic'])}"
        subtitle = f"{row['kind']} · score {_num(row['score'])} ({stat})"
        parts.append(image(column_figure(str(name), data, subtitle), str(name)))
    parts.append("</div>")
    if len(order) > max_plots:
        parts.append(
            f"<p>{len(order) - max_plots} more columns are not plotted; see the table below.</p>"
        )

    parts.append("<h2>All columns</h2><details><summary>Show the full column table</summary>")
    parts.append(
        _frame_table(report.columns.reset_index(), text_columns=("column", "kind", "metric"))
    )
    parts.append("</details>")
    parts.append("<p class='sub'>Made by tabgan. Metric definitions: docs/evaluation.md.</p>")
    return page("tabgan evaluation report", parts)
