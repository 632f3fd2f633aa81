"""Tests for tabgan/audit/mixed_distance.py: the distance's definition, encoding and checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tabgan.audit import MixedTypeDistance
from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError, InvalidParameterError, NotFittedError


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult_sample()


def test_distance_definition_by_hand():
    train = pd.DataFrame(
        {
            "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            "c": list("aabbccddeef"),
        }
    )
    dist = MixedTypeDistance().fit(train)
    scale = np.quantile(train["x"], 0.99) - np.quantile(train["x"], 0.01)
    assert dist.robust_range("x") == pytest.approx(scale)
    a = pd.DataFrame({"x": [0.0, np.nan, np.nan, 100.0], "c": ["a", None, "a", "zzz"]})
    b = pd.DataFrame({"x": [2.0, np.nan], "c": ["b", None]})
    d = dist.pairwise(a, b)
    # (|0 - 2| / scale + mismatch) / 2 columns
    assert d[0, 0] == pytest.approx((2 / scale + 1) / 2, rel=1e-6)
    # missing numeric vs present: full mismatch; missing category vs present: full mismatch
    assert d[0, 1] == pytest.approx(1.0)
    # both missing in both columns: identical
    assert d[1, 1] == pytest.approx(0.0)
    # missing x vs missing x: 0; 'a' vs missing: 1
    assert d[2, 1] == pytest.approx(0.5)
    # far outlier is clipped at a full mismatch; unseen category mismatches
    assert d[3, 0] == pytest.approx(1.0)
    assert np.all((d >= 0) & (d <= 1))


def test_categories_compare_as_text_and_bool_columns_work():
    train = pd.DataFrame({"code": [1, 2, 3, 1], "flag": [True, False, True, True]})
    dist = MixedTypeDistance(metadata={"code": "discrete"}).fit(train)
    other = pd.DataFrame({"code": ["1"], "flag": [True]})
    assert dist.pairwise(other, train)[0, 0] == pytest.approx(0.0)


def test_datetime_columns_are_numeric():
    train = pd.DataFrame({"t": pd.date_range("2020-01-01", periods=101, freq="D")})
    dist = MixedTypeDistance().fit(train)
    d = dist.pairwise(train.iloc[[0]], train.iloc[[10, 100]])
    assert d[0, 0] == pytest.approx(10 / 98, rel=1e-3)  # robust range: 1st..99th pct = 98 days
    assert d[0, 1] == pytest.approx(1.0)


def test_select_equals_encoding_a_subset(adult):
    t = adult.iloc[:120].assign(key=[f"k{i % 90}" for i in range(120)])  # high cardinality
    q = adult.iloc[120:160].assign(key=[f"k{i}" for i in range(40)])
    dist = MixedTypeDistance().fit(t)
    cols = ["age", "education", "key", "sex", "hours-per-week"]
    eq, et = dist.encode(q, t)
    sq, st_ = dist.encode(q, t, columns=cols)
    a = dist.search(eq.select(cols), et.select(cols), k=3)
    b = dist.search(sq, st_, k=3)
    np.testing.assert_allclose(a.distances, b.distances, atol=1e-6)
    assert eq.select(cols).n_columns == len(cols)


def test_invalid_parameters_and_unfitted(adult):
    with pytest.raises(InvalidParameterError, match="chunk_elements"):
        MixedTypeDistance(chunk_elements=0).fit(adult)
    with pytest.raises(InvalidParameterError, match="n_threads"):
        MixedTypeDistance(n_threads=0).fit(adult)
    with pytest.raises(NotFittedError):
        MixedTypeDistance().encode(adult)
    dist = MixedTypeDistance().fit(adult.iloc[:20])
    with pytest.raises(InvalidParameterError, match="'k'"):
        dist.nearest(adult.iloc[:3], adult.iloc[:20], k=0)
    with pytest.raises(InvalidParameterError, match="bandwidth"):
        dist.nearest(adult.iloc[:3], adult.iloc[:20], bandwidth=0.0)


def test_numeric_columns_follow_the_one_rule():
    """tabgan.columns.numeric_values: booleans 0/1, datetimes as UTC nanoseconds, missing
    NaN; unparseable or infinite values raise, naming the table's role."""
    train = pd.DataFrame(
        {
            "x": [0.0, 1.0, 2.0, np.nan],
            "t": pd.to_datetime(["2020-01-01", "2020-01-02", None, "2020-01-04"]).tz_localize(
                "Europe/Paris"
            ),
        }
    )
    dist = MixedTypeDistance().fit(train)
    with pytest.raises(InvalidDataError, match="In the training table: Column 'x'.*infinite"):
        MixedTypeDistance().fit(train.assign(x=[0.0, np.inf, 1.0, 2.0]))
    with pytest.raises(InvalidDataError, match="In the #2 encoded table: Column 'x'"):
        dist.encode(train, train.assign(x=["a", "1", "2", "3"]))
    with (
        warnings.catch_warnings(),
        pytest.raises(InvalidDataError, match="synthetic table: Column 't'"),
    ):
        warnings.simplefilter("ignore")  # pandas may warn that it parses value by value
        dist.encode(train, train.assign(t=["not a date"] * 4), roles=("training", "synthetic"))
    # the same instant written in another time zone is the same value
    utc = train.assign(t=train["t"].dt.tz_convert("UTC"))
    assert dist.pairwise(train.iloc[[0, 1, 3]], utc.iloc[[0, 1, 3]]).diagonal().max() == 0.0
