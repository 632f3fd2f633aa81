"""Coarse bins of a column, for the checks and corrections that compare tables by
histograms (model selection's fidelity check, sampling's calibration).

A numeric column's bins are its point masses (values held by at least
:data:`POINT_SHARE` of the rows and :data:`MIN_ROWS` rows, such as the zeros of a
capital-gain column), then quantile bins of the other values (at most :data:`BINS`,
each of at least :data:`MIN_ROWS` values), then one bin for missing values. A discrete
column's bins are its most frequent categories held by at least :data:`MIN_ROWS` rows
(at most :data:`MAX_CATEGORIES`), one bin for any other value, and one for missing
values. No bin is one person's value. The
state is plain numbers and lists (:meth:`Binning.to_dict`), so it is saved with a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .columns import numeric_values, py_scalar

__all__ = ["BINS", "MAX_CATEGORIES", "MIN_ROWS", "POINT_SHARE", "Binning"]

#: Quantile bins of a numeric column's values outside its point masses.
BINS = 10
#: Most categories of a discrete column with a bin of their own.
MAX_CATEGORIES = 50
#: A point mass holds at least this share of a numeric column's values ...
POINT_SHARE = 0.005
#: ... and at least this many rows (so that no bin is one person's value).
MIN_ROWS = 20
_NUMERIC = ("continuous", "integer", "datetime")


class Binning:
    """How one column's values become bin codes ``0 .. n_bins - 1`` (the last is missing)."""

    def __init__(
        self,
        name: str,
        kind: str,
        *,
        points: list[float] | None = None,
        edges: list[float] | None = None,
        categories: list[Any] | None = None,
        format: str | None = None,
    ) -> None:
        self.name, self.kind = name, kind
        self.format = format  # of datetime strings (see ColumnMetadata.format)
        self.numeric = kind in _NUMERIC
        if self.numeric:
            self.points = np.asarray(points or [], dtype=np.float64)
            self.edges = np.asarray(edges or [], dtype=np.float64)
            self.n_bins = len(self.points) + len(self.edges) + 2  # points, intervals, missing
        else:
            self.categories = list(categories or [])
            self.lookup = {c: i for i, c in enumerate(self.categories)}
            self.n_bins = len(self.categories) + 2  # categories, another value, missing

    @classmethod
    def fit(
        cls, name: str, kind: str, series: pd.Series, *, format: str | None = None
    ) -> "Binning":
        """The bins of ``series`` (see the module's docstring)."""
        if kind not in _NUMERIC:
            counts = series.astype(object).value_counts(dropna=True)
            counts = counts[counts >= MIN_ROWS]
            return cls(name, kind, categories=[py_scalar(v) for v in counts.index[:MAX_CATEGORIES]])
        x = numeric_values(name, series, kind, fmt=format)
        x = x[~np.isnan(x)]
        if not len(x):
            return cls(name, kind, format=format)
        uniq, counts = np.unique(x, return_counts=True)
        is_point = (counts >= MIN_ROWS) & (counts >= POINT_SHARE * len(x))
        points = uniq[is_point]
        rest = x[~np.isin(x, points)]
        bins = min(BINS, len(rest) // MIN_ROWS)  # every interval of at least MIN_ROWS values
        edges = np.unique(np.quantile(rest, np.linspace(0, 1, bins + 1)[1:-1])) if bins > 1 else []
        return cls(name, kind, points=points.tolist(), edges=list(map(float, edges)),
                   format=format)

    def codes(self, series: pd.Series) -> np.ndarray:
        """Each value's bin (int64)."""
        if self.numeric:
            x = numeric_values(self.name, series, self.kind, fmt=self.format)
            out = len(self.points) + np.searchsorted(self.edges, x, side="right")
            if len(self.points):
                at = np.searchsorted(self.points, x)
                hit = (at < len(self.points)) & (self.points[np.minimum(at, len(self.points) - 1)] == x)
                out = np.where(hit, at, out)
            out[np.isnan(x)] = self.n_bins - 1
            return out.astype(np.int64)
        rows, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
        table = np.array(
            [self.lookup.get(py_scalar(u), self.n_bins - 2) for u in uniques] + [self.n_bins - 1],
            dtype=np.int64,
        )
        return table[rows]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.numeric:
            out.update(points=self.points.tolist(), edges=self.edges.tolist())
            if self.format is not None:
                out["format"] = self.format
        else:
            out["categories"] = self.categories
        return out

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> "Binning":
        return cls(
            state["name"], state["kind"], points=state.get("points"), edges=state.get("edges"),
            categories=state.get("categories"), format=state.get("format"),
        )
