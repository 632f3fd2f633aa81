"""The critic (discriminator): its one definition, and the ways training differentiates it.

**The definition.** The critic is a stack of linear layers with leaky ReLU (slope
:data:`SLOPE`) and dropout; PacGAN scores ``pac`` rows together as one sample. This
module holds, once:

* the forward and backward chain (:func:`critic_forward`, :func:`critic_backward`),
  given per-layer weights and explicit dropout masks;
* the dropout masks (:func:`dropout_masks`: the one mask maker);
* the loss (:func:`critic_loss` from the per-row terms :func:`real_loss` and
  :func:`fake_loss`, and their derivatives), the gradient penalty included;
* the weights, spectral normalisation included (:meth:`Discriminator.weights`).

:class:`Discriminator` is the ``nn.Module`` that holds the parameters; its
``forward`` is :func:`critic_forward` on its weights.

**Ways to differentiate it.** The critic's update needs the loss's gradient with
respect to the weights, and the generator's update the gradient of its adversarial
loss with respect to the critic's input. Two interchangeable ways compute both
(:func:`critic_gradients` picks one):

* :class:`CriticPass`, by hand. The leaky ReLU's derivative is piecewise constant,
  so given the masks the derivative of the score with respect to the input is
  ``v = d_0 W_0`` with ``d_0`` from the usual backward chain, and the penalty's
  weight gradient is again one outer product per layer. The three row sets (real,
  generated, interpolated) share one product per layer, the loss's and the
  penalty's weight gradients are one product per layer, and each weight is cast to
  the products' dtype once: four products with the largest layer per update where
  autograd's double backward runs eight smaller ones, and no graph. Critics without
  spectral normalisation.
* :class:`AutogradPass`, by autograd's double backward through the same forward.
  Any critic (spectral normalisation included).

The private per-row gradients (:mod:`tabgan.privacy.dp_training`) are the third way:
the same forward, backward and loss terms, per real/generated pair. Tests check the
three against each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .errors import InvalidParameterError
from .networks import compute_in

__all__ = [
    "SLOPE", "AutogradPass", "CriticPass", "Discriminator", "critic_backward",
    "critic_forward", "critic_gradients", "critic_loss", "dropout_masks", "fake_loss",
    "fake_loss_derivative", "penalty", "real_loss", "real_loss_derivative",
]

SLOPE = 0.2  # the critic's leaky ReLU slope


# ------------------------------------------------------------------------ loss
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


def critic_loss(
    real_score: torch.Tensor, fake_score: torch.Tensor, loss: str, smooth: float
) -> torch.Tensor:
    """The critic's loss without the penalty: ``mean f(real) + mean f0(fake)``."""
    return real_loss(real_score, loss, smooth).mean() + fake_loss(fake_score, loss).mean()


def penalty(input_grad: torch.Tensor, gp_weight: float) -> torch.Tensor:
    """The gradient penalty ``gp_weight * mean((|v| - 1)^2)`` of the score's gradients
    ``v`` (one row per scored sample)."""
    return gp_weight * ((input_grad.norm(dim=1) - 1.0) ** 2).mean()


# --------------------------------------------------------------- forward, masks
def critic_forward(x: torch.Tensor, weights, masks):
    """The critic on rows ``x``, with per-layer ``weights`` ``[(W, b)]`` and scaled dropout
    ``masks`` (one per hidden layer, or None): each layer's input, each hidden layer's
    gate (leaky-ReLU slope times its dropout mask: the layer's derivative) and the score.

    Differentiable: the gates carry no graph, so autograd's double backward builds no
    path through the leaky ReLU's (zero) second derivative."""
    inputs, gates = [], []
    h = x
    last = len(weights) - 1
    for i, (w, b) in enumerate(weights):
        inputs.append(h)
        z = torch.addmm(b, h, w.t())
        if i == last:
            return inputs, gates, z
        with torch.no_grad():
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


def dropout_masks(
    rows: int, widths: Sequence[int], p: float, generator: torch.Generator | None,
    device: torch.device, dtype: torch.dtype = torch.float32,
) -> list[torch.Tensor] | None:
    """Scaled dropout masks (entries 0 and ``1 / (1 - p)``), one ``(rows, width)`` mask
    per hidden layer, in ``dtype``; None when ``p`` is 0.

    For p = 1/2 each entry is one bit of a uniform 32-bit word (a 32nd of the draws of a
    uniform float per entry); other rates draw a uniform per entry."""
    if not p > 0:
        return None
    if p == 0.5:
        return [_half_mask(rows, w, generator, device).to(dtype) for w in widths]
    return [
        torch.where(
            torch.rand(rows, w, generator=generator, device=device) >= p, 1.0 / (1.0 - p), 0.0
        ).to(dtype)
        for w in widths
    ]


