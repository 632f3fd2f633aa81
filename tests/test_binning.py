"""Column bins: point masses, quantile intervals, categories, missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgan.binning import BINS, MAX_CATEGORIES, MIN_ROWS, Binning


def test_point_masses_get_bins_of_their_own():
    r = np.random.default_rng(0)
    x = pd.Series(np.where(r.random(5000) < 0.5, 0.0, r.normal(100, 10, 5000)))
    b = Binning.fit("x", "continuous", x)
    assert b.points.tolist() == [0.0]
    codes = b.codes(x)
    assert (codes[x == 0] == 0).all() and (codes[x != 0] > 0).all()
    # the other values spread over the quantile intervals, about evenly
    counts = np.bincount(codes[x != 0])[1:]
    assert len(counts) == BINS and counts.min() > 0.5 * counts.max()


def test_a_rare_value_is_no_point():
    x = pd.Series(np.r_[np.full(MIN_ROWS - 1, 5.0), np.arange(100.0) + 0.5])
    assert Binning.fit("x", "integer", x).points.tolist() == []


def test_missing_values_take_the_last_bin():
    x = pd.Series([1.0, np.nan, 2.0, 3.0] * 10)
    b = Binning.fit("x", "continuous", x)
    codes = b.codes(x)
    assert (codes[x.isna()] == b.n_bins - 1).all() and (codes[x.notna()] < b.n_bins - 1).all()
    c = pd.Series(["a", None, "b"] * 10)
    bc = Binning.fit("c", "discrete", c)
    assert (bc.codes(c)[c.isna()] == bc.n_bins - 1).all()


def test_categories_beyond_the_most_frequent_share_one_bin():
    c = pd.Series([f"v{i}" for i in range(MAX_CATEGORIES + 10)] * MIN_ROWS + ["v0"] * 5)
    b = Binning.fit("c", "discrete", c)
    assert b.n_bins == MAX_CATEGORIES + 2
    assert b.codes(pd.Series(["v0", "never seen"])).tolist() == [0, MAX_CATEGORIES]


def test_state_round_trips_through_plain_types():
    import json

    df = pd.DataFrame({
        "t": pd.date_range("2020-01-01", periods=300, freq="h"),
        "n": np.arange(300) % 7,
        "b": [True, False, True] * 100,
    })
    for col, kind in (("t", "datetime"), ("n", "integer"), ("b", "boolean")):
        b = Binning.fit(col, kind, df[col])
        again = Binning.from_dict(json.loads(json.dumps(b.to_dict())))
        assert np.array_equal(again.codes(df[col]), b.codes(df[col]))


def test_no_bin_comes_from_a_few_rows():
    """Rare categories share the other bin, and a handful of numeric values make no
    quantile edges of their own (an edge would be one person's value)."""
    c = pd.Series(["common"] * 100 + ["rare"] * (MIN_ROWS - 1))
    assert Binning.fit("c", "discrete", c).categories == ["common"]
    x = pd.Series(np.r_[np.zeros(500), np.arange(10.0) + 0.5])  # ten values off the point
    b = Binning.fit("x", "continuous", x)
    assert b.points.tolist() == [0.0] and b.edges.tolist() == []
    y = pd.Series(np.arange(3 * MIN_ROWS, dtype=float))
    assert len(Binning.fit("y", "continuous", y).edges) == 2  # three intervals of 20
