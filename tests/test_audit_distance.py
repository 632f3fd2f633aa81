"""Tests for tabgan/audit/distance.py: the distance-to-closest-record audit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tabgan.audit import distance_to_closest_record
from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult_sample()


def test_non_numeric_value_in_numeric_column_raises(adult):
    train = adult.iloc[:200]
    syn = train.copy()
    syn["age"] = syn["age"].astype(object)
    syn.loc[0, "age"] = "old"
    with pytest.raises(InvalidDataError, match="In the synthetic table: Column 'age'"):
        distance_to_closest_record(train, adult.iloc[200:400], syn, random_state=0)


def test_infinite_value_raises_naming_the_column_and_table(adult):
    train, holdout = adult.iloc[:200], adult.iloc[200:400].reset_index(drop=True)
    holdout["hours-per-week"] = holdout["hours-per-week"].astype(float)
    holdout.loc[3, "hours-per-week"] = np.inf
    with pytest.raises(
        InvalidDataError, match="In the holdout table: Column 'hours-per-week' contains infinite"
    ):
        distance_to_closest_record(train, holdout, train, random_state=0)


def test_dcr_copying_generator(adult):
    train, holdout = adult.iloc[:400], adult.iloc[400:800]
    res = distance_to_closest_record(train, holdout, train, random_state=0)
    assert res.exact_copy_rate == pytest.approx(1.0)
    assert res.holdout_exact_copy_rate < 0.01
    assert res.share_closer_to_train > 0.95
    assert res.median_synthetic == 0.0
    assert res.median_holdout > 0.0
    assert res.median_nndr_synthetic == 0.0


def test_dcr_independent_draw(adult):
    train, holdout, syn = adult.iloc[:600], adult.iloc[600:1200], adult.iloc[1200:1800]
    res = distance_to_closest_record(train, holdout, syn, random_state=0)
    lo, hi = res.share_closer_to_train_ci
    assert lo <= 0.5 <= hi
    assert abs(res.share_closer_to_train - 0.5) < 0.05
    assert res.exact_copy_rate < 0.01
    assert res.median_synthetic == pytest.approx(res.median_holdout, rel=0.2)
    d = res.to_dict()
    assert {"median_synthetic_to_train", "share_closer_to_train", "exact_copy_rate"} <= set(d)


def test_dcr_seeded_and_subsampled(adult):
    train, holdout, syn = adult.iloc[:300], adult.iloc[300:600], adult.iloc[600:1200]
    a = distance_to_closest_record(train, holdout, syn, max_rows=100, random_state=3)
    b = distance_to_closest_record(train, holdout, syn, max_rows=100, random_state=3)
    assert a.n_synthetic == 100 and a.n_holdout == 100
    assert a.to_dict() == b.to_dict()


def test_mixed_types_nans_and_single_category_column():
    rng = np.random.default_rng(0)
    n = 300

    def table():
        x = rng.normal(size=n)
        x[rng.random(n) < 0.1] = np.nan
        return pd.DataFrame(
            {
                "x": x,
                "i": rng.integers(0, 100, size=n),
                "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
                "cat": rng.choice(["a", "b", "c", None], size=n),
                "flag": rng.random(n) < 0.3,
                "const": ["same"] * n,
            }
        )

    train, holdout, syn = table(), table(), table()
    with pytest.warns(UserWarning, match="'const' has a single value"):
        res = distance_to_closest_record(train, holdout, syn, random_state=0)
    assert np.isfinite(res.median_synthetic)
    assert 0.0 <= res.share_closer_to_train <= 1.0


def test_mismatched_columns_raise(adult):
    train = adult.iloc[:100]
    with pytest.raises(InvalidDataError, match="missing \\['income'\\]"):
        distance_to_closest_record(train, train, train.drop(columns="income"))
    with pytest.raises(InvalidDataError, match="unexpected \\['extra'\\]"):
        distance_to_closest_record(train, train.assign(extra=1), train)
    with pytest.raises(InvalidDataError, match="DataFrame"):
        distance_to_closest_record(train, train.to_numpy(), train)  # type: ignore[arg-type]
    with pytest.raises(InvalidDataError, match="empty"):
        distance_to_closest_record(train, train.iloc[:0], train)


def test_column_order_does_not_matter(adult):
    train, holdout, syn = adult.iloc[:200], adult.iloc[200:400], adult.iloc[400:600]
    shuffled = syn[list(reversed(syn.columns))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = distance_to_closest_record(train, holdout, syn, random_state=1)
        b = distance_to_closest_record(train, holdout, shuffled, random_state=1)
    assert a.to_dict() == b.to_dict()
