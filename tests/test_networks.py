from __future__ import annotations

import torch

from tabgan.networks import Discriminator, Generator, init_weights, materialize


def build(factory, seed=0):
    module = materialize(factory, torch.device("cpu"))
    init_weights(module, torch.Generator().manual_seed(seed))
    return module


def test_grouped_batch_norm_equals_separate_batches():
    g = build(lambda: Generator(20, (16, 16), 7))
    x = torch.randn(300, 20, generator=torch.Generator().manual_seed(1))
    separate = torch.cat([g(x[i * 100 : (i + 1) * 100]) for i in range(3)])
    torch.testing.assert_close(g(x, group=100), separate, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(g(x), separate, atol=1e-3)  # one batch of 300 is different


def test_init_is_seeded_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a = build(lambda: Generator(5, (8,), 3), seed=3)
    b = build(lambda: Generator(5, (8,), 3), seed=3)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert torch.equal(state, torch.get_rng_state())


def test_pac_groups_rows_and_dropout_uses_its_generator():
    d = build(lambda: Discriminator(6, (8,), pac=4))
    x = torch.randn(20, 6)
    d.generator = torch.Generator().manual_seed(0)
    s1 = d(x)
    d.generator = torch.Generator().manual_seed(0)
    s2 = d(x)
    assert s1.shape == (5, 1)
    assert torch.equal(s1, s2)
    d.eval()
    assert torch.equal(d(x), d(x))  # no dropout in eval mode
