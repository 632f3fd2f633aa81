"""tabgan.encoded: the compact encoded table and its batches in the dense encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tabgan.encoded import EncodedTable
from tabgan.transformer import DataTransformer


def wide(n: int = 400, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    x = r.normal(size=n)
    x[r.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "city": r.choice([f"c{i}" for i in range(150)], n),  # wider than int8
        "flag": r.choice(["a", "b"], n),
        "x": x,
        "y": r.gamma(2.0, size=n),
    })


@pytest.fixture(scope="module")
def fitted():
    df = wide()
    tr = DataTransformer(min_category_rows=1).fit(df, rng=np.random.default_rng(0))
    return df, tr


def test_compact_rows_expand_to_the_dense_encoding(fitted):
    df, tr = fitted
    enc = tr.transform_compact(df, rng=np.random.default_rng(1))
    dense = torch.from_numpy(tr.transform(df, rng=np.random.default_rng(1)))
    assert enc.shape == tuple(dense.shape) and len(enc) == len(df)
    assert torch.equal(enc.dense(), dense)
    rows = torch.tensor([5, 0, 399, 5])
    assert torch.equal(enc[rows], dense[rows])
    mask = torch.arange(len(df)) % 3 == 0
    assert torch.equal(enc[mask], dense[mask])
    # every softmax span one-hot, and its code is the hot entry
    for span in tr.layout_.softmax_spans:
        block = dense[:, span.start:span.end]
        assert torch.equal(block.sum(1), torch.ones(len(df)))
        assert torch.equal(enc.span_codes(span), block.argmax(1))
    again = EncodedTable.from_dense(tr.layout_, dense)
    assert torch.equal(again.codes.long(), enc.codes.long()) and torch.equal(again.values, enc.values)


def test_codes_take_the_smallest_integer_type_and_far_less_memory(fitted):
    df, tr = fitted
    enc = tr.transform_compact(df, rng=np.random.default_rng(1))
    assert enc.codes.dtype == torch.int16  # the city span has more than 127 entries
    dense_bytes = 4 * len(df) * tr.layout_.width
    assert enc.nbytes * 20 < dense_bytes
    small = DataTransformer().fit(df[["flag", "y"]], rng=np.random.default_rng(0))
    assert small.transform_compact(df, rng=np.random.default_rng(0)).codes.dtype == torch.int8


def test_a_wrong_shape_is_refused(fitted):
    _, tr = fitted
    soft = len(tr.layout_.softmax_spans)
    with pytest.raises(ValueError, match="needs codes of shape"):
        EncodedTable(tr.layout_, torch.zeros(3, soft + 1, dtype=torch.int16), torch.zeros(3, 2))
