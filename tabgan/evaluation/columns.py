"""Per-column metrics: how closely each synthetic column follows the real one.

Numeric columns (``continuous``, ``integer``, ``datetime``; datetimes compared
as int64 nanoseconds) get the two-sample Kolmogorov–Smirnov statistic
(:func:`scipy.stats.ks_2samp`), the Wasserstein-1 distance
(:func:`scipy.stats.wasserstein_distance`), raw and divided by the real
interquartile range, mean/std/quantile differences and range checks.
Categorical columns (``discrete``, ``boolean``) get the total variation distance,
the Jensen–Shannon distance (base 2, so in [0, 1]) and category coverage.
Distribution metrics use the non-missing values; missing-value rates are
compared separately.

The column's *score* is the complement of its headline statistic: ``1 - KS`` for
numeric columns, ``1 - TVD`` for categorical ones (1 = same distribution).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

from ._prepare import EncodedColumn, Notes, as_series, encode_column, series_kind

__all__ = [
    "QUANTILES",
    "CategoricalColumnResult",
    "NumericColumnResult",
    "compare_column",
    "total_variation_distance",
]

#: Quantile levels at which numeric columns are compared.
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)

_NAN = float("nan")


@dataclass(frozen=True)
class NumericColumnResult:
    """Comparison of one numeric column; metrics that cannot be defined are NaN.

    Attributes
    ----------
    ks_statistic, ks_pvalue:
        :func:`scipy.stats.ks_2samp` on the non-missing values (0 = same distribution);
        the p-value is the asymptotic one (``method="asymp"``), because scipy's exact
        method fails on some samples with ties.
    wasserstein:
        :func:`scipy.stats.wasserstein_distance`, in the column's units.
    wasserstein_iqr:
        ``wasserstein`` divided by the real interquartile range (NaN when that is 0).
    mean_real, mean_synthetic, std_real, std_synthetic:
        Moments of the non-missing values (population standard deviation, ddof=0).
    quantiles_real, quantiles_synthetic:
        Values at the levels of :data:`QUANTILES`.
    range_coverage:
        Share of the real range ``[min, max]`` that the synthetic range covers
        (for a constant real column: 1 if the synthetic range contains it, else 0).
    out_of_range_share:
        Share of the synthetic values outside the real ``[min, max]``.
    missing_real, missing_synthetic:
        Share of missing values in each table.
    """

    ks_statistic: float
    ks_pvalue: float
    wasserstein: float
    wasserstein_iqr: float
    mean_real: float
    mean_synthetic: float
    std_real: float
    std_synthetic: float
    quantiles_real: tuple[float, ...]
    quantiles_synthetic: tuple[float, ...]
    range_coverage: float
    out_of_range_share: float
    missing_real: float
    missing_synthetic: float

    @property
    def statistic(self) -> float:
        """The headline statistic, the KS statistic."""
        return self.ks_statistic

    @property
    def ks_complement(self) -> float:
        return 1.0 - self.ks_statistic

    @property
    def score(self) -> float:
        """``1 - KS``: 1 for identical distributions, 0 for disjoint ones."""
        return self.ks_complement

    @property
    def mean_difference(self) -> float:
        return self.mean_synthetic - self.mean_real

    @property
    def std_difference(self) -> float:
        return self.std_synthetic - self.std_real

    @property
    def quantile_differences(self) -> tuple[float, ...]:
        """``synthetic - real`` at each level of :data:`QUANTILES`."""
        return tuple(s - r for r, s in zip(self.quantiles_real, self.quantiles_synthetic))

    @property
    def missing_difference(self) -> float:
        return self.missing_synthetic - self.missing_real

    def to_dict(self) -> dict[str, float]:
        """One flat row of the report's column table."""
        row = {
            "metric": "KS",
            "statistic": self.ks_statistic,
            "score": self.score,
            "ks_statistic": self.ks_statistic,
            "ks_pvalue": self.ks_pvalue,
            "ks_complement": self.ks_complement,
            "wasserstein": self.wasserstein,
            "wasserstein_iqr": self.wasserstein_iqr,
            "mean_real": self.mean_real,
            "mean_synthetic": self.mean_synthetic,
            "mean_diff": self.mean_difference,
            "std_real": self.std_real,
            "std_synthetic": self.std_synthetic,
            "std_diff": self.std_difference,
        }
        for q, d in zip(QUANTILES, self.quantile_differences):
            row[f"q{round(q * 100):02d}_diff"] = d
        row.update(
            range_coverage=self.range_coverage,
            out_of_range_share=self.out_of_range_share,
            missing_real=self.missing_real,
            missing_synthetic=self.missing_synthetic,
            missing_diff=self.missing_difference,
        )
        return row