def _half_mask(rows: int, width: int, generator, device) -> torch.Tensor:
    """Dropout mask for p = 1/2, scaled (values 0 and 2), as int32."""
    words = torch.empty(rows, (width + 31) // 32, 1, dtype=torch.int64, device=device)
    words = words.random_(generator=generator).to(torch.int32)  # the low 32 bits
    bits = (words >> torch.arange(32, dtype=torch.int32, device=device)) & 1
    return bits.reshape(rows, words.shape[1] * 32)[:, :width] * 2  # also for rows == 0


# ---------------------------------------------------------------------- module
class Discriminator(nn.Module):
    """PacGAN critic: ``pac`` rows are scored together as one sample.

    Dropout masks are drawn from ``self.generator`` (set by the trainer) so that
    training is reproducible without global seeding. With ``spectral_norm`` each
    weight is ``W / (u^T W v)`` (``torch.nn.utils.parametrizations.spectral_norm``);
    :meth:`power_iteration` moves ``u`` and ``v`` on, once per update.
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
        #: dtype of the matrix products (``None``: float32); see :func:`compute_in`
        self.compute_dtype: torch.dtype | None = None

    @property
    def layers(self) -> list[nn.Linear]:
        return [*self.hidden, self.last]

    @property
    def spectral(self) -> bool:
        return any(hasattr(layer, "parametrizations") for layer in self.layers)

    def groups(self, x: torch.Tensor) -> torch.Tensor:
        """Rows ``x`` as the critic's samples: ``pac`` rows side by side."""
        return x.reshape(-1, x.shape[1] * self.pac)

    def weight_parameters(self) -> list[nn.Parameter]:
        """The trained parameters, per layer ``W`` (the unnormalised one under spectral
        normalisation) then ``b``: the order of every gradient list of this module."""
        out = []
        for layer in self.layers:
            weight = (layer.parametrizations.weight.original
                      if hasattr(layer, "parametrizations") else layer.weight)
            out += [weight, layer.bias]
        return out

    def weights(self, params: Sequence[torch.Tensor] | None = None) -> list[tuple]:
        """Per layer ``(W_effective, b, sigma, u, v)``; ``sigma, u, v`` are None without
        spectral normalisation, else ``W_effective = W / sigma`` with ``sigma = u^T W v``
        and ``u``, ``v`` held constant (as the parametrisation does between iterations).

        ``params``: replacement tensors in :meth:`weight_parameters` order (for
        ``torch.func``); by default the live, differentiable parameters."""
        params = self.weight_parameters() if params is None else params
        out = []
        for i, layer in enumerate(self.layers):
            w, b = params[2 * i], params[2 * i + 1]
            if not hasattr(layer, "parametrizations"):
                out.append((w, b, None, None, None))
                continue
            sn = layer.parametrizations.weight[0]
            u, v = sn._u.detach(), sn._v.detach()
            sigma = torch.vdot(u, torch.mv(w, v))
            out.append((w / sigma, b, sigma, u, v))
        return out

    @torch.no_grad()
    def power_iteration(self) -> None:
        """One power iteration per spectrally normalised layer (in training mode)."""
        if not self.training:
            return
        for layer in self.layers:
            if hasattr(layer, "parametrizations"):
                layer.weight  # noqa: B018 - the parametrisation moves u, v when read in training

    def masks(
        self, rows: int, generator: torch.Generator | None, dtype: torch.dtype = torch.float32
    ) -> list[torch.Tensor] | None:
        """This critic's dropout masks for ``rows`` samples (None outside training)."""
        if not self.training:
            return None
        return dropout_masks(rows, [layer.out_features for layer in self.hidden], self.dropout,
                             generator, self.last.weight.device, dtype)

    def forward(self, x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Scores of the samples of rows ``x``, float32. In training the dropout masks
        are drawn from ``self.generator`` unless ``masks`` are given."""
        with compute_in(self.compute_dtype, x.device):
            h = self.groups(x)
            if masks is None:
                masks = self.masks(h.shape[0], self.generator, self.compute_dtype or torch.float32)
            weights = [w[:2] for w in self.weights()]
            return critic_forward(h, weights, masks)[2].float()


# ------------------------------------------------------ ways to differentiate
class _Pass:
    """What both ways share: the critic, its parameters, its masks."""

    def __init__(self, discriminator: Discriminator) -> None:
        self.D = discriminator
        self.parameters = discriminator.weight_parameters()
        #: in a data-parallel fit, this process's part of every batch of samples (a
        #: :class:`tabgan.parallel.Shard`): the masks are drawn for the whole batch, and
        #: this part's rows kept, so that every process draws the same stream
        self.shard = None

    def _dtype(self) -> torch.dtype:
        return self.D.compute_dtype or torch.float32

    def _masks(
        self, rows: int, dtype: torch.dtype, generator, parts: int = 1
    ) -> list[torch.Tensor] | None:
        """Masks for ``rows`` samples: ``parts`` blocks (real, generated, interpolated)."""
        if self.shard is None:
            return self.D.masks(rows, generator, dtype)
        masks = self.D.masks(parts * self.shard.total, generator, dtype)
        return None if masks is None else [self.shard.take(m, parts) for m in masks]


class CriticPass(_Pass):
    """The critic's gradients by hand (critics without spectral normalisation).

    Products and each layer's element-wise work (leaky ReLU, dropout) run in the
    critic's ``compute_dtype`` (float32 when None); scores, losses, the penalty's
    norm and the returned gradients are float32.
    """

    def __init__(self, discriminator: Discriminator) -> None:
        if not self.supports(discriminator):
            raise InvalidParameterError(
                "CriticPass needs a critic without spectral normalisation; differentiate a "
                "spectrally normalised critic with AutogradPass (critic_gradients does so)."
            )
        super().__init__(discriminator)

    @staticmethod
    def supports(discriminator: Discriminator) -> bool:
        return not discriminator.spectral

    def _weights(self, dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(w.detach().to(dtype), b.detach().to(dtype)) for w, b, *_ in self.D.weights()]

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
        and may be None, when ``gp_weight`` is 0). The masks of the real, generated and
        interpolated samples are drawn at once, in that order.
        The loss is ``mean f(real) + mean f0(fake) + gp_weight * mean((|v| - 1)^2)``
        with ``v`` the score's gradient at ``alpha * real + (1 - alpha) * fake``.
        """
        with torch.autocast(real.device.type, enabled=False), torch.no_grad():
            dtype = self._dtype()
            r, f = self.D.groups(real), self.D.groups(fake)
            n = r.shape[0]
            parts = [r, f]
            if gp_weight > 0:
                parts.append(alpha * r + (1.0 - alpha) * f)
            x = torch.cat(parts).to(dtype)
            weights = self._weights(dtype)
            masks = self._masks(x.shape[0], dtype, generator, len(parts))
            inputs, gates, score = critic_forward(x, weights, masks)
            s = score.float()
            s_real, s_fake = s[:n], s[n : 2 * n]
            value = critic_loss(s_real, s_fake, loss, smooth)
            top = [real_loss_derivative(s_real, loss, smooth) / n, fake_loss_derivative(s_fake, loss) / n]
            if gp_weight > 0:
                top.append(torch.ones_like(s_real))  # the penalty's chain: d score / d input
            signals = critic_backward(torch.cat(top).to(dtype), weights, gates)
            grads: list[torch.Tensor] = []
            if gp_weight > 0:
                v = (signals[0][2 * n :] @ weights[0][0]).float()
                norm = v.norm(dim=1, keepdim=True)
                value = value + penalty(v, gp_weight)
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

        The loss is the critic's real-row term, unsmoothed: ``-mean(score)`` (WGAN) or
        the BCE of the score against 1.
        """
        with torch.autocast(x.device.type, enabled=False), torch.no_grad():
            dtype = self._dtype()
            g = self.D.groups(x)
            n = g.shape[0]
            weights = self._weights(dtype)
            _, gates, score = critic_forward(g.to(dtype), weights, self._masks(n, dtype, generator))
            s = score.float()
            value, top = real_loss(s, loss, 1.0).mean(), real_loss_derivative(s, loss, 1.0) / n
            signals = critic_backward(top.to(dtype), weights, gates)
            grad = (signals[0] @ weights[0][0]).float().reshape(x.shape)
        return value, grad


class AutogradPass(_Pass):
    """The critic's gradients by autograd (double backward for the penalty), through
    :func:`critic_forward` on :meth:`Discriminator.weights`: any critic. Same
    arguments, masks and results as :class:`CriticPass`."""

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
        """See :meth:`CriticPass.update_gradients`."""
        dtype = self._dtype()
        r, f = self.D.groups(real.detach()), self.D.groups(fake.detach())
        n = r.shape[0]
        parts = [r, f]
        if gp_weight > 0:
            mixed = (alpha * r + (1.0 - alpha) * f).requires_grad_(True)
            parts.append(mixed)
        x = torch.cat(parts)
        masks = self._masks(x.shape[0], dtype, generator, len(parts))
        with compute_in(self.D.compute_dtype, x.device):
            weights = [w[:2] for w in self.D.weights()]
            s = critic_forward(x, weights, masks)[2].float()
        value = critic_loss(s[:n], s[n : 2 * n], loss, smooth)
        if gp_weight > 0:
            (v,) = torch.autograd.grad(s[2 * n :].sum(), mixed, create_graph=True)
            value = value + penalty(v.float(), gp_weight)
        grads = torch.autograd.grad(value, self.parameters)
        return list(grads), value.detach()

    def input_gradient(
        self, x: torch.Tensor, generator: torch.Generator | None, *, loss: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`CriticPass.input_gradient`."""
        g = self.D.groups(x.detach()).requires_grad_(True)
        masks = self._masks(g.shape[0], self._dtype(), generator)
        with compute_in(self.D.compute_dtype, x.device):
            weights = [(w.detach(), b.detach()) for w, b, *_ in self.D.weights()]
            s = critic_forward(g, weights, masks)[2].float()
        value = real_loss(s, loss, 1.0).mean()
        (grad,) = torch.autograd.grad(value, g)
        return value.detach(), grad.float().reshape(x.shape)


def critic_gradients(discriminator: Discriminator) -> CriticPass | AutogradPass:
    """The way to differentiate this critic in training: by hand where it can be."""
    if CriticPass.supports(discriminator):
        return CriticPass(discriminator)
    return AutogradPass(discriminator)
