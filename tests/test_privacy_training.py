"""The private critic step (tabgan.privacy.dp_training): what gets clipped, noised and sampled."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tabgan.privacy.dp_training import (
    CLIP_MARGIN,
    MarginalMatching,
    PrivacyConfig,
    PrivateTrainer,
    clipped_gradient_sum,
    per_sample_gradients,
)
from tabgan.sampler import ConditionalSampler
from tabgan.training import TrainConfig
from tabgan.transformer import DataTransformer

from .conftest import make_mixed, tiny_networks

CPU = torch.device("cpu")


def make_trainer(*, gp_weight=10.0, noise=1.0, clip=1.0, q=0.2, seed=0, n=200, loss="wgan-gp",
                 spectral_norm=False, dropout=0.5):
    t = tiny_networks(n=n, seed=seed, critic=(16, 16), dropout=dropout,
                      spectral_norm=spectral_norm)
    cfg = TrainConfig(
        epochs=1, batch_size=int(q * n), embedding_dim=8, generator_lr=2e-4,
        discriminator_lr=1e-2, generator_decay=0.0, discriminator_decay=0.0, betas=(0.5, 0.9),
        discriminator_steps=1, loss=loss, gp_weight=gp_weight, label_smoothing=0.0, tau=0.2,
    )
    sampler = ConditionalSampler(t.layout, t.transformer.condition_counts(), device=CPU)
    return PrivateTrainer(
        privacy=PrivacyConfig(sample_rate=q, noise_multiplier=noise, max_grad_norm=clip, steps=10,
                              rows=n),
        config=cfg, layout=t.layout, generator_net=t.G, discriminator=t.D, sampler=sampler,
        data=t.data, rng=t.rng,
    )


def critic_state(trainer):
    return torch.cat([p.detach().flatten().clone() for p in trainer.D.parameters()])


@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("loss,gp", [("wgan-gp", 10.0), ("wgan-gp", 0.0), ("gan", 5.0)])
def test_clipped_per_row_gradients_match_torch_func_and_include_the_penalty(spectral_norm, loss, gp):
    """The fast (ghost) clipping equals clipping torch.func's per-row gradients, which take the
    penalty's inner gradient per row."""
    trainer = make_trainer(gp_weight=gp, loss=loss, spectral_norm=spectral_norm)
    critic = trainer.D
    critic.power_iteration()
    with torch.no_grad():
        batch = trainer.private_batch()
    n = len(batch[0])
    kw = dict(loss=loss, smooth=1.0, gp_weight=gp)
    per_row = per_sample_gradients(critic, *batch, **kw)
    ref_norms = torch.stack([g.reshape(n, -1).norm(dim=1) for g in per_row], 1).norm(dim=1)
    C = float(ref_norms.median())  # clips about half the rows
    sums, norms, _ = clipped_gradient_sum(critic, *batch, max_grad_norm=C, **kw)
    torch.testing.assert_close(norms, ref_norms, rtol=1e-4, atol=1e-6)
    factor = (C * CLIP_MARGIN / ref_norms).clamp(max=1.0)
    for got, g in zip(sums, per_row):
        torch.testing.assert_close(got.view_as(g[0]), torch.einsum("i,i...", factor, g),
                                   rtol=1e-4, atol=1e-5)
    # each row alone: its clipped contribution is within C, measured in float64
    real, fake, mixed, masks = batch
    for i in range(n):
        one = [None if m is None else [t[i : i + 1] for t in m] for m in masks]
        grads, _, _ = clipped_gradient_sum(critic, real[i : i + 1], fake[i : i + 1],
                                           mixed[i : i + 1], tuple(one), max_grad_norm=C, **kw)
        assert float(torch.cat([g.double().flatten() for g in grads]).norm()) <= C
    if gp > 0:  # the penalty is part of what gets clipped
        no_gp = per_sample_gradients(critic, *batch, loss=loss, smooth=1.0, gp_weight=0.0)
        assert not all(torch.allclose(a, b) for a, b in zip(per_row, no_gp))
        _, norms_no_gp, _ = clipped_gradient_sum(critic, *batch, loss=loss, smooth=1.0,
                                                 gp_weight=0.0, max_grad_norm=C)
        assert not torch.allclose(norms, norms_no_gp)


