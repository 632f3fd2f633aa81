"""The plots of an evaluation report: their data and their figures (internal).

Plot data (histogram counts, bar heights) is computed during the evaluation, so a
report does not keep the tables. Figures are drawn on matplotlib's Agg canvas
(:func:`tabgan.reporting.figure`); :mod:`tabgan.evaluation.report` embeds them in
the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..reporting import figure
from ._prepare import EncodedColumn

REAL_COLOR = "#2b6cb0"
SYNTH_COLOR = "#dd6b20"
_MAX_BARS = 12
_N_BINS = 30
MAX_HEATMAP_COLUMNS = 30
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
_DPI = 90


def column_figure(name: str, data: dict[str, Any], subtitle: str) -> Any:
    """A small figure: overlaid histograms (numeric) or paired bars (categorical)."""
    fig = figure(4.4, 2.9, dpi=_DPI)
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


def association_matrices(
    columns: Sequence[Any], pairs: pd.DataFrame
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Real and synthetic association matrices over the first (at most 30) ``columns``,
    from a report's ``pairs`` table."""
    names = [str(n) for n in columns[:MAX_HEATMAP_COLUMNS]]
    pos = {n: i for i, n in enumerate(names)}
    n = len(names)
    real = np.full((n, n), np.nan)
    synth = np.full((n, n), np.nan)
    np.fill_diagonal(real, 1.0)
    np.fill_diagonal(synth, 1.0)
    for a, b, ar, as_ in zip(
        pairs["column_a"].astype(str),
        pairs["column_b"].astype(str),
        pairs["association_real"],
        pairs["association_synthetic"],
    ):
        if a in pos and b in pos:
            i, j = pos[a], pos[b]
            real[i, j] = real[j, i] = ar
            synth[i, j] = synth[j, i] = as_
    return names, real, synth


def heatmap_figure(columns: Sequence[Any], pairs: pd.DataFrame) -> Any:
    """Real, synthetic and |difference| association heatmaps side by side."""
    from matplotlib import colormaps

    names, real, synth = association_matrices(columns, pairs)
    n = len(names)
    side = min(6.5, 1.6 + 0.22 * n)
    fig = figure(3 * side + 1.5, side + 0.6, dpi=_DPI)
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
