"""Pair metrics: does the synthetic table keep how columns move together?

For each pair of columns, on the rows where both values are present:

* numeric–numeric: Pearson and Spearman correlation in each table and their
  absolute differences; pair score ``1 - |Δ Pearson| / 2``;
* categorical–categorical: total variation distance between the two
  contingency tables (joint frequencies); pair score ``1 - TVD``;
* numeric–categorical: the numeric side is cut into quantile bins whose edges
  come from the *real* column (at most ``n_bins``, fewer when values tie; a
  column with at most ``n_bins`` distinct values keeps one bin per value), then
  treated like a categorical–categorical pair.

Categorical and mixed pairs also get Cramér's V in each table
(:func:`scipy.stats.contingency.association`) and its difference. The
*association* of a pair is Pearson's r for numeric pairs and Cramér's V
otherwise; the report's heatmaps show it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from scipy.stats.contingency import association

from .._validation import int_at_least, validate_params
from ..errors import InvalidParameterError
from ..metadata import Metadata
from ._prepare import EncodedColumn, Notes, as_series, check_table, prepare

__all__ = ["DEFAULT_BINS", "PairResult", "compare_pair", "cramers_v"]

#: Number of quantile bins for the numeric side of a mixed pair.
DEFAULT_BINS = 10

_NAN = float("nan")


@dataclass(frozen=True)
class PairResult:
    """Comparison of one pair of columns; metrics that do not apply are NaN.

    ``kind`` is ``"numeric"`` (both numeric), ``"categorical"`` (both
    categorical) or ``"mixed"``.
    """

    column_a: str
    column_b: str
    kind: str
    pearson_real: float = _NAN
    pearson_synthetic: float = _NAN
    spearman_real: float = _NAN
    spearman_synthetic: float = _NAN
    contingency_tvd: float = _NAN
    cramers_v_real: float = _NAN
    cramers_v_synthetic: float = _NAN

    @property
    def pearson_diff(self) -> float:
        return abs(self.pearson_synthetic - self.pearson_real)

    @property
    def spearman_diff(self) -> float:
        return abs(self.spearman_synthetic - self.spearman_real)

    @property
    def cramers_v_diff(self) -> float:
        return abs(self.cramers_v_synthetic - self.cramers_v_real)

    @property
    def association_real(self) -> float:
        """Pearson's r for numeric pairs, Cramér's V otherwise."""
        return self.pearson_real if self.kind == "numeric" else self.cramers_v_real

    @property
    def association_synthetic(self) -> float:
        return self.pearson_synthetic if self.kind == "numeric" else self.cramers_v_synthetic

    @property
    def score(self) -> float:
        """``1 - |Δ Pearson| / 2`` for numeric pairs, ``1 - contingency TVD`` otherwise.

        NaN when the real correlation is undefined (a constant real column). A
        synthetic correlation that is undefined (a constant synthetic column) counts
        as 0: such a column keeps no relationship.
        """
        if self.kind == "numeric":
            synthetic = 0.0 if math.isnan(self.pearson_synthetic) else self.pearson_synthetic
            return 1.0 - abs(synthetic - self.pearson_real) / 2.0
        return 1.0 - self.contingency_tvd

    def to_dict(self) -> dict[str, Any]:
        """One flat row of the report's pair table."""
        return {
            "column_a": self.column_a,
            "column_b": self.column_b,
            "kind": self.kind,
            "score": self.score,
            "pearson_real": self.pearson_real,
            "pearson_synthetic": self.pearson_synthetic,
            "pearson_diff": self.pearson_diff,
            "spearman_real": self.spearman_real,
            "spearman_synthetic": self.spearman_synthetic,
            "spearman_diff": self.spearman_diff,
            "contingency_tvd": self.contingency_tvd,
            "cramers_v_real": self.cramers_v_real,
            "cramers_v_synthetic": self.cramers_v_synthetic,
            "cramers_v_diff": self.cramers_v_diff,
            "association_real": self.association_real,
            "association_synthetic": self.association_synthetic,
            "association_diff": abs(self.association_synthetic - self.association_real),
        }


