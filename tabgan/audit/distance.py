"""Mixed-type distance, chunked nearest-neighbour search, and the DCR audit.

The distance
------------
All audits compare rows with one Gower-like distance between two rows ``a`` and
``b`` of a table with ``p`` columns::

    d(a, b) = (1 / p) * sum_j d_j(a_j, b_j)            (so 0 <= d <= 1)

* numeric columns (kinds ``continuous``, ``integer``, ``datetime``):
  ``d_j = min(|a_j - b_j| / s_j, 1)`` where ``s_j`` is the *robust range* of the
  column in the training table, the distance between its 1st and 99th
  percentiles (the full range when those coincide, 1 when the column is
  constant). Differences wider than the robust range count as a full mismatch,
  so one outlier cannot dominate the sum.
* categorical columns (kinds ``discrete``, ``boolean``): ``d_j = 0`` if the two
  values are equal, else ``1``. Values are compared as text, so ``1`` and
  ``"1"`` are the same category.
* missing values: two missing values are equal (``d_j = 0``); a missing value
  against a present one is a full mismatch (``d_j = 1``).

Nearest-neighbour search is exact and vectorised with torch on the CPU: the
query rows are processed in chunks and the reference rows in blocks, so memory
stays bounded (about ``chunk_elements`` floats per temporary matrix) whatever
the table sizes. Low-cardinality categorical columns go through a one-hot
matrix product, the others through code comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import InvalidDataError, InvalidParameterError
from ..metadata import Metadata
from ._common import (
    RandomState,
    as_generator,
    check_tables,
    confidence_level,
    emit,
    quantile,
    wilson_interval,
)

__all__ = [
    "MixedTypeDistance",
    "NearestNeighbors",
    "DistanceResult",
    "distance_to_closest_record",
]

# A value this far out (in robust-range units) is always a full mismatch.
_CLIP = 1.0e6
_MISSING = 1.0e7
# One-hot columns beyond this many categories are compared by code instead.
_ONEHOT_MAX = 64
# Elements per temporary (query chunk x reference block) matrix: 1 Mi floats = 4 MiB,
# small enough to stay in cache, which matters more than the number of Python steps.
DEFAULT_CHUNK_ELEMENTS = 1 << 20
_MAX_BLOCK = 1 << 13
# exp() below this is treated as 0 (avoids slow denormal arithmetic).
_MIN_EXPONENT = -80.0


@dataclass(frozen=True)
class EncodedTable:
    """Rows of one table in the form the nearest-neighbour search uses."""

    numeric: torch.Tensor  # (n, p_num) float32, scaled, missing -> _MISSING
    onehot: torch.Tensor  # (n, K) float32, one-hot of low-cardinality categoricals
    codes: torch.Tensor  # (n, p_high) int64, codes of high-cardinality categoricals
    n_onehot_columns: int  # how many categorical columns the one-hot block holds
    n_columns: int  # p, the denominator of the distance
    numeric_names: tuple[str, ...] = ()  # column of each numeric slot
    onehot_spans: tuple[tuple[str, int, int], ...] = ()  # (column, start, stop) in `onehot`
    code_names: tuple[str, ...] = ()  # column of each code slot

    def __len__(self) -> int:
        return int(self.numeric.shape[0])

    def take(self, index: np.ndarray | Sequence[int]) -> EncodedTable:
        """The rows at ``index``."""
        idx = torch.as_tensor(np.asarray(index, dtype=np.int64))
        return replace(
            self, numeric=self.numeric[idx], onehot=self.onehot[idx], codes=self.codes[idx]
        )

    def select(self, columns: Sequence[str]) -> EncodedTable:
        """The same rows with the distance restricted to ``columns``."""
        wanted = set(columns)
        num = [j for j, c in enumerate(self.numeric_names) if c in wanted]
        spans = [s for s in self.onehot_spans if s[0] in wanted]
        oh = [j for _, start, stop in spans for j in range(start, stop)]
        codes = [j for j, c in enumerate(self.code_names) if c in wanted]
        new_spans, pos = [], 0
        for name, start, stop in spans:
            new_spans.append((name, pos, pos + stop - start))
            pos += stop - start
        return EncodedTable(
            numeric=self.numeric[:, num].contiguous(),
            onehot=self.onehot[:, oh].contiguous(),
            codes=self.codes[:, codes].contiguous(),
            n_onehot_columns=len(spans),
            n_columns=len(num) + len(spans) + len(codes),
            numeric_names=tuple(self.numeric_names[j] for j in num),
            onehot_spans=tuple(new_spans),
            code_names=tuple(self.code_names[j] for j in codes),
        )


@dataclass(frozen=True)
class NearestNeighbors:
    """Result of :meth:`MixedTypeDistance.nearest`.

    Attributes
    ----------
    distances:
        ``(n_queries, k)`` distances to the ``k`` closest reference rows, ascending.
    indices:
        ``(n_queries, k)`` positions of those rows in the reference table.
    log_density:
        With ``bandwidth`` given, ``log((1/n_ref) * sum_j exp(-d(q, r_j) / bandwidth))``
        per query (a kernel density on the mixed distance); else None.
    """

    distances: np.ndarray
    indices: np.ndarray
    log_density: np.ndarray | None = None


@dataclass(frozen=True)
class _NumericSpec:
    name: str
    kind: str
    center: float
    scale: float


class MixedTypeDistance:
    """The Gower-like distance of this module, fitted on a reference (training) table.

    Parameters
    ----------
    metadata:
        Column kinds (a :class:`tabgan.Metadata` or overrides such as
        ``{"zip": "discrete"}``); the rest are detected from the table given to :meth:`fit`.
    chunk_elements:
        Size of the temporary matrices of the search, in elements; lower it to
        use less memory.
    n_threads:
        Torch threads used while searching (restored afterwards); None keeps
        torch's setting. The default of 1 is fastest on a shared CPU, since
        torch's thread pool stalls when other processes compete for the cores;
        raise it on an otherwise idle many-core machine.

    Examples
    --------
    >>> dist = MixedTypeDistance().fit(train)
    >>> nn = dist.nearest(synthetic, train, k=1)
    >>> nn.distances[:, 0]        # distance of each synthetic row to its closest train row
    """

    def __init__(
        self,
        metadata: Metadata | Mapping[str, Any] | None = None,
        *,
        chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
        n_threads: int | None = 1,
    ) -> None:
        self.metadata = metadata
        self.chunk_elements = chunk_elements
        self.n_threads = n_threads

    # ------------------------------------------------------------------ fit
    def fit(self, reference: pd.DataFrame) -> MixedTypeDistance:
        """Learn the column kinds and the numeric scales from ``reference``."""
        if not isinstance(self.chunk_elements, int) or self.chunk_elements < 1:
            raise InvalidParameterError(
                "The 'chunk_elements' parameter of MixedTypeDistance must be an int >= 1. "
                f"Got {self.chunk_elements!r} instead."
            )
        if self.n_threads is not None and (
            not isinstance(self.n_threads, int) or self.n_threads < 1
        ):
            raise InvalidParameterError(
                "The 'n_threads' parameter of MixedTypeDistance must be an int >= 1 or None. "
                f"Got {self.n_threads!r} instead."
            )
        meta = Metadata.detect(reference, self.metadata)
        numeric: dict[str, _NumericSpec] = {}
        categorical: list[str] = []
        for name in reference.columns:
            kind = meta[name].kind
            if meta[name].is_numeric:
                values = _numeric_values(reference[name], kind, name)
                center, scale = _robust_center_scale(values)
                numeric[name] = _NumericSpec(name, kind, center, scale)
            else:
                categorical.append(name)
        self.metadata_ = meta
        self.columns_ = list(reference.columns)
        self.numeric_ = numeric
        self.categorical_ = categorical
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "columns_"):
            from ..errors import NotFittedError

            raise NotFittedError("This MixedTypeDistance is not fitted yet; call fit first.")

    def robust_range(self, column: str) -> float:
        """The scale ``s_j`` of a numeric column (its robust range in the reference)."""
        self._check_fitted()
        return self.numeric_[column].scale

    # ------------------------------------------------------------ encoding
    def encode(
        self, *tables: pd.DataFrame, columns: Sequence[str] | None = None
    ) -> list[EncodedTable]:
        """Encode several tables with one shared category vocabulary.

        Tables must be encoded together to be compared: a category absent
        from the reference gets its own code, equal across the tables.
        ``columns`` restricts the distance to a subset of the columns.
        """
        self._check_fitted()
        cols = list(self.columns_ if columns is None else columns)
        unknown = [c for c in cols if c not in self.columns_]
        if unknown:
            raise InvalidDataError(f"Unknown columns {unknown}; the audit knows {self.columns_}.")
        for t in tables:
            missing = [c for c in cols if c not in t.columns]
            if missing:
                raise InvalidDataError(
                    f"A table lacks the columns {missing}; every table must have the same columns."
                )
        sizes = [len(t) for t in tables]
        num_cols = [c for c in cols if c in self.numeric_]
        cat_cols = [c for c in cols if c not in self.numeric_]

        # numeric block
        num_blocks = []
        for t in tables:
            arr = np.empty((len(t), len(num_cols)), dtype=np.float32)
            for j, c in enumerate(num_cols):
                spec = self.numeric_[c]
                x = (_numeric_values(t[c], spec.kind, c) - spec.center) / spec.scale
                x = np.clip(x, -_CLIP, _CLIP)
                arr[:, j] = np.where(np.isnan(x), _MISSING, x)
            num_blocks.append(arr)

        # categorical blocks: joint factorisation over all tables
        onehot_parts: list[list[np.ndarray]] = [[] for _ in tables]
        code_parts: list[list[np.ndarray]] = [[] for _ in tables]
        n_onehot_cols = 0
        spans: list[tuple[str, int, int]] = []
        code_names: list[str] = []
        width = 0
        for c in cat_cols:
            joined = pd.concat([_category_text(t[c]) for t in tables], ignore_index=True)
            codes, uniques = pd.factorize(joined, use_na_sentinel=False)
            splits = np.split(codes.astype(np.int64), np.cumsum(sizes)[:-1])
            if len(uniques) <= _ONEHOT_MAX:
                n_onehot_cols += 1
                spans.append((c, width, width + len(uniques)))
                width += len(uniques)
                eye = np.eye(len(uniques), dtype=np.float32)
                for i, s in enumerate(splits):
                    onehot_parts[i].append(eye[s])
            else:
                code_names.append(c)
                for i, s in enumerate(splits):
                    code_parts[i].append(s[:, None])
        out = []
        for i, n in enumerate(sizes):
            oh = (
                np.concatenate(onehot_parts[i], axis=1)
                if onehot_parts[i]
                else np.zeros((n, 0), dtype=np.float32)
            )
            cd = (
                np.concatenate(code_parts[i], axis=1)
                if code_parts[i]
                else np.zeros((n, 0), dtype=np.int64)
            )
            out.append(
                EncodedTable(
                    numeric=torch.from_numpy(np.ascontiguousarray(num_blocks[i])),
                    onehot=torch.from_numpy(np.ascontiguousarray(oh)),
                    codes=torch.from_numpy(np.ascontiguousarray(cd)),
                    n_onehot_columns=n_onehot_cols,
                    n_columns=len(cols),
                    numeric_names=tuple(num_cols),
                    onehot_spans=tuple(spans),
                    code_names=tuple(code_names),
                )
            )
        return out

    # ---------------------------------------------------------------- search
    def pairwise(self, a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
        """The full ``(len(a), len(b))`` distance matrix (for small tables)."""
        ea, eb = self.encode(a, b)
        with torch.inference_mode(), _threads(self.n_threads):
            return _block_distance(ea, eb, 0, len(ea), 0, len(eb)).numpy().astype(np.float64)

    def nearest(
        self,
        queries: pd.DataFrame | EncodedTable,
        reference: pd.DataFrame | EncodedTable,
        *,
        k: int = 1,
        bandwidth: float | None = None,
        exclude_self: bool = False,
        columns: Sequence[str] | None = None,
    ) -> NearestNeighbors:
        """The ``k`` closest reference rows of every query row (exact search).

        ``exclude_self`` skips the pair (i, i), for searching a table against
        itself. With ``bandwidth``, also returns a kernel log-density.
        """
        if isinstance(queries, EncodedTable) != isinstance(reference, EncodedTable):
            raise InvalidParameterError("Pass both tables as DataFrames or both as EncodedTable.")
        if isinstance(queries, pd.DataFrame):
            queries, reference = self.encode(queries, reference, columns=columns)
        return self.search(queries, reference, k=k, bandwidth=bandwidth, exclude_self=exclude_self)

    def search(
        self,
        queries: EncodedTable,
        reference: EncodedTable,
        *,
        k: int = 1,
        bandwidth: float | None = None,
        exclude_self: bool = False,
    ) -> NearestNeighbors:
        """:func:`knn` on tables from :meth:`encode`, with this object's memory and thread settings."""
        return knn(
            queries,
            reference,
            k=k,
            bandwidth=bandwidth,
            exclude_self=exclude_self,
            chunk_elements=self.chunk_elements,
            n_threads=self.n_threads,
        )


