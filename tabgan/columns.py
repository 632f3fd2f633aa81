"""Column helpers shared by every module that reads a table's cells.

The one home of: the JSON stand-ins for a missing category and for pooled rare
values, plain-Python scalars, dtype names, the checks every input table passes,
and the conversion of a numeric or datetime column to float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import InvalidDataError

__all__ = [
    "MISSING", "OTHER", "check_dataframe", "check_single_type", "datetimes_as_ns",
    "dtype_str", "numeric_values", "py_scalar", "value_types",
]

MISSING = "__tabgan_missing__"  # JSON stand-in for a NaN category
OTHER = "__tabgan_other__"  # the bucket of rare values of high-cardinality columns


def check_dataframe(df: Any, *, min_rows: int = 2) -> pd.DataFrame:
    """Raise :class:`InvalidDataError` for tables tabgan cannot learn from."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidDataError(
            f"Expected a pandas DataFrame, got {type(df).__name__}. "
            "Wrap your data with pandas.DataFrame(...) first."
        )
    if df.shape[1] == 0:
        raise InvalidDataError("The table has no columns; pass a DataFrame with data in it.")
    if len(df) < min_rows:
        raise InvalidDataError(
            f"The table has {len(df)} row(s); tabgan needs at least {min_rows} rows to learn "
            "a distribution (in practice, hundreds or more)."
        )
    dup = df.columns[df.columns.duplicated()].tolist()
    if dup:
        raise InvalidDataError(
            f"Duplicate column names: {dup}. Rename them so every column name is unique."
        )
    bad = [c for c in df.columns if not isinstance(c, str)]
    if bad:
        raise InvalidDataError(
            f"Column names must be strings; got {bad[:5]}. "
            "Use df.columns = df.columns.astype(str)."
        )
    for name in df.columns:
        if df[name].dtype == object:
            _check_scalar_cells(name, df[name])
    return df


#: Cell types that are no single value: a column holding them is refused.
_CONTAINERS = (list, tuple, dict, set, frozenset, np.ndarray, pd.Series, pd.DataFrame)


def _check_scalar_cells(name: str, series: pd.Series) -> None:
    """Raise :class:`InvalidDataError` if an object column holds lists, dicts or other
    containers (they would otherwise be turned into strings and copied whole)."""
    kinds = {t for t in series.map(type).unique() if issubclass(t, _CONTAINERS)}
    if kinds:
        raise InvalidDataError(
            f"Column {name!r} holds {', '.join(sorted(t.__name__ for t in kinds))} cells; "
            "tabgan models one value per cell. Split the column "
            f"into one column per field, or, if each cell is a label, convert it: "
            f"df[{name!r}] = df[{name!r}].astype(str)."
        )


#: Formats of date and time strings read as datetimes (year first only: day-first and
#: month-first dates cannot be told apart).
DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
    "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d",
)


def datetime_format(series: pd.Series, *, sample: int = 1000) -> str | None:
    """The format of :data:`DATETIME_FORMATS` in which every value of a column of strings
    (checked on up to ``sample`` values) parses and prints back unchanged; ``None`` if
    none does or the column holds anything but strings."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return None
    values = series.dropna()
    if not len(values) or not pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return None
    values = values.iloc[:: max(1, len(values) // sample)][:sample]
    if not all(issubclass(t, str) for t in value_types(values)) or not values.str.len().between(
            8, 32).all():
        return None
    first = values.iloc[0]
    for fmt in DATETIME_FORMATS:
        if len(first) != len(pd.Timestamp(2000, 11, 22, 13, 44, 55, 123456).strftime(fmt)):
            continue
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if parsed.notna().all() and (parsed.dt.strftime(fmt) == values).all():
            # the sample agrees: every value must parse too (one stray value elsewhere
            # would otherwise make the fit refuse a column nobody declared datetime)
            if pd.to_datetime(series.dropna(), format=fmt, errors="coerce").notna().all():
                return fmt
            return None
    return None


def datetimes_as_ns(stamps: pd.Series) -> np.ndarray:
    """Parsed datetimes (naive or tz-aware, any resolution) as float64 nanoseconds since
    the epoch in UTC, NaN where missing."""
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    raw = stamps.to_numpy(dtype="datetime64[ns]")
    out = raw.view("int64").astype(np.float64)
    out[np.isnat(raw)] = np.nan
    return out


_TYPE = np.frompyfunc(type, 1, 1)


def value_types(values: pd.Series | np.ndarray) -> set[type]:
    """The Python types of the values (one C loop and a hash of the types: fast on millions
    of rows, where a Python function per value is not)."""
    arr = np.asarray(values, dtype=object)
    return set(pd.unique(_TYPE(arr))) if arr.size else set()


def check_single_type(name: str, series: pd.Series, nonnull: pd.Series) -> None:
    """Raise :class:`InvalidDataError` if an object column mixes value types."""
    if series.dtype == object and len(nonnull):
        families = {_type_family(t) for t in value_types(nonnull)}
        if len(families) > 1:
            raise InvalidDataError(
                f"Column {name!r} mixes value types {sorted(families)}. Convert it to one "
                f"type first, e.g. df[{name!r}] = df[{name!r}].astype(str)."
            )


def _type_family(t: type) -> str:
    if issubclass(t, (bool, np.bool_)):
        return "bool"
    if issubclass(t, (int, float, np.integer, np.floating)):
        return "number"
    if issubclass(t, str):
        return "str"
    return t.__name__


def numeric_values(
    name: str, series: pd.Series, kind: str, *, table: str | None = None,
    fmt: str | None = None,
) -> np.ndarray:
    """A numeric, integer or datetime column as float64: the one rule by which every
    module (transformer, private preprocessing, evaluation, audits) reads numbers.

    * missing values (NaN, None, NaT, ``pd.NA``) become NaN;
    * datetimes (a ``kind`` of ``"datetime"``, or a datetime dtype whatever the declared
      kind) become nanoseconds since the epoch in UTC; strings are read in the format
      ``fmt`` when one is given (a declared or detected format);
    * booleans become 0 and 1;
    * a value that cannot be parsed as a number or a date, and an infinite value, raise
      :class:`InvalidDataError` naming the column (and ``table``, the role of the table
      it comes from, when given) and what to do.
    """
    if table is not None:
        try:
            return numeric_values(name, series, kind, fmt=fmt)
        except InvalidDataError as exc:
            raise InvalidDataError(f"In the {table} table: {exc}") from exc
    if kind == "datetime" or pd.api.types.is_datetime64_any_dtype(series.dtype):
        try:
            ts = pd.to_datetime(series, format=fmt)
        except (ValueError, TypeError) as exc:
            raise InvalidDataError(
                f"Column {name!r} is declared datetime but cannot be parsed as dates: {exc}"
            ) from exc
        return datetimes_as_ns(ts)
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64").to_numpy()
    try:
        values = pd.to_numeric(series, errors="raise").astype("float64").to_numpy()
    except (ValueError, TypeError) as exc:
        raise InvalidDataError(
            f"Column {name!r} is treated as {kind} but holds non-numeric values "
            f"({exc}). Declare it discrete with metadata={{{name!r}: 'discrete'}} "
            "or clean the values."
        ) from exc
    if np.isinf(values).any():
        raise InvalidDataError(
            f"Column {name!r} contains infinite values. Replace them with NaN "
            "(df.replace([np.inf, -np.inf], np.nan)) or with finite bounds."
        )
    return values


def dtype_str(series: pd.Series) -> str:
    return str(series.dtype)


def py_scalar(v: Any) -> Any:
    """Plain Python scalar (JSON-friendly) for numpy / pandas scalars."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v
