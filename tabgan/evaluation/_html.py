"""Plot data and the self-contained HTML page of an :class:`EvaluationReport` (internal).

Plot data (histogram counts, bar heights) is computed during the evaluation, so a
report does not keep the tables. Rendering uses matplotlib's Agg canvas directly
(no pyplot, no global backend switch) and embeds each figure as a base64 PNG.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._prepare import EncodedColumn

if TYPE_CHECKING:
    from .report import EvaluationReport

REAL_COLOR = "#2b6cb0"
SYNTH_COLOR = "#dd6b20"
_MAX_BARS = 12
_N_BINS = 30
_MAX_HEATMAP_COLUMNS = 30
_LABEL_CHARS = 22


# ------------------------------------------------------------------- plot data
def column_plot_data(column: EncodedColumn) -> dict[str, Any]:
    """What the column's distribution plot needs, as plain lists."""
    if column.is_numeric:
        return _histogram_data(column)
    return _bar_data(column)


def _histogram_data(column: EncodedColumn) -> dict[str, Any]:
    r = column.real[~np.isnan(column.real)]
    s = column.synthetic[~np.isnan(column.synthetic)]
    both = np.concatenate([r, s])
    if len(both) == 0:
        return {"type": "empty"}
    lo, hi = float(both.min()), float(both.max())
    distinct = np.unique(both)
    clipped = False
    if column.kind == "integer" and len(distinct) <= 40 and hi - lo <= 60:
        edges = np.arange(lo - 0.5, hi + 1.5)  # one bar per whole number
    else:
        q_lo, q_hi = (float(v) for v in np.quantile(both, [0.005, 0.995]))
        if q_hi > q_lo:
            clipped = q_lo > lo or q_hi < hi
            lo, hi = q_lo, q_hi
        elif hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, _N_BINS + 1)

    def share(values: np.ndarray) -> list[float]:
        if len(values) == 0:
            return [0.0] * (len(edges) - 1)
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        return (counts / len(values)).tolist()

    return {
        "type": "hist",
        "datetime": column.kind == "datetime",
        "edges": edges.tolist(),
        "real": share(r),
        "synthetic": share(s),
        "clipped": clipped,
    }


def _bar_data(column: EncodedColumn) -> dict[str, Any]:
    k = len(column.categories)
    p = np.bincount(column.real[column.real >= 0], minlength=k) / len(column.real)
    q = np.bincount(column.synthetic[column.synthetic >= 0], minlength=k) / len(column.synthetic)
    order = np.argsort(-(p + q), kind="stable")
    top, rest = order[:_MAX_BARS], order[_MAX_BARS:]
    labels = [_short(column.categories[i]) for i in top]
    real, synth = p[top].tolist(), q[top].tolist()
    if len(rest):
        labels.append(f"(other {len(rest)})")
        real.append(float(p[rest].sum()))
        synth.append(float(q[rest].sum()))
    miss_r, miss_s = float((column.real < 0).mean()), float((column.synthetic < 0).mean())
    if miss_r > 0 or miss_s > 0:
        labels.append("(missing)")
        real.append(miss_r)
        synth.append(miss_s)
    return {"type": "bar", "labels": labels, "real": real, "synthetic": synth}


def _short(value: Any, n: int = _LABEL_CHARS) -> str:
    text = str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------- figures
