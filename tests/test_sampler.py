from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from tabgan.sampler import ConditionalSampler
from tabgan.synthesizer import _condition_counts
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
    data = torch.from_numpy(tr.transform(df, rng=r))
    s = ConditionalSampler(tr.layout_, _condition_counts(tr), device=torch.device("cpu"),
                           log_frequency=log_frequency).attach_rows(data)
    return tr, data, s


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
    counts = np.array(_condition_counts(tr)[0], dtype=float)
    expected_a = np.log1p(counts) / np.log1p(counts).sum() / 2  # column a drawn half the time
    np.testing.assert_allclose(freq[:3].numpy(), expected_a, atol=0.005)
    _, flat = s.sample_condition(200_000, g, original=True)
    freq = torch.bincount(flat, minlength=5).double() / 200_000
    np.testing.assert_allclose(freq[:3].numpy(), counts / counts.sum() / 2, atol=0.005)


def test_without_discrete_columns_rows_are_uniform():
    r = np.random.default_rng(0)
    df = pd.DataFrame({"v": r.normal(size=100)})
    tr = DataTransformer().fit(df, rng=r)
    data = torch.from_numpy(tr.transform(df, rng=r))
    s = ConditionalSampler(tr.layout_, [], device=torch.device("cpu")).attach_rows(data)
    g = torch.Generator().manual_seed(0)
    cond, _ = s.sample_condition(10, g)
    assert cond.shape == (10, 0)
    rows = s.sample_rows(torch.zeros(1000, dtype=torch.long), g)
    assert rows.min() >= 0 and rows.max() < 100 and len(torch.unique(rows)) > 90
