"""The generator of the conditional GAN, and what both networks share (building them
without the global RNG, seeded initialisation, mixed precision).

The generator is a small ``nn.Module`` with a straight ``forward``; the critic is
defined in :mod:`tabgan.critic`. Randomness (weight initialisation) comes from an
explicit ``torch.Generator`` so that training is reproducible without touching global
RNG state.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .errors import InvalidParameterError

__all__ = [
    "BatchStats", "compute_in", "CondLinear", "LinearPlan", "Generator", "GeneratorPlan", "init_weights",
    "materialize",
]


#: Batch normalisation with a batch's statistics gathered elsewhere:
#: ``(h, weight, bias, eps) -> normalised h`` (see :meth:`tabgan.parallel.DataParallel.batch_norm`).
BatchStats = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor]


def materialize(factory, device: torch.device) -> nn.Module:
    """Build a module without touching the global RNG, on ``device``, uninitialised.

    Modules are constructed on the meta device (PyTorch's default init would
    draw from the global generator), then given real, empty storage; call
    :func:`init_weights` or ``load_state_dict`` next.
    """
    with torch.device("meta"):
        module = factory()
    return module.to_empty(device=device)


def compute_in(dtype: torch.dtype | None, device: torch.device):
    """Matrix products in ``dtype`` (mixed precision: weights, optimiser state and
    element-wise work stay float32), or a no-op for ``None``."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


class CondLinear(nn.Module):
    """A linear layer over ``[x, one_hot(cond)]`` that reads the one-hot part as a lookup.

    The conditional vector has exactly one 1 per row, so its product with the
    weight is one weight column: ``y = x W^T + b + V[cond]``. The lookup
    replaces a dense product over every category (and its gradient, a dense
    outer product) with a row gather and a scatter-add. ``V`` is stored
    transposed, one row per category, so the gather reads contiguous rows.
    Initialised like ``nn.Linear`` over the full input width.
    """

    def __init__(self, i: int, c: int, o: int) -> None:
        super().__init__()
        self.in_features, self.cond_features, self.out_features = i, c, o
        self.weight = nn.Parameter(torch.empty(o, i))
        self.cond_weight = nn.Parameter(torch.empty(c, o))
        self.bias = nn.Parameter(torch.empty(o))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        if cond is None or self.cond_features == 0:
            return F.linear(x, self.weight, self.bias)
        # bias folded into the looked-up rows: the product adds onto them in place
        return torch.addmm(F.embedding(cond, self.cond_weight + self.bias), x, self.weight.t())

    @torch.no_grad()
    def plan(self, dtype: torch.dtype, outputs: torch.Tensor | None = None) -> "LinearPlan":
        """This layer's weights prepared for inference in ``dtype``: cast once, with the
        bias folded into the lookup table (so the table is cast before the lookup, not
        the looked-up rows after it). ``outputs``: keep only these output features, in
        this order (all, in order, when ``None``)."""
        w, bias, table = self.weight, self.bias, self.cond_weight
        if outputs is not None:
            w, bias, table = w[outputs], bias[outputs], table[:, outputs]
        lookup = (table + bias).to(dtype) if self.cond_features else None
        # copies, also when no cast is needed: a plan is a snapshot of the weights
        return LinearPlan(w.t().to(dtype, copy=True), bias.to(dtype, copy=True), lookup)


