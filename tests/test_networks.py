from __future__ import annotations

import pytest
import torch

from tabgan.critic import Discriminator
from tabgan.networks import Generator, init_weights, materialize


def build(factory, seed=0):
    module = materialize(factory, torch.device("cpu"))
    init_weights(module, torch.Generator().manual_seed(seed))
    return module


def test_grouped_batch_norm_equals_separate_batches():
    g = build(lambda: Generator(20, 5, (16, 16), 7))
    x = torch.randn(300, 20, generator=torch.Generator().manual_seed(1))
    c = torch.randint(5, (300,), generator=torch.Generator().manual_seed(2))
    separate = torch.empty(300, 7)
    for i in range(3):  # runs are interleaved: row r is in run r % 3
        separate[i::3] = g(x[i::3], c[i::3])
    torch.testing.assert_close(g(x, c, group=100), separate, rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        torch.testing.assert_close(g(x, c, group=100), separate, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(g(x, c), separate, atol=1e-3)  # one batch of 300 is different


def test_condition_lookup_equals_linear_layer_on_one_hot_input():
    """The lookup is CTGAN's generator on [noise, one_hot(cond)], weights for weights."""
    g = build(lambda: Generator(6, 4, (8, 8), 5))
    noise = torch.randn(50, 6, generator=torch.Generator().manual_seed(1))
    cond = torch.randint(4, (50,), generator=torch.Generator().manual_seed(2))
    one_hot = torch.nn.functional.one_hot(cond, 4).float()

    def dense(layer, x):  # the same layer as a plain Linear over [x, one_hot]
        w = torch.cat([layer.weight, layer.cond_weight.t()], dim=1)
        return torch.nn.functional.linear(torch.cat([x, one_hot], 1), w, layer.bias)

    x = noise
    for block in g.blocks:
        h = torch.relu(block.bn(dense(block.fc, x)))
        x = torch.cat([h, x], 1)
    torch.testing.assert_close(g(noise, cond), dense(g.out, x))
    # the condition matters, and every weight gets its gradient
    assert not torch.allclose(g(noise, cond), g(noise, (cond + 1) % 4))
    g(noise, cond).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def test_generator_without_condition_columns():
    g = build(lambda: Generator(6, 0, (8,), 3))
    assert g(torch.randn(10, 6)).shape == (10, 3)


def test_init_is_seeded_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a = build(lambda: Generator(5, 2, (8,), 3), seed=3)
    b = build(lambda: Generator(5, 2, (8,), 3), seed=3)
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


def test_inference_path_equals_training_path():
    """Without autograd the generator fills one buffer instead of concatenating; same rows."""
    g = build(lambda: Generator(12, 5, (16, 8), 7))
    x = torch.randn(300, 12, generator=torch.Generator().manual_seed(1))
    c = torch.randint(5, (300,), generator=torch.Generator().manual_seed(2))
    for group in (None, 100):
        with torch.no_grad():
            fast = g(x, c, group=group)
        torch.testing.assert_close(fast, g(x, c, group=group), rtol=1e-5, atol=1e-5)


def test_bfloat16_products_stay_close_and_return_float32():
    g = build(lambda: Generator(12, 5, (16, 8), 7))
    d = build(lambda: Discriminator(6, (8,), pac=2))
    x = torch.randn(300, 12, generator=torch.Generator().manual_seed(1))
    c = torch.randint(5, (300,), generator=torch.Generator().manual_seed(2))
    full = g(x, c)
    g.compute_dtype = torch.bfloat16
    mixed = g(x, c)
    assert mixed.dtype == torch.float32
    assert not torch.equal(mixed, full)  # the products really ran in bfloat16
    torch.testing.assert_close(mixed, full, rtol=0.05, atol=0.05)
    with torch.no_grad():  # the inference path (bfloat16 buffer) agrees with training's
        fast = g(x, c, group=100)
    torch.testing.assert_close(fast, g(x, c, group=100), rtol=0.02, atol=0.02)
    d.eval()
    rows = torch.randn(40, 6)
    full = d(rows)
    d.compute_dtype = torch.bfloat16
    assert d(rows).dtype == torch.float32
    torch.testing.assert_close(d(rows), full, rtol=0.05, atol=0.05)


def test_critic_leaky_relu_keeps_penalty_gradients_exact():
    """The mask-only backward changes no gradient of the gradient penalty (vs autograd's)."""
    d = build(lambda: Discriminator(6, (8, 8), pac=2)).eval()
    x = torch.randn(40, 6, generator=torch.Generator().manual_seed(1)).requires_grad_(True)

    def reference(inp):
        h = inp.reshape(-1, 12)
        for layer in d.hidden:
            h = torch.nn.functional.leaky_relu(layer(h), 0.2)
        return d.last(h)

    grads = []
    for forward in (d, reference):
        (g,) = torch.autograd.grad(forward(x).sum(), x, create_graph=True)
        penalty = ((g.reshape(-1, 12).norm(dim=1) - 1) ** 2).mean() + forward(x).mean()
        grads.append(torch.autograd.grad(penalty, list(d.parameters())))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def test_generator_workspace_is_reused_and_checked():
    g = build(lambda: Generator(4, 3, (8, 6), 5)).eval()
    noise = torch.randn(40, 4, generator=torch.Generator().manual_seed(0))
    cond = torch.randint(0, 3, (40,), generator=torch.Generator().manual_seed(1))
    ws = g.workspace(60, torch.device("cpu"))
    assert ws.shape == (60, 4 + 8 + 6)
    with torch.no_grad():
        fresh = g(noise, cond, group=20)
        again = g(noise, cond, group=20, workspace=ws)
        torch.testing.assert_close(again, fresh, rtol=0, atol=0)
        assert torch.equal(ws[:40, -4:], noise)  # the pass really ran in the given buffer
        with pytest.raises(ValueError, match="workspace"):
            g(noise, cond, group=20, workspace=g.workspace(20, torch.device("cpu")))
        with pytest.raises(ValueError, match="workspace"):  # a dtype the generator does not use
            g(noise, cond, group=20, workspace=ws.to(torch.bfloat16))


def test_generator_infer_returns_chosen_outputs_in_the_products_dtype():
    g = build(lambda: Generator(12, 5, (16, 8), 7))
    x = torch.randn(300, 12, generator=torch.Generator().manual_seed(1))
    c = torch.randint(5, (300,), generator=torch.Generator().manual_seed(2))
    order = torch.tensor([4, 0, 6, 2, 1, 5, 3])
    with torch.no_grad():
        full = g(x, c, group=100)
    picked = g.infer(x, c, group=100, plan=g.plan(order))
    torch.testing.assert_close(picked, full[:, order], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(g.infer(x, None, plan=g.plan(order[:3])), g.infer(x)[:, order[:3]])
    g.compute_dtype = torch.bfloat16
    low = g.infer(x, c, group=100, plan=g.plan(order))
    assert low.dtype == torch.bfloat16  # left for the caller to convert (sampling's transpose)
    torch.testing.assert_close(low.float(), full[:, order], rtol=0.05, atol=0.05)


def test_generator_plan_is_a_snapshot():
    g = build(lambda: Generator(12, 5, (16, 8), 7))
    x = torch.randn(200, 12, generator=torch.Generator().manual_seed(1))
    c = torch.randint(5, (200,), generator=torch.Generator().manual_seed(2))
    plan = g.plan()
    before = g.infer(x, c, group=100, plan=plan)
    with torch.no_grad():
        for p in g.parameters():
            p.mul_(2.0)
    torch.testing.assert_close(g.infer(x, c, group=100, plan=plan), before, rtol=0, atol=0)
    assert not torch.allclose(g.infer(x, c, group=100), before)  # a new plan sees the change


def test_generator_plan_and_infer_refuse_bad_arguments():
    from tabgan import TabganError

    g = build(lambda: Generator(12, 5, (16, 8), 7))
    other = build(lambda: Generator(12, 5, (16, 9), 7))
    x = torch.randn(20, 12)
    for outputs in (torch.tensor([0, 7]), torch.tensor([[0, 1]]), torch.tensor([0.0]), [0, 1],
                    torch.tensor([-1])):
        with pytest.raises(TabganError, match="outputs must be"):
            g.plan(outputs)
    with pytest.raises(TabganError, match="another shape"):
        g.infer(x, None, plan=other.plan())
    assert g.infer(x, None, plan=g.plan(torch.tensor([6, 0]))).shape == (20, 2)
