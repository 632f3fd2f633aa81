"""Sampling as tensor ops: conditional vectors and real rows (training), outputs (generation).

For every discrete column (a condition span of the layout) the sampler keeps,
on the training device, the row indices sorted by category and the offset
and count of each category. A conditional vector picks a column uniformly
and a category by its log-frequency; a real row with that category is then
an offset plus a uniform draw below the count. No Python loop runs per row
or per step, and nothing is copied from the host while training.

At generation, :class:`SpanSampler` draws every softmax span of the
generator's output from its categorical distribution at once.
"""

from __future__ import annotations

import itertools

import torch
from torch.nn import functional as F

from .encoded import EncodedTable
from .errors import InvalidParameterError
from .layout import Layout

__all__ = ["ConditionalSampler", "SpanSampler"]


class ConditionalSampler:
    """Draws conditional vectors and real rows for one encoded table.

    Parameters
    ----------
    layout:
        The encoded table's layout; only the condition spans are used.
    counts:
        Per condition span, the number of rows of each category.
    device:
        Where the index tensors live (the training device).
    log_frequency:
        Draw training categories with probability proportional to
        ``log(1 + count)`` (CTGAN's recipe) instead of ``count``.
    """

    def __init__(
        self,
        layout: Layout,
        counts: list[list[int]],
        *,
        device: torch.device,
        log_frequency: bool = True,
    ) -> None:
        self.device = device
        self.n_rows = 0
        spans = layout.condition_spans
        self.spans = spans
        self.n_columns = len(spans)
        self.width = layout.condition_width
        if not spans:
            return
        widths = torch.tensor([s.width for s in spans], device=device)
        self.col_offset = torch.cumsum(widths, 0) - widths  # start of each column in cond
        self.col_width = widths
        self.counts = torch.tensor([c for cs in counts for c in cs], dtype=torch.long, device=device)
        self.column_of = torch.repeat_interleave(torch.arange(len(spans), device=device), widths)
        max_w = int(widths.max())
        freq = self.counts.to(torch.float32)
        train_w = torch.log1p(freq) if log_frequency else freq
        self.train_cdf = self._padded_cdf(train_w, widths, max_w)
        self.original_cdf = self._padded_cdf(freq, widths, max_w)

    def _padded_cdf(self, weights: torch.Tensor, widths: torch.Tensor, max_w: int) -> torch.Tensor:
        table = torch.zeros(len(widths), max_w, device=self.device)
        cols = self.column_of
        pos = torch.arange(len(weights), device=self.device) - self.col_offset[cols]
        table[cols, pos] = weights
        cdf = torch.cumsum(table, 1)
        cdf = cdf / cdf[:, -1:].clamp_min(1e-12)
        # padding slots get a value above 1 so they are never chosen
        pad = torch.arange(max_w, device=self.device)[None, :] >= widths[:, None]
        return cdf.masked_fill(pad, 2.0).contiguous()

    def attach_rows(self, data: EncodedTable) -> "ConditionalSampler":
        """Index the real rows of ``data`` (the encoded table, on the device) by category."""
        self.n_rows = len(data)
        if not self.n_columns:
            return self
        pools, within, row_counts = [], [], []
        for s in self.spans:
            codes = data.span_codes(s)
            count = torch.bincount(codes, minlength=s.width)
            pools.append(torch.argsort(codes, stable=True))  # rows grouped by category
            within.append(torch.cumsum(count, 0) - count)
            row_counts.append(count)
        self.row_pool = torch.cat(pools)  # (n_columns * n_rows,)
        self.category_start = torch.cat(within) + self.column_of * self.n_rows
        self.row_counts = torch.cat(row_counts)
        return self

    # ------------------------------------------------------------- sampling
    def sample_condition(
        self, batch: int, generator: torch.Generator, *, original: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of one-hot conditional vectors and the chosen flat category of each.

        With ``original=True`` categories follow their real frequencies (for
        generation); otherwise the training (log-frequency) distribution.
        """
        flat = self.sample_index(batch, generator, original=original)
        return self.one_hot(flat), flat

    def sample_index(
        self,
        batch: int,
        generator: torch.Generator,
        *,
        original: bool = False,
        fixed: int | tuple[torch.Tensor, torch.Tensor] | None = None,
        share: float = 0.0,
    ) -> torch.Tensor:
        """The flat category (index into the conditional vector) of each of ``batch`` rows:
        a column uniformly, then a category of it (see :meth:`sample_condition`).

        ``fixed``: a flat category that replaces the draw in a ``share`` of the rows,
        each row independently (conditional sampling; see :mod:`tabgan.generation`); or
        ``(flat categories, weights)``, of which each such row draws one by weight."""
        if isinstance(fixed, tuple):
            choices, weights = fixed
            lo, hi = (int(choices.min()), int(choices.max())) if len(choices) else (-1, -1)
        else:
            choices, weights, lo, hi = None, None, fixed, fixed
        if fixed is not None and not (0 <= lo and hi < self.width and 0.0 <= share <= 1.0):
            raise InvalidParameterError(
                f"fixed must index the conditional vector (0 to {self.width - 1}) and share "
                f"lie in [0, 1]; got fixed={fixed!r}, share={share!r}."
            )
        if self.n_columns == 0:
            return torch.zeros(batch, dtype=torch.long, device=self.device)
        col = torch.randint(self.n_columns, (batch,), generator=generator, device=self.device)
        cdf = (self.original_cdf if original else self.train_cdf)[col]
        u = torch.rand(batch, 1, generator=generator, device=self.device)
        within = torch.searchsorted(cdf, u).squeeze(1)
        within = torch.minimum(within, self.col_width[col] - 1)
        flat = self.col_offset[col] + within
        if fixed is None:
            return flat
        hit = torch.rand(batch, generator=generator, device=self.device) < share
        if choices is None:
            return torch.where(hit, fixed, flat)
        if len(choices) == 1:
            return torch.where(hit, choices[0], flat)
        pick = torch.multinomial(weights, batch, replacement=True, generator=generator)
        return torch.where(hit, choices[pick], flat)

    def one_hot(self, flat: torch.Tensor) -> torch.Tensor:
        """The conditional vectors of flat categories (zero columns without conditions)."""
        cond = torch.zeros(flat.shape[0], self.width, device=self.device)
        if self.n_columns:
            cond.scatter_(1, flat[:, None], 1.0)  # scatter, not index_put: no host sync on CUDA
        return cond

    def sample_rows(self, flat: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Indices of real rows, one per entry of ``flat``, having that category."""
        n = flat.shape[0]
        if self.n_columns == 0:
            return torch.randint(self.n_rows, (n,), generator=generator, device=self.device)
        u = torch.rand(n, generator=generator, device=self.device)
        count = self.row_counts[flat]
        pick = (u * count).long().clamp_max(count - 1).clamp_min(0)
        return self.row_pool[self.category_start[flat] + pick]


class SpanSampler:
    """Draws one entry of every softmax span from ``softmax(logits)`` by inverse CDF.

    All spans at once, with one uniform per span and row. The work runs on the
    transposed output (one encoded column per row of the matrix), where every
    span is a contiguous block and every step is a vector operation across the
    generated rows: a per-span max (for stable exponentials: each span's
    largest term is 1, so no span's mass is lost in the running sum), one
    running sum down all softmax columns, and per span a count of the entries
    whose running sum stays at or below the span's threshold.
    """

    def __init__(self, layout: Layout, device: torch.device) -> None:
        #: the layout's index tensors (softmax and value columns), shared with training
        self.index = layout.segment_tensors(device)
        widths = [s.width for s in layout.softmax_spans]
        self.n = len(widths)
        ends = list(itertools.accumulate(widths))  # span ends among the softmax columns
        starts = [e - w for e, w in zip(ends, widths)]
        self.cols, self.seg = self.index.soft_cols, self.index.soft_segment
        self.last = torch.tensor(ends, dtype=torch.long, device=device) - 1
        self.bounds = list(zip(starts, ends))

    def __call__(self, raw: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """``(rows, spans)`` choices for raw outputs of shape ``(rows, width)`` (a transposed
        view of :meth:`draw`'s result)."""
        logits = torch.empty(len(self.cols), raw.shape[0], device=raw.device)
        return self.draw(logits.copy_(raw.index_select(1, self.cols).t()), gen).t()

    def draw(self, logits: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """``(spans, rows)`` choices from ``logits``: the softmax columns of the output,
        transposed, ``(softmax columns, rows)`` float32. ``logits`` is overwritten."""
        if logits.ndim != 2 or logits.shape[0] != len(self.cols) or not logits.is_floating_point():
            raise InvalidParameterError(
                f"draw takes the softmax columns transposed: a float tensor of shape "
                f"({len(self.cols)}, rows); got {tuple(logits.shape)}, {logits.dtype}."
            )
        rows = logits.shape[1]
        if self.n == 0:
            return torch.zeros(0, rows, dtype=torch.long, device=logits.device)
        cum = logits
        for a, b in self.bounds:
            span = cum[a:b]
            span.sub_(span.amax(0))
        torch.cumsum(cum.exp_(), 0, out=cum)
        hi = cum[self.last]  # running sum at each span's end
        lo = F.pad(hi[:-1], (0, 0, 1, 0))  # ... and at its start
        u = torch.rand(self.n, rows, generator=gen, device=logits.device)
        # Below the span's end: lo + u (hi - lo) with u < 1 can still round onto hi.
        ceiling = torch.nextafter(hi, lo)  # before lo is overwritten with the threshold
        threshold = torch.minimum(lo.addcmul_(u, hi - lo), ceiling)
        # The choice is the number of entries whose running sum is at or below the
        # threshold. The running sum never decreases, so this is the inverse CDF, and an
        # entry of zero mass is never chosen: its running sum equals the one before it
        # (or the span's start, which the threshold never falls below) and the threshold
        # stays under the span's end. The span's last entry is left out of the count.
        out = torch.empty(self.n, rows, dtype=torch.long, device=logits.device)
        for k, (a, b) in enumerate(self.bounds):
            torch.sum(cum[a : b - 1] <= threshold[k], 0, out=out[k])
        return out