@dataclass(frozen=True)
class LinearPlan:
    """A :class:`CondLinear` ready for inference (a snapshot of its weights)."""

    weight_t: torch.Tensor  # (in, out): x @ weight_t
    bias: torch.Tensor  # (out,)
    lookup: torch.Tensor | None  # (categories, out), bias included; None without conditions

    def __call__(self, x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        if cond is None or self.lookup is None:
            return torch.addmm(self.bias, x, self.weight_t)
        return F.embedding(cond, self.lookup).addmm_(x, self.weight_t)  # in place, no copy


class Residual(nn.Module):
    """Linear → BatchNorm → ReLU, concatenated with its input (CTGAN's block).

    BatchNorm always normalises with the batch's own statistics (no running
    averages), in training and in sampling alike, so sampling has no hidden
    state that drifts from training.
    """

    def __init__(self, i: int, c: int, o: int) -> None:
        super().__init__()
        self.fc = CondLinear(i, c, o)
        self.bn = nn.BatchNorm1d(o, track_running_stats=False)

    def forward(
        self, x: torch.Tensor, cond: torch.Tensor | None, group: int | None = None,
        stats: "BatchStats | None" = None,
    ) -> torch.Tensor:
        return torch.cat([self.normalized(self.fc(x, cond), group, stats), x], dim=1)

    def normalized(
        self, h: torch.Tensor, group: int | None, stats: "BatchStats | None" = None
    ) -> torch.Tensor:
        """ReLU(BatchNorm(h)), in float32 (also under mixed precision). ``stats``:
        normalise with the statistics of a batch spread over several processes."""
        h = h.float()
        if stats is not None:
            return F.relu(stats(h, self.bn.weight, self.bn.bias, self.bn.eps))
        if group is None or group >= h.shape[0]:
            return F.relu(self.bn(h))
        return F.relu(self._grouped(h, group))

    @torch.no_grad()
    def normalize_into(
        self, h: torch.Tensor, group: int | None, out: torch.Tensor, affine=None
    ) -> None:
        """``out[:] = normalized(h, group)``, in ``h``'s dtype (for inference).
        ``affine``: the batch norm's weight and bias repeated once per run, if at hand."""
        y = self._grouped(h, min(group or h.shape[0], h.shape[0]), affine)
        if y.dtype == out.dtype:
            torch.clamp_min(y, 0.0, out=out)
        else:
            out.copy_(y.relu_())

    def _grouped(self, h: torch.Tensor, group: int, affine=None) -> torch.Tensor:
        """BatchNorm of ``rows / group`` interleaved runs of ``group`` rows, each with its
        own statistics: row ``r`` belongs to run ``r mod (rows / group)``.

        Interleaving makes the runs the columns of a ``(group, runs * width)`` view,
        so one native batch-norm call normalises them all without a copy.
        """
        rows, width = h.shape
        if rows % group:
            raise ValueError(f"{rows} rows do not split into runs of {group}")
        runs = rows // group
        weight, bias = affine or (self.bn.weight.repeat(runs), self.bn.bias.repeat(runs))
        y = F.batch_norm(
            h.reshape(group, runs * width), None, None, weight, bias, True, 0.0, self.bn.eps
        )
        return y.reshape(rows, width)


class Generator(nn.Module):
    """Maps noise and a condition to raw (pre-activation) encoded rows.

    Equivalent to CTGAN's residual generator on ``[noise, one_hot(cond)]``
    (the one-hot part reaches every layer through the residual
    concatenations); the condition is passed as the index of its 1.
    """

    def __init__(
        self, noise_dim: int, cond_dim: int, hidden: Sequence[int], output_dim: int
    ) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        blocks: list[nn.Module] = []
        dim = noise_dim
        for h in hidden:
            blocks.append(Residual(dim, cond_dim, h))
            dim += h
        self.blocks = nn.ModuleList(blocks)
        self.out = CondLinear(dim, cond_dim, output_dim)
        #: dtype of the matrix products (``None``: float32); see :func:`compute_in`
        self.compute_dtype: torch.dtype | None = None

    @property
    def products_dtype(self) -> torch.dtype:
        """The dtype of inference: ``compute_dtype``, else the weights' own."""
        return self.compute_dtype or self.out.weight.dtype

    def forward(
        self,
        noise: torch.Tensor,
        cond: torch.Tensor | None = None,
        group: int | None = None,
        *,
        workspace: torch.Tensor | None = None,
        stats: "BatchStats | None" = None,
    ) -> torch.Tensor:
        """``cond``: per row, the index of its category in the conditional vector
        (``None`` when the table has nothing to condition on).

        ``group``: normalise runs of ``group`` rows on their own, as if generated in
        separate batches of that size (sampling many training-sized batches at once);
        the runs are interleaved: row ``r`` is in run ``r mod (rows / group)``.

        ``workspace`` (inference only): a buffer from :meth:`workspace` to reuse across
        calls, so that passes of many rows do not each fault in fresh memory.

        ``stats`` (training only): these rows are one process's part of a batch spread
        over several (:mod:`tabgan.parallel`); the batch norms use the whole batch's
        statistics, ``stats(h, weight, bias, eps)``."""
        if torch.is_grad_enabled() or stats is not None:
            with compute_in(self.compute_dtype, noise.device):
                x = noise
                for block in self.blocks:
                    x = block(x, cond, group, stats)
                return self.out(x, cond).float()
        return self.infer(noise, cond, group, workspace=workspace).float()

    @torch.no_grad()
    def infer(
        self,
        noise: torch.Tensor,
        cond: torch.Tensor | None = None,
        group: int | None = None,
        *,
        workspace: torch.Tensor | None = None,
        plan: "GeneratorPlan | None" = None,
    ) -> torch.Tensor:
        """``forward`` without gradients, returned in the products' dtype (bfloat16 under
        mixed precision) rather than float32; see ``forward`` for the arguments.

        ``plan``: the weights prepared by :meth:`plan` (made here when ``None``); it
        also chooses the output columns. Reuse one plan over many calls."""
        if plan is None:
            plan = self.plan()
        elif not plan.fits(self):
            raise InvalidParameterError(
                "This plan was made for a generator of another shape; make one with "
                "Generator.plan() on the generator that uses it."
            )
        # One buffer [h_L, ..., h_1, noise], in the products' dtype, instead
        # of a concatenation per block; block k reads the suffix that is its input.
        widths = [b.fc.out_features for b in self.blocks]
        at = sum(widths)
        rows = noise.shape[0]
        if workspace is None:
            buf = self.workspace(rows, noise.device, plan.dtype)
        elif (
            workspace.shape[0] < rows
            or workspace.shape[1] != at + noise.shape[1]
            or workspace.dtype != plan.dtype
            or workspace.device != noise.device
        ):
            raise InvalidParameterError(
                f"A workspace of shape {tuple(workspace.shape)}, {workspace.dtype} on "
                f"{workspace.device} cannot hold {rows} rows of this generator; make one "
                "with Generator.workspace(rows, device)."
            )
        else:
            buf = workspace[:rows]
        buf[:, at:] = noise
        runs = rows // min(group or rows, rows)
        for k, (block, w) in enumerate(zip(self.blocks, widths)):
            h = plan.layers[k](buf[:, at:], cond)
            block.normalize_into(h, group, buf[:, at - w : at], plan.affine(k, runs))
            at -= w
        return plan.out(buf, cond)

    @torch.no_grad()
    def plan(self, outputs: torch.Tensor | None = None) -> "GeneratorPlan":
        """The weights prepared for :meth:`infer` (a snapshot: make a new plan after the
        weights change). ``outputs``: the output columns to compute, in this order
        (all, in order, when ``None``)."""
        if outputs is not None and (
            not isinstance(outputs, torch.Tensor)
            or outputs.ndim != 1
            or outputs.dtype not in (torch.int32, torch.int64)
            or (len(outputs) and not 0 <= int(outputs.min()) <= int(outputs.max())
                < self.out.out_features)
        ):
            raise InvalidParameterError(
                f"outputs must be a 1-D integer tensor of output columns, each below "
                f"{self.out.out_features}; got {outputs!r:.80}."
            )
        dtype = self.products_dtype
        return GeneratorPlan(
            dtype,
            [b.fc.plan(dtype) for b in self.blocks],
            [(b.bn.weight.detach().clone(), b.bn.bias.detach().clone()) for b in self.blocks],
            self.out.plan(dtype, outputs),
        )

    def workspace(
        self, rows: int, device: torch.device, dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """An uninitialised inference buffer for up to ``rows`` rows (see ``forward``), in
        ``dtype`` (default: the products' dtype, which :meth:`plan` uses too)."""
        dtype = dtype or self.products_dtype
        return torch.empty(rows, self.out.in_features, dtype=dtype, device=device)  # [h..., noise]


class GeneratorPlan:
    """A :class:`Generator`'s weights prepared for inference (see ``Generator.plan``):
    the products' weights cast once, and the batch norms' weight and bias repeated
    once per run count (see ``Residual._grouped``)."""

    def __init__(self, dtype: torch.dtype, layers: list[LinearPlan],
                 norms: list[tuple[torch.Tensor, torch.Tensor]], out: LinearPlan) -> None:
        self.dtype, self.layers, self.norms, self.out = dtype, layers, norms, out
        self._repeated: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def fits(self, generator: "Generator") -> bool:
        """Whether this plan's layers have ``generator``'s shapes."""
        layers = [*self.layers, self.out]
        modules = [*(b.fc for b in generator.blocks), generator.out]
        return len(layers) == len(modules) and all(
            plan.weight_t.shape[0] == m.in_features
            and (m is generator.out or plan.weight_t.shape[1] == m.out_features)
            for plan, m in zip(layers, modules)
        )

    def affine(self, k: int, runs: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Block ``k``'s batch-norm weight and bias, repeated ``runs`` times."""
        if (k, runs) not in self._repeated:
            weight, bias = self.norms[k]
            self._repeated[k, runs] = (weight.repeat(runs), bias.repeat(runs))
        return self._repeated[k, runs]


@torch.no_grad()
def init_weights(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default Linear initialisation, drawn from ``generator``."""
    for m in module.modules():
        if isinstance(m, CondLinear):
            fan_in = m.in_features + m.cond_features
            bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
            for p in (m.weight, m.cond_weight, m.bias):
                p.uniform_(-bound, bound, generator=generator)
        elif isinstance(m, nn.Linear):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            bound = 1.0 / math.sqrt(weight.shape[1]) if weight.shape[1] else 0.0
            weight.uniform_(-bound, bound, generator=generator)
            if m.bias is not None:
                m.bias.uniform_(-bound, bound, generator=generator)
            if hasattr(m, "parametrizations"):
                sn = m.parametrizations.weight[0]
                for buf in (sn._u, sn._v):
                    buf.normal_(generator=generator)
                    buf.div_(buf.norm().clamp_min(1e-12))
        elif isinstance(m, nn.BatchNorm1d):
            m.weight.fill_(1.0)
            m.bias.zero_()
