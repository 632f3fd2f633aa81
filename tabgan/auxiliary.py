"""Target conditioning: an auxiliary model that holds generated rows to the real
relation between a target column and the others.

With ``Synthesizer(target="income")``, a small network learns on real rows to predict
the target from the encoding of every other column. While the generator trains, the
same network reads each generated row's other columns, and the generator's own
distribution for the target (the softmax of its logits, which sampling draws from) is
pulled towards the prediction: the penalty is the Kullback-Leibler divergence from the
predicted distribution to the generator's. It is zero when the generator gives every
row the target distribution that the real rows give such a row, so it asks for
calibrated targets, not for the most likely one (a cross-entropy of the generated,
Gumbel-softmax, target against the prediction would push every row to the most likely
class, which made Adult's synthetic rows easier to detect and their models worse). The
idea of an auxiliary classifier is CTAB-GAN+'s (Zhao et al., 2022); here only the
target's logits get its gradient, and the critic alone shapes the other columns.
Targets are discrete or boolean columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .layout import Layout, Span
from .networks import init_weights, materialize

__all__ = ["TargetModel", "TargetSpec"]


class TargetSpec:
    """Where a discrete target is in the encoded row: its ``category`` span; the
    ``features`` are every other encoded column."""

    def __init__(self, layout: Layout, column: str) -> None:
        self.column = column
        spans = {s.role: s for s in layout.spans if s.column == column}
        if "category" not in spans:
            raise ValueError(f"column {column!r} has no category span")
        self.category: Span = spans["category"]
        own = set(range(self.category.start, self.category.end))
        self.features = [i for i in range(layout.width) if i not in own]
        self.n_outputs = self.category.width


class TargetModel:
    """The auxiliary predictor of the target (an MLP initialised from ``rng``), its
    optimiser, and the two losses: its own on real rows (:meth:`update`) and the
    generator's (:meth:`penalty`)."""

    def __init__(
        self, spec: TargetSpec, hidden: Sequence[int], *, lr: float, device: torch.device,
        rng: torch.Generator,
    ) -> None:
        self.spec = spec

        def build() -> nn.Module:
            layers: list[nn.Module] = []
            dim = len(spec.features)
            for h in hidden:
                layers += [nn.Linear(dim, h), nn.LeakyReLU(0.2)]
                dim = h
            layers.append(nn.Linear(dim, spec.n_outputs))
            return nn.Sequential(*layers)

        self.net = materialize(build, device)
        init_weights(self.net, rng)
        self.features = torch.tensor(spec.features, dtype=torch.long, device=device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr, betas=(0.5, 0.9))

    def _loss(self, rows: torch.Tensor) -> torch.Tensor:
        c = self.spec.category
        pred = self.net(rows.index_select(1, self.features))
        return -(rows[:, c.start : c.end] * F.log_softmax(pred, dim=1)).sum(1).mean()

    def update(self, real: torch.Tensor) -> torch.Tensor:
        """One step of the predictor on real encoded rows; returns its loss (detached)."""
        with torch.autocast(real.device.type, enabled=False):
            loss = self._loss(real)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.detach()

    def penalty(
        self, fake: torch.Tensor, raw: torch.Tensor, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The generator's loss: ``KL(predicted || generated)``, the prediction read from
        the generated rows' other columns (``fake``, no gradient), the generated
        distribution from the target's logits in ``raw``; averaged over the batch, with
        the rows where the boolean mask ``rows`` is False counting zero (rows whose
        condition asks for a target category)."""
        c = self.spec.category
        with torch.no_grad(), torch.autocast(fake.device.type, enabled=False):
            p = F.softmax(self.net(fake.detach().float().index_select(1, self.features)), dim=1)
        with torch.autocast(raw.device.type, enabled=False):
            log_q = F.log_softmax(raw[:, c.start : c.end].float(), dim=1)
            kl = (p * (torch.log(p.clamp_min(1e-12)) - log_q)).sum(1)
            if rows is not None:
                kl = kl * rows.to(kl.dtype)  # no host sync: a mask, not an index
            return kl.mean()
