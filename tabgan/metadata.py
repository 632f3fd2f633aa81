"""Column kinds: detection from a DataFrame, user overrides, and JSON round-trip.

The metadata is the one place that says how each column is treated: the
transformer, the evaluator and the audits all read it. Detection is a guess
from the dtype; anything can be overridden with ``fit(df, metadata=...)``.

Kinds
-----
``continuous``  real numbers (floats), modelled by a Gaussian mixture.
``integer``     whole numbers, modelled like ``continuous`` and rounded back.
``datetime``    timestamps, modelled as continuous nanoseconds since the epoch.
``discrete``    categories (strings, ``category`` dtype, anything non-numeric).
``boolean``     True/False, modelled as a two-category discrete column.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from .columns import datetime_format, py_scalar, value_types
from .errors import InvalidDataError

__all__ = ["ColumnKind", "ColumnMetadata", "Metadata", "KINDS"]

ColumnKind = Literal["continuous", "integer", "datetime", "discrete", "boolean", "identifier"]
KINDS: tuple[str, ...] = (
    "continuous", "integer", "datetime", "discrete", "boolean", "identifier")
#: An identifier-like column (ids, e-mail addresses) has at least this many values ...
MIN_IDENTIFIER_ROWS = 50
#: ... nearly all distinct: at least this share of its present values.
MIN_IDENTIFIER_UNIQUE = 0.9
NUMERIC_KINDS: frozenset[str] = frozenset({"continuous", "integer", "datetime"})
DISCRETE_KINDS: frozenset[str] = frozenset({"discrete", "boolean"})


@dataclass(frozen=True)
class ColumnMetadata:
    """How one column is modelled.

    Attributes
    ----------
    kind:
        One of :data:`KINDS`.
    categories:
        For discrete columns, the categories declared public (optional). With
        differential privacy, declared categories cost no privacy budget.
    lower, upper:
        For numeric columns, declared public bounds (optional).
    """

    kind: str
    categories: tuple[Any, ...] | None = None
    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidDataError(
                f"Unknown column kind {self.kind!r}. Use one of {', '.join(KINDS)}."
            )
        if self.categories is not None:
            object.__setattr__(self, "categories", tuple(self.categories))
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise InvalidDataError(
                f"Declared bounds are inverted: lower={self.lower} > upper={self.upper}."
            )

    @property
    def is_discrete(self) -> bool:
        return self.kind in DISCRETE_KINDS

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.categories is not None:
            out["categories"] = [py_scalar(c) for c in self.categories]
        if self.lower is not None:
            out["lower"] = float(self.lower)
        if self.upper is not None:
            out["upper"] = float(self.upper)
        return out


@dataclass(frozen=True)
class Metadata:
    """Column name → :class:`ColumnMetadata`, in the table's column order."""

    columns: dict[str, ColumnMetadata] = field(default_factory=dict)

    # ----------------------------------------------------------------- build
    @classmethod
    def detect(
        cls, df: pd.DataFrame, overrides: "Metadata | Mapping[str, Any] | None" = None,
        *, find_identifiers: bool = False,
    ) -> "Metadata":
        """Guess each column's kind from its dtype, then apply ``overrides``.

        ``overrides`` may be a :class:`Metadata`, or a mapping from column name
        to a kind string or to a dict such as ``{"kind": "discrete",
        "categories": [...]}``. Columns not named are detected. With
        ``find_identifiers``, a text column whose values are nearly all distinct
        (:func:`looks_like_identifier`: ids, e-mail addresses) is an ``"identifier"``.
        """
        if not isinstance(df, pd.DataFrame):
            raise InvalidDataError(
                f"Expected a pandas DataFrame, got {type(df).__name__}. "
                "Wrap your data with pandas.DataFrame(...) first."
            )
        given = _coerce_overrides(overrides)
        unknown = [c for c in given if c not in df.columns]
        if unknown:
            raise InvalidDataError(
                f"Metadata names columns that are not in the table: {unknown}. "
                f"The table has: {list(df.columns)}."
            )
        cols: dict[str, ColumnMetadata] = {}
        for name in df.columns:
            if name in given:
                cols[name] = given[name]
                continue
            kind = detect_kind(df[name])
            if find_identifiers and kind == "discrete" and looks_like_identifier(df[name]):
                kind = "identifier"
            cols[name] = ColumnMetadata(kind=kind)
        return cls(columns=cols)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Metadata":
        if not isinstance(data, Mapping) or "columns" not in data:
            raise InvalidDataError(
                "Metadata must be a mapping with a 'columns' entry, e.g. "
                '{"columns": {"age": {"kind": "integer"}}}.'
            )
        return cls(columns=_coerce_overrides(data["columns"]))

    @classmethod
    def from_json(cls, text_or_path: str) -> "Metadata":
        """Read metadata from a JSON string or a path to a JSON file."""
        text = text_or_path
        if not text_or_path.lstrip().startswith("{"):
            with open(text_or_path, encoding="utf-8") as fh:
                text = fh.read()
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InvalidDataError(f"Metadata is not valid JSON: {exc}") from exc

    # ------------------------------------------------------------------ use
    def to_dict(self) -> dict[str, Any]:
        return {"columns": {name: meta.to_dict() for name, meta in self.columns.items()}}

    def to_json(self, path: str | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    def __getitem__(self, name: str) -> ColumnMetadata:
        return self.columns[name]

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def of_kind(self, *kinds: str) -> list[str]:
        return [n for n, m in self.columns.items() if m.kind in kinds]

    @property
    def discrete_columns(self) -> list[str]:
        return [n for n, m in self.columns.items() if m.is_discrete]

    @property
    def numeric_columns(self) -> list[str]:
        return [n for n, m in self.columns.items() if m.is_numeric]

    def with_column(self, name: str, meta: ColumnMetadata) -> "Metadata":
        cols = dict(self.columns)
        cols[name] = meta
        return replace(self, columns=cols)


def schema_kind(dtype: Any) -> str:
    """The kind of a column from its dtype alone, without reading any value.

    This is what differential-privacy mode uses (detection that reads values would leak).
    """
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if isinstance(dtype, pd.CategoricalDtype):
        return "discrete"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(dtype):
        return "continuous"
    return "discrete"


def detect_kind(series: pd.Series) -> str:
    """The kind tabgan would give ``series`` by default: :func:`schema_kind`, refined by
    the values (floats holding whole numbers are integers, e.g. an int column with NaN read
    from CSV; object columns holding only True/False are booleans)."""
    kind = schema_kind(series.dtype)
    if kind == "discrete" and datetime_format(series) is not None:
        return "datetime"  # date and time strings, returned in their format
    if kind == "continuous" and pd.api.types.is_float_dtype(series.dtype):
        values = series.dropna().to_numpy()
        if len(values) and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            return "integer"
    elif kind == "discrete" and not isinstance(series.dtype, pd.CategoricalDtype):
        values = series.dropna()
        if len(values) and all(issubclass(t, (bool, np.bool_)) for t in value_types(values)):
            return "boolean"
    return kind


def looks_like_identifier(series: pd.Series) -> bool:
    """A text column of at least :data:`MIN_IDENTIFIER_ROWS` present values, at least
    :data:`MIN_IDENTIFIER_UNIQUE` of them distinct: ids, e-mail addresses, free text.
    Modelled as categories, each value would be one person's and would be copied."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return False
    values = series.dropna()
    if len(values) < MIN_IDENTIFIER_ROWS or not all(issubclass(t, str)
                                                    for t in value_types(values)):
        return False
    return values.nunique() >= MIN_IDENTIFIER_UNIQUE * len(values)


def _coerce_overrides(overrides: Any) -> dict[str, ColumnMetadata]:
    if overrides is None:
        return {}
    if isinstance(overrides, Metadata):
        return dict(overrides.columns)
    if isinstance(overrides, Mapping) and "columns" in overrides and isinstance(
        overrides["columns"], Mapping
    ):
        overrides = overrides["columns"]
    if not isinstance(overrides, Mapping):
        raise InvalidDataError(
            "metadata must be a tabgan.Metadata or a mapping {column: kind or {...}}; "
            f"got {type(overrides).__name__}."
        )
    out: dict[str, ColumnMetadata] = {}
    for name, spec in overrides.items():
        if isinstance(spec, ColumnMetadata):
            out[name] = spec
        elif isinstance(spec, str):
            out[name] = ColumnMetadata(kind=spec)
        elif isinstance(spec, Mapping):
            extra = set(spec) - {"kind", "categories", "lower", "upper"}
            if extra:
                raise InvalidDataError(
                    f"Metadata for column {name!r} has unknown keys {sorted(extra)}; "
                    "allowed: kind, categories, lower, upper."
                )
            if "kind" not in spec:
                raise InvalidDataError(f"Metadata for column {name!r} needs a 'kind'.")
            out[name] = ColumnMetadata(**dict(spec))
        else:
            raise InvalidDataError(
                f"Metadata for column {name!r} must be a kind string or a dict; got {spec!r}."
            )
    return out


# keep dataclass helpers importable for callers that want plain dicts
as_plain_dict = asdict
