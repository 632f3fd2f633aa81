"""The mixed-type (Gower-like) distance every audit uses, fitted on the training table.

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

:class:`MixedTypeDistance` learns the column kinds and scales and encodes tables
into :class:`~tabgan.audit.neighbors.EncodedTable`; the search itself is
:func:`tabgan.audit.neighbors.knn`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..columns import numeric_values
from ..errors import InvalidDataError, InvalidParameterError
from ..limits import limit_threads
from ..metadata import Metadata
from .neighbors import (
    DEFAULT_CHUNK_ELEMENTS,
    EncodedTable,
    NearestNeighbors,
    _block_distance,
    knn,
)

__all__ = ["MixedTypeDistance"]

# A value this far out (in robust-range units) is always a full mismatch.
_CLIP = 1.0e6
_MISSING = 1.0e7
# One-hot columns beyond this many categories are compared by code instead.
_ONEHOT_MAX = 64


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
        Threads used while searching, in the calling thread only and restored
        afterwards (:func:`tabgan.limits.limit_threads`); None keeps the current
        setting. The default of 1 is fastest on a shared CPU, since torch's
        thread pool stalls when other processes compete for the cores; raise it
        on an otherwise idle many-core machine.

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
                values = numeric_values(name, reference[name], kind, table="training")
                center, scale = _robust_center_scale(values)
                numeric[name] = _NumericSpec(name, kind, center, scale)
            else:
                categorical.append(name)
        self.metadata_ = meta
        self.columns_ = list(reference.columns)
        self.numeric_ = numeric
        self.categorical_ = categorical
        return self

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as plain JSON types (parameters included)."""
        self._check_fitted()
        return {
            "chunk_elements": self.chunk_elements,
            "n_threads": self.n_threads,
            "metadata": self.metadata_.to_dict(),
            "columns": list(self.columns_),
            "numeric": [[s.name, s.kind, s.center, s.scale] for s in self.numeric_.values()],
            "categorical": list(self.categorical_),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> MixedTypeDistance:
        """The fitted distance that :meth:`to_dict` wrote; raises :class:`InvalidDataError`
        for anything else."""
        try:
            meta = Metadata.from_dict(state["metadata"])
            dist = cls(meta, chunk_elements=state["chunk_elements"], n_threads=state["n_threads"])
            dist.metadata_ = meta
            dist.columns_ = list(state["columns"])
            dist.numeric_ = {
                name: _NumericSpec(name, kind, float(center), float(scale))
                for name, kind, center, scale in state["numeric"]
            }
            dist.categorical_ = list(state["categorical"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidDataError(
                f"Not a MixedTypeDistance state written by to_dict() ({type(exc).__name__}: "
                f"{exc}); pass what to_dict() returned."
            ) from exc
        return dist

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
        self,
        *tables: pd.DataFrame,
        columns: Sequence[str] | None = None,
        roles: Sequence[str] | None = None,
    ) -> list[EncodedTable]:
        """Encode several tables with one shared category vocabulary.

        Tables must be encoded together to be compared: a category absent
        from the reference gets its own code, equal across the tables.
        ``columns`` restricts the distance to a subset of the columns;
        ``roles`` names the tables in error messages (``"synthetic"``, ...).
        """
        self._check_fitted()
        if roles is None:
            roles = [f"#{i + 1} encoded" for i in range(len(tables))]
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
        for t, role in zip(tables, roles):
            arr = np.empty((len(t), len(num_cols)), dtype=np.float32)
            for j, c in enumerate(num_cols):
                spec = self.numeric_[c]
                x = (numeric_values(c, t[c], spec.kind, table=role) - spec.center) / spec.scale
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
        with torch.inference_mode(), limit_threads(self.n_threads):
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


# ---------------------------------------------------------------------- values
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
