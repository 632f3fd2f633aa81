"""Generation: turning a trained generator into rows that meet the user's conditions.

The engine behind :meth:`tabgan.Synthesizer.sample`. Rows are made in *passes*
(one generator call over several training-sized batches, each batch-normalised on
its own), passes are grouped in *rounds* (as many passes as the rows still
missing need, at the rate rows were kept so far), and on the CPU the passes of a
large round run side by side on single-threaded worker threads
(:mod:`tabgan._threads`). Each pass draws from its own seed, and a large round is
split by its size alone, so a large sample is the same for any thread count.

Every softmax span is drawn from the categorical distribution of its logits (the
entry training's Gumbel-softmax weighs most, at any temperature), without computing
the soft outputs; see :class:`tabgan.sampler.SpanSampler`.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ._threads import sampling_pool
from .columns import MISSING, OTHER, py_scalar
from .errors import ConditionError
from .layout import Span
from .networks import Generator
from .sampler import ConditionalSampler, SpanSampler
from .transformer import DataTransformer, DiscreteInfo

__all__ = ["Target", "condition_targets", "generate"]

# Rows per generator pass when sampling (several training-sized batches, each normalised
# on its own). On CUDA a pass of training-sized batches is launch-bound, so passes are
# large; on the CPU a few thousand rows keep the products in cache (Adult, 32k rows,
# bfloat16: 0.19 s at 500 rows per pass, 0.13 s at 4,000, 0.17 s at 16,000).
_SAMPLE_ROWS_PER_PASS_CUDA = 16_384
_SAMPLE_ROWS_PER_PASS_CPU = 4_096
# Passes planned at once (run side by side on the CPU's worker threads; see _threads.py).
_PASSES_PER_ROUND = 16
# Batches of conditional sampling's first round, which measures the rate rows are kept.
_PROBE_BATCHES = 4
# Rounds of at least this many full passes run on the worker threads (CPU).
_POOL_MIN_PASSES = 4


@dataclass(frozen=True)
class Target:
    """One condition: the categories ``indices`` of a discrete column's ``span`` that meet
    it (several where the column's categories are the cells of a joint column, or where
    a derived column's value goes with several parent values; ``span`` is ``None`` for a
    column with a single category, which every row meets), and how many training rows
    held each."""

    span: Span | None
    indices: tuple[int, ...]
    counts: tuple[int, ...]

    @property
    def count(self) -> int:
        """The training rows meeting the condition."""
        return sum(self.counts)


def condition_targets(
    transformer: DataTransformer, conditions: Mapping[str, Any] | None
) -> list[Target]:
    """The :class:`Target` of each ``{column: value}`` condition; raises
    :class:`ConditionError` for a condition the model cannot meet."""
    if not conditions:
        return []
    if not isinstance(conditions, Mapping):
        raise ConditionError(
            f"conditions must be a dict {{column: value}}; got {type(conditions).__name__}."
        )
    infos = {info.name: info for info in transformer.infos_}
    spans = {s.column: s for s in transformer.layout_.spans if s.role == "category"}
    derived = {d.name: d for d in transformer.derived_}
    out = []
    for column, value in conditions.items():
        if column in derived:  # a condition on its parent's categories that give the value
            d = derived[column]
            indices = _parent_indices(d, value, infos)
            out.append(Target(spans.get(d.parent), indices,
                              tuple(infos[d.parent].counts[k] for k in indices)))
            continue
        if column not in infos:
            if any(ident.name == column for ident in transformer.identifiers_):
                raise ConditionError(
                    f"Column {column!r} is a key or identifier: it is not modelled (its "
                    "values are generated anew), so rows cannot be conditioned on it."
                )
            raise ConditionError(
                f"Unknown column {column!r} in conditions. Columns: {list(infos)}."
            )
        info = infos[column]
        if not isinstance(info, DiscreteInfo):
            raise ConditionError(
                f"Column {column!r} is {info.kind}; conditions apply to discrete and "
                "boolean columns only."
            )
        key = MISSING if _is_missing(value) else py_scalar(value)
        if key not in info.categories:
            if info.other_values and key in info.other_values:
                raise ConditionError(
                    f"Value {value!r} of column {column!r} is too rare to condition on "
                    f"(it is pooled with other values: raise max_categories, or lower "
                    "min_category_rows if it is held by fewer rows than that)."
                )
            shown = [c for c in info.categories if c not in (MISSING, OTHER)][:10]
            pooled = (" Values held by fewer than min_category_rows training rows are never "
                      "generated." if OTHER in info.categories else "")
            raise ConditionError(
                f"Column {column!r} has no category {value!r}. Known values include: "
                f"{shown}.{pooled}"
            )
        indices = tuple(k for k, c in enumerate(info.categories) if c == key and info.counts[k])
        if not indices:
            raise ConditionError(
                f"Category {value!r} of column {column!r} was declared but never seen in "
                "training, so the model cannot generate it."
            )
        out.append(Target(spans.get(column), indices, tuple(info.counts[k] for k in indices)))
    return out


def _parent_indices(d, value: Any, infos) -> tuple[int, ...]:
    """The categories of ``d.parent`` that give derived column ``d`` the value ``value``."""
    key = None if _is_missing(value) else py_scalar(value)
    counts = infos[d.parent].counts
    parents = tuple(k for k, v in enumerate(d.values) if v == key and counts[k] > 0)
    if not parents:
        shown = sorted({str(v) for v in d.values if v is not None})[:10]
        raise ConditionError(
            f"Column {d.name!r} has no value {value!r} in what the model learned. Known "
            f"values include: {shown}."
        )
    return parents


class _Passes:
    """Runs passes of the generator: each ``(rows, seed)`` gives the chosen entry of every
    softmax span and the scalar of every value span of ``rows`` generated rows, kept where
    they meet the conditions. One set of buffers per pass in flight, reused."""

    def __init__(
        self,
        generator: Generator,
        sampler: ConditionalSampler,
        pick: SpanSampler,
        *,
        batch: int,
        per_pass: int,
        buffers: int,
        native: tuple[torch.Tensor, torch.Tensor] | None,
        share: float,
        checks: list[tuple[int, int]],
    ) -> None:
        self.generator, self.sampler, self.pick = generator, sampler, pick
        self.batch, self.native, self.share, self.checks = batch, native, share, checks
        self.device = dev = pick.cols.device
        self.noise_dim = generator.noise_dim
        # The output of a pass, transposed and with the softmax columns first: every span
        # is then a contiguous block of rows (see SpanSampler.draw).
        self.plan = generator.plan(outputs=torch.cat([pick.cols, pick.index.tanh_cols]))
        self.n_soft = len(pick.cols)
        width = len(pick.cols) + len(pick.index.tanh_cols)
        self.buffers: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(buffers):
            self.buffers.put((
                generator.workspace(per_pass, dev),  # [h..., noise], reused by passes
                torch.empty(per_pass, self.noise_dim, device=dev),  # noise
                torch.empty(width, per_pass, device=dev),  # transposed output
            ))

    def __call__(self, rows: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``rows`` generated rows, drawn from their own seed: ``(spans, kept rows)``
        choices and ``(values, kept rows)`` scalars."""
        dev = self.device
        workspace, noise, columns = self.buffers.get()
        try:
            with torch.no_grad():  # grad mode is per thread
                g = torch.Generator(device=dev)
                g.manual_seed(seed)
                flat = self.sampler.sample_index(
                    rows, g, original=True, fixed=self.native, share=self.share
                )
                z = torch.randn(rows, self.noise_dim, generator=g, device=dev, out=noise[:rows])
                raw = self.generator.infer(
                    z, flat if self.sampler.n_columns else None, group=self.batch,
                    workspace=workspace, plan=self.plan,
                )
                out = columns[:, :rows]
                out.copy_(raw.t())
                values = torch.tanh(out[self.n_soft:])
                codes = self.pick.draw(out[: self.n_soft], g)
                if self.checks:
                    ok = torch.ones(rows, dtype=torch.bool, device=dev)
                    for k, allowed in self.checks:
                        ok &= torch.isin(codes[k], allowed)
                    codes, values = codes[:, ok], values[:, ok]
                return codes, values
        finally:
            self.buffers.put((workspace, noise, columns))