def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=90)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def column_figure(name: str, data: dict[str, Any], subtitle: str) -> Any:
    """A small figure: overlaid histograms (numeric) or paired bars (categorical)."""
    fig = _figure(4.4, 2.9)
    ax = fig.add_subplot()
    if data["type"] == "hist":
        edges = np.asarray(data["edges"], dtype="float64")
        if data["datetime"]:
            from matplotlib import dates

            edges = dates.date2num(pd.to_datetime(edges).to_numpy())
            ax.xaxis_date()
            fig.autofmt_xdate()
        ax.stairs(data["real"], edges, fill=True, alpha=0.45, color=REAL_COLOR, label="real")
        ax.stairs(
            data["synthetic"], edges, fill=True, alpha=0.45, color=SYNTH_COLOR, label="synthetic"
        )
        ax.stairs(data["real"], edges, color=REAL_COLOR, linewidth=1)
        ax.stairs(data["synthetic"], edges, color=SYNTH_COLOR, linewidth=1)
        ax.set_ylabel("share of rows", fontsize=8)
        if max(data["real"] + data["synthetic"]) > 0.6:  # one spike: show the tail too
            ax.set_yscale("log")
            ax.set_ylabel("share of rows (log)", fontsize=8)
        if data["clipped"]:
            ax.set_xlabel("outer 0.5 % of values piled into the end bins", fontsize=7)
    elif data["type"] == "bar":
        y = np.arange(len(data["labels"]))
        ax.barh(y - 0.2, data["real"], height=0.4, color=REAL_COLOR, label="real")
        ax.barh(y + 0.2, data["synthetic"], height=0.4, color=SYNTH_COLOR, label="synthetic")
        ax.set_yticks(y, data["labels"], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("share of rows", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(f"{_short(name, 40)}\n{subtitle}", fontsize=9)
    ax.tick_params(labelsize=7)
    if data["type"] != "empty":
        ax.legend(fontsize=7, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def association_matrices(report: EvaluationReport) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Real and synthetic association matrices over the first (at most 30) columns."""
    names = [str(n) for n in report.columns.index[:_MAX_HEATMAP_COLUMNS]]
    pos = {n: i for i, n in enumerate(names)}
    n = len(names)
    real = np.full((n, n), np.nan)
    synth = np.full((n, n), np.nan)
    np.fill_diagonal(real, 1.0)
    np.fill_diagonal(synth, 1.0)
    for a, b, ar, as_ in zip(
        report.pairs["column_a"].astype(str),
        report.pairs["column_b"].astype(str),
        report.pairs["association_real"],
        report.pairs["association_synthetic"],
    ):
        if a in pos and b in pos:
            i, j = pos[a], pos[b]
            real[i, j] = real[j, i] = ar
            synth[i, j] = synth[j, i] = as_
    return names, real, synth


def heatmap_figure(report: EvaluationReport) -> Any:
    """Real, synthetic and |difference| association heatmaps side by side."""
    from matplotlib import colormaps

    names, real, synth = association_matrices(report)
    n = len(names)
    side = min(6.5, 1.6 + 0.22 * n)
    fig = _figure(3 * side + 1.5, side + 0.6)
    axes = fig.subplots(1, 3)
    diverging = colormaps["RdBu_r"].with_extremes(bad="#e2e8f0")
    sequential = colormaps["Reds"].with_extremes(bad="#e2e8f0")
    panels = (
        ("real", real, diverging, -1.0, 1.0),
        ("synthetic", synth, diverging, -1.0, 1.0),
        ("|real − synthetic|", np.abs(real - synth), sequential, 0.0, 0.5),
    )
    labels = [_short(x, 14) for x in names]
    fontsize = 7 if n <= 20 else 5
    for ax, (title, matrix, cmap, vmin, vmax) in zip(axes, panels):
        image = ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(n), labels, rotation=90, fontsize=fontsize)
        ax.set_yticks(range(n), labels if ax is axes[0] else [], fontsize=fontsize)
        bar = fig.colorbar(
            image, ax=ax, fraction=0.046, pad=0.03, extend="max" if vmax < 1 else "neither"
        )
        bar.ax.tick_params(labelsize=7)
    return fig


# ------------------------------------------------------------------------ html
_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1180px;color:#1a202c;padding:0 16px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;
border-bottom:1px solid #e2e8f0;padding-bottom:4px}
.sub{color:#4a5568;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #e2e8f0;border-radius:8px;padding:10px 14px;min-width:150px}
.card .v{font-size:26px;font-weight:600}.card .l{color:#4a5568;font-size:13px}
.bar{background:#edf2f7;height:6px;border-radius:3px;margin-top:6px}
.bar>div{background:#2f855a;height:6px;border-radius:3px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border-bottom:1px solid #e2e8f0;padding:4px 10px;text-align:right}
th{background:#f7fafc}td:first-child,th:first-child{text-align:left}
td.t,th.t{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:8px}
.grid img{border:1px solid #edf2f7;border-radius:6px}
.notes li{color:#744210}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 4px 0 12px;
vertical-align:middle}
details summary{cursor:pointer;color:#2b6cb0}
"""


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


def _table(frame: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> str:
    head = "".join(
        f'<th class="{"t" if c in text_columns else ""}">{html.escape(str(c))}</th>'
        for c in frame.columns
    )
    rows = []
    for _, row in frame.iterrows():
        cells = "".join(
            f'<td class="t">{html.escape(str(v))}</td>'
            if c in text_columns
            else f"<td>{_num(v)}</td>"
            for c, v in row.items()
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


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


def render_html(report: EvaluationReport, *, max_plots: int) -> str:
    """The whole report page as one HTML string."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>tabgan evaluation report</title>",
        f"<style>{_CSS}</style></head><body>",
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
    parts.append(_table(cols[keep], text_columns=("column", "kind", "metric")))
    if len(report.pairs):
        parts.append("<h2>Worst pairs</h2>")
        pairs = report.worst_pairs(10)
        keep = [c for c in _WORST_PAIRS if c in pairs.columns]
        parts.append(_table(pairs[keep], text_columns=("column_a", "column_b", "kind")))

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
        parts.append(_table(frame, text_columns=("metric",)))

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
        shown = min(len(report.columns), _MAX_HEATMAP_COLUMNS)
        extra = f" Only the first {shown} columns are shown." if shown < len(report.columns) else ""
        sampled = " Grey cells: pairs not evaluated (sampled)." if report.pairs_sampled else ""
        parts.append(
            "<p>Pearson correlation for numeric pairs, Cramér's V (numeric side binned at real "
            f"quantiles) for the others.{extra}{sampled}</p>"
        )
        parts.append(
            f"<img alt='association heatmaps' src='data:image/png;base64,"
            f"{_png(heatmap_figure(report))}'>"
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
        parts.append(
            f"<img alt='{html.escape(str(name))}' src='data:image/png;base64,"
            f"{_png(column_figure(str(name), data, subtitle))}'>"
        )
    parts.append("</div>")
    if len(order) > max_plots:
        parts.append(
            f"<p>{len(order) - max_plots} more columns are not plotted; see the table below.</p>"
        )

    parts.append("<h2>All columns</h2><details><summary>Show the full column table</summary>")
    parts.append(_table(report.columns.reset_index(), text_columns=("column", "kind", "metric")))
    parts.append("</details>")
    parts.append(
        "<p class='sub'>Made by tabgan. Metric definitions: docs/evaluation.md.</p></body></html>"
    )
    return "\n".join(parts)
