"""The exact nearest-neighbour engine of the audits, on encoded tables.

:class:`EncodedTable` holds rows in the form the search reads (scaled numbers,
one-hot blocks, category codes; :meth:`MixedTypeDistance.encode
<tabgan.audit.mixed_distance.MixedTypeDistance.encode>` builds it), and
:func:`knn` finds the ``k`` closest reference rows of every query row under the
mixed-type distance (``docs/audits.md``), optionally with a kernel log-density.

The search is exact and vectorised with torch on the CPU: the query rows are
processed in chunks and the reference rows in blocks, so memory stays bounded
(about ``chunk_elements`` floats per temporary matrix) whatever the table sizes.
Low-cardinality categorical columns go through a one-hot matrix product, the
others through code comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..errors import InvalidDataError, InvalidParameterError
from ..limits import limit_threads

__all__ = ["DEFAULT_CHUNK_ELEMENTS", "EncodedTable", "NearestNeighbors", "knn"]

# Elements per temporary (query chunk x reference block) matrix: 1 Mi floats = 4 MiB,
# small enough to stay in cache, which matters more than the number of Python steps.
DEFAULT_CHUNK_ELEMENTS = 1 << 20
_MAX_BLOCK = 1 << 13
# exp() below this is treated as 0 (avoids slow denormal arithmetic).
_MIN_EXPONENT = -80.0


@dataclass(frozen=True)
class EncodedTable:
    """Rows of one table in the form the nearest-neighbour search uses."""

    numeric: torch.Tensor  # (n, p_num) float32, scaled, missing -> a huge value
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

    ``n_threads`` torch threads are used during the search, set for the calling
    thread only (:func:`tabgan.limits.limit_threads`; None: the current
    setting). The default, 1, is deliberate: the search is a long
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
    with torch.inference_mode(), limit_threads(n_threads):
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