def knn(
    queries: EncodedTable,
    reference: EncodedTable,
    *,
    k: int = 1,
    bandwidth: float | None = None,
    exclude_self: bool = False,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    n_threads: int | None = 1,
) -> NearestNeighbors:
    """Exact chunked k-nearest-neighbour search on encoded tables.

    ``n_threads`` torch threads are used during the search (None: torch's
    current setting). The default, 1, is deliberate: the search is a long
    series of small cache-sized operations, and torch's thread pool slows
    them down many times over whenever the CPU is shared with other work.
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise InvalidParameterError(f"The 'k' parameter must be an int >= 1. Got {k!r} instead.")
    if bandwidth is not None and not (isinstance(bandwidth, (int, float)) and bandwidth > 0):
        raise InvalidParameterError(
            f"The 'bandwidth' parameter must be a float > 0 or None. Got {bandwidth!r} instead."
        )
    nq, nr = len(queries), len(reference)
    avail = nr - (1 if exclude_self else 0)
    if avail < 1:
        raise InvalidDataError("The reference table of a nearest-neighbour search is empty.")
    kk = min(k, avail)
    block = min(nr, _MAX_BLOCK)
    chunk = max(1, chunk_elements // max(block, 1))
    dist_out = np.empty((nq, kk), dtype=np.float32)
    idx_out = np.empty((nq, kk), dtype=np.int64)
    logd_out = np.empty(nq, dtype=np.float64) if bandwidth is not None else None
    with torch.inference_mode(), _threads(n_threads):
        for q0 in range(0, nq, chunk):
            q1 = min(nq, q0 + chunk)
            best_d: torch.Tensor | None = None
            best_i: torch.Tensor | None = None
            lse: torch.Tensor | None = None
            for r0 in range(0, nr, block):
                r1 = min(nr, r0 + block)
                d = _block_distance(queries, reference, q0, q1, r0, r1)
                if exclude_self:
                    lo, hi = max(q0, r0), min(q1, r1)
                    if lo < hi:
                        rows = torch.arange(lo - q0, hi - q0)
                        cols = torch.arange(lo - r0, hi - r0)
                        d[rows, cols] = float("inf")
                kb = min(kk, r1 - r0)
                vals, ids = torch.topk(d, kb, dim=1, largest=False, sorted=True)
                if bandwidth is not None:
                    # log sum_j exp(-d_j / h), computed relative to the row minimum
                    dmin = vals[:, :1]
                    e = d.sub_(dmin).mul_(-1.0 / bandwidth).clamp_(min=_MIN_EXPONENT).exp_()
                    part = torch.log(e.sum(dim=1).double()) - dmin[:, 0].double() / bandwidth
                    # a block holding only the excluded row itself contributes nothing
                    part = torch.where(torch.isinf(dmin[:, 0]), -math.inf, part)
                    lse = part if lse is None else torch.logaddexp(lse, part)
                ids = ids + r0
                if best_d is None:
                    best_d, best_i = vals, ids
                else:
                    cat_d = torch.cat([best_d, vals], dim=1)
                    cat_i = torch.cat([best_i, ids], dim=1)
                    best_d, pos = torch.topk(cat_d, min(kk, cat_d.shape[1]), dim=1, largest=False)
                    best_i = torch.gather(cat_i, 1, pos)
            assert best_d is not None and best_i is not None
            dist_out[q0:q1] = best_d.numpy()
            idx_out[q0:q1] = best_i.numpy()
            if logd_out is not None and lse is not None:
                n_eff = avail
                logd_out[q0:q1] = lse.numpy() - math.log(n_eff)
    return NearestNeighbors(
        distances=dist_out.astype(np.float64), indices=idx_out, log_density=logd_out
    )


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads, restoring the previous setting after."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _block_distance(
    a: EncodedTable, b: EncodedTable, q0: int, q1: int, r0: int, r1: int
) -> torch.Tensor:
    """Distance matrix between rows q0:q1 of ``a`` and r0:r1 of ``b`` (float32)."""
    if a.n_onehot_columns:
        # mismatches = (#one-hot columns) - (#equal one-hot columns)
        acc = torch.mm(a.onehot[q0:q1], b.onehot[r0:r1].T)
        acc.neg_().add_(float(a.n_onehot_columns))
    else:
        acc = torch.zeros((q1 - q0, r1 - r0), dtype=torch.float32)
    # column-major slices: broadcasting contiguous rows is several times faster
    an, bn = a.numeric[q0:q1].T.contiguous(), b.numeric[r0:r1].T.contiguous()
    if an.shape[0]:
        tmp = torch.empty_like(acc)
        for j in range(an.shape[0]):
            torch.sub(an[j].unsqueeze(1), bn[j].unsqueeze(0), out=tmp)
            tmp.abs_().clamp_(max=1.0)
            acc.add_(tmp)
    ac, bc = a.codes[q0:q1].T.contiguous(), b.codes[r0:r1].T.contiguous()
    for j in range(ac.shape[0]):
        acc.add_(ac[j].unsqueeze(1) != bc[j].unsqueeze(0))
    if a.n_columns:
        acc.mul_(1.0 / a.n_columns)
    return acc


# ---------------------------------------------------------------------- values
def _numeric_values(series: pd.Series, kind: str, name: str) -> np.ndarray:
    """A numeric column as float64 (datetimes as nanoseconds); raises if not numeric."""
    s = series
    if kind == "datetime" or pd.api.types.is_datetime64_any_dtype(s.dtype):
        conv = pd.to_datetime(s, errors="coerce")
        if getattr(conv.dt, "tz", None) is not None:
            conv = conv.dt.tz_convert("UTC").dt.tz_localize(None)
        bad = conv.isna() & s.notna()
        values = conv.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        values[conv.isna().to_numpy()] = np.nan
    else:
        if pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype(float)
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        values = conv.to_numpy(dtype=np.float64, na_value=np.nan)
    if bool(bad.any()):
        example = s[bad].iloc[0]
        raise InvalidDataError(
            f"Column {name!r} is numeric ({kind}) in the training table but holds the "
            f"non-numeric value {example!r} in another table. Make the column types agree "
            "(or declare the column 'discrete' in metadata)."
        )
    return values


def _robust_center_scale(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    center = float(np.median(finite))
    lo, hi = np.quantile(finite, [0.01, 0.99])
    scale = float(hi - lo)
    if not scale > 0:
        scale = float(finite.max() - finite.min())
    if not scale > 0:
        scale = 1.0
    return center, scale


def _category_text(series: pd.Series) -> pd.Series:
    """Categorical values as text (missing stays missing) so 1 and '1' compare equal."""
    values = series.to_numpy(dtype=object)
    out = values.astype(str).astype(object)
    out[pd.isna(values)] = np.nan
    return pd.Series(out, index=series.index, dtype=object)


# ------------------------------------------------------------------- DCR audit
@dataclass(frozen=True)
class DistanceResult:
    """Distance-to-closest-record audit (see :func:`distance_to_closest_record`).

    Attributes
    ----------
    dcr_synthetic, dcr_holdout:
        Distance of each (evaluated) synthetic / holdout row to its closest train row.
    median_synthetic, median_holdout, p5_synthetic, p5_holdout:
        Medians and 5th percentiles of those two arrays. Synthetic rows much
        closer to train than real unseen rows are (smaller values) suggest copying.
    share_closer_to_train, share_closer_to_train_ci:
        Share of synthetic rows closer to an equal-size train subset than to an
        equal-size holdout subset (ties count half), with a Wilson interval.
        ``0.5`` is what data that never saw the train rows give; near 1 means
        the synthetic rows sit on top of training rows.
    exact_copy_rate, holdout_exact_copy_rate:
        Share of synthetic (resp. holdout) rows equal to some train row in every
        column. The holdout rate is the baseline of natural duplicates.
    nndr_synthetic, nndr_holdout:
        Nearest-neighbour distance ratio (closest / second-closest train row)
        per row; small values mean a row is uniquely close to one record.
    """

    dcr_synthetic: np.ndarray
    dcr_holdout: np.ndarray
    median_synthetic: float
    median_holdout: float
    p5_synthetic: float
    p5_holdout: float
    share_closer_to_train: float
    share_closer_to_train_ci: tuple[float, float]
    exact_copy_rate: float
    holdout_exact_copy_rate: float
    nndr_synthetic: np.ndarray
    nndr_holdout: np.ndarray
    median_nndr_synthetic: float
    median_nndr_holdout: float
    p5_nndr_synthetic: float
    p5_nndr_holdout: float
    n_train: int
    n_holdout: int
    n_synthetic: int
    n_subset: int
    confidence: float
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "median_synthetic_to_train": self.median_synthetic,
            "median_holdout_to_train": self.median_holdout,
            "p5_synthetic_to_train": self.p5_synthetic,
            "p5_holdout_to_train": self.p5_holdout,
            "share_closer_to_train": self.share_closer_to_train,
            "share_closer_to_train_ci": list(self.share_closer_to_train_ci),
            "exact_copy_rate": self.exact_copy_rate,
            "holdout_exact_copy_rate": self.holdout_exact_copy_rate,
            "median_nndr_synthetic": self.median_nndr_synthetic,
            "median_nndr_holdout": self.median_nndr_holdout,
            "p5_nndr_synthetic": self.p5_nndr_synthetic,
            "p5_nndr_holdout": self.p5_nndr_holdout,
            "n_train": self.n_train,
            "n_holdout": self.n_holdout,
            "n_synthetic": self.n_synthetic,
            "n_subset": self.n_subset,
            "confidence": self.confidence,
        }


def distance_to_closest_record(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Metadata | dict[str, Any] | None = None,
    max_rows: int | None = 20_000,
    confidence: float = 0.95,
    random_state: RandomState = None,
) -> DistanceResult:
    """Distance to closest record: are synthetic rows closer to train than unseen real rows?

    Parameters
    ----------
    train, holdout, synthetic:
        The training table, real rows never used for training, and the synthetic table.
    metadata:
        Column kinds (a :class:`tabgan.Metadata` or overrides); detected when None.
    max_rows:
        At most this many synthetic and holdout rows are evaluated (a seeded
        random sample); the search is always against the full train table.
        None evaluates every row.
    confidence:
        Level of the interval on the share closer to train.
    random_state:
        Seed or ``numpy.random.Generator`` for the subsamples.
    """
    train, holdout, synthetic, msgs = check_tables(train, holdout, synthetic)
    for m in msgs:
        emit(m)
    rng = as_generator(random_state)
    confidence_level(confidence)
    dist = MixedTypeDistance(_metadata_or_none(train, metadata)).fit(train)
    return _dcr(dist, train, holdout, synthetic, max_rows=max_rows, confidence=confidence, rng=rng)


def _metadata_or_none(train: pd.DataFrame, metadata: Any) -> Metadata | None:
    if metadata is None:
        return None
    return Metadata.detect(train, metadata)


def _subsample(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def _dcr(
    dist: MixedTypeDistance,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    max_rows: int | None,
    confidence: float,
    rng: np.random.Generator,
) -> DistanceResult:
    if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 10):
        raise InvalidParameterError(
            f"The 'max_rows' parameter must be an int >= 10 or None. Got {max_rows!r} instead."
        )
    s_idx = _subsample(len(synthetic), max_rows, rng)
    h_idx = _subsample(len(holdout), max_rows, rng)
    syn = synthetic.iloc[s_idx]
    hol = holdout.iloc[h_idx]
    enc_t, enc_h, enc_s = dist.encode(train, hol, syn)

    nn_s = dist.search(enc_s, enc_t, k=2)
    nn_h = dist.search(enc_h, enc_t, k=2)
    dcr_s, dcr_h = nn_s.distances[:, 0], nn_h.distances[:, 0]
    nndr_s, nndr_h = _nndr(nn_s.distances), _nndr(nn_h.distances)

    # equal-size subsets of train and holdout, so that 1/2 is the no-overfitting value
    n_sub = min(len(train), len(hol))
    t_sub = rng.choice(len(train), size=n_sub, replace=False)
    h_sub = rng.choice(len(hol), size=n_sub, replace=False)
    d_to_t = knn(enc_s, enc_t.take(t_sub), k=1, chunk_elements=dist.chunk_elements).distances[:, 0]
    d_to_h = knn(enc_s, enc_h.take(h_sub), k=1, chunk_elements=dist.chunk_elements).distances[:, 0]
    closer = (d_to_t < d_to_h).astype(float) + 0.5 * (d_to_t == d_to_h)
    share = float(closer.mean())
    share_ci = wilson_interval(float(closer.sum()), len(closer), confidence)

    train_keys = _row_keys(dist, train)
    exact_s = float(np.isin(_row_keys(dist, syn), train_keys).mean())
    exact_h = float(np.isin(_row_keys(dist, hol), train_keys).mean())

    return DistanceResult(
        dcr_synthetic=dcr_s,
        dcr_holdout=dcr_h,
        median_synthetic=float(np.median(dcr_s)),
        median_holdout=float(np.median(dcr_h)),
        p5_synthetic=quantile(dcr_s, 0.05),
        p5_holdout=quantile(dcr_h, 0.05),
        share_closer_to_train=share,
        share_closer_to_train_ci=share_ci,
        exact_copy_rate=exact_s,
        holdout_exact_copy_rate=exact_h,
        nndr_synthetic=nndr_s,
        nndr_holdout=nndr_h,
        median_nndr_synthetic=quantile(nndr_s, 0.5),
        median_nndr_holdout=quantile(nndr_h, 0.5),
        p5_nndr_synthetic=quantile(nndr_s, 0.05),
        p5_nndr_holdout=quantile(nndr_h, 0.05),
        n_train=len(train),
        n_holdout=len(hol),
        n_synthetic=len(syn),
        n_subset=n_sub,
        confidence=confidence,
    )


def _nndr(d: np.ndarray) -> np.ndarray:
    """closest / second-closest distance; 0/0 (a copy of a duplicated row) is 0."""
    if d.shape[1] < 2:
        return np.full(d.shape[0], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = d[:, 0] / d[:, 1]
    r[d[:, 1] == 0] = 0.0
    return r


def _row_keys(dist: MixedTypeDistance, df: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash per row of the normalised values (numbers as float, categories as text)."""
    cols: dict[str, Any] = {}
    for c in dist.columns_:
        if c in dist.numeric_:
            cols[c] = _numeric_values(df[c], dist.numeric_[c].kind, c)
        else:
            cols[c] = _category_text(df[c]).to_numpy()
    frame = pd.DataFrame(cols)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()
