from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from tabgan.sampler import ConditionalSampler
from tabgan.transformer import DataTransformer


def setup(log_frequency=True):
    r = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "a": r.choice(["x", "y", "z"], 5000, p=[0.8, 0.15, 0.05]),
            "b": r.choice(["p", "q"], 5000, p=[0.5, 0.5]),
            "v": r.normal(size=5000),
        }
    )
    tr = DataTransformer().fit(df, rng=r)
    data = tr.transform_compact(df, rng=r)
    s = ConditionalSampler(tr.layout_, tr.condition_counts(), device=torch.device("cpu"),
                           log_frequency=log_frequency).attach_rows(data)
    return tr, data.dense(), s


def test_condition_vectors_are_one_hot_and_rows_match():
    tr, data, s = setup()
    g = torch.Generator().manual_seed(0)
    cond, flat = s.sample_condition(4000, g)
    assert cond.shape == (4000, tr.layout_.condition_width)
    assert torch.all(cond.sum(1) == 1)
    assert torch.equal(cond.argmax(1), flat)
    rows = s.sample_rows(flat, g)
    out_col = torch.tensor([i for sp in tr.layout_.condition_spans for i in range(sp.start, sp.end)])
    # the chosen category is set in every sampled real row
    assert torch.all(data[rows, out_col[flat]] == 1)


def test_log_frequency_and_original_distributions():
    tr, data, s = setup()
    g = torch.Generator().manual_seed(0)
    _, flat = s.sample_condition(200_000, g)
    freq = torch.bincount(flat, minlength=5).double() / 200_000
    counts = np.array(tr.condition_counts()[0], dtype=float)
    expected_a = np.log1p(counts) / np.log1p(counts).sum() / 2  # column a drawn half the time
    np.testing.assert_allclose(freq[:3].numpy(), expected_a, atol=0.005)
    _, flat = s.sample_condition(200_000, g, original=True)
    freq = torch.bincount(flat, minlength=5).double() / 200_000
    np.testing.assert_allclose(freq[:3].numpy(), counts / counts.sum() / 2, atol=0.005)


def test_without_discrete_columns_rows_are_uniform():
    r = np.random.default_rng(0)
    df = pd.DataFrame({"v": r.normal(size=100)})
    tr = DataTransformer().fit(df, rng=r)
    data = tr.transform_compact(df, rng=r)
    s = ConditionalSampler(tr.layout_, [], device=torch.device("cpu")).attach_rows(data)
    g = torch.Generator().manual_seed(0)
    cond, _ = s.sample_condition(10, g)
    assert cond.shape == (10, 0)
    rows = s.sample_rows(torch.zeros(1000, dtype=torch.long), g)
    assert rows.min() >= 0 and rows.max() < 100 and len(torch.unique(rows)) > 90


def test_sample_index_can_fix_a_category_in_a_share_of_rows():
    _, _, s = setup()
    plain = s.sample_index(40_000, torch.Generator().manual_seed(0), original=True)
    z = int(s.col_offset[0]) + 2  # column "a", category "z" (5 % of rows)
    mixed = s.sample_index(40_000, torch.Generator().manual_seed(0), original=True, fixed=z,
                           share=0.2)
    expected = 0.2 + 0.8 * float((plain == z).float().mean())
    assert abs(float((mixed == z).float().mean()) - expected) < 0.01
    kept = mixed != z  # the other rows keep the ordinary draw
    assert torch.equal(mixed[kept], plain[kept])
    import pytest

    from tabgan import TabganError

    for fixed, share in ((s.width, 0.2), (-1, 0.2), (z, 1.5), (z, -0.1)):
        with pytest.raises(TabganError, match="fixed must"):
            s.sample_index(10, torch.Generator(), fixed=fixed, share=share)


def test_sample_index_can_fix_one_of_several_categories_by_weight():
    """Conditions met by several categories (joint columns): each fixed row draws one of
    them by its weight; a single category gives the same rows as a plain fixed index."""
    import pytest

    from tabgan import TabganError

    _, _, s = setup()
    base = int(s.col_offset[0])
    choices = torch.tensor([base, base + 2])
    weights = torch.tensor([3.0, 1.0], dtype=torch.float64)
    got = s.sample_index(40_000, torch.Generator().manual_seed(0), original=True,
                         fixed=(choices, weights), share=1.0)
    assert set(got.tolist()) == {base, base + 2}
    assert abs(float((got == base).float().mean()) - 0.75) < 0.01
    one = s.sample_index(1000, torch.Generator().manual_seed(1), fixed=(choices[1:], weights[1:]),
                         share=0.3)
    plain = s.sample_index(1000, torch.Generator().manual_seed(1), fixed=base + 2, share=0.3)
    assert torch.equal(one, plain)
    with pytest.raises(TabganError, match="fixed must"):
        s.sample_index(10, torch.Generator(), fixed=(torch.tensor([s.width]), weights[:1]),
                       share=0.5)