@torch.no_grad()
def generate(
    generator: Generator,
    transformer: DataTransformer,
    n: int,
    gen: torch.Generator,
    targets: list[Target],
    *,
    batch: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` generated rows meeting every target, as (softmax-span choices, value scalars);
    see :meth:`DataTransformer.decode`. ``batch``: the training batch size, over which
    batch norm takes its statistics (each run of ``batch`` rows is normalised on its own).
    The rows are made on ``gen``'s device, where the generator lives.

    The rarest target's category goes into the conditional vector of a share of the
    rows; the other rows draw their conditions as in unconditional sampling, and only
    rows meeting every target are kept. Not every row: batch norm removes whatever all
    rows of a run share, so a condition given to a whole run would reach only the
    output layer (see docs/sampling.md, "How sampling works").
    """
    layout = transformer.layout_
    dev = gen.device
    sampler = ConditionalSampler(layout, transformer.condition_counts(), device=dev)
    soft_spans = layout.softmax_spans
    pick = SpanSampler(layout, dev)
    # Several training-sized batches go through the generator at once (each normalised
    # on its own), so that sampling runs large matrix products instead of many small ones.
    most = max(1, _rows_per_pass(dev) // batch)
    native, share = None, 1.0
    conditioned = [t for t in targets if t.span is not None]
    checks = [(soft_spans.index(t.span), torch.tensor(t.indices, device=dev))
              for t in conditioned]
    if checks:
        # The rarest target's categories go into the conditional vectors, each by its
        # training rows (so several categories meeting it keep their proportions).
        rarest = min(conditioned, key=lambda t: t.count)
        cond_spans = list(layout.condition_spans)  # category spans are among them
        offset = sum(s.width for s in cond_spans[: cond_spans.index(rarest.span)])
        native = (torch.tensor([offset + k for k in rarest.indices], device=dev),
                  torch.tensor(rarest.counts, dtype=torch.float64, device=dev))
        share = _native_share(len(cond_spans))
    budget = max(100 * n, 50 * batch) / share  # bounded effort for conditional sampling
    per_pass = batch * (most if checks else min(most, -(-n // batch)))
    pool, workers = sampling_pool(dev)  # CPU: whole passes on single-threaded workers
    one_pass = _Passes(
        generator, sampler, pick, batch=batch, per_pass=per_pass, buffers=workers,
        native=native, share=share, checks=checks,
    )

    kept_codes: list[torch.Tensor] = []  # (spans, rows) and (values, rows): transposed
    kept_values: list[torch.Tensor] = []
    have, made = 0, 0
    # the passes' seeds come from a host generator: no device sync per round on CUDA
    seeder = torch.Generator()
    seeder.manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen, device=dev)))
    while have < n:
        if made >= budget:
            raise ConditionError(
                f"Only {have} of {n} rows meeting the conditions were generated in "
                f"{made} tries; the combination is too rare in what the model learned. "
                "Relax the conditions or sample fewer rows."
            )
        # A round of passes: enough rows for what is missing at the rate rows are kept
        # so far (the first conditional round is a small probe of that rate), within
        # the effort bound, each pass with its own seed (see _plan_passes).
        rate = share if made == 0 else max(have, 1) / made
        wanted = batch * math.ceil((n - have) / max(rate * batch, 1.0))
        if checks and made == 0:
            wanted = min(wanted, _PROBE_BATCHES * batch)
        wanted = min(wanted, batch * max(1, -(-int(budget - made) // batch)))
        # Large rounds are split evenly and, on the CPU, run on the worker threads with
        # one thread per pass (their rows are then the same for any thread count).
        # Small ones run in the calling thread in passes as large as possible: split
        # over workers, their passes would cost more in fixed overhead than they gain.
        large = wanted >= _POOL_MIN_PASSES * per_pass
        if large:
            passes = _plan_passes(wanted // batch, per_pass // batch)[:_PASSES_PER_ROUND]
            passes = [batch * b for b in passes]
        else:
            passes = [per_pass] * (wanted // per_pass) + [wanted % per_pass] * bool(
                wanted % per_pass
            )
        seeds = torch.randint(0, 2**62, (len(passes),), generator=seeder).tolist()
        if pool is not None and large:
            results = list(pool.map(one_pass, passes, seeds))
        else:
            results = [one_pass(r, sd) for r, sd in zip(passes, seeds)]
        for rows, (codes, values) in zip(passes, results):
            kept_codes.append(codes)
            kept_values.append(values)
            have += codes.shape[1]
            made += rows
    # back to one row per generated row (Fortran-ordered arrays: one column each)
    codes = torch.cat(kept_codes, 1)[:, :n].cpu().numpy().T
    values = torch.cat(kept_values, 1)[:, :n].cpu().numpy().T
    return codes, values


def _plan_passes(batches: int, most: int) -> list[int]:
    """Split ``batches`` training-sized batches into passes of at most ``most`` batches,
    as even as possible, in a number of passes that is a multiple of 4 where there are
    enough batches (so that 2 or 4 workers share them evenly). The split depends on the
    work alone, never on the thread count, so neither do the rows."""
    count = max(-(-batches // most), min(4, batches))
    count = min(batches, -(-count // 4) * 4)
    base, extra = divmod(batches, count)
    return [base + 1] * extra + [base] * (count - extra)


def _native_share(n_condition_columns: int) -> float:
    """The share of generated rows given the conditioned category in conditional sampling:
    the rate at which training's sampler picks one column (one over their number), kept
    between 10 % (effort) and 50 % (a run of rows must not share one condition)."""
    return min(0.5, max(0.1, 1.0 / max(n_condition_columns, 1)))


def _rows_per_pass(device: torch.device) -> int:
    return _SAMPLE_ROWS_PER_PASS_CUDA if device.type == "cuda" else _SAMPLE_ROWS_PER_PASS_CPU


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or value is pd.NA
    except TypeError:
        return False
