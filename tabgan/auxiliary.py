"""Target conditioning: an auxiliary model that holds generated rows to the real
relation between a target column and the others.

With ``Synthesizer(target="income")``, a small network learns on real rows to predict
the target from the encoding of every other column. While the generator trains, the
same network reads each generated row's other columns, and the generator is penalised
by how far the target it wrote is from the prediction: for a discrete target, the
cross-entropy of the generated (soft, Gumbel-softmax) category under the predicted
distribution; for a numeric target, the squared error of the generated value (the
expected decoded value of its soft mode choice and scalar, in units of the column's
spread) against the predicted one. The penalty reaches both the features and the
target, as in CTAB-GAN+'s auxiliary classifier (Zhao et al., 2022). It asks the rows
for what a model trained on them is used for: the target given the rest.
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
    """Where the target is in the encoded row and how to read it.

    ``spans``: the target's spans in ``layout``. A discrete target has one
    ``category`` span; a numeric one a ``value`` and a ``mode`` span (and maybe a
    ``missing`` span, not read), with each mode's ``means`` and ``scales``.
    """

    def __init__(
        self,
        layout: Layout,
        column: str,
        *,
        means: Sequence[float] | None = None,
        scales: Sequence[float] | None = None,
    ) -> None:
        self.column = column
        spans = {s.role: s for s in layout.spans if s.column == column}
        own = {i for s in spans.values() for i in range(s.start, s.end)}
        self.features = [i for i in range(layout.width) if i not in own]
        self.category: Span | None = spans.get("category")
        self.value, self.mode = spans.get("value"), spans.get("mode")
        self.discrete = self.category is not None
        if not self.discrete and (self.value is None or self.mode is None or means is None):
            raise ValueError(f"column {column!r} has no category span nor value and mode spans")
        if not self.discrete:
            m = torch.tensor(means, dtype=torch.float64)
            s = torch.tensor(scales, dtype=torch.float64)
            # standardise: the decoded value's spread over the modes' centres and reach
            centre, spread = m.mean(), torch.sqrt(((m - m.mean()) ** 2).mean() + (s**2).mean())
            self.means = ((m - centre) / spread).float()
            self.scales = (s / spread).float()
        self.n_outputs = self.category.width if self.discrete else 1


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
        if not spec.discrete:
            self.means = spec.means.to(device)
            self.scales = spec.scales.to(device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr, betas=(0.5, 0.9))

    def _target(self, rows: torch.Tensor) -> torch.Tensor:
        """The target of encoded rows: category probabilities (discrete), or the expected
        standardised value of the soft mode choice and scalar (numeric)."""
        s = self.spec
        if s.discrete:
            return rows[:, s.category.start : s.category.end]
        p = rows[:, s.mode.start : s.mode.end]
        v = rows[:, s.value.start]
        return (p * (self.means[None, :] + self.scales[None, :] * v[:, None])).sum(1)

    def _loss(self, rows: torch.Tensor) -> torch.Tensor:
        pred = self.net(rows.index_select(1, self.features))
        target = self._target(rows)
        if self.spec.discrete:
            return -(target * F.log_softmax(pred, dim=1)).sum(1).mean()
        return F.mse_loss(pred[:, 0], target)

    def update(self, real: torch.Tensor) -> torch.Tensor:
        """One step of the predictor on real encoded rows; returns its loss (detached)."""
        with torch.autocast(real.device.type, enabled=False):
            loss = self._loss(real)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.detach()

    def penalty(self, fake: torch.Tensor) -> torch.Tensor:
        """The generator's loss: generated targets against predictions from the generated
        features (differentiable in ``fake``; the predictor's weights get no update)."""
        params = list(self.net.parameters())
        for w in params:  # gradients for the rows only, not for the predictor's weights
            w.requires_grad_(False)
        try:
            with torch.autocast(fake.device.type, enabled=False):
                return self._loss(fake.float())
        finally:
            for w in params:
                w.requires_grad_(True)
