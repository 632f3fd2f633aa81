"""Checks and the one shared encoding of the tables being compared (internal).

Every metric family (columns, pairs, utility, detection) reads the same
:class:`EncodedColumn` objects, built once per evaluation:

* numeric columns (``continuous``, ``integer``, ``datetime``) become ``float64``
  arrays by :func:`tabgan.columns.numeric_values`: ``NaN`` for missing values,
  datetimes as nanoseconds since the epoch in UTC; unparseable or infinite values
  raise :class:`~tabgan.InvalidDataError`;
* categorical columns (``discrete``, ``boolean``) become ``int64`` codes into the
  union of the real and synthetic categories, ``-1`` for missing values.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..columns import numeric_values
from ..errors import InvalidDataError, InvalidParameterError
from ..metadata import KINDS, UNMODELLED_KINDS, Metadata, declared_columns, detect_kind

__all__ = [
    "EncodedColumn",
    "EvaluationWarning",
    "Notes",
    "check_table",
    "encode_column",
    "encode_like",
    "feature_matrix",
    "usable_features",
    "prepare",
]

# HistGradientBoosting accepts at most 255 bins; one is kept for "other".
_MAX_MODEL_CATEGORIES = 254


class EvaluationWarning(UserWarning):
    """A metric could not be computed as usual for degenerate but legal input."""


class Notes:
    """Collects what an evaluation has to tell: degenerate input and choices made.

    ``warn`` notes are also emitted as :class:`EvaluationWarning`; ``info`` notes
    (pairs were sampled, the holdout was split off the real table) are only
    recorded, since they describe a choice rather than a problem.
    """

    def __init__(self) -> None:
        self._items: dict[str, bool] = {}  # message -> is a warning; insertion-ordered

    def warn(self, message: str) -> None:
        self._items.setdefault(message, True)

    def info(self, message: str) -> None:
        self._items.setdefault(message, False)

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(self._items)

    def emit(self, *, stacklevel: int) -> None:
        """Issue the ``warn`` notes; ``stacklevel`` as seen from the caller of ``emit``."""
        for message, is_warning in self._items.items():
            if is_warning:
                warnings.warn(message, EvaluationWarning, stacklevel=stacklevel + 1)


@dataclass(frozen=True)
class EncodedColumn:
    """One column of both tables in the shared encoding (see the module docstring)."""

    name: Any
    kind: str
    real: np.ndarray
    synthetic: np.ndarray
    categories: tuple[Any, ...] = ()
    format: str | None = None  # of datetime strings (see ColumnMetadata.format)

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("continuous", "integer", "datetime")


# ------------------------------------------------------------------ parameters
def child_seeds(rng: np.random.Generator, n: int) -> list[int]:
    """``n`` independent integer seeds (for scikit-learn) drawn from ``rng``."""
    return [int(s) for s in rng.integers(0, 2**31 - 1, size=n)]


# ---------------------------------------------------------------------- tables
def check_table(df: Any, role: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise InvalidDataError(
            f"The {role} table must be a pandas DataFrame, got {type(df).__name__}. "
            "Wrap your data with pandas.DataFrame(...) first."
        )
    if df.shape[1] == 0:
        raise InvalidDataError(f"The {role} table has no columns; there is nothing to compare.")
    if len(df) == 0:
        raise InvalidDataError(f"The {role} table has no rows; there is nothing to compare.")
    if not df.columns.is_unique:
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise InvalidDataError(
            f"The {role} table has duplicated column names {dupes}; rename them first."
        )
    return df


def align_columns(real: pd.DataFrame, other: pd.DataFrame, role: str) -> pd.DataFrame:
    """``other`` with the real table's column order; raises if the column sets differ."""
    missing = [c for c in real.columns if c not in other.columns]
    extra = [c for c in other.columns if c not in real.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from the {role} table: {missing}")
        if extra:
            parts.append(f"only in the {role} table: {extra}")
        raise InvalidDataError(
            f"The real and {role} tables must have the same columns; "
            + "; ".join(parts)
            + ". Select the same columns in both (df[real.columns]) before evaluating."
        )
    return other[list(real.columns)]


def encode_column(
    real: pd.Series, synthetic: pd.Series, *, kind: str, fmt: str | None = None
) -> EncodedColumn:
    """The shared encoding of one column; ``kind`` decides numeric versus categorical;
    ``fmt``: the format of datetimes given as strings."""
    name = real.name
    if kind in ("continuous", "integer", "datetime"):
        return EncodedColumn(
            name=name,
            kind=kind,
            real=numeric_values(name, real, kind, table="real", fmt=fmt),
            synthetic=numeric_values(name, synthetic, kind, table="synthetic", fmt=fmt),
            format=fmt,
        )
    both = pd.concat(
        [real.reset_index(drop=True), synthetic.reset_index(drop=True)], ignore_index=True
    )
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    codes = codes.astype("int64")
    return EncodedColumn(
        name=name,
        kind=kind,
        real=codes[: len(real)],
        synthetic=codes[len(real) :],
        categories=tuple(uniques),
    )


def encode_like(series: pd.Series, column: EncodedColumn, *, role: str) -> np.ndarray:
    """A third table's column (the holdout) in ``column``'s encoding; unseen categories -> -1."""
    if column.is_numeric:
        return numeric_values(column.name, series, column.kind, table=role, fmt=column.format)
    return np.asarray(pd.Index(column.categories).get_indexer(series), dtype="int64")


def prepare(
    real: pd.DataFrame, synthetic: pd.DataFrame, *, metadata: Any
) -> tuple[Metadata, list[EncodedColumn], pd.DataFrame]:
    """Check both tables, detect kinds from the real one and encode every column.

    Returns the metadata, the encoded columns (real column order) and the synthetic
    table re-ordered like the real one. Columns that ``metadata`` declares keys,
    identifiers or omitted (generated anew or left out by design) are not compared.
    """
    real = check_table(real, "real")
    declared = declared_columns(metadata)
    skip = [c for c, cm in declared.items() if cm.kind in UNMODELLED_KINDS and c in real.columns]
    if skip:
        if len(skip) == real.shape[1]:
            raise InvalidDataError(
                "Every column is declared a key, an identifier or omitted: there is nothing "
                "to compare.")
        real = real.drop(columns=skip)
        synthetic = check_table(synthetic, "synthetic")
        synthetic = synthetic.drop(columns=[c for c in skip if c in synthetic.columns])
        metadata = {c: cm for c, cm in declared.items() if c not in skip}
    synthetic = align_columns(real, check_table(synthetic, "synthetic"), "synthetic")
    meta = Metadata.detect(real, metadata)
    encoded = [
        encode_column(real[name], synthetic[name], kind=meta[name].kind, fmt=meta[name].format)
        for name in real.columns
    ]
    return meta, encoded, synthetic


def series_kind(series: pd.Series, kind: str | None) -> str:
    """``kind`` if given (validated), else the kind tabgan detects for ``series``."""
    if kind is None:
        return detect_kind(series)
    if kind not in KINDS:
        raise InvalidParameterError(
            f"The 'kind' parameter must be one of {', '.join(KINDS)}. Got {kind!r} instead."
        )
    return kind


def as_series(values: Any, role: str) -> pd.Series:
    """A 1-D array-like as a Series (a Series is kept as it is); empty input raises."""
    if isinstance(values, pd.Series):
        series = values
    else:
        try:
            series = pd.Series(values)
        except (TypeError, ValueError) as exc:
            raise InvalidDataError(
                f"The {role} values must be a 1-D array-like or a pandas Series ({exc})."
            ) from exc
    if len(series) == 0:
        raise InvalidDataError(f"The {role} values are empty; there is nothing to compare.")
    return series


# ---------------------------------------------------------------------- models
def model_codes(column: EncodedColumn) -> np.ndarray:
    """Map from a categorical column's codes to HistGradientBoosting category codes.

    Categories beyond the 254 most frequent (in real and synthetic together) share
    one "other" code, because the model accepts at most 255 categories per feature.
    """
    n = len(column.categories)
    if n <= _MAX_MODEL_CATEGORIES:
        return np.arange(n, dtype="float64")
    counts = np.bincount(column.real[column.real >= 0], minlength=n) + np.bincount(
        column.synthetic[column.synthetic >= 0], minlength=n
    )
    order = np.argsort(-counts, kind="stable")
    mapping = np.full(n, float(_MAX_MODEL_CATEGORIES))
    mapping[order[:_MAX_MODEL_CATEGORIES]] = np.arange(_MAX_MODEL_CATEGORIES, dtype="float64")
    return mapping


def feature_matrix(
    columns: Sequence[EncodedColumn], arrays: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """A float feature matrix for HistGradientBoosting and its categorical mask.

    ``arrays[i]`` holds column ``columns[i]`` in the shared encoding (real,
    synthetic or holdout rows). Missing values and unseen categories become NaN.
    """
    n_rows = len(arrays[0]) if arrays else 0
    X = np.empty((n_rows, len(columns)), dtype="float64")
    mask = np.zeros(len(columns), dtype=bool)
    for j, (column, values) in enumerate(zip(columns, arrays)):
        if column.is_numeric:
            X[:, j] = values
        else:
            mask[j] = True
            mapping = model_codes(column)
            col = np.full(n_rows, np.nan)
            present = values >= 0
            col[present] = mapping[values[present]]
            X[:, j] = col
    return X, mask


def usable_features(
    X_train: np.ndarray, X_test: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Drop features with no value in the training rows (they carry nothing, and
    HistGradientBoosting cannot bin them); return the categorical mask or None."""
    keep = ~np.isnan(X_train).all(axis=0)
    mask = mask[keep]
    return X_train[:, keep], X_test[:, keep], (mask if mask.any() else None)
