"""The generator and the critic (discriminator) of the conditional GAN.

Both are small ``nn.Module`` s with a straight ``forward``. Randomness
(dropout, weight initialisation) comes from an explicit ``torch.Generator``
so that training is reproducible without touching global RNG state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["Generator", "Discriminator", "init_weights", "materialize"]


def materialize(factory, device: torch.device) -> nn.Module:
    """Build a module without touching the global RNG, on ``device``, uninitialised.

    Modules are constructed on the meta device (PyTorch's default init would
    draw from the global generator), then given real, empty storage; call
    :func:`init_weights` or ``load_state_dict`` next.
    """
    with torch.device("meta"):
        module = factory()
    return module.to_empty(device=device)


class Residual(nn.Module):
    """Linear → BatchNorm → ReLU, concatenated with its input (CTGAN's block).

    BatchNorm always normalises with the batch's own statistics (no running
    averages), in training and in sampling alike, so sampling has no hidden
    state that drifts from training.
    """

    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o, track_running_stats=False)

    def forward(self, x: torch.Tensor, group: int | None = None) -> torch.Tensor:
        h = self.fc(x)
        if group is None or group >= h.shape[0]:
            h = self.bn(h)
        else:  # several batches at once, each normalised with its own statistics
            g = h.reshape(-1, group, h.shape[1])
            var, mean = torch.var_mean(g, dim=1, keepdim=True, correction=0)
            g = (g - mean) * torch.rsqrt(var + self.bn.eps)
            h = g.reshape(h.shape) * self.bn.weight + self.bn.bias
        return torch.cat([F.relu(h), x], dim=1)


class Generator(nn.Module):
    """Maps noise ⊕ conditional vector to raw (pre-activation) encoded rows."""

    def __init__(self, input_dim: int, hidden: Sequence[int], output_dim: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        dim = input_dim
        for h in hidden:
            blocks.append(Residual(dim, h))
            dim += h
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(dim, output_dim)

    def forward(self, x: torch.Tensor, group: int | None = None) -> torch.Tensor:
        """``group``: normalise each run of ``group`` rows on its own, as if generated
        in separate batches of that size (sampling many training-sized batches at once)."""
        for block in self.blocks:
            x = block(x, group)
        return self.out(x)


class Discriminator(nn.Module):
    """PacGAN critic: ``pac`` rows are scored together as one sample.

    Dropout masks are drawn from ``self.generator`` (set by the trainer) so
    that training is reproducible without global seeding.
    """

    def __init__(
        self,
        input_dim: int,
        hidden: Sequence[int],
        *,
        pac: int,
        dropout: float = 0.5,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.pac = pac
        self.dropout = dropout
        self.generator: torch.Generator | None = None
        dims = [input_dim * pac, *hidden]
        layers = [nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])]
        last = nn.Linear(dims[-1], 1)
        if spectral_norm:
            layers = [nn.utils.parametrizations.spectral_norm(m) for m in layers]
            last = nn.utils.parametrizations.spectral_norm(last)
        self.hidden = nn.ModuleList(layers)
        self.last = last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.reshape(-1, x.shape[1] * self.pac)
        for layer in self.hidden:
            h = F.leaky_relu(layer(h), 0.2)
            if self.training and self.dropout > 0:
                keep = torch.rand(h.shape, generator=self.generator, device=h.device)
                h = h * (keep >= self.dropout) / (1.0 - self.dropout)
        return self.last(h)


@torch.no_grad()
def init_weights(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default Linear initialisation, drawn from ``generator``."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
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