@dataclass(frozen=True)
class CategoricalColumnResult:
    """Comparison of one categorical column; metrics that cannot be defined are NaN.

    Attributes
    ----------
    tvd:
        Total variation distance ``0.5 * sum |p_real - p_synthetic|`` between the
        category frequencies of the non-missing values (0 = same, 1 = disjoint).
    js_distance:
        Jensen–Shannon distance (:func:`scipy.spatial.distance.jensenshannon`,
        base 2), in [0, 1].
    category_coverage:
        Share of the real categories that appear in the synthetic table.
    unseen_share:
        Share of the synthetic values whose category never occurs in the real table.
    n_categories_real, n_categories_synthetic:
        Number of distinct non-missing categories in each table.
    missing_real, missing_synthetic:
        Share of missing values in each table.
    """

    tvd: float
    js_distance: float
    category_coverage: float
    unseen_share: float
    n_categories_real: int
    n_categories_synthetic: int
    missing_real: float
    missing_synthetic: float

    @property
    def statistic(self) -> float:
        """The headline statistic, the total variation distance."""
        return self.tvd

    @property
    def tvd_complement(self) -> float:
        return 1.0 - self.tvd

    @property
    def score(self) -> float:
        """``1 - TVD``: 1 for identical frequencies, 0 for disjoint categories."""
        return self.tvd_complement

    @property
    def missing_difference(self) -> float:
        return self.missing_synthetic - self.missing_real

    def to_dict(self) -> dict[str, float]:
        """One flat row of the report's column table."""
        return {
            "metric": "TVD",
            "statistic": self.tvd,
            "score": self.score,
            "tvd": self.tvd,
            "tvd_complement": self.tvd_complement,
            "js_distance": self.js_distance,
            "category_coverage": self.category_coverage,
            "unseen_share": self.unseen_share,
            "n_categories_real": self.n_categories_real,
            "n_categories_synthetic": self.n_categories_synthetic,
            "missing_real": self.missing_real,
            "missing_synthetic": self.missing_synthetic,
            "missing_diff": self.missing_difference,
        }


ColumnResult = NumericColumnResult | CategoricalColumnResult


# ------------------------------------------------------------------ public API
def compare_column(
    real: Any, synthetic: Any, *, kind: str | None = None
) -> NumericColumnResult | CategoricalColumnResult:
    """Compare one real column with its synthetic counterpart.

    Parameters
    ----------
    real, synthetic:
        1-D array-likes or Series (lengths may differ).
    kind:
        A tabgan column kind (``"continuous"``, ``"integer"``, ``"datetime"``,
        ``"discrete"``, ``"boolean"``); detected from ``real``'s dtype if omitted.

    Returns
    -------
    NumericColumnResult or CategoricalColumnResult

    Warns
    -----
    EvaluationWarning
        When a table has no non-missing value, or the real column is constant.
    """
    real_s = as_series(real, "real")
    synth_s = as_series(synthetic, "synthetic")
    notes = Notes()
    column = encode_column(
        real_s.rename("column") if real_s.name is None else real_s,
        synth_s,
        kind=series_kind(real_s, kind),
    )
    result = column_result(column, notes)
    notes.emit(stacklevel=2)
    return result


def total_variation_distance(real: Any, synthetic: Any) -> float:
    """Total variation distance between the category frequencies of two samples.

    ``0.5 * sum_c |p_real(c) - p_synthetic(c)|`` over the union of categories,
    missing values left out: 0 for identical frequencies, 1 for disjoint categories.
    """
    column = encode_column(
        as_series(real, "real").rename("column"),
        as_series(synthetic, "synthetic"),
        kind="discrete",
    )
    p, q = _frequencies(column)
    return _tvd(p, q)


# -------------------------------------------------------------------- internal
def column_result(column: EncodedColumn, notes: Notes) -> ColumnResult:
    """The result for one column of the shared encoding."""
    if column.is_numeric:
        return _numeric(column, notes)
    return _categorical(column, notes)


def _missing_rates(column: EncodedColumn) -> tuple[float, float]:
    if column.is_numeric:
        return float(np.isnan(column.real).mean()), float(np.isnan(column.synthetic).mean())
    return float((column.real < 0).mean()), float((column.synthetic < 0).mean())


def _note_empty(column: EncodedColumn, n_real: int, n_synth: int, notes: Notes) -> bool:
    empty = [role for role, n in (("real", n_real), ("synthetic", n_synth)) if n == 0]
    if empty:
        notes.warn(
            f"Column {column.name!r} has no non-missing value in the {' and '.join(empty)} "
            "table; its distribution metrics are NaN."
        )
    return bool(empty)


