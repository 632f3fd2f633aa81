"""The hand-written critic update (tabgan.critic) against autograd's double backward."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn import functional as F

from tabgan import Synthesizer
from tabgan.critic import AutogradPass, CriticPass, Discriminator, dropout_masks
from tabgan.networks import init_weights, materialize

from .conftest import TINY, make_mixed

CPU = torch.device("cpu")
PAC, WIDTH = 3, 7


def critic(seed: int = 0, dropout: float = 0.5, spectral_norm: bool = False) -> Discriminator:
    d = materialize(
        lambda: Discriminator(WIDTH, (16, 12), pac=PAC, dropout=dropout, spectral_norm=spectral_norm),
        CPU,
    )
    init_weights(d, torch.Generator().manual_seed(seed))
    return d


def fixed_masks(rows: int, seed: int = 5) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(rows, w, generator=g) >= 0.5) * 2.0 for w in (16, 12)]


def reference_score(d: Discriminator, x: torch.Tensor, masks) -> torch.Tensor:
    """The critic by plain autograd modules, with the given dropout masks."""
    h = x.reshape(-1, WIDTH * PAC)
    for layer, mask in zip(d.hidden, masks):
        h = F.leaky_relu(layer(h), 0.2) * mask
    return d.last(h)


def batch(seed: int = 1, rows: int = 30):
    g = torch.Generator().manual_seed(seed)
    real, fake = torch.randn(rows, WIDTH, generator=g), torch.randn(rows, WIDTH, generator=g)
    alpha = torch.rand(rows // PAC, 1, generator=g)
    return real, fake, alpha


@pytest.mark.parametrize("loss,smooth,gp_weight", [
    ("wgan-gp", 1.0, 10.0), ("wgan-gp", 1.0, 0.0), ("gan", 0.8, 10.0), ("gan", 1.0, 0.0),
])
def test_update_gradients_equal_autograd_double_backward(monkeypatch, loss, smooth, gp_weight):
    d = critic()
    real, fake, alpha = batch()
    n = real.shape[0] // PAC
    masks = fixed_masks(3 * n)  # rows: real groups, generated groups, interpolated groups
    cp = CriticPass(d)
    monkeypatch.setattr(cp, "_masks", lambda rows, dtype, generator, parts=1: [m[:rows] for m in masks])
    grads, value = cp.update_gradients(
        real, fake, alpha, None, loss=loss, smooth=smooth, gp_weight=gp_weight
    )

    def part(k):
        return [m[k * n : (k + 1) * n] for m in masks]

    s_real, s_fake = reference_score(d, real, part(0)), reference_score(d, fake, part(1))
    if loss == "wgan-gp":
        expected = s_fake.mean() - s_real.mean()
    else:
        expected = F.binary_cross_entropy_with_logits(s_real, torch.full_like(s_real, smooth))
        expected = expected + F.binary_cross_entropy_with_logits(s_fake, torch.zeros_like(s_fake))
    if gp_weight > 0:
        a = alpha.repeat_interleave(PAC, 0)
        mixed = (a * real + (1 - a) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(reference_score(d, mixed, part(2)).sum(), mixed, create_graph=True)
        expected = expected + gp_weight * ((g.reshape(n, -1).norm(dim=1) - 1) ** 2).mean()
    want = torch.autograd.grad(expected, cp.parameters)
    torch.testing.assert_close(value, expected.detach())
    assert len(grads) == len(want)
    for got, ref in zip(grads, want):
        assert got.dtype == torch.float32 and got.shape == ref.shape
        torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("pac,hidden,dropout", [(1, (), 0.5), (1, (16,), 0.3), (2, (8, 6, 5), 0.3)])
def test_update_gradients_other_shapes_and_rates(pac, hidden, dropout):
    """Other pac sizes, depths and dropout rates, with the masks the pass draws itself."""
    d = materialize(lambda: Discriminator(WIDTH, hidden, pac=pac, dropout=dropout), CPU)
    init_weights(d, torch.Generator().manual_seed(4))
    real, fake, _ = batch(seed=9, rows=12)
    n = real.shape[0] // pac
    alpha = torch.rand(n, 1, generator=torch.Generator().manual_seed(2))
    cp = CriticPass(d)
    drawn = []
    original = cp._masks

    def recorded(rows, dtype, generator, parts=1):
        out = original(rows, dtype, generator, parts)
        drawn.append(out)
        return out

    cp._masks = recorded
    grads, value = cp.update_gradients(real, fake, alpha, torch.Generator().manual_seed(0),
                                       loss="wgan-gp", smooth=1.0, gp_weight=10.0)
    masks = drawn[0]
    assert len(masks) == len(hidden)

    def score(x, k):
        h = x.reshape(-1, WIDTH * pac)
        for layer, m in zip(d.hidden, masks):
            h = F.leaky_relu(layer(h), 0.2) * m[k * n : (k + 1) * n]
        return d.last(h)

    a = alpha.repeat_interleave(pac, 0)
    mixed = (a * real + (1 - a) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(score(mixed, 2).sum(), mixed, create_graph=True)
    expected = score(fake, 1).mean() - score(real, 0).mean()
    expected = expected + 10.0 * ((g.reshape(n, -1).norm(dim=1) - 1) ** 2).mean()
    torch.testing.assert_close(value, expected.detach())
    for got, ref in zip(grads, torch.autograd.grad(expected, cp.parameters)):
        torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss", ["wgan-gp", "gan"])
def test_input_gradient_equals_autograd(monkeypatch, loss):
    d = critic(seed=3)
    x = batch(seed=4)[0].requires_grad_(True)
    masks = fixed_masks(x.shape[0] // PAC, seed=6)
    cp = CriticPass(d)
    monkeypatch.setattr(cp, "_masks", lambda rows, dtype, generator, parts=1: masks)
    value, grad = cp.input_gradient(x.detach(), None, loss=loss)
    s = reference_score(d, x, masks)
    expected = -s.mean() if loss == "wgan-gp" else F.binary_cross_entropy_with_logits(
        s, torch.ones_like(s))
    (want,) = torch.autograd.grad(expected, x)
    torch.testing.assert_close(value, expected.detach())
    torch.testing.assert_close(grad, want)


def test_eval_mode_and_no_dropout_draw_no_masks():
    d = critic(dropout=0.0)
    cp = CriticPass(d)
    assert cp._masks(10, torch.float32, None) is None
    d.dropout = 0.5
    d.eval()
    assert cp._masks(10, torch.float32, None) is None
    d.train()
    drawn = cp._masks(1000, torch.float32, torch.Generator().manual_seed(0))
    assert [m.shape for m in drawn] == [(1000, 16), (1000, 12)]
    kept = torch.cat([m.flatten() for m in drawn])
    assert set(kept.unique().tolist()) == {0.0, 2.0}
    assert 0.45 < (kept > 0).float().mean() < 0.55
    first = drawn[0] > 0  # entries are independent bits: every column fair, neighbours unrelated
    assert ((first.float().mean(0) - 0.5).abs() < 0.07).all()
    assert ((first[:, :-1] == first[:, 1:]).float().mean(0) - 0.5).abs().max() < 0.07
    d.dropout = 0.3  # other rates: a uniform per entry
    other = cp._masks(1000, torch.float32, torch.Generator().manual_seed(0))[1]
    assert 0.65 < (other > 0).float().mean() < 0.75
    assert other.unique().tolist() == [0.0, pytest.approx(1 / 0.7)]


def test_bfloat16_gradients_stay_close_to_float32():
    d = critic(seed=2)
    real, fake, alpha = batch(seed=7)
    cp = CriticPass(d)
    d.eval()  # no dropout: the two passes see the same network
    kw = dict(loss="wgan-gp", smooth=1.0, gp_weight=10.0)
    full, v32 = cp.update_gradients(real, fake, alpha, None, **kw)
    d.compute_dtype = torch.bfloat16
    half, v16 = cp.update_gradients(real, fake, alpha, None, **kw)
    torch.testing.assert_close(v16, v32, rtol=0.05, atol=0.05)
    for a, b in zip(half, full):
        assert a.dtype == torch.float32
        assert (a - b).norm() <= 0.05 * b.norm() + 1e-3


def test_spectral_norm_critic_is_left_to_autograd():
    assert not CriticPass.supports(critic(spectral_norm=True))
    with pytest.raises(ValueError, match="spectral"):
        CriticPass(critic(spectral_norm=True))


@pytest.mark.parametrize("extra", [
    dict(loss="wgan-gp"), dict(loss="gan"), dict(gp_weight=0.0), dict(discriminator_steps=2),
])
def test_training_by_hand_matches_autograd_training(monkeypatch, extra):
    """Both ways draw the same random numbers (dropout masks included), so whole fits agree."""
    from tabgan import training

    df = make_mixed()
    kw = dict(TINY, random_state=0, precision="float32", **extra)
    by_hand = Synthesizer(**kw).fit(df)
    original = training.Trainer.__init__

    def autograd_only(self, **k):
        original(self, **k)
        self.critic_pass = AutogradPass(self.D)

    monkeypatch.setattr(training.Trainer, "__init__", autograd_only)
    by_autograd = Synthesizer(**kw).fit(df)
    pd.testing.assert_frame_equal(by_hand.loss_history_, by_autograd.loss_history_,
                                  rtol=1e-3, atol=1e-4)
    for (name, p), q in zip(by_hand.generator_.state_dict().items(),
                            by_autograd.generator_.state_dict().values()):
        if name.startswith("blocks.") and name.endswith(".fc.bias"):
            # a bias that a batch norm follows has no effect, so its gradient is rounding
            # noise, which Adam scales up to full steps: it differs by ~1e-4 between any
            # two exact computations (every weight with an effect agrees to ~1e-8)
            continue
        torch.testing.assert_close(p, q, rtol=1e-3, atol=1e-4, msg=name)
    pd.testing.assert_frame_equal(by_hand.sample(50, random_state=1)[["color"]],
                                  by_autograd.sample(50, random_state=1)[["color"]])


def test_fit_uses_the_hand_written_critic(monkeypatch):
    calls = []
    original = CriticPass.update_gradients

    def counted(self, *a, **k):
        calls.append(1)
        return original(self, *a, **k)

    monkeypatch.setattr(CriticPass, "update_gradients", counted)
    out = Synthesizer(**TINY, random_state=0).fit(make_mixed()).sample(20, random_state=0)
    assert calls and np.isfinite(out["x"]).all()


@pytest.mark.parametrize("p", [0.5, 0.3])
def test_masks_for_no_rows(p):
    # a private step whose Poisson draw is empty asks for masks of 0 rows
    masks = dropout_masks(0, [64, 32], p, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert [tuple(m.shape) for m in masks] == [(0, 64), (0, 32)]