# ------------------------------------------------------------------ public API
def compare_pair(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    columns: tuple[str, str],
    metadata: Any = None,
    n_bins: int = DEFAULT_BINS,
) -> PairResult:
    """Compare how two columns relate in the real and in the synthetic table.

    Parameters
    ----------
    real, synthetic:
        DataFrames holding at least the two ``columns``.
    columns:
        The two column names.
    metadata:
        Column-kind overrides, as for :meth:`tabgan.Metadata.detect`.
    n_bins:
        Quantile bins for the numeric side of a mixed pair.
    """
    validate_params("compare_pair", {"n_bins": n_bins}, {"n_bins": int_at_least(2)})
    if (
        not isinstance(columns, Sequence)
        or isinstance(columns, str)
        or len(columns) != 2
        or columns[0] == columns[1]
    ):
        raise InvalidParameterError(
            "The 'columns' parameter of compare_pair must be two different column names. "
            f"Got {columns!r} instead."
        )
    check_table(real, "real")
    check_table(synthetic, "synthetic")
    for name in columns:
        if name not in real.columns or name not in synthetic.columns:
            raise InvalidParameterError(
                f"The 'columns' parameter of compare_pair names {name!r}, which is not a "
                "column of both tables."
            )
    notes = Notes()
    pair = list(columns)
    meta_over = None
    if metadata is not None:
        full = Metadata.detect(real, metadata)
        meta_over = {name: full[name] for name in pair}
    _, encoded, _ = prepare(real[pair], synthetic[pair], metadata=meta_over)
    views = [PairView.build(c, n_bins) for c in encoded]
    result = pair_result(views[0], views[1], notes)
    notes.emit(stacklevel=2)
    return result


def cramers_v(x: Any, y: Any) -> float:
    """Cramér's V between two categorical samples of equal length (0 to 1).

    Rows where either value is missing are left out. NaN when either sample has
    fewer than two categories. Uses :func:`scipy.stats.contingency.association`
    (no continuity correction).
    """
    a = as_series(x, "first").reset_index(drop=True)
    b = as_series(y, "second").reset_index(drop=True)
    if len(a) != len(b):
        raise InvalidParameterError(
            f"cramers_v needs two samples of equal length; got {len(a)} and {len(b)}."
        )
    ca, ua = pd.factorize(a)
    cb, ub = pd.factorize(b)
    return _cramers_v(_joint_counts(ca, cb, len(ua), len(ub)))


# -------------------------------------------------------------------- internal
@dataclass
class PairView:
    """A column prepared for pair metrics: values, level codes and cached ranks."""

    column: EncodedColumn
    levels_real: np.ndarray  # categories, or quantile bins of a numeric column; -1 = missing
    levels_synthetic: np.ndarray
    n_levels: int
    single_real_value: bool  # one distinct non-missing real value: associations undefined

    @classmethod
    def build(cls, column: EncodedColumn, n_bins: int) -> PairView:
        if column.is_numeric:
            cuts = quantile_cuts(column.real, n_bins)
            real, synth, n = _bin(column.real, cuts), _bin(column.synthetic, cuts), len(cuts) + 1
        else:
            real, synth, n = column.real, column.synthetic, len(column.categories)
        present = real[real >= 0]
        single = len(present) > 0 and bool((present == present[0]).all())
        return cls(column, real, synth, n, single)


def quantile_cuts(real: np.ndarray, n_bins: int) -> np.ndarray:
    """Interior bin edges from the real values: quantiles, or midpoints for few values.

    Bins are right-closed: a value ``v`` falls in bin ``i`` when
    ``cuts[i-1] < v <= cuts[i]``.
    """
    values = real[~np.isnan(real)]
    if len(values) == 0:
        return np.empty(0)
    distinct = np.unique(values)
    if len(distinct) <= n_bins:
        return (distinct[:-1] + distinct[1:]) / 2.0
    cuts = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    cuts = cuts[cuts < distinct[-1]]
    # most values tied at the maximum: still separate the maximum from the rest
    return cuts if len(cuts) else distinct[-2:-1]


