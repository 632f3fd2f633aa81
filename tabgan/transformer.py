"""Reversible encoding of a mixed-type table into a float32 matrix.

Continuous, integer and datetime columns get mode-specific normalisation: a
variational Gaussian mixture per column (:mod:`tabgan.mixture`), each value
encoded as the one-hot of a mode drawn from its posterior plus a scalar
``(x - mean_k) / (4 std_k)`` in ``[-1, 1]``. Discrete and boolean columns are
one-hot encoded. Missing values are modelled: a two-way "missing" indicator
for numeric columns, a category of their own for discrete columns.

Everything is vectorised over rows; the fitted state is plain numbers and
lists, so it serialises to JSON (:meth:`DataTransformer.to_dict`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import _validation as v
from .columns import (
    MISSING,
    OTHER,
    check_dataframe,
    check_single_type,
    datetime_format,
    dtype_str,
    numeric_values,
    py_scalar,
)
from .encoded import EncodedTable
from .errors import InvalidDataError, InvalidParameterError, NotFittedError, warn_user
from .layout import Layout, Span
from .metadata import ColumnMetadata, Metadata
from .mixture import fit_mixtures
from .relations import MAX_JOINT_CELLS, Derived, find_derived, find_joint

__all__ = [
    "MAX_POINTS",
    "MIN_POINT_ROWS",
    "RARE_VALUE",
    "CategoryRelease",
    "DataTransformer",
    "DiscreteInfo",
    "NumericInfo",
    "NumericRelease",
]

#: A numeric value needs at least this many rows to get a point mode of its own: a rarer
#: value is left to the mixture, so that no value of one or a few people is copied.
MIN_POINT_ROWS = 20
#: At most this many point modes per column (the most frequent values).
MAX_POINTS = 64



@dataclass
class NumericInfo:
    name: str
    kind: str  # continuous | integer | datetime
    dtype: str
    means: list[float] = field(default_factory=list)
    stds: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)  # reach of each mode: >= 4 std
    lower: float = 0.0
    upper: float = 0.0
    has_missing: bool = False
    missing_rate: float = 0.0
    missing_counts: list[int] = field(default_factory=list)  # [present, missing] rows
    constant: float | None = None  # set when every non-missing value is equal
    all_missing: bool = False
    format: str | None = None  # date and time strings: written back in this strftime format


@dataclass
class DiscreteInfo:
    name: str
    kind: str  # discrete | boolean
    dtype: str
    categories: list[Any] = field(default_factory=list)  # MISSING / OTHER may appear
    counts: list[int] = field(default_factory=list)
    pandas_categories: list[Any] | None = None  # for `category` dtype
    ordered: bool = False
    other_values: list[Any] = field(default_factory=list)
    other_counts: list[int] = field(default_factory=list)


@dataclass
class IdentifierInfo:
    """An identifier-like column (ids, e-mail addresses; see
    :func:`tabgan.metadata.looks_like_identifier`), not modelled: generated rows get new
    random values of its shapes. ``templates``: the shapes held by at least
    ``min_category_rows`` rows (letters and digits masked: :data:`ID_UPPER`,
    :data:`ID_LOWER`, :data:`ID_DIGIT`; other characters kept), with their ``counts``."""

    name: str
    dtype: str
    templates: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    missing_rate: float = 0.0
    #: a key (kind ``id``): the values of one sample are all distinct
    unique: bool = False


#: Mask characters of identifier templates: an upper-case letter, a lower-case letter
#: (any other letter too), a digit.
ID_UPPER, ID_LOWER, ID_DIGIT = "\x01", "\x02", "\x03"
#: Digits of the keys of a private fit (a public shape: the real keys are never read);
#: fewer for an integer dtype too narrow for them.
PRIVATE_KEY_DIGITS = 12
#: A letter shared by every value of an identifier's shape is kept only in a shape of at
#: least this many distinct values (fewer could be one person's whole value).
FIXED_LETTER_VALUES = 10


@dataclass
class CategoryRelease:
    """A discrete column's released categories and noisy counts."""

    name: str
    kind: str
    dtype: str
    categories: list[Any]  # released values (``MISSING`` last when missing values are released)
    counts: list[int]  # noisy counts, rounded and clamped at 0
    pandas_categories: list[Any] | None  # declared list, for a ``category`` dtype
    ordered: bool
    source: str  # "declared", "boolean" (public domain) or "estimated" (thresholded)