def _numeric(column: EncodedColumn, notes: Notes) -> NumericColumnResult:
    r = column.real[~np.isnan(column.real)]
    s = column.synthetic[~np.isnan(column.synthetic)]
    missing_real, missing_synth = _missing_rates(column)
    nan_q = (_NAN,) * len(QUANTILES)
    if _note_empty(column, len(r), len(s), notes):
        return NumericColumnResult(
            ks_statistic=_NAN,
            ks_pvalue=_NAN,
            wasserstein=_NAN,
            wasserstein_iqr=_NAN,
            mean_real=float(r.mean()) if len(r) else _NAN,
            mean_synthetic=float(s.mean()) if len(s) else _NAN,
            std_real=float(r.std()) if len(r) else _NAN,
            std_synthetic=float(s.std()) if len(s) else _NAN,
            quantiles_real=tuple(map(float, np.quantile(r, QUANTILES))) if len(r) else nan_q,
            quantiles_synthetic=tuple(map(float, np.quantile(s, QUANTILES))) if len(s) else nan_q,
            range_coverage=_NAN,
            out_of_range_share=_NAN,
            missing_real=missing_real,
            missing_synthetic=missing_synth,
        )
    # scipy's exact p-value fails (and warns) on some tied samples, even small ones;
    # the asymptotic one divides by zero for single values (p-value NaN then)
    with np.errstate(divide="ignore", invalid="ignore"):
        ks = ks_2samp(r, s, method="asymp")
    w1 = float(wasserstein_distance(r, s))
    q_real = np.quantile(r, QUANTILES)
    q25, q75 = np.quantile(r, [0.25, 0.75])
    iqr = float(q75 - q25)
    lo, hi = float(r.min()), float(r.max())
    s_lo, s_hi = float(s.min()), float(s.max())
    if hi > lo:
        coverage = max(0.0, min(hi, s_hi) - max(lo, s_lo)) / (hi - lo)
    else:
        coverage = 1.0 if s_lo <= lo <= s_hi else 0.0
        notes.warn(
            f"Column {column.name!r} is constant in the real table; its normalised "
            "Wasserstein distance is NaN."
        )
    if s_hi == s_lo and hi > lo:
        notes.warn(f"Column {column.name!r} is constant in the synthetic table (all {s_lo:g}).")
    return NumericColumnResult(
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
        wasserstein=w1,
        wasserstein_iqr=w1 / iqr if iqr > 0 else _NAN,
        mean_real=float(r.mean()),
        mean_synthetic=float(s.mean()),
        std_real=float(r.std()),
        std_synthetic=float(s.std()),
        quantiles_real=tuple(map(float, q_real)),
        quantiles_synthetic=tuple(map(float, np.quantile(s, QUANTILES))),
        range_coverage=float(coverage),
        out_of_range_share=float(((s < lo) | (s > hi)).mean()),
        missing_real=missing_real,
        missing_synthetic=missing_synth,
    )


def _frequencies(column: EncodedColumn) -> tuple[np.ndarray, np.ndarray]:
    """Category counts (not normalised) of the real and synthetic non-missing values."""
    k = len(column.categories)
    p = np.bincount(column.real[column.real >= 0], minlength=k).astype("float64")
    q = np.bincount(column.synthetic[column.synthetic >= 0], minlength=k).astype("float64")
    return p, q


def _tvd(p: np.ndarray, q: np.ndarray) -> float:
    """TVD between two count vectors over the same categories (NaN if one is empty)."""
    if p.sum() == 0 or q.sum() == 0:
        return _NAN
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def _categorical(column: EncodedColumn, notes: Notes) -> CategoricalColumnResult:
    p, q = _frequencies(column)
    missing_real, missing_synth = _missing_rates(column)
    in_real, in_synth = p > 0, q > 0
    if _note_empty(column, int(p.sum()), int(q.sum()), notes):
        return CategoricalColumnResult(
            tvd=_NAN,
            js_distance=_NAN,
            category_coverage=_NAN,
            unseen_share=_NAN,
            n_categories_real=int(in_real.sum()),
            n_categories_synthetic=int(in_synth.sum()),
            missing_real=missing_real,
            missing_synthetic=missing_synth,
        )
    if in_synth.sum() == 1 and in_real.sum() > 1:
        notes.warn(f"Column {column.name!r} has a single category in the synthetic table.")
    return CategoricalColumnResult(
        tvd=_tvd(p, q),
        js_distance=float(jensenshannon(p / p.sum(), q / q.sum(), base=2)),
        category_coverage=float((in_real & in_synth).sum() / in_real.sum()),
        unseen_share=float(q[~in_real].sum() / q.sum()),
        n_categories_real=int(in_real.sum()),
        n_categories_synthetic=int(in_synth.sum()),
        missing_real=missing_real,
        missing_synthetic=missing_synth,
    )


def columns_table(columns: list[EncodedColumn], results: list[ColumnResult]) -> pd.DataFrame:
    """The report's per-column table, indexed by column name."""
    rows = []
    for column, result in zip(columns, results):
        rows.append({"column": column.name, "kind": column.kind, **result.to_dict()})
    return pd.DataFrame(rows).set_index("column")
