"""The report toolkit the audit and evaluation reports share.

One home for what both reports do the same way: matplotlib figures embedded in
the page as PNG data URIs, HTML tables and the page around them, one stylesheet,
the cleaning of results into plain JSON types, and writing a report to a file.
What a report says (its sections, numbers and plots) stays in its own module
(:mod:`tabgan.audit.report`, :mod:`tabgan.evaluation.report`).

This module imports only the standard library, NumPy and pandas (matplotlib
where a figure is made), so any module may use it.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CSS",
    "figure",
    "image",
    "json_text",
    "page",
    "plain",
    "png_data_uri",
    "save",
    "table",
]

# One stylesheet for every tabgan report: numbers right-aligned, text columns (class
# "t") and the first column left-aligned; score cards (evaluation) and risk levels (audit).
CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1180px;color:#1a202c;padding:0 16px;line-height:1.45}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;
border-bottom:1px solid #e2e8f0;padding-bottom:4px}h3{font-size:15px}
.sub{color:#4a5568;margin-top:0}small{color:#4a5568}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border-bottom:1px solid #e2e8f0;padding:4px 10px;text-align:right}
th{background:#f7fafc}td:first-child,th:first-child{text-align:left}
td.t,th.t{text-align:left}
img{max-width:100%}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #e2e8f0;border-radius:8px;padding:10px 14px;min-width:150px}
.card .v{font-size:26px;font-weight:600}.card .l{color:#4a5568;font-size:13px}
.bar{background:#edf2f7;height:6px;border-radius:3px;margin-top:6px}
.bar>div{background:#2f855a;height:6px;border-radius:3px}
.grid{display:flex;flex-wrap:wrap;gap:8px}
.grid img{border:1px solid #edf2f7;border-radius:6px}
.notes li{color:#744210}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 4px 0 12px;
vertical-align:middle}
details summary{cursor:pointer;color:#2b6cb0}
.verdict{padding:1rem;border-radius:6px;font-size:1.1rem}
.low{background:#e6f4ea;border:1px solid #34a853}.medium{background:#fef7e0;border:1px solid #f9ab00}
.high{background:#fce8e6;border:1px solid #d93025}
.lvl-low{color:#188038;font-weight:600}.lvl-medium{color:#b06000;font-weight:600}
.lvl-high{color:#c5221f;font-weight:600}
"""


# --------------------------------------------------------------------- figures
def figure(width: float, height: float, *, dpi: float) -> Any:
    """A matplotlib figure on its own Agg canvas (no pyplot, no global backend switch)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def png_data_uri(fig: Any) -> str:
    """``fig`` as a ``data:image/png;base64,...`` URI, at the figure's own dpi, cropped tight."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi="figure", bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def image(fig: Any, alt: str) -> str:
    """An ``<img>`` tag holding ``fig`` (see :func:`png_data_uri`)."""
    return f"<img alt='{html.escape(alt)}' src='{png_data_uri(fig)}'>"


# ------------------------------------------------------------------------ HTML
def table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, text_columns: Collection[str] = ()
) -> str:
    """An HTML table. ``header`` is plain text (escaped here); the cells are HTML the
    caller has already escaped or formatted. Columns named in ``text_columns`` are
    left-aligned (the first column always is), the others right-aligned as numbers."""

    def cls(name: str) -> str:
        return ' class="t"' if name in text_columns else ""

    head = "".join(f"<th{cls(h)}>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{cls(h)}>{c}</td>" for h, c in zip(header, row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, parts: Iterable[str]) -> str:
    """A whole self-contained page: ``title`` (plain text), the stylesheet, then ``parts``."""
    head = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"\n<title>{html.escape(title)}</title>\n<style>{CSS}</style></head><body>"
    )
    return "\n".join([head, *parts, "</body></html>"])


# ------------------------------------------------------------------------ JSON
def plain(obj: Any, *, nan_as_none: bool = False) -> Any:
    """``obj`` with plain Python types only: dict keys as text, lists for tuples and
    arrays, numpy scalars as ``bool``/``int``/``float``, missing (``None``, ``pd.NA``,
    ``pd.NaT``) as ``None``, timestamps as ISO text, anything else as ``str``.

    NaN and infinities stay floats unless ``nan_as_none`` (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): plain(v, nan_as_none=nan_as_none) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v, nan_as_none=nan_as_none) for v in obj]
    if isinstance(obj, np.ndarray):
        return [plain(v, nan_as_none=nan_as_none) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if nan_as_none and not math.isfinite(f) else f
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj if isinstance(obj, str) else str(obj)


def json_text(obj: Any, *, indent: int | None = 2) -> str:
    """JSON text of ``obj`` after :func:`plain` (NaN and infinities written as ``null``)."""
    return json.dumps(plain(obj, nan_as_none=True), indent=indent, allow_nan=False)


def save(text: str, path: str | None) -> str:
    """Write ``text`` to ``path`` (UTF-8) when a path is given; return ``text``."""
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return text