@dataclass
class NumericRelease:
    """A numeric column's range and noisy histogram (points and intervals)."""

    name: str
    kind: str
    dtype: str
    lower: float
    upper: float
    starts: np.ndarray  # each bin's value (a point) or left edge (an interval)
    widths: np.ndarray  # 0 for a point, else the interval's width
    weights: np.ndarray  # noisy counts after thresholding, >= 0
    missing: float  # noisy count of missing values, clamped at 0
    n_rows: int  # public
    has_missing: bool
    all_missing: bool
    constant: float | None  # declared lower == upper

    def draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Values distributed as the noisy histogram (uniform inside interval bins)."""
        p = self.weights / self.weights.sum()
        k = rng.choice(len(p), size=size, p=p)
        return self.starts[k] + rng.random(size) * self.widths[k]


class DataTransformer:
    """Encode a DataFrame into a float32 matrix and decode it back.

    Parameters
    ----------
    n_modes:
        Maximum number of mixture components per numeric column.
    weight_threshold:
        Components with a smaller weight are dropped.
    max_gmm_samples:
        Numeric columns with more values are fitted on a random subsample of
        this size (``None``: never subsample).
    max_categories:
        Discrete columns with more distinct values keep the most frequent
        ``max_categories - 1`` as categories; the rest share one bucket and
        are drawn back by their observed frequencies.
    min_category_rows:
        A value of a discrete column held by fewer rows is never generated: such
        values share one bucket, written back as :data:`RARE_VALUE` (``"(other)"``)
        in a column of strings, else as a missing value. Declared categories
        (metadata) are public and exempt; ``1`` turns it off.
    point_share:
        A numeric value held by at least this share of the rows (and by
        :data:`MIN_POINT_ROWS` rows) is a point mode, decoded exactly.
    derive_columns:
        Columns that are functions of a discrete column are written from it
        (:func:`tabgan.relations.find_derived`).
    joint_columns:
        Pairs of strongly dependent columns (a discrete column and a discrete or
        few-valued numeric one) are modelled as one categorical column of their
        frequent value pairs (:func:`tabgan.relations.find_joint`).
    """

    def __init__(
        self,
        *,
        n_modes: int = 10,
        weight_threshold: float = 0.005,
        max_gmm_samples: int | None = 10_000,
        max_categories: int = 1000,
        min_category_rows: int = 10,
        point_share: float | None = 0.005,
        derive_columns: bool = True,
        joint_columns: bool = True,
    ) -> None:
        self.n_modes = n_modes
        self.weight_threshold = weight_threshold
        self.max_gmm_samples = max_gmm_samples
        self.max_categories = max_categories
        self.min_category_rows = min_category_rows
        self.point_share = point_share
        self.derive_columns = derive_columns
        self.joint_columns = joint_columns

    _constraints = {
        "n_modes": v.int_at_least(1),
        "weight_threshold": v.real_in(0, 1, hi_open=True),
        "max_gmm_samples": v.int_or_none_at_least(10),
        "max_categories": v.int_at_least(2),
        "min_category_rows": v.int_at_least(1),
        "point_share": v.Constraint(
            lambda x: x is None or (v._is_real(x) and 0 < x <= 1), "None or a float in (0, 1]"
        ),
        "derive_columns": v.boolean(),
        "joint_columns": v.boolean(),
    }

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._constraints}

    def _validate_params(self) -> None:
        v.validate_params("DataTransformer", self.get_params(), self._constraints)

    # ------------------------------------------------------------------ fit
    def fit(
        self, df: pd.DataFrame, metadata: Metadata | None = None, *, rng: np.random.Generator
    ) -> "DataTransformer":
        self._validate_params()
        check_dataframe(df)
        meta = metadata if metadata is not None else Metadata.detect(df)
        missing = [c for c in df.columns if c not in meta.columns]
        extra = [c for c in meta.columns if c not in df.columns]
        if missing or extra:
            raise InvalidDataError(
                f"Metadata and table disagree: columns without metadata {missing}, "
                f"metadata for absent columns {extra}."
            )
        infos: list[NumericInfo | DiscreteInfo] = []
        to_fit: list[tuple[NumericInfo, np.ndarray]] = []
        point_modes: list[tuple[NumericInfo, np.ndarray, np.ndarray]] = []
        self.identifiers_ = []
        for name in df.columns:
            cm = meta[name]
            if cm.kind in ("identifier", "id"):
                self.identifiers_.append(
                    self._fit_identifier(name, df[name], unique=cm.kind == "id"))
                continue
            if cm.is_numeric:
                info, values = self._fit_numeric(name, df[name], cm)
                infos.append(info)
                if values is not None:
                    points, shares, rest = self._split_points(values)
                    if len(points):
                        point_modes.append((info, points, shares))
                    if len(rest):
                        to_fit.append((info, rest))
            else:
                infos.append(self._fit_discrete(name, df[name], cm))
        self.derived_ = self._find_derived(df, infos) if self.derive_columns else []
        children = {d.name for d in self.derived_}
        infos = [info for info in infos if info.name not in children]
        if self.joint_columns:
            infos = self._find_joint(df, infos)
            children = {d.name for d in self.derived_}
        to_fit = [(info, values) for info, values in to_fit if info.name not in children]
        point_modes = [t for t in point_modes if t[0].name not in children]
        self._fit_modes(to_fit, self.max_gmm_samples, rng)
        for info, points, shares in point_modes:
            _add_point_modes(info, points, shares)
        self.metadata_ = meta
        self.columns_ = list(df.columns)
        self.infos_ = infos
        self.layout_ = self._build_layout()
        self.private_ = False
        return self

    def _fit_identifier(
        self, name: str, series: pd.Series, *, unique: bool = False
    ) -> IdentifierInfo:
        """The shapes of an identifier column's values (see :class:`IdentifierInfo`); a
        shape of fewer than ``min_category_rows`` rows is not kept (its length and
        punctuation could single one out), and if none is frequent enough the column's
        most common length of lower-case letters (digits for numbers) stands in.
        ``unique``: a declared key (kind ``id``), generated without repeats."""
        present = series.dropna()
        if pd.api.types.is_float_dtype(present.dtype) and np.all(
                present.to_numpy() == np.round(present.to_numpy())):
            present = present.astype(np.int64)  # whole numbers (with NaN: a float column)
        values = present.astype(str)
        shape_of = values.map(_shape)
        shapes = shape_of.value_counts()
        keep = shapes[shapes >= self.min_category_rows]
        # a letter that every value of a shape shares (a prefix such as "C-" or a domain's
        # ".com") is kept as it is: it is nobody's in particular, if the shape holds at
        # least FIXED_LETTER_VALUES distinct values (digits stay drawn: the shared leading
        # zeros of a counter would leave a key too few values)
        keep.index = [_fixed_characters(t, values[shape_of == t]) for t in keep.index]
        if keep.empty:
            length = int(values.str.len().mode().iloc[0]) if len(values) else 8
            mask = ID_DIGIT if pd.api.types.is_numeric_dtype(series.dtype) else ID_LOWER
            keep = pd.Series({mask * max(length, 1): len(values)})
        info = IdentifierInfo(
            name=name, dtype=dtype_str(series), templates=[str(t) for t in keep.index],
            counts=[int(c) for c in keep.to_numpy()],
            missing_rate=float(series.isna().mean()), unique=unique,
        )
        if unique:
            return info
        warn_user(
            f"Column {name!r} looks like an identifier (nearly every value distinct): it is "
            f"not modelled, and generated rows get new random values of its {len(keep)} most "
            "common shape(s) (letters and digits replaced). Declare its kind (metadata="
            f"{{{name!r}: 'discrete'}}) to model it as categories instead."
        )
        return info

    def _find_derived(self, df: pd.DataFrame, infos: list) -> list[Derived]:
        """The columns that the rows show to be functions of a discrete column (see
        :mod:`tabgan.relations`), each with its value for every parent category."""
        parents, n_values = {}, {}
        for info in infos:
            if isinstance(info, DiscreteInfo):
                if info.other_values and info.other_values != [_pooled_value(info)]:
                    continue  # frequent values drawn back from the bucket: no parent
                codes = self.category_codes(info, df[info.name])
                if OTHER in info.categories:  # pooled rows take no part (relations.py)
                    codes = np.where(codes == info.categories.index(OTHER), -1, codes)
                parents[info.name] = codes
                n_values[info.name] = len(info.categories)
        candidates = [
            info.name for info in infos
            if (isinstance(info, DiscreteInfo) and len(info.categories) >= 2)
            or (isinstance(info, NumericInfo) and info.constant is None and not info.all_missing)
        ]
        found = find_derived(df, parents, n_values, candidates)
        by_name = {info.name: info for info in infos}
        out = []
        for child, (parent, _) in found.items():
            codes = parents[parent]
            first = np.full(n_values[parent], -1, dtype=np.int64)
            seen, at = np.unique(codes, return_index=True)
            keep = seen >= 0  # a pooled parent value's child is written missing
            first[seen[keep]] = at[keep]
            column = df[child]
            values = [
                None if k < 0 or pd.isna(column.iloc[k]) else py_scalar(column.iloc[k])
                for k in first
            ]
            info = by_name[child]
            pooled = codes < 0
            if pooled.any() and isinstance(info, NumericInfo):
                # a number for the pooled parent values, so that the column keeps its dtype:
                # their most common one if at least min_category_rows rows hold it, else the
                # column's most common one (never a value of one or a few rows); a discrete
                # child is written missing there (its values may be as rare as the parent's)
                counts = column[pooled].value_counts(dropna=True)
                if not len(counts) or counts.iloc[0] < self.min_category_rows:
                    counts = column.value_counts(dropna=True)
                if len(counts):
                    values[by_name[parent].categories.index(OTHER)] = py_scalar(counts.index[0])
            out.append(Derived(
                name=child, parent=parent, kind=info.kind, dtype=info.dtype, values=values,
                pandas_categories=getattr(info, "pandas_categories", None),
                ordered=getattr(info, "ordered", False),
            ))
        return out

    def _find_joint(self, df: pd.DataFrame, infos: list) -> list:
        """Model strongly dependent pairs as one categorical column each (see
        :func:`tabgan.relations.find_joint`): the parent's info gets one category per
        cell (its values repeat), the child becomes a joint :class:`Derived` with its
        value per cell, and the exact children of the parent are re-indexed by cell.
        Returns the infos left to model."""
        codes: dict[str, np.ndarray] = {}
        n_values: dict[str, int] = {}
        values: dict[str, list[Any]] = {}  # per candidate, the value of each code
        parents: list[str] = []
        exact_parents = {d.parent for d in self.derived_}
        for info in infos:
            if isinstance(info, DiscreteInfo):
                if len(info.categories) < 2 or OTHER in info.categories or 0 in info.counts:
                    continue
                codes[info.name] = self.category_codes(info, df[info.name])
                values[info.name] = [None if c == MISSING else c for c in info.categories]
                parents.append(info.name)
            elif (info.constant is None and not info.all_missing and info.kind != "datetime"):
                column = df[info.name]
                if column.nunique(dropna=False) > MAX_JOINT_CELLS:
                    continue
                row_codes, uniques = pd.factorize(column, use_na_sentinel=False)
                codes[info.name] = row_codes.astype(np.int64)
                values[info.name] = [None if pd.isna(u) else py_scalar(u) for u in uniques]
            else:
                continue
            n_values[info.name] = len(values[info.name])
        # a parent of exact children cannot be a joint child (its children read its codes)
        pairs = [p for p in find_joint(codes, n_values, parents) if p.child not in exact_parents]
        if not pairs:
            return infos
        by_name = {info.name: info for info in infos}
        for pair in pairs:
            parent, child = by_name[pair.parent], by_name[pair.child]
            p_codes, c_codes = pair.cells[:, 0], pair.cells[:, 1]
            for d in self.derived_:  # exact children of the parent: one value per cell
                if d.parent == parent.name:
                    d.values = [d.values[k] for k in p_codes]
            self.derived_.append(Derived(
                name=child.name, parent=parent.name, kind=child.kind, dtype=child.dtype,
                values=[values[child.name][k] for k in c_codes],
                pandas_categories=getattr(child, "pandas_categories", None),
                ordered=getattr(child, "ordered", False), joint=True,
            ))
            by_name[parent.name] = dataclasses.replace(
                parent, categories=[parent.categories[k] for k in p_codes],
                counts=[int(c) for c in pair.counts],
            )
        return [by_name[info.name] for info in infos if info.name not in
                {p.child for p in pairs}]

    def _joint_codes(self, info: DiscreteInfo, d: Derived, df: pd.DataFrame) -> np.ndarray:
        """Each row's cell of joint column ``info`` (child ``d``): the cell of its
        (parent, child) pair, else its parent value's most frequent cell."""
        parent_values = list(dict.fromkeys(info.categories))
        parent = self.category_codes(
            DiscreteInfo(name=info.name, kind=info.kind, dtype=info.dtype,
                         categories=parent_values), df[info.name])
        child_values = list(dict.fromkeys(d.values))
        lookup = {c: i for i, c in enumerate(child_values) if c is not None}
        series = df[d.name].astype(object)
        child = _lookup_codes(series, lookup)
        if None in child_values:
            child[series.isna().to_numpy()] = child_values.index(None)
        table = np.full((len(parent_values), len(child_values) + 1), -1, dtype=np.int64)
        first_p = {c: i for i, c in enumerate(parent_values)}
        first_c = {c: i for i, c in enumerate(child_values)}
        top = np.full(len(parent_values), -1, dtype=np.int64)
        for k, (p, c) in enumerate(zip(info.categories, d.values)):
            table[first_p[p], first_c[c]] = k
            i = first_p[p]
            if top[i] < 0 or info.counts[k] > info.counts[top[i]]:
                top[i] = k
        cells = table[parent, child]  # child -1 (unseen) reads the last column: -1
        return np.where(cells >= 0, cells, top[parent])

    def fit_released(
        self, releases: list[Any], metadata: Metadata, *, rng: np.random.Generator,
        keys: Mapping[str, str] | None = None,
    ) -> "DataTransformer":
        """Fit from private releases alone, without reading any table.

        ``releases`` (:class:`CategoryRelease`, :class:`NumericRelease`) are made by
        :func:`tabgan.privacy.preprocessing.release_marginals`:
        per column, released categories with noisy counts, or a range with a noisy
        histogram. The mixtures are fitted to draws from those histograms, so
        every fitted number is public or differentially private. The fitted
        transformer is *private*: :meth:`transform` clips numeric values to the
        released range and gives values outside the released categories a
        released category drawn by its noisy frequency (nothing is kept about
        them). ``keys``: name → dtype of the key columns (kind ``id``), generated as
        unique numbers of :data:`PRIVATE_KEY_DIGITS` digits (their values are never read).
        """
        self._validate_params()
        infos: list[NumericInfo | DiscreteInfo] = []
        to_fit: list[tuple[NumericInfo, np.ndarray]] = []
        draws = self.max_gmm_samples or 10_000
        for rel in releases:
            if isinstance(rel, CategoryRelease):
                infos.append(
                    DiscreteInfo(
                        name=rel.name,
                        kind=rel.kind,
                        dtype=rel.dtype,
                        categories=list(rel.categories),
                        counts=list(rel.counts),
                        pandas_categories=rel.pandas_categories,
                        ordered=rel.ordered,
                    )
                )
                continue
            missing = int(round(min(rel.missing, rel.n_rows)))
            info = NumericInfo(
                name=rel.name,
                kind=rel.kind,
                dtype=rel.dtype,
                lower=rel.lower,
                upper=rel.upper,
                has_missing=rel.has_missing,
                missing_rate=missing / rel.n_rows if rel.has_missing else 0.0,
                missing_counts=[rel.n_rows - missing, missing] if rel.has_missing else [rel.n_rows, 0],
                constant=rel.constant,
                all_missing=rel.all_missing,
                format=metadata[rel.name].format,  # declared, hence public
            )
            infos.append(info)
            if rel.constant is None and not rel.all_missing:
                to_fit.append((info, rel.draw(draws, rng)))
        self._fit_modes(to_fit, None, rng)
        self.derived_ = []  # finding relations would read the table: not in a private fit
        # identifiers are refused by private_metadata; keys (kind "id") take a public shape
        self.identifiers_ = [
            IdentifierInfo(name=name, dtype=dtype, templates=[ID_DIGIT * _key_digits(dtype)],
                           counts=[1], unique=True)
            for name, dtype in (keys or {}).items()
        ]
        self.metadata_ = metadata
        released = {rel.name for rel in releases}
        self.columns_ = [name for name in metadata.names if name in released or name in (
            keys or {})]
        self.infos_ = infos
        self.layout_ = self._build_layout()
        self.private_ = True
        return self

    def _split_points(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point masses (single values holding at least ``point_share`` of the rows, such as
        the zeros of a capital-gain column), their shares, and the values left for the
        mixture. A Gaussian mode blurs a point mass (its variance is set by the prior);
        a point mode gives the exact value back."""
        empty = np.empty(0)
        if not self.point_share:
            return empty, empty, values
        uniq, counts = np.unique(values, return_counts=True)
        share = counts / len(values)
        keep = np.argsort(-share, kind="stable")[:MAX_POINTS]
        keep = keep[(share[keep] >= self.point_share) & (counts[keep] >= MIN_POINT_ROWS)]
        points = uniq[keep]
        rest = values[~np.isin(values, points)]
        if len(rest) >= MIN_POINT_ROWS and np.all(rest == rest[0]):  # one value left: a point too
            points = np.append(points, rest[0])
            keep = np.append(keep, np.searchsorted(uniq, rest[0]))
            rest = rest[:0]
        return points, share[keep], rest

    def _fit_numeric(
        self, name: str, series: pd.Series, cm: ColumnMetadata
    ) -> tuple[NumericInfo, np.ndarray | None]:
        values = numeric_values(name, series, cm.kind)
        isnan = np.isnan(values)
        info = NumericInfo(name=name, kind=cm.kind, dtype=dtype_str(series))
        if cm.kind == "datetime":
            info.format = cm.format or datetime_format(series)
        info.has_missing = bool(isnan.any())
        info.missing_rate = float(isnan.mean())
        info.missing_counts = [int((~isnan).sum()), int(isnan.sum())]
        finite = values[~isnan]
        if len(finite) == 0:
            info.all_missing = True
            warn_user(
                f"Column {name!r} is entirely missing; it will be sampled as all-missing."
            )
            return info, None
        info.lower = float(finite.min()) if cm.lower is None else float(cm.lower)
        info.upper = float(finite.max()) if cm.upper is None else float(cm.upper)
        if finite.min() == finite.max():
            info.constant = float(finite[0])
            warn_user(
                f"Column {name!r} is constant; it will be sampled as that constant."
            )
            return info, None
        return info, finite

    def _fit_discrete(self, name: str, series: pd.Series, cm: ColumnMetadata) -> DiscreteInfo:
        info = DiscreteInfo(name=name, kind=cm.kind, dtype=dtype_str(series))
        if isinstance(series.dtype, pd.CategoricalDtype):
            info.pandas_categories = [py_scalar(v) for v in series.cat.categories]
            info.ordered = bool(series.cat.ordered)
        values = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
        nonnull = values.dropna()
        check_single_type(name, series, nonnull)
        counts = nonnull.value_counts(sort=True)
        cats = [py_scalar(v) for v in counts.index]
        cnts = [int(c) for c in counts.to_numpy()]
        if cm.categories is not None:
            declared = [py_scalar(v) for v in cm.categories]
            seen = dict(zip(cats, cnts))
            undeclared = [c for c in cats if c not in seen or c not in declared]
            if undeclared:
                raise InvalidDataError(
                    f"Column {name!r} holds values not in its declared categories: "
                    f"{undeclared[:5]}. Add them to the metadata or clean the data."
                )
            cats, cnts = declared, [seen.get(c, 0) for c in declared]
        else:
            # values of fewer than min_category_rows rows are pooled and never written back
            # (one placeholder stands for them all); beyond max_categories, the frequent
            # values left over are pooled too and drawn back by their counts
            k = 1 if cm.kind == "boolean" else self.min_category_rows  # a public domain
            rare = [c < k for c in cnts]
            n_rare = sum(c for c, r in zip(cnts, rare) if r)
            frequent = [(c, k) for c, k, r in zip(cats, cnts, rare) if not r]
            if n_rare or len(frequent) > self.max_categories:
                keep = min(len(frequent), self.max_categories - 1)
                over = frequent[keep:]
                info.other_values = [c for c, _ in over]
                info.other_counts = [k for _, k in over]
                if n_rare:
                    info.other_values.append(_rare_placeholder(series))
                    info.other_counts.append(n_rare)
                    if n_rare >= RARE_WARN_SHARE * len(series):
                        written = ("missing values" if info.other_values[-1] is None
                                   else repr(RARE_VALUE))
                        warn_user(
                            f"Column {name!r}: {sum(rare)} value(s) held by fewer than {k} rows "
                            f"each ({n_rare / len(series):.0%} of the rows) are never generated; "
                            f"they will be written as {written}. Lower min_category_rows to "
                            "keep them (they could identify people), or, for numbers, "
                            "declare the column numeric."
                        )
                cats = [c for c, _ in frequent[:keep]] + [OTHER]
                cnts = [k for _, k in frequent[:keep]] + [sum(info.other_counts)]
                if info.pandas_categories is not None and n_rare:  # rare ones leave the dtype
                    gone = {py_scalar(c) for c, r in zip(counts.index, rare) if r}
                    info.pandas_categories = [c for c in info.pandas_categories if c not in gone]
        n_missing = int(series.isna().sum())
        if n_missing:
            cats.append(MISSING)
            cnts.append(n_missing)
        info.categories = cats
        info.counts = cnts
        if len(cats) == 1 and cm.categories is None:
            warn_user(
                f"Column {name!r} has a single value; it will be sampled as that constant."
            )
        return info

    def _build_layout(self) -> Layout:
        spans: list[Span] = []
        pos = 0

        def add(column: str, role: str, width: int) -> None:
            nonlocal pos
            spans.append(Span(column, role, pos, pos + width))
            pos += width

        for info in self.infos_:
            if isinstance(info, NumericInfo):
                if info.means:
                    add(info.name, "value", 1)
                    add(info.name, "mode", len(info.means))
                if info.has_missing and not info.all_missing:
                    add(info.name, "missing", 2)
            elif len(info.categories) >= 2:
                add(info.name, "category", len(info.categories))
        return Layout(tuple(spans))

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as plain JSON types (the metadata apart: see
        :meth:`from_dict`)."""
        self._check_fitted()
        return {
            "settings": self.get_params(),
            "columns": self.columns_,
            "infos": [{"type": type(i).__name__, **dataclasses.asdict(i)} for i in self.infos_],
            "layout": self.layout_.to_list(),
            "private": bool(self.private_),
            "derived": [dataclasses.asdict(d) for d in self.derived_],
            "identifiers": [dataclasses.asdict(i) for i in self.identifiers_],
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any], *, metadata: Metadata) -> "DataTransformer":
        """The fitted transformer that :meth:`to_dict` wrote, with its ``metadata``; raises
        :class:`InvalidDataError` for anything else."""
        kinds = {"NumericInfo": NumericInfo, "DiscreteInfo": DiscreteInfo}
        try:
            # files of 0.1.1 and before: no joint columns, every value kept
            tr = cls(**{"joint_columns": False, "min_category_rows": 1, **state["settings"]})
            infos: list[NumericInfo | DiscreteInfo] = []
            for item in state["infos"]:
                item = dict(item)
                infos.append(kinds[item.pop("type")](**item))
            tr.metadata_ = metadata
            tr.columns_ = list(state["columns"])
            tr.infos_ = infos
            tr.layout_ = Layout.from_list(state["layout"])
            tr.private_ = bool(state.get("private", False))
            tr.derived_ = [Derived(**d) for d in state.get("derived", [])]  # none before 0.1.1
            tr.identifiers_ = [IdentifierInfo(**i) for i in state.get("identifiers", [])]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidDataError(
                f"Not a DataTransformer state written by to_dict() ({type(exc).__name__}: "
                f"{exc}); pass what to_dict() returned."
            ) from exc
        return tr

    def condition_counts(self) -> list[list[int]]:
        """Per condition span of the layout (see :attr:`Layout.condition_spans`), the rows
        of each category: what training-by-sampling and conditional generation draw by."""
        self._check_fitted()
        by_name = {info.name: info for info in self.infos_}
        return [
            list(by_name[s.column].counts if s.role == "category"
                 else by_name[s.column].missing_counts)
            for s in self.layout_.condition_spans
        ]

    # ------------------------------------------------------------ transform
    def _check_fitted(self) -> None:
        if not hasattr(self, "layout_"):
            raise NotFittedError("This DataTransformer is not fitted yet; call fit first.")

    @property
    def output_width(self) -> int:
        self._check_fitted()
        return self.layout_.width

    def transform(self, df: pd.DataFrame, *, rng: np.random.Generator) -> np.ndarray:
        """Encode ``df`` (same columns as at fit) into a float32 matrix of the layout's
        dense form (one-hots and scalars); see :meth:`transform_compact`."""
        return self.transform_compact(df, rng=rng).dense().numpy()

    def transform_compact(self, df: pd.DataFrame, *, rng: np.random.Generator) -> EncodedTable:
        """Encode ``df`` (same columns as at fit) compactly: per row, the chosen entry of
        each softmax span and the scalar of each value span (:class:`EncodedTable`),
        never the one-hot matrix."""
        self._check_fitted()
        missing = [c for c in self.columns_ if c not in df.columns]
        if missing:
            raise InvalidDataError(f"The table lacks columns seen at fit: {missing}.")
        layout = self.layout_
        soft = {(s.column, s.role): k for k, s in enumerate(layout.softmax_spans)}
        tanh = {(s.column, s.role): k for k, s in enumerate(layout.tanh_spans)}
        codes = np.zeros((len(df), len(soft)), dtype=EncodedTable.code_dtype(layout))
        values = np.zeros((len(df), len(tanh)), dtype=np.float32)
        private = getattr(self, "private_", False)
        joint = {d.parent: d for d in self.derived_ if d.joint}
        for info in self.infos_:
            series = df[info.name]
            if isinstance(info, NumericInfo):
                x = numeric_values(info.name, series, info.kind, fmt=info.format)
                isnan = np.isnan(x)
                if private:  # a private fit knows only the released range
                    x = np.clip(x, info.lower, info.upper)
                if (info.name, "missing") in soft:
                    codes[:, soft[(info.name, "missing")]] = isnan
                if not info.means:
                    continue
                filled = np.where(isnan, info.means[int(np.argmax(info.weights))], x)
                mode, scalar = self._encode_modes(info, filled, rng)
                values[:, tanh[(info.name, "value")]] = scalar
                codes[:, soft[(info.name, "mode")]] = mode
            else:
                k = soft.get((info.name, "category"))
                if k is None:
                    continue
                if private:
                    cats = self._released_codes(info, series, rng)
                elif info.name in joint:
                    cats = self._joint_codes(info, joint[info.name], df)
                else:
                    cats = self.category_codes(info, series)
                codes[:, k] = cats
        return EncodedTable(layout, torch.from_numpy(codes), torch.from_numpy(values))

    @staticmethod
    def category_codes(info: DiscreteInfo, series: pd.Series) -> np.ndarray:
        """Index of each value in ``info.categories`` (missing and rare values mapped)."""
        lookup = {c: i for i, c in enumerate(info.categories)}
        values = series.astype(object)
        isna = values.isna().to_numpy()
        codes = _lookup_codes(values, lookup)
        if MISSING in lookup:
            codes[isna] = lookup[MISSING]
        if (codes < 0).any():
            if OTHER in lookup:
                codes[codes < 0] = lookup[OTHER]
            else:
                unknown = values[codes < 0].unique()[:5].tolist()
                raise InvalidDataError(
                    f"Column {info.name!r} holds values unseen at fit: {unknown}."
                )
        return codes

    @staticmethod
    def _released_codes(info: DiscreteInfo, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """Codes for a private fit: a value that was not released (too rare, or missing
        values when those were not released) gets a released category drawn by its
        noisy frequency, so nothing about it reaches the model but its row."""
        lookup = {c: i for i, c in enumerate(info.categories)}
        values = series.astype(object)
        isna = values.isna().to_numpy()
        codes = _lookup_codes(values, lookup)
        codes[isna] = lookup.get(MISSING, -1)
        unknown = codes < 0
        if unknown.any():
            present = [i for i, c in enumerate(info.categories) if c != MISSING]
            if not present:
                present = list(range(len(info.categories)))
            p = np.asarray([info.counts[i] for i in present], dtype=np.float64) + 1e-9
            codes[unknown] = np.asarray(present)[
                rng.choice(len(present), size=int(unknown.sum()), p=p / p.sum())
            ]
        return codes

    @staticmethod
    def _encode_modes(
        info: NumericInfo, values: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        means = np.asarray(info.means)
        scales = np.asarray(info.scales)
        stds = np.asarray(info.stds)
        point = stds == 0  # point modes: the exact value, scalar 0
        if point.any():
            at = np.flatnonzero(point)
            hit = values[:, None] == means[None, at]
            on_point = hit.any(axis=1)
            mode = np.where(on_point, at[hit.argmax(axis=1)], 0)
            scalar = np.zeros(len(values), dtype=np.float32)
            rest = ~on_point
            if rest.any():
                if point.all():  # nothing else to choose from: the nearest point
                    mode[rest] = at[np.abs(values[rest, None] - means[None, at]).argmin(axis=1)]
                else:
                    sub = NumericInfo(
                        name=info.name, kind=info.kind, dtype=info.dtype,
                        means=means[~point].tolist(), stds=stds[~point].tolist(),
                        weights=np.asarray(info.weights)[~point].tolist(),
                        scales=scales[~point].tolist(),
                    )
                    m, sc = DataTransformer._encode_modes(sub, values[rest], rng)
                    mode[rest] = np.flatnonzero(~point)[m]
                    scalar[rest] = sc
            return mode, scalar
        logp = _log_posterior(means, stds, np.asarray(info.weights), values)
        # a mode may only take values it can represent within (-1, 1); the most likely
        # mode always can (see _mode_scales), so every row keeps at least one choice
        reach = np.abs(values[:, None] - means[None, :]) <= 0.99 * scales[None, :]
        best = logp.argmax(axis=1)
        reach[np.arange(len(values)), best] = True
        p = np.where(reach, np.exp(logp - logp.max(axis=1, keepdims=True)), 0.0)
        cum = np.cumsum(p, axis=1)
        u = rng.random(len(values)) * cum[:, -1]
        mode = np.minimum((cum < u[:, None]).sum(axis=1), len(means) - 1)
        mode = np.where(reach[np.arange(len(values)), mode], mode, best)
        scalar = np.clip((values - means[mode]) / scales[mode], -0.99, 0.99)
        return mode, scalar.astype(np.float32)

    def _fit_modes(self, to_fit: list, max_samples: int | None, rng: np.random.Generator) -> None:
        """Fit every numeric column's mixture in one vectorised pass; set its modes."""
        fitted = fit_mixtures(
            [values for _, values in to_fit],
            n_components=self.n_modes,
            weight_threshold=self.weight_threshold,
            max_samples=max_samples,
            rng=rng,
        )
        for (info, values), params in zip(to_fit, fitted):
            info.means = params.means.tolist()
            info.stds = params.stds.tolist()
            info.weights = params.weights.tolist()
            info.scales = _mode_scales(params.means, params.stds, params.weights, values)

    # ---------------------------------------------------- inverse transform
    def inverse_transform(self, data: np.ndarray, *, rng: np.random.Generator) -> pd.DataFrame:
        """Decode an encoded (or generated) matrix back into a DataFrame.

        Each softmax span is read by its largest entry, each value column as is.
        """
        self._check_fitted()
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[1] != self.layout_.width:
            raise InvalidDataError(
                f"Expected an array of shape (n, {self.layout_.width}); got {data.shape}."
            )
        layout = self.layout_
        codes = np.stack(
            [data[:, s.start : s.end].argmax(axis=1) for s in layout.softmax_spans], axis=1
        ) if layout.softmax_spans else np.zeros((len(data), 0), dtype=np.int64)
        values = data[:, [s.start for s in layout.tanh_spans]]
        return self.decode(codes, values, rng=rng)

    def decode(self, codes: np.ndarray, values: np.ndarray, *, rng: np.random.Generator) -> pd.DataFrame:
        """Decode rows given as choices and scalars rather than as an encoded matrix.

        ``codes``: ``(n, len(layout_.softmax_spans))`` ints, the chosen entry of
        every softmax span (category, mixture mode, missing indicator);
        ``values``: ``(n, len(layout_.tanh_spans))``, the scalar within the mode
        of every value span. This is what sampling produces, without ever
        writing the one-hot parts out.
        """
        self._check_fitted()
        layout = self.layout_
        soft = {(s.column, s.role): k for k, s in enumerate(layout.softmax_spans)}
        tanh = {(s.column, s.role): k for k, s in enumerate(layout.tanh_spans)}
        codes, values = np.asarray(codes), np.asarray(values)
        if (codes.ndim != 2 or values.ndim != 2 or codes.shape[1] != len(soft)
                or values.shape[1] != len(tanh) or len(codes) != len(values)):
            raise InvalidDataError(
                f"Expected codes of shape (n, {len(soft)}) and values of shape (n, {len(tanh)}); "
                f"got {codes.shape} and {values.shape}."
            )
        widths = np.array([s.width for s in layout.softmax_spans], dtype=np.int64)
        if not np.issubdtype(codes.dtype, np.integer) or (
            codes.size and ((codes < 0).any() or (codes >= widths[None, :]).any())
        ):
            raise InvalidDataError(
                "codes must be integers, each below the width of its span "
                f"({widths.tolist()}); got dtype {codes.dtype} or values out of range."
            )
        n = codes.shape[0]

        def code(column: str, role: str) -> np.ndarray | None:
            k = soft.get((column, role))
            return None if k is None else codes[:, k]

        def value(column: str) -> np.ndarray:
            return values[:, tanh[(column, "value")]]

        cols: dict[str, pd.Series | np.ndarray] = {}
        for info in self.infos_:
            if isinstance(info, NumericInfo):
                cols[info.name] = self._decode_numeric(info, code, value, n)
            else:
                cols[info.name] = self._decode_discrete(info, code, n, rng)
        for d in self.derived_:
            cols[d.name] = _decode_derived(d, code(d.parent, "category"))
        for ident in self.identifiers_:
            cols[ident.name] = _generate_identifiers(ident, n, rng)
        # Every column is a new array: the frame takes them as they are (no copy into
        # consolidated blocks; pandas consolidates later if an operation needs it).
        return pd.DataFrame(cols, columns=self.columns_, copy=False)

    def _decode_numeric(self, info: NumericInfo, code, value, n: int) -> pd.Series | np.ndarray:
        if info.all_missing:
            values = np.full(n, np.nan)
        elif info.constant is not None:
            values = np.full(n, info.constant)
        else:
            mode = code(info.name, "mode")
            scalar = np.clip(value(info.name).astype(np.float64), -1.0, 1.0)
            values = scalar * np.asarray(info.scales)[mode] + np.asarray(info.means)[mode]
            if getattr(self, "private_", False):
                # a private fit has no point modes: clipping makes the mass at a (noisy or
                # declared, never one row's) bound, such as capital-gain's zeros
                values = np.clip(values, info.lower, info.upper)
            else:
                values = _reflect(values, info.lower, info.upper)
        if info.kind in ("integer", "datetime") and not info.all_missing:
            values = np.round(values)
        miss = code(info.name, "missing")
        if miss is not None:
            values = np.where(miss == 1, np.nan, values)
        return _restore_numeric(info, values)

    def _decode_discrete(self, info: DiscreteInfo, code, n: int, rng) -> pd.Series:
        codes = code(info.name, "category")
        if codes is None:
            codes = np.zeros(n, dtype=np.int64)
        cats = np.empty(len(info.categories), dtype=object)
        cats[:] = [np.nan if c == MISSING else c for c in info.categories]
        values = cats[codes]
        if info.other_values:
            is_other = codes == info.categories.index(OTHER)
            if is_other.any():
                p = np.asarray(info.other_counts, dtype=np.float64)
                pool = np.empty(len(info.other_values), dtype=object)
                pool[:] = info.other_values
                values[is_other] = pool[rng.choice(len(pool), size=int(is_other.sum()), p=p / p.sum())]
        return _restore_discrete(info, values)


#: What a generated row holds for a pooled rare value, in a column of strings.
RARE_VALUE = "(other)"
#: A warning says so when pooled rare values hold at least this share of a column's rows.
RARE_WARN_SHARE = 0.01


def _pooled_value(info: DiscreteInfo) -> Any:
    """The placeholder a column's pooled rare values are written as (see
    :func:`_rare_placeholder`), from its fitted state."""
    return info.other_values[-1] if info.other_values and info.other_values[-1] in (
        RARE_VALUE, None) else RARE_VALUE


def _rare_placeholder(series: pd.Series) -> Any:
    """The value written back for pooled rare values: :data:`RARE_VALUE` where the column
    holds strings, else ``None`` (a missing value: a number or a category dtype cannot
    hold the placeholder)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return None
    values = series.dropna()
    if pd.api.types.is_string_dtype(series.dtype) and (
        len(values) == 0 or isinstance(values.iloc[0], str)):
        return RARE_VALUE
    return None


def _fixed_characters(template: str, values: pd.Series) -> str:
    """``template`` with its masked letter positions that hold one letter in every value
    of ``values`` (all of that template's shape) written as that letter."""
    if not template or values.nunique() < FIXED_LETTER_VALUES:
        return template
    chars = np.asarray(values.to_numpy(dtype=str), dtype=f"<U{len(template)}").view(
        np.uint32).reshape(len(values), len(template))
    same = (chars == chars[0]).all(axis=0)
    masks = {ord(ID_UPPER), ord(ID_LOWER)}
    return "".join(chr(chars[0, j]) if same[j] and ord(ch) in masks else ch
                   for j, ch in enumerate(template))


def _shape(value: str) -> str:
    """A value's template: upper-case letters, other letters and digits masked."""
    return "".join(
        ID_UPPER if ch.isupper() else ID_LOWER if ch.isalpha() else ID_DIGIT if ch.isdigit()
        else ch for ch in value
    )


_ID_ALPHABETS = {
    ID_UPPER: np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8),
    ID_LOWER: np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8),
    ID_DIGIT: np.frombuffer(b"0123456789", dtype=np.uint8),
}


#: Rounds of redrawing repeated values of a key before giving up (each redraws only the
#: repeats, so a key whose shapes hold far more values than the sample needs few).
_ID_ROUNDS = 64


def _generate_identifiers(info: IdentifierInfo, n: int, rng: np.random.Generator) -> pd.Series:
    """``n`` new random values of the column's shapes (each drawn by its rows), missing
    at the column's rate; for a key (``info.unique``), all distinct: repeats are drawn
    again. Vectorised per shape: one array of characters per shape."""
    numeric = _is_numeric_dtype_name(info.dtype)
    out = np.empty(n, dtype=object)
    out[:] = _draw_identifiers(info, n, rng, numeric)
    if info.missing_rate:
        out[rng.random(n) < info.missing_rate] = None
    series = pd.Series(out, dtype=object)
    if info.unique:  # on the strings: a number's strings have no leading 0, one per value
        # one pass over all values finds the repeats; later rounds redraw only those, and
        # check them against the set of values taken (a few per cent of the rows at most)
        present = series.notna().to_numpy()
        again = np.flatnonzero(series.duplicated(keep="first").to_numpy() & present)
        taken = set(series[present].tolist()) if len(again) else set()
        for _ in range(_ID_ROUNDS):
            if not len(again):
                break
            new = pd.Series(_draw_identifiers(info, len(again), rng, numeric), dtype=object)
            fresh = np.zeros(len(again), dtype=bool)
            for k, value in enumerate(new.tolist()):
                if value not in taken:
                    taken.add(value)
                    fresh[k] = True
            series.iloc[again[fresh]] = new.to_numpy()[fresh]
            again = again[~fresh]
        else:
            raise InvalidParameterError(
                f"Cannot draw {n} distinct values for the key column {info.name!r}: its "
                f"shapes hold {_capacity(info.templates):.3g} values at most (calibrated "
                "sampling draws twice the rows it returns). Sample fewer rows per call, or "
                "declare the column 'identifier' (values may repeat)."
            )
    if info.dtype not in ("object",):
        try:
            series = series.astype(info.dtype)
        except (TypeError, ValueError, OverflowError):
            pass
    return series


def _draw_identifiers(
    info: IdentifierInfo, n: int, rng: np.random.Generator, numeric: bool
) -> np.ndarray:
    """``n`` strings of the column's shapes; a number's first digit is never 0."""
    out = np.empty(n, dtype=object)
    p = np.asarray(info.counts, dtype=np.float64)
    which = rng.choice(len(p), size=n, p=p / p.sum())
    for k, template in enumerate(info.templates):
        rows = np.flatnonzero(which == k)
        if not len(rows):
            continue
        encoded = np.frombuffer(template.encode("utf-8"), dtype=np.uint8)
        chars = np.tile(encoded, (len(rows), 1))
        for mask, alphabet in _ID_ALPHABETS.items():
            at = np.flatnonzero(encoded == ord(mask))
            if len(at):
                chars[:, at] = alphabet[rng.integers(0, len(alphabet), (len(rows), len(at)))]
        if numeric and len(encoded) > 1 and encoded[0] == ord(ID_DIGIT):
            chars[:, 0] = _ID_ALPHABETS[ID_DIGIT][rng.integers(1, 10, len(rows))]
        width = chars.shape[1]
        raw = chars.view(f"S{width}").ravel()
        if not width:
            out[rows] = ""
        elif template.isascii():  # a C cast; decoding through Python is ~10x slower
            out[rows] = raw.astype(f"U{width}").astype(object)
        else:
            out[rows] = np.char.decode(raw, "utf-8")
    return out


def _key_digits(dtype: str) -> int:
    """Digits of a private fit's keys: :data:`PRIVATE_KEY_DIGITS`, fewer for an integer
    dtype whose largest value has fewer."""
    try:
        kind = np.dtype(dtype)
    except TypeError:  # pandas extension dtypes: Int32, UInt8, string, category
        kind = getattr(pd.api.types.pandas_dtype(dtype), "numpy_dtype", np.dtype(object))
    if kind.kind in "iu":
        return max(1, min(PRIVATE_KEY_DIGITS, len(str(np.iinfo(kind).max)) - 1))
    return PRIVATE_KEY_DIGITS


def _capacity(templates: list[str]) -> float:
    """How many distinct values the shapes hold together."""
    sizes = {ord(mask): len(alphabet) for mask, alphabet in _ID_ALPHABETS.items()}
    return float(sum(np.prod([float(sizes.get(c, 1)) for c in t.encode("utf-8")])
                     for t in templates))


def _is_numeric_dtype_name(dtype: str) -> bool:
    try:
        return pd.api.types.is_numeric_dtype(pd.api.types.pandas_dtype(dtype))
    except TypeError:
        return False


def _decode_derived(d: Derived, parent_codes: np.ndarray) -> pd.Series | np.ndarray:
    """A derived column from its parent's chosen categories (see :mod:`tabgan.relations`):
    one value per parent category, looked up for every row."""
    if d.kind in ("continuous", "integer", "datetime"):
        number = (lambda x: pd.Timestamp(x).value) if d.kind == "datetime" else float
        table = np.array([np.nan if x is None else number(x) for x in d.values], dtype=np.float64)
        return _restore_numeric(NumericInfo(name=d.name, kind=d.kind, dtype=d.dtype),
                                table[parent_codes])
    table = np.empty(len(d.values), dtype=object)
    table[:] = [np.nan if x is None else x for x in d.values]
    return _restore_discrete(
        DiscreteInfo(name=d.name, kind=d.kind, dtype=d.dtype,
                     pandas_categories=d.pandas_categories, ordered=d.ordered),
        table[parent_codes])


def _lookup_codes(values: pd.Series, lookup: dict[Any, int]) -> np.ndarray:
    """``lookup[value]`` per row (-1 for missing values and values not in ``lookup``), as a
    writable int64 array. The distinct values are found first (``pd.factorize``, which
    groups values as a dict does: by hash and equality), so Python runs once per distinct
    value, not per row."""
    rows, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([lookup.get(py_scalar(u), -1) for u in uniques] + [-1], dtype=np.int64)
    return table[rows]  # the sentinel -1 picks the appended -1


def _add_point_modes(info: NumericInfo, points: np.ndarray, shares: np.ndarray) -> None:
    """Append point modes (std 0, scale 0: decoded exactly) to a fitted column."""
    rest = 1.0 - float(shares.sum())
    info.weights = [w * rest for w in info.weights] + shares.tolist()
    info.means = info.means + points.tolist()
    info.stds = info.stds + [0.0] * len(points)
    info.scales = info.scales + [0.0] * len(points)


def _log_posterior(means, stds, weights, values) -> np.ndarray:
    z = (values[:, None] - means[None, :]) / stds[None, :]
    return np.log(weights)[None, :] - np.log(stds)[None, :] - 0.5 * z * z


def _mode_scales(means, stds, weights, values: np.ndarray) -> list[float]:
    """Per mode, the larger of 4 std and the farthest value it is most likely for.

    CTGAN's encoding divides by 4 std and clips at 0.99, which loses outliers
    beyond the reach of every mode. Widening a mode's scale to cover the values
    it owns keeps ``inverse_transform(transform(x)) == x`` for every fitted value.
    """
    scales = 4.0 * np.asarray(stds, dtype=np.float64)
    best = _log_posterior(means, stds, weights, values).argmax(axis=1)
    far = np.zeros(len(means))
    np.maximum.at(far, best, np.abs(values - means[best]))
    return np.maximum(scales, far / 0.985).tolist()


_PLAIN_NUMERIC = frozenset(
    f"{kind}{bits}" for kind in ("int", "uint", "float") for bits in (8, 16, 32, 64)
) - {"float8"}


def _reflect(values: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Values beyond the training range reflected back into it (``upper + d`` becomes
    ``upper - d``), then clipped for any still outside. Clipping alone would pile the
    spill of a mode's tail on the training minimum and maximum: values of one row each,
    written again and again (8 % of generated timestamps, in a test, were the two
    extremes)."""
    values = np.where(values > upper, 2.0 * upper - values, values)
    values = np.where(values < lower, 2.0 * lower - values, values)
    return np.clip(values, lower, upper)


def _restore_numeric(info: NumericInfo, values: np.ndarray) -> pd.Series | np.ndarray:
    dtype = info.dtype
    if info.kind == "datetime" or dtype.startswith("datetime64"):  # encoded in nanoseconds
        ts = pd.Series(pd.to_datetime(values, unit="ns"))
        if info.format is not None:  # strings in, strings out, in their own format
            return ts.dt.strftime(info.format).astype(object).where(ts.notna(), None)
        if "UTC" in dtype or "," in dtype:
            tz = dtype.split(",", 1)[1].strip(" ]") if "," in dtype else "UTC"
            ts = ts.dt.tz_localize("UTC").dt.tz_convert(tz)
        try:  # back to the column's own resolution (pandas 3 defaults to microseconds)
            return ts.astype(dtype)
        except (TypeError, ValueError):
            return ts
    has_nan = np.isnan(values).any()
    if dtype in _PLAIN_NUMERIC and not (has_nan and dtype[0] in "iu"):
        return values.astype(dtype, copy=False)  # an array: the frame takes it without a Series
    try:
        if dtype in ("bool", "boolean"):
            return pd.Series(values).astype("boolean" if has_nan else "bool")
        if has_nan and np.dtype(dtype).kind in "iub" if dtype[0].islower() else False:
            return pd.Series(values).astype(dtype.capitalize())  # int64 -> Int64 (nullable)
        return pd.Series(values).astype(dtype)
    except (TypeError, ValueError):
        return pd.Series(values)


def _restore_discrete(info: DiscreteInfo, values: np.ndarray) -> pd.Series:
    s = pd.Series(values, dtype=object)
    if info.pandas_categories is not None:
        return pd.Series(
            pd.Categorical(values, categories=info.pandas_categories, ordered=info.ordered)
        )
    dtype = info.dtype
    try:
        if dtype == "bool":
            return s.astype("bool") if not s.isna().any() else s.astype("boolean")
        if dtype == "object":
            return s
        if dtype[0] in "iu" and s.isna().any():  # int64 with missing values: Int64
            return s.astype(dtype.capitalize())
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s