@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("loss,gp", [("wgan-gp", 10.0), ("gan", 5.0)])
def test_per_row_gradients_sum_to_the_batch_gradients_of_the_same_critic(spectral_norm, loss, gp):
    """The third way to differentiate the one critic: summed over the pairs, the private
    per-row gradients (unclipped) are the batch gradients that training differentiates by
    hand and by autograd, with the same dropout masks (pac = 1)."""
    from tabgan.critic import AutogradPass, CriticPass

    trainer = make_trainer(gp_weight=gp, loss=loss, spectral_norm=spectral_norm)
    trainer.D.power_iteration()
    with torch.no_grad():
        real, fake, mixed, masks = trainer.private_batch()
    n = len(real)
    kw = dict(loss=loss, smooth=1.0, gp_weight=gp)
    sums, _, _ = clipped_gradient_sum(trainer.D, real, fake, mixed, masks, max_grad_norm=1e9, **kw)
    # each pair's interpolate is mixed = alpha * real + (1 - alpha) * fake: read alpha back
    far = (real - fake).abs().argmax(1, keepdim=True)
    alpha = (mixed - fake).gather(1, far) / (real - fake).gather(1, far)
    joined = [torch.cat(parts) for parts in zip(*masks)]
    passes = [AutogradPass(trainer.D)] + ([] if spectral_norm else [CriticPass(trainer.D)])
    for way in passes:
        way._masks = lambda rows, dtype, generator, parts=1: joined
        grads, _ = way.update_gradients(real, fake, alpha, None, **kw)
        for got, ref in zip(sums, grads):
            torch.testing.assert_close(got.view_as(ref) / n, ref, rtol=1e-4, atol=1e-5)


def test_gradient_penalty_weight_changes_the_private_update():
    updates = []
    for gp in (0.0, 10.0):
        trainer = make_trainer(gp_weight=gp, noise=1.0, seed=3)
        before = critic_state(trainer)
        trainer.discriminator_step()
        updates.append(critic_state(trainer) - before)
    assert not torch.allclose(updates[0], updates[1])


def test_no_real_data_term_escapes_clipping():
    """With a clip bound C and no noise, the critic's gradient has norm at most C (each pair
    clipped to C, divided by the expected batch size, times the batch's size), whatever the
    penalty weight: every real-data term, penalty included, goes through the clipped path."""
    for gp in (0.0, 10.0, 1000.0):
        trainer = make_trainer(gp_weight=gp, noise=0.0, clip=1e-3, seed=5)
        trainer.opt_d.original_optimizer.step = lambda: None  # keep the gradients, skip Adam
        trainer.discriminator_step()
        grad = torch.cat([p.grad.flatten() for p in trainer.D.weight_parameters()])
        bound = 1e-3 * trainer.batch_sizes[-1] / (0.2 * 200)
        assert 0 < grad.norm() <= bound * (1 + 1e-4)


def test_noise_is_added_with_the_calibrated_scale():
    """A vanishing clip bound: what remains is Opacus's N(0, (sigma C / B)^2)."""
    trainer = make_trainer(noise=50.0, clip=1e-3, seed=7)
    trainer.opt_d.original_optimizer.step = lambda: None  # keep the gradients, skip Adam
    trainer.discriminator_step()
    noise = torch.cat([p.grad.flatten() for p in trainer.D.weight_parameters()])
    expected = 50.0 * 1e-3 / (0.2 * 200)  # sigma * C / expected batch size
    # the clipped signal has norm <= C (about C / 30 per coordinate): noise dominates
    assert noise.std().item() == pytest.approx(expected, rel=0.1)