def _bin(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    codes = np.searchsorted(cuts, values, side="left").astype("int64")
    codes[np.isnan(values)] = -1
    return codes


def _joint_counts(ca: np.ndarray, cb: np.ndarray, ka: int, kb: int) -> np.ndarray:
    """Contingency table of two code arrays (rows where either is missing left out)."""
    both = (ca >= 0) & (cb >= 0)
    flat = np.bincount(ca[both] * kb + cb[both], minlength=ka * kb)
    return flat.reshape(ka, kb)


def _cramers_v(table: np.ndarray) -> float:
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return _NAN
    return float(association(table.astype("int64"), method="cramer"))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2:
        return _NAN
    dx, dy = x - x.mean(), y - y.mean()
    denom = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    if denom == 0 or not np.isfinite(denom):
        return _NAN
    return float(np.clip((dx * dy).sum() / denom, -1.0, 1.0))


def _correlations(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Pearson and Spearman correlation on the rows where both values are present."""
    both = ~(np.isnan(x) | np.isnan(y))
    x, y = x[both], y[both]
    if len(x) < 2:
        return _NAN, _NAN
    return _pearson(x, y), _pearson(rankdata(x), rankdata(y))


def pair_result(a: PairView, b: PairView, notes: Notes) -> PairResult:
    """Compare one pair of prepared columns."""
    ca, cb = a.column, b.column
    for view in (a, b):
        if view.single_real_value:
            notes.warn(
                f"Column {view.column.name!r} has a single value in the real table; "
                "correlations and Cramér's V with it are NaN."
            )
    if ca.is_numeric and cb.is_numeric:
        pr, sr = _correlations(ca.real, cb.real)
        ps, ss = _correlations(ca.synthetic, cb.synthetic)
        return PairResult(
            ca.name,
            cb.name,
            "numeric",
            pearson_real=pr,
            pearson_synthetic=ps,
            spearman_real=sr,
            spearman_synthetic=ss,
        )
    real = _joint_counts(a.levels_real, b.levels_real, a.n_levels, b.n_levels)
    synth = _joint_counts(a.levels_synthetic, b.levels_synthetic, a.n_levels, b.n_levels)
    if real.sum() == 0 or synth.sum() == 0:
        notes.warn(
            f"Columns {ca.name!r} and {cb.name!r} are never both present in the "
            f"{'real' if real.sum() == 0 else 'synthetic'} table; their pair metrics are NaN."
        )
        tvd = _NAN
    else:
        tvd = float(0.5 * np.abs(real / real.sum() - synth / synth.sum()).sum())
    kind = "categorical" if not (ca.is_numeric or cb.is_numeric) else "mixed"
    return PairResult(
        ca.name,
        cb.name,
        kind,
        contingency_tvd=tvd,
        cramers_v_real=_cramers_v(real),
        cramers_v_synthetic=_cramers_v(synth),
    )


def select_pairs(
    n_columns: int, max_pairs: int, rng: np.random.Generator
) -> tuple[list[tuple[int, int]], int]:
    """All column pairs, or a seeded sample of ``max_pairs`` of them; and the total."""
    every = list(combinations(range(n_columns), 2))
    if len(every) <= max_pairs:
        return every, len(every)
    chosen = np.sort(rng.choice(len(every), size=max_pairs, replace=False))
    return [every[i] for i in chosen], len(every)


def pairs_table(results: list[PairResult]) -> pd.DataFrame:
    """The report's pair table, one row per evaluated pair."""
    columns = list(PairResult("a", "b", "numeric").to_dict())
    return pd.DataFrame([r.to_dict() for r in results], columns=columns)
