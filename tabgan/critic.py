"""The critic's update written out by hand: loss, gradient penalty and their weight gradients.

The critic is a stack of linear layers with leaky ReLU and dropout. Given its
dropout masks, the derivative of its score with respect to its input is
``v = d_0 W_0`` where ``d_0`` comes from the usual backward chain, and the
leaky ReLU's derivative is piecewise constant. So the gradient of the penalty
``mean((|v| - 1)^2)`` with respect to each weight is again one outer product
per layer (the same algebra as the private critic's per-row gradients in
:mod:`tabgan.privacy.dp_training`, here summed over the batch; both use this
module's forward, backward and loss functions).

Autograd reaches the same numbers through a double backward: three forward
calls (real, generated, interpolated rows), a create-graph backward, then
a backward through both graphs, a product per call and layer, and each weight
cast to the products' dtype once per region. Written out, the three row sets
share one product per layer, the loss's and the penalty's weight gradients
are one product per layer, and each weight is cast once: four products with
the largest layer per update instead of eight smaller ones, and no graph.

Used for critics without spectral normalisation (whose weights are a
parametrisation); the trainer falls back to autograd otherwise.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .errors import InvalidParameterError
from .networks import Discriminator

__all__ = [
    "CriticPass", "critic_forward", "critic_backward",
    "real_loss", "fake_loss", "real_loss_derivative", "fake_loss_derivative",
]

SLOPE = 0.2  # the critic's leaky ReLU slope (Discriminator.forward)


def real_loss(score: torch.Tensor, loss: str, smooth: float) -> torch.Tensor:
    """Per row, the critic's loss term ``f`` on a real row's score (with ``smooth`` = 1,
    also the generator's loss on a generated row)."""
    if loss == "wgan-gp":
        return -score
    return smooth * F.softplus(-score) + (1.0 - smooth) * F.softplus(score)


def fake_loss(score: torch.Tensor, loss: str) -> torch.Tensor:
    """Per row, the critic's loss term ``f0`` on a generated row's score."""
    return score if loss == "wgan-gp" else F.softplus(score)


def real_loss_derivative(score: torch.Tensor, loss: str, smooth: float) -> torch.Tensor:
    """d f / d score for :func:`real_loss`."""
    if loss == "wgan-gp":
        return torch.full_like(score, -1.0)
    # BCE with logits against target `smooth`: smooth * softplus(-s) + (1 - smooth) * softplus(s)
    return -smooth * torch.sigmoid(-score) + (1.0 - smooth) * torch.sigmoid(score)


def fake_loss_derivative(score: torch.Tensor, loss: str) -> torch.Tensor:
    """d f0 / d score for :func:`fake_loss`."""
    if loss == "wgan-gp":
        return torch.ones_like(score)
    return torch.sigmoid(score)  # BCE with logits against 0: softplus(s)


def critic_forward(x: torch.Tensor, weights, masks):
    """The critic on rows ``x``, with per-layer ``weights`` ``[(W, b)]`` and scaled dropout
    ``masks`` (one per hidden layer, or None): each layer's input, each hidden layer's
    gate (leaky-ReLU slope times its dropout mask: the layer's derivative) and the score."""
    inputs, gates = [], []
    h = x
    last = len(weights) - 1
    for i, (w, b) in enumerate(weights):
        inputs.append(h)
        z = torch.addmm(b, h, w.t())
        if i == last:
            return inputs, gates, z
        if masks is None:
            gate = torch.where(z > 0, 1.0, SLOPE).to(z.dtype)
        else:
            gate = torch.where(z > 0, masks[i], masks[i] * SLOPE)
        h = z * gate  # leaky ReLU, then dropout
        gates.append(gate)
    raise AssertionError("a critic has at least one layer")


def critic_backward(top: torch.Tensor, weights, gates) -> list[torch.Tensor]:
    """Per layer, d(output)/d(pre-activation) of every row, from d(output)/d(score)
    = ``top`` (``gates`` from :func:`critic_forward`)."""
    signals = [top]
    for i in range(len(weights) - 2, -1, -1):
        signals.insert(0, (signals[0] @ weights[i + 1][0]) * gates[i])
    return signals


class CriticPass:
    """Forward and backward of a :class:`~tabgan.networks.Discriminator` by hand.

    Products and each layer's element-wise work (leaky ReLU, dropout) run in the
    critic's ``compute_dtype`` (float32 when None); scores, losses, the penalty's
    norm and the returned gradients are float32.
    """

    def __init__(self, discriminator: Discriminator) -> None:
        if not self.supports(discriminator):
            raise InvalidParameterError(
                "CriticPass needs a critic without spectral normalisation; train a "
                "spectrally normalised critic with autograd (Trainer does so by itself)."
            )
        self.D = discriminator
        self.layers = [*discriminator.hidden, discriminator.last]
        self.parameters = [p for layer in self.layers for p in (layer.weight, layer.bias)]

    @staticmethod
    def supports(discriminator: Discriminator) -> bool:
        layers = [*discriminator.hidden, discriminator.last]
        return not any(hasattr(layer, "parametrizations") for layer in layers)

    # ------------------------------------------------------------------ pieces
    def _dtype(self) -> torch.dtype:
        return self.D.compute_dtype or torch.float32

    def _weights(self, dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(layer.weight.detach().to(dtype), layer.bias.detach().to(dtype)) for layer in self.layers]

    def _masks(self, rows: int, dtype: torch.dtype, generator) -> list[torch.Tensor] | None:
        """Scaled dropout masks, one per hidden layer (None outside training)."""
        p = self.D.dropout
        if not (self.D.training and p > 0):
            return None
        device = self.layers[0].weight.device
        if p == 0.5:  # one random bit per entry, 32 per drawn word
            return [_half_mask(rows, layer.out_features, generator, device).to(dtype)
                    for layer in self.D.hidden]
        return [
            torch.where(
                torch.rand(rows, layer.out_features, generator=generator, device=device) >= p,
                1.0 / (1.0 - p), 0.0,
            ).to(dtype)
            for layer in self.D.hidden
        ]

    def _groups(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, x.shape[1] * self.D.pac)

    # ----------------------------------------------------------------- updates
    def update_gradients(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        alpha: torch.Tensor | None,
        generator: torch.Generator | None,
        *,
        loss: str,
        smooth: float,
        gp_weight: float,
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Gradients of the critic's loss (in :attr:`parameters` order) and the loss.

        ``real``, ``fake``: critic inputs (rows, width), rows a multiple of pac;
        ``alpha``: (rows / pac, 1) interpolation weights of the gradient penalty (unused,
        and may be None, when ``gp_weight`` is 0).
        The loss is ``mean f(real) + mean f0(fake) + gp_weight * mean((|v| - 1)^2)``
        with ``v`` the score's gradient at ``alpha * real + (1 - alpha) * fake``.
        """
        with torch.autocast(real.device.type, enabled=False), torch.no_grad():
            dtype = self._dtype()
            r, f = self._groups(real), self._groups(fake)
            n = r.shape[0]
            parts = [r, f]
            if gp_weight > 0:
                parts.append(alpha * r + (1.0 - alpha) * f)
            x = torch.cat(parts).to(dtype)
            weights = self._weights(dtype)
            inputs, gates, score = critic_forward(x, weights, self._masks(x.shape[0], dtype, generator))
            s = score.float()
            s_real, s_fake = s[:n], s[n : 2 * n]
            value = real_loss(s_real, loss, smooth).mean() + fake_loss(s_fake, loss).mean()
            top = [real_loss_derivative(s_real, loss, smooth) / n, fake_loss_derivative(s_fake, loss) / n]
            if gp_weight > 0:
                top.append(torch.ones_like(s_real))  # the penalty's chain: d score / d input
            signals = critic_backward(torch.cat(top).to(dtype), weights, gates)
            grads: list[torch.Tensor] = []
            if gp_weight > 0:
                v = (signals[0][2 * n :] @ weights[0][0]).float()
                norm = v.norm(dim=1, keepdim=True)
                value = value + gp_weight * ((norm - 1.0) ** 2).mean()
                # d penalty / d v, then carried forward through each layer (its masks fixed)
                q = (gp_weight * 2.0 / n) * (norm - 1.0) / norm.clamp_min(1e-12) * v
                q = q.to(dtype)
                for i, (w, _) in enumerate(weights):
                    grads.append((signals[i].t() @ torch.cat([inputs[i][: 2 * n], q])).float())
                    grads.append(signals[i][: 2 * n].float().sum(0))
                    if i < len(gates):
                        q = (q @ w.t()) * gates[i][2 * n :]
            else:
                for i in range(len(weights)):
                    grads.append((signals[i].t() @ inputs[i]).float())
                    grads.append(signals[i].float().sum(0))
        return grads, value

    def input_gradient(
        self, x: torch.Tensor, generator: torch.Generator | None, *, loss: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The generator's adversarial loss on critic input ``x`` and its gradient
        with respect to ``x`` (float32, shaped like ``x``).

        The loss is ``-mean(score)`` (WGAN) or the BCE of the score against 1.
        """
        with torch.autocast(x.device.type, enabled=False), torch.no_grad():
            dtype = self._dtype()
            g = self._groups(x)
            n = g.shape[0]
            weights = self._weights(dtype)
            _, gates, score = critic_forward(g.to(dtype), weights, self._masks(n, dtype, generator))
            s = score.float()  # the generator's loss: the critic's real-row term, unsmoothed
            value, top = real_loss(s, loss, 1.0).mean(), real_loss_derivative(s, loss, 1.0) / n
            signals = critic_backward(top.to(dtype), weights, gates)
            grad = (signals[0] @ weights[0][0]).float().reshape(x.shape)
        return value, grad


def _half_mask(rows: int, width: int, generator, device) -> torch.Tensor:
    """Dropout mask for p = 1/2, scaled (values 0 and 2), as int32. Each entry is one bit
    of a uniform 32-bit word: a 32nd of the draws of a uniform float per entry."""
    words = torch.empty(rows, (width + 31) // 32, 1, dtype=torch.int64, device=device)
    words = words.random_(generator=generator).to(torch.int32)  # the low 32 bits
    bits = (words >> torch.arange(32, dtype=torch.int32, device=device)) & 1
    return bits.reshape(rows, -1)[:, :width] * 2
