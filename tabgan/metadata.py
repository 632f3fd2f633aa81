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
``identifier``  ids, e-mail addresses, names: not modelled; new random values of their shapes.
``id``          a key: not modelled; new values of its shapes, unique in every sample.
``omit``        left out: not read, not modelled, not in the samples.

Metadata also comes from SDV's metadata JSON (:meth:`Metadata.from_sdv`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from .columns import datetime_format, py_scalar, value_types
from .errors import InvalidDataError

__all__ = ["ColumnKind", "ColumnMetadata", "Metadata", "KINDS", "SDV_PII_SDTYPES"]

ColumnKind = Literal[
    "continuous", "integer", "datetime", "discrete", "boolean", "identifier", "id", "omit"]
KINDS: tuple[str, ...] = (
    "continuous", "integer", "datetime", "discrete", "boolean", "identifier", "id", "omit")
#: Kinds whose column is not modelled: its values are generated anew (or left out).
UNMODELLED_KINDS: frozenset[str] = frozenset({"identifier", "id", "omit"})
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
    format:
        For a ``datetime`` column of strings, its ``strftime`` format (such as
        ``"%d/%m/%Y"``): the strings are read with it and generated in it. Without
        it, year-first formats are recognised; others must be declared.
    """

    kind: str
    categories: tuple[Any, ...] | None = None
    lower: float | None = None
    upper: float | None = None
    format: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidDataError(
                f"Unknown column kind {self.kind!r}. Use one of {', '.join(KINDS)}."
            )
        if self.format is not None:
            if self.kind != "datetime":
                raise InvalidDataError(
                    f"A format is declared for a column of kind {self.kind!r}; formats are "
                    "for datetime columns. Declare {'kind': 'datetime', 'format': ...}."
                )
            _check_format(self.format)
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
        if self.format is not None:
            out["format"] = self.format
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
        given = _declared_for(df, overrides)
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
    def from_json(cls, text_or_path: str | os.PathLike) -> "Metadata":
        """Read metadata from a JSON string or a path to a JSON file: tabgan's format
        (:meth:`to_json`) or SDV's (:meth:`from_sdv`), told apart by their keys."""
        data = _read_json(text_or_path)
        if _is_sdv(data):
            return cls.from_sdv(data)
        return cls.from_dict(data)

    @classmethod
    def from_sdv(
        cls, metadata: Mapping[str, Any] | str | os.PathLike, *, table: str | None = None
    ) -> "Metadata":
        """Read SDV's metadata: a dict or a path to its JSON file (``save_to_json``).

        Both the single-table format (``"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1"``,
        ``"columns"``, ``"primary_key"``) and the multi-table one (``"tables"``; name the
        table with ``table=`` when there are several) are read. Each sdtype becomes a
        kind:

        * ``numerical``: ``integer`` if its ``computer_representation`` is an integer
          type (``"Int64"``, ``"UInt8"``, ...), ``continuous`` otherwise;
        * ``categorical``: ``discrete``; ``boolean``: ``boolean``;
        * ``datetime``: ``datetime``, with its ``datetime_format`` as the format;
        * the primary and alternate keys: ``id`` (unique new values);
        * other ``id`` columns (foreign keys, for instance) and ``unknown``:
          ``identifier`` (new values of their shapes, which may repeat);
        * PII sdtypes (:data:`SDV_PII_SDTYPES`: ``email``, ``phone_number``,
          ``address``, ...): ``identifier``, or ``discrete`` when marked
          ``"pii": false``.

        Any other sdtype raises :class:`InvalidDataError` naming it. ``regex_format``
        and the order of categories are not used; sequence keys are refused.
        """
        data = metadata if isinstance(metadata, Mapping) else _read_json(metadata)
        return cls(columns=_sdv_columns(_sdv_table(data, table)))

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

    @property
    def formats(self) -> dict[str, str]:
        """Column name → declared format, for datetime columns given as strings."""
        return {n: m.format for n, m in self.columns.items() if m.format is not None}

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
    if isinstance(overrides, Mapping) and _is_sdv(overrides):
        return dict(Metadata.from_sdv(overrides).columns)
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
            extra = set(spec) - {"kind", "categories", "lower", "upper", "format"}
            if extra:
                raise InvalidDataError(
                    f"Metadata for column {name!r} has unknown keys {sorted(extra)}; "
                    "allowed: kind, categories, lower, upper, format."
                )
            if "kind" not in spec:
                raise InvalidDataError(f"Metadata for column {name!r} needs a 'kind'.")
            out[name] = ColumnMetadata(**dict(spec))
        else:
            raise InvalidDataError(
                f"Metadata for column {name!r} must be a kind string or a dict; got {spec!r}."
            )
    return out