# ------------------------------------------------------------ generation
def test_span_sampler_draws_each_span_from_its_softmax():
    """Every softmax span at once, including spans whose logits are extreme or far apart."""
    from tabgan.layout import Layout, Span
    from tabgan.sampler import SpanSampler

    layout = Layout((
        Span("a", "category", 0, 3),
        Span("v", "value", 3, 4),  # a tanh column between softmax spans is skipped
        Span("v", "mode", 4, 8),
        Span("b", "category", 8, 10),
        Span("c", "missing", 10, 11),  # a span of width one always draws 0
    ))
    logits = torch.tensor([[0.0, 1.0, 2.0, 7.0, 100.0, 99.0, 95.0, -40.0, -300.0, -301.5, 3.0]])
    n = 200_000
    codes = SpanSampler(layout, torch.device("cpu"))(
        logits.expand(n, -1), torch.Generator().manual_seed(0)
    )
    assert codes.shape == (n, 4) and codes.dtype == torch.long
    for k, (a, b) in enumerate([(0, 3), (4, 8), (8, 10), (10, 11)]):
        p = torch.softmax(logits[0, a:b].double(), 0)
        freq = torch.bincount(codes[:, k], minlength=b - a).double() / n
        assert len(freq) == b - a  # never an index outside the span
        tol = 4 * torch.sqrt(p * (1 - p) / n) + 1e-9
        assert torch.all((freq - p).abs() <= tol), (k, freq, p)


def test_span_sampler_is_seeded():
    from tabgan.sampler import SpanSampler

    tr, data, _ = setup()
    s = SpanSampler(tr.layout_, torch.device("cpu"))
    raw = torch.randn(500, tr.layout_.width, generator=torch.Generator().manual_seed(1))
    a = s(raw, torch.Generator().manual_seed(2))
    assert torch.equal(a, s(raw, torch.Generator().manual_seed(2)))
    assert not torch.equal(a, s(raw, torch.Generator().manual_seed(3)))


def test_span_sampler_never_picks_a_zero_mass_entry_at_either_end(monkeypatch):
    """Uniforms at 0 and at the largest float below 1: the threshold lands on a span's
    start or (rounded) on its end, where the inverse CDF must still skip zero mass."""
    from tabgan.layout import Layout, Span
    from tabgan.sampler import SpanSampler

    layout = Layout((Span("a", "category", 0, 64), Span("b", "category", 64, 67)))
    sampler = SpanSampler(layout, torch.device("cpu"))
    for tail in ([0.0, -200.0, -200.0], [-200.0, 0.0, -200.0], [-200.0, -200.0, 0.0]):
        logits = torch.tensor([[0.0] * 64 + tail]).expand(4, -1)
        for u in (0.0, 1.0 - 2.0**-24):
            monkeypatch.setattr(torch, "rand", lambda *a, u=u, **k: torch.full(a[:2], u))
            codes = sampler(logits, torch.Generator())
            monkeypatch.undo()
            assert torch.all(codes[:, 1] == tail.index(0.0)), (tail, u, codes[:, 1])


def test_span_sampler_draw_refuses_a_wrong_shape():
    import pytest

    from tabgan import TabganError
    from tabgan.sampler import SpanSampler

    tr, _, _ = setup()
    s = SpanSampler(tr.layout_, torch.device("cpu"))
    n_soft = len(s.cols)
    for bad in (torch.zeros(n_soft + 1, 4), torch.zeros(4, n_soft).t()[:-1], torch.zeros(n_soft),
                torch.zeros(n_soft, 4, dtype=torch.long)):
        with pytest.raises(TabganError, match="transposed"):
            s.draw(bad, torch.Generator())
    assert s.draw(torch.zeros(n_soft, 4), torch.Generator()).shape == (s.n, 4)