def test_real_batches_are_poisson():
    q, n = 0.2, 200
    trainer = make_trainer(q=q, n=n, seed=11)
    sizes, hits = [], torch.zeros(n)
    for _ in range(2000):
        rows = trainer.poisson_rows()
        sizes.append(rows.numel())
        hits[rows] += 1
    sizes = np.array(sizes)
    assert len(set(sizes)) > 10  # the batch size varies ...
    assert sizes.mean() == pytest.approx(q * n, rel=0.02)  # ... around q n
    assert sizes.var() == pytest.approx(n * q * (1 - q), rel=0.15)  # with binomial spread
    assert (hits / 2000).sub(q).abs().max() < 0.06  # every row joins with probability q
    assert len(np.unique(rows.numpy())) == rows.numel()  # no row twice in a batch


def test_training_uses_poisson_batches_and_counts_steps():
    trainer = make_trainer(q=0.1, n=200, seed=2)
    history = trainer.run(2)
    assert list(history[0]) == ["epoch", "discriminator_fake", "generator"]
    assert trainer.steps_taken == 2 * (200 // 20) == len(trainer.batch_sizes)
    assert len(set(trainer.batch_sizes)) > 1


def test_real_rows_are_conditioned_on_their_own_category():
    trainer = make_trainer(seed=4)
    rows = torch.arange(200)
    cond = trainer.own_conditions(rows)
    assert torch.all(cond.sum(1) == 1)
    s = trainer.sampler
    for i in range(0, 200, 17):
        flat = int(cond[i].argmax())
        col = int((flat >= s.col_offset).sum()) - 1
        span = s.spans[col]
        assert flat - int(s.col_offset[col]) == int(trainer.data.span_codes(span)[i])


def test_marginal_matching_uses_released_frequencies():
    trainer = make_trainer(seed=6)
    s = trainer.sampler
    counts = s.counts.float()
    total = torch.zeros(s.n_columns).index_add_(0, s.column_of, counts)[s.column_of]
    logs = torch.log1p(counts)
    log_total = torch.zeros(s.n_columns).index_add_(0, s.column_of, logs)[s.column_of]
    assert trainer.regularizer is None  # a trainer given no term adds none
    from tabgan.privacy.dp_training import marginal_targets

    df = make_mixed(200)
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    matching = MarginalMatching(marginal_targets(tr, trainer.layout), s, trainer.seg)
    # reweighting training (log-frequency) conditions gives the noisy frequencies
    torch.testing.assert_close(matching.cond_weight * logs / log_total, counts / total)
    with torch.no_grad():
        _, raw, _, flat, _, _ = trainer._fake(64)
    kl = matching(raw, flat)
    assert kl.ndim == 0
    torch.testing.assert_close(kl, _marginal_kl(matching, trainer.layout, raw, flat))
    assert kl > 0.01
    # the batch's marginals reweighted to the noisy frequencies, not its plain average
    assert abs(float(_marginal_kl(matching, trainer.layout, raw, flat, weighted=False)) - float(kl)) > 1e-3
    # a batch whose every row has the released marginals is at distance 0
    target = torch.zeros_like(raw)
    parts = matching.targets.split([s.width for s in trainer.layout.softmax_spans])
    for span, t in zip(trainer.layout.softmax_spans, parts):
        target[:, span.start : span.end] = torch.log(t.clamp_min(1e-30))
    zero = matching(target, flat)
    torch.testing.assert_close(zero, torch.tensor(0.0), atol=1e-5, rtol=0)


def _marginal_kl(matching, layout, raw, flat, *, weighted=True):
    """KL(released || batch) summed over softmax spans, from the formula: the batch's
    per-span softmax averaged over rows, each row weighted by its condition's
    noisy-over-training frequency ratio."""
    w = matching.cond_weight[flat] if weighted else torch.ones(len(flat))
    parts = matching.targets.split([s.width for s in layout.softmax_spans])
    total = torch.tensor(0.0)
    for span, t in zip(layout.softmax_spans, parts):
        probs = torch.softmax(raw[:, span.start : span.end], dim=1)
        mean = (w[:, None] * probs).sum(0) / w.sum()
        terms = t * torch.log(t / mean)
        total = total + torch.where(t > 0, terms, 0.0).sum()  # 0 log 0 = 0
    return total