def _declared_for(df: pd.DataFrame, metadata: Any) -> dict[str, ColumnMetadata]:
    """The declared metadata, refused if it names a column that ``df`` lacks."""
    declared = _coerce_overrides(metadata)
    unknown = [c for c in declared if c not in df.columns]
    if unknown:
        raise InvalidDataError(
            f"Metadata names columns that are not in the table: {unknown}. "
            f"The table has: {list(df.columns)}."
        )
    return declared


def _check_format(fmt: Any) -> None:
    """Refuse a datetime format that is no ``strftime`` pattern or cannot be read back."""
    if not isinstance(fmt, str) or "%" not in fmt:
        raise InvalidDataError(
            f"Datetime format {fmt!r} is not a strftime pattern; write it with % codes, "
            "e.g. '%d/%m/%Y' or '%Y-%m-%d %H:%M'."
        )
    stamp = pd.Timestamp(2001, 11, 23, 14, 35, 46, tz="UTC" if "%z" in fmt or "%Z" in fmt
                         else None)
    try:
        text = stamp.strftime(fmt)
        pd.to_datetime(pd.Series([text]), format=fmt)
    except (ValueError, TypeError) as exc:
        raise InvalidDataError(
            f"Datetime format {fmt!r} cannot be written and read back ({exc}); use strftime "
            "codes such as %Y, %m, %d, %H, %M, %S, %b."
        ) from None


def declared_columns(metadata: "Metadata | Mapping[str, Any] | None") -> dict[str, ColumnMetadata]:
    """Column name → :class:`ColumnMetadata` of what ``metadata`` (any form ``fit``
    takes: tabgan's, SDV's, a mapping of kinds) declares."""
    return _coerce_overrides(metadata)


def omitted_columns(metadata: "Metadata | Mapping[str, Any] | None") -> list[str]:
    """The columns ``metadata`` declares ``omit``."""
    return [name for name, cm in _coerce_overrides(metadata).items() if cm.kind == "omit"]


def without_omitted(df: pd.DataFrame, omitted: list[str]) -> pd.DataFrame:
    """``df`` without the ``omitted`` columns it has (``df`` itself when there are none);
    refuses a table with nothing left."""
    drop = [c for c in omitted if c in df.columns]
    if not drop:
        return df
    if len(drop) == df.shape[1]:
        raise InvalidDataError(
            "Every column is declared 'omit': there is nothing left to model. Leave out "
            "fewer columns."
        )
    return df.drop(columns=drop)


def declared_roles(
    df: pd.DataFrame, metadata: "Metadata | Mapping[str, Any] | None", *, private: bool = False
) -> tuple[pd.DataFrame, dict[str, ColumnMetadata], list[str]]:
    """Apply the roles declared in ``metadata`` before anything reads the table: columns
    of kind ``omit`` are dropped (never read), and ``datetime`` columns of strings with a
    declared ``format`` are parsed with it (a format declared for a column that already
    holds datetimes is dropped: its samples keep the datetime dtype). Returns the table,
    the declared metadata of the columns left and the omitted names. ``private``: an
    error names no value or row."""
    declared = _declared_for(df, metadata)
    omitted = [name for name, cm in declared.items() if cm.kind == "omit"]
    kept = without_omitted(df, omitted)
    parse: dict[str, str] = {}
    for name, cm in list(declared.items()):
        if cm.kind == "datetime" and cm.format is not None:
            if pd.api.types.is_datetime64_any_dtype(df[name].dtype):
                declared[name] = replace(cm, format=None)
            else:
                parse[name] = cm.format
    if parse:
        df = kept.copy() if kept is df else kept
        for name, fmt in parse.items():
            df[name] = _parse_datetimes(name, df[name], fmt, private=private)
    else:
        df = kept
    return df, {n: cm for n, cm in declared.items() if cm.kind != "omit"}, omitted


