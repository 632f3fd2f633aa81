"""CUDA checks: skipped where there is no GPU (CI never has one)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from tabgan import Synthesizer, load

from .conftest import TINY, make_mixed

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]
CUDA = {**TINY, "device": "cuda"}


def test_fit_and_sample_on_cuda_are_reproducible():
    df = make_mixed()
    a = Synthesizer(**CUDA, random_state=0).fit(df)
    b = Synthesizer(**CUDA, random_state=0).fit(df)
    assert a.device_.type == "cuda"
    pd.testing.assert_frame_equal(a.sample(300, random_state=1), b.sample(300, random_state=1))
    out = a.sample(100, conditions={"color": "blue"}, random_state=0)
    assert (out["color"] == "blue").all()


def test_training_step_never_syncs_with_the_host(monkeypatch):
    from tabgan import training

    real_step = training.Trainer.train_step
    calls = []

    def strict(self):  # one generated batch, a critic update and a generator update
        torch.cuda.set_sync_debug_mode("error")
        try:
            return real_step(self)
        finally:
            torch.cuda.set_sync_debug_mode("default")
            calls.append(1)

    monkeypatch.setattr(training.Trainer, "train_step", strict)
    Synthesizer(**CUDA, random_state=0).fit(make_mixed())
    assert calls  # the strict steps really ran


def test_cuda_model_loads_on_cpu(tmp_path):
    synth = Synthesizer(**CUDA, random_state=0).fit(make_mixed())
    synth.save(str(tmp_path / "m.tabgan"))
    cpu = load(str(tmp_path / "m.tabgan"), device="cpu")
    assert cpu.device_.type == "cpu"
    out = cpu.sample(50, random_state=0)
    assert list(out.columns) == list(make_mixed().columns)
    again = load(str(tmp_path / "m.tabgan"), device="cuda")
    pd.testing.assert_frame_equal(again.sample(50, random_state=2), synth.sample(50, random_state=2))


def test_hand_written_critic_matches_autograd_on_cuda(monkeypatch):
    from tabgan.critic import CriticPass

    from .test_critic import PAC, batch, critic, fixed_masks, reference_score

    d = critic().to("cuda")
    real, fake, alpha = (t.to("cuda") for t in batch())
    n = real.shape[0] // PAC
    masks = [m.to("cuda") for m in fixed_masks(3 * n)]
    cp = CriticPass(d)
    monkeypatch.setattr(cp, "_masks", lambda rows, dtype, generator, parts=1: [m[:rows] for m in masks])
    grads, value = cp.update_gradients(real, fake, alpha, None, loss="wgan-gp", smooth=1.0,
                                       gp_weight=10.0)
    parts = [[m[k * n:(k + 1) * n] for m in masks] for k in range(3)]
    a = alpha.repeat_interleave(PAC, 0)
    mixed = (a * real + (1 - a) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(reference_score(d, mixed, parts[2]).sum(), mixed, create_graph=True)
    expected = (reference_score(d, fake, parts[1]).mean() - reference_score(d, real, parts[0]).mean()
                + 10.0 * ((g.reshape(n, -1).norm(dim=1) - 1) ** 2).mean())
    for got, ref in zip(grads, torch.autograd.grad(expected, cp.parameters)):
        torch.testing.assert_close(got, ref, rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(value, expected.detach(), rtol=1e-4, atol=1e-5)


def test_dropout_bits_are_fair_on_cuda():
    from tabgan.critic import _half_mask

    m = _half_mask(4000, 64, torch.Generator(device="cuda").manual_seed(0), torch.device("cuda"))
    frac = (m > 0).float().mean(0)
    assert ((frac - 0.5).abs() < 0.04).all(), frac


def test_bfloat16_fit_on_cuda():
    df = make_mixed()
    synth = Synthesizer(**CUDA, precision="bfloat16", random_state=0).fit(df)
    assert synth.precision_ == "bfloat16"
    out = synth.sample(200, random_state=0)
    assert list(out.columns) == list(df.columns) and out["x"].notna().all()
