"""The training loop (tabgan.training): the moving average of the generator's weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tabgan import Synthesizer
from tabgan.sampler import ConditionalSampler
from tabgan.training import TrainConfig, Trainer

from .conftest import TINY, tiny_networks

CPU = torch.device("cpu")


def make_trainer(ema_decay, *, n=200, seed=0):
    t = tiny_networks(n=n, seed=seed, pac=2)
    cfg = TrainConfig(
        epochs=1, batch_size=40, embedding_dim=8, generator_lr=1e-2, discriminator_lr=1e-2,
        generator_decay=0.0, discriminator_decay=0.0, betas=(0.5, 0.9), discriminator_steps=1,
        loss="wgan-gp", gp_weight=10.0, label_smoothing=0.0, tau=0.2, ema_decay=ema_decay,
    )
    sampler = ConditionalSampler(
        t.layout, t.transformer.condition_counts(), device=CPU
    ).attach_rows(t.data)
    return Trainer(config=cfg, layout=t.layout, generator_net=t.G, discriminator=t.D,
                   sampler=sampler, data=t.data, rng=t.rng)


def weights(trainer):
    return [p.detach().clone() for p in trainer.G.parameters()]


@pytest.mark.parametrize("decay", [0.0, 0.5, 0.9])
def test_average_follows_its_decay_schedule(decay):
    """After update t the average keeps min(decay, (1 + t) / (10 + t)) of itself."""
    trainer = make_trainer(decay)
    expected = weights(trainer)  # the average starts at the initial weights
    for t in range(1, 16):
        trainer.train_step()
        keep = min(decay, (1 + t) / (10 + t))
        expected = [keep * a + (1 - keep) * w for a, w in zip(expected, weights(trainer))]
    assert trainer.average_updates == 15
    for got, want in zip(trainer.average, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    if decay:  # then the average is not the weights being trained
        assert any(not torch.equal(a, w) for a, w in zip(trainer.average, weights(trainer)))


def test_run_ends_with_the_averaged_weights_and_training_is_unchanged():
    """The average never feeds back into training: with and without it the trained
    weights follow the same path; run() then leaves the generator with the average."""
    plain, averaged = make_trainer(None), make_trainer(0.9)
    assert plain.average is None
    for _ in range(5):
        plain.train_step()
        averaged.train_step()
        for a, b in zip(weights(plain), weights(averaged)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    history = averaged.run(1)
    assert history and np.isfinite(history[0]["generator"])
    for p, a in zip(averaged.G.parameters(), averaged.average):
        assert torch.equal(p.detach(), a)
    raw_last = weights(plain)
    plain.run(1)  # without an average the generator keeps its last weights
    assert any(not torch.equal(a, b) for a, b in zip(raw_last, weights(plain)))


def test_synthesizer_average_changes_the_samples_not_the_training(mixed):
    """Same seed with and without ema_decay: the same losses epoch by epoch (training is
    untouched), different generator weights and samples; ema_decay=0 is the last weights."""
    kw = {**TINY, "epochs": 3, "random_state": 0}
    last = Synthesizer(**kw, ema_decay=None).fit(mixed)
    zero = Synthesizer(**kw, ema_decay=0.0).fit(mixed)
    avg = Synthesizer(**kw, ema_decay=0.9).fit(mixed)
    assert last.loss_history_.equals(avg.loss_history_)
    assert last.sample(100, random_state=1).equals(zero.sample(100, random_state=1))
    assert not last.sample(100, random_state=1).equals(avg.sample(100, random_state=1))
    a = torch.cat([p.flatten() for p in last.generator_.parameters()])
    b = torch.cat([p.flatten() for p in avg.generator_.parameters()])
    assert not torch.equal(a, b)


def test_a_second_run_continues_from_the_trained_weights_not_the_average():
    plain, averaged = make_trainer(None), make_trainer(0.9)
    first = plain.run(1), averaged.run(1)
    assert first[0] == first[1]
    second = plain.run(1), averaged.run(1)
    assert second[0] == second[1]  # the same training path after the average was shown
    for a, b in zip(weights(plain), averaged._trained):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