def _parse_datetimes(name: str, series: pd.Series, fmt: str, *, private: bool) -> pd.Series:
    """Strings of a declared format as datetimes (missing values stay missing)."""
    parsed = pd.to_datetime(series, format=fmt, errors="coerce")
    bad = parsed.isna() & series.notna()
    if bad.any() and private:
        raise InvalidDataError(
            f"Column {name!r} is declared datetime with format {fmt!r}, but some of its "
            "values do not match it (which ones is not shown: a private fit never echoes "
            "the data). Correct the format, or clean those values."
        )
    if bad.any():
        raise InvalidDataError(
            f"Column {name!r} is declared datetime with format {fmt!r}, but {int(bad.sum())} "
            f"of its values do not match it (the first at row {series.index[bad.argmax()]!r})."
            " Correct the format, or clean those values."
        )
    return parsed


def _read_json(text_or_path: str | os.PathLike) -> Any:
    if not isinstance(text_or_path, (str, os.PathLike)):
        raise InvalidDataError(
            "Metadata must be a dict, a JSON string or the path of a JSON file; got "
            f"{type(text_or_path).__name__}."
        )
    text = os.fspath(text_or_path)
    if not text.lstrip().startswith("{"):
        try:
            with open(text, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise InvalidDataError(f"Cannot read the metadata file {text!r}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDataError(f"Metadata is not valid JSON: {exc}") from exc


# ---------------------------------------------------------------- SDV metadata
#: SDV sdtypes of personal data (generated by SDV from Faker): read as ``identifier``.
SDV_PII_SDTYPES: frozenset[str] = frozenset({
    "address", "street_address", "secondary_address", "building_number", "city", "state",
    "state_abbr", "country", "country_code", "postcode", "zipcode", "administrative_unit",
    "email", "free_email", "company_email", "phone_number", "msisdn", "ssn", "name",
    "first_name", "last_name", "name_female", "name_male", "prefix", "suffix", "company",
    "job", "license_plate", "vin", "iban", "bban", "swift", "swift8", "swift11",
    "credit_card_number", "credit_card_security_code", "credit_card_expire", "ipv4_address",
    "ipv6_address", "mac_address", "user_agent_string", "url", "uri", "domain_name",
    "hostname", "user_name", "username", "password", "latitude", "longitude",
})
#: ``id`` columns that are no key of the table (foreign keys, other ids) may repeat.
_SDV_KINDS = {"categorical": "discrete", "boolean": "boolean", "id": "identifier",
              "unknown": "identifier"}
_SDV_SPECS = ("SINGLE_TABLE_V1", "MULTI_TABLE_V1", "V1")


def _is_sdv(data: Any) -> bool:
    """SDV's metadata, not tabgan's: it has a spec version, tables, or sdtypes."""
    if not isinstance(data, Mapping):
        return False
    version = data.get("METADATA_SPEC_VERSION")
    if isinstance(version, str) and version not in KINDS:  # not a column of that name
        return True
    tables = data.get("tables")
    if isinstance(tables, Mapping) and tables and all(
            isinstance(t, Mapping) and "columns" in t for t in tables.values()):
        return True
    columns = data.get("columns")
    return isinstance(columns, Mapping) and any(
        isinstance(c, Mapping) and "sdtype" in c for c in columns.values())


def _sdv_table(data: Any, table: str | None) -> Mapping[str, Any]:
    """The one table's metadata from SDV's single- or multi-table JSON."""
    if not isinstance(data, Mapping):
        raise InvalidDataError(
            f"SDV metadata must be a JSON object; got {type(data).__name__}.")
    if "fields" in data:
        raise InvalidDataError(
            "This is SDV 0.x metadata ('fields'), which tabgan does not read. Save it again "
            "with SDV 1.x (metadata.save_to_json) or write tabgan's metadata (docs/metadata.md)."
        )
    version = data.get("METADATA_SPEC_VERSION")
    if version is not None and version not in _SDV_SPECS:
        raise InvalidDataError(
            f"SDV metadata of spec version {version!r} is not read by tabgan; it reads "
            f"{', '.join(_SDV_SPECS)}."
        )
    if "tables" in data:
        tables = data["tables"]
        if not isinstance(tables, Mapping) or not tables:
            raise InvalidDataError("SDV metadata has an empty or malformed 'tables' entry.")
        if table is None and len(tables) > 1:
            raise InvalidDataError(
                f"SDV metadata describes {len(tables)} tables ({', '.join(map(str, tables))});"
                " tabgan models one table: name it, e.g. Metadata.from_sdv(path, "
                f"table={next(iter(tables))!r})."
            )
        name = next(iter(tables)) if table is None else table
        if name not in tables:
            raise InvalidDataError(
                f"SDV metadata has no table {name!r}; it has {', '.join(map(str, tables))}.")
        data = tables[name]
    elif table is not None:
        raise InvalidDataError(
            f"table={table!r} was given, but this SDV metadata describes a single table.")
    if not isinstance(data.get("columns"), Mapping):
        raise InvalidDataError("SDV metadata needs a 'columns' object (column name → sdtype).")
    if data.get("sequence_key") is not None:
        raise InvalidDataError(
            f"SDV metadata declares a sequence key ({data['sequence_key']!r}): sequential "
            "data, which tabgan does not model (it learns independent rows). Remove "
            "'sequence_key' and 'sequence_index' to model the rows as independent."
        )
    return data


def _sdv_columns(table: Mapping[str, Any]) -> dict[str, ColumnMetadata]:
    keys = table.get("primary_key")
    keys = set(keys if isinstance(keys, list) else [] if keys is None else [keys])
    for alt in table.get("alternate_keys") or []:
        keys.update(alt if isinstance(alt, list) else [alt])
    missing = sorted(str(k) for k in keys if k not in table["columns"])
    if missing:
        raise InvalidDataError(
            f"SDV metadata names keys that are not among its columns: {missing}.")
    out: dict[str, ColumnMetadata] = {}
    for name, spec in table["columns"].items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("sdtype"), str):
            raise InvalidDataError(
                f"SDV metadata for column {name!r} needs an 'sdtype' string; got {spec!r}.")
        sdtype = spec["sdtype"]
        if name in keys:
            out[name] = ColumnMetadata(kind="id")
        elif sdtype == "numerical":
            rep = str(spec.get("computer_representation") or "Float")
            out[name] = ColumnMetadata(
                kind="integer" if rep.lower().lstrip("u").startswith("int") else "continuous")
        elif sdtype == "datetime":
            out[name] = ColumnMetadata(kind="datetime", format=spec.get("datetime_format"))
        elif sdtype in _SDV_KINDS:
            out[name] = ColumnMetadata(kind=_SDV_KINDS[sdtype])
        elif sdtype in SDV_PII_SDTYPES:
            out[name] = ColumnMetadata(
                kind="discrete" if spec.get("pii") is False else "identifier")
        else:
            raise InvalidDataError(
                f"Column {name!r} has SDV sdtype {sdtype!r}, which tabgan does not know. "
                "tabgan reads numerical, categorical, boolean, datetime, id, unknown and "
                "the PII sdtypes of tabgan.metadata.SDV_PII_SDTYPES. Change its sdtype in "
                f"the file, or give tabgan metadata for it, e.g. {{{name!r}: 'discrete'}} or "
                f"{{{name!r}: 'identifier'}}."
            )
    return out


# keep dataclass helpers importable for callers that want plain dicts
as_plain_dict = asdict
