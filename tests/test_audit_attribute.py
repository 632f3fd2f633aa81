"""Tests for tabgan/audit/attribute.py: attribute inference with a control set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgan.audit import attribute_inference
from tabgan.audit.attribute import _mode, _numeric_success, _residual, resolve_columns
from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidParameterError

QIS = ["age", "fnlwgt", "education", "sex", "race"]


@pytest.fixture(scope="module")
def parts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    adult = load_adult_sample()
    return adult.iloc[:800], adult.iloc[800:1600], adult.iloc[1600:2400]


def test_copying_generator_exposes_the_secret(parts):
    train, holdout, _ = parts
    res = attribute_inference(
        train, holdout, train, quasi_identifiers=QIS, sensitive="income", random_state=0
    )
    r = res["income"]
    assert r.attack_rate > 0.95
    assert r.control_rate < 0.85
    assert r.residual_risk > 0.8
    assert r.residual_risk_ci[0] > 0.6
    assert res.worst is r


def test_no_link_in_synthetic_data_gives_no_residual_risk(parts):
    train, holdout, _ = parts
    syn = train.copy()
    # break the link between the quasi-identifiers and the secret
    syn["income"] = np.random.default_rng(0).permutation(syn["income"].to_numpy())
    r = attribute_inference(
        train, holdout, syn, quasi_identifiers=QIS, sensitive="income", random_state=0
    )["income"]
    assert abs(r.residual_risk) < 0.15
    assert r.residual_risk_ci[0] <= 0.0 <= r.residual_risk_ci[1]


def test_independent_draw_gives_no_residual_risk(parts):
    train, holdout, other = parts
    r = attribute_inference(
        train, holdout, other, quasi_identifiers=QIS, sensitive="income", random_state=1
    )["income"]
    assert r.residual_risk_ci[0] <= 0.0 <= r.residual_risk_ci[1]


def test_numeric_secret_uses_a_tolerance(parts):
    train, holdout, _ = parts
    res = attribute_inference(
        train,
        holdout,
        train,
        quasi_identifiers=["fnlwgt", "education", "occupation"],
        sensitive="age",
        numeric_tolerance=0.05,
        random_state=0,
    )
    r = res["age"]
    assert r.kind == "integer"
    assert r.tolerance == pytest.approx(
        0.05 * (train["age"].quantile(0.99) - train["age"].quantile(0.01))
    )
    assert r.attack_rate > 0.9
    assert r.residual_risk > 0.7


def test_default_columns_attack_every_column(parts):
    train, holdout, other = parts
    small = [c for c in train.columns][:5]
    res = attribute_inference(
        train[small], holdout[small], other[small], n_targets=100, random_state=0
    )
    assert set(res.secrets) == set(small)
    for name, r in res.secrets.items():
        assert name not in r.quasi_identifiers
        assert len(r.quasi_identifiers) == 4
    d = res.to_dict()
    assert d["worst_secret"] in small


def test_resolve_columns_defaults_and_errors():
    cols = ["a", "b", "c"]
    assert resolve_columns(cols, None, None) == [
        ("a", ("b", "c")),
        ("b", ("a", "c")),
        ("c", ("a", "b")),
    ]
    assert resolve_columns(cols, ["a"], None) == [("b", ("a",)), ("c", ("a",))]
    assert resolve_columns(cols, None, "c") == [("c", ("a", "b"))]
    with pytest.raises(InvalidParameterError, match="both quasi-identifiers and sensitive"):
        resolve_columns(cols, ["a", "b"], ["b"])
    with pytest.raises(InvalidParameterError, match="not in the tables"):
        resolve_columns(cols, ["zzz"], None)
    with pytest.raises(InvalidParameterError, match="empty"):
        resolve_columns(cols, [], None)


def test_helpers_by_hand():
    assert _residual(0.9, 0.5) == pytest.approx(0.8)
    assert _residual(0.5, 0.5) == 0.0
    assert _residual(1.0, 1.0) == 0.0
    codes = np.array([[1, 2, 2], [3, 4, 5], [7, 7, 1]])
    np.testing.assert_array_equal(_mode(codes), [2, 3, 7])
    guesses = np.array([[1.0], [np.nan], [5.0], [np.nan]])
    truth = np.array([1.04, np.nan, 6.0, 2.0])
    np.testing.assert_array_equal(
        _numeric_success(guesses, truth, 0.05), [True, True, False, False]
    )


def test_single_column_table_warns_and_skips():
    df = pd.DataFrame({"a": np.arange(200) % 7})
    with pytest.warns(UserWarning, match="single column"):
        res = attribute_inference(df, df, df, random_state=0)
    assert res.secrets == {}
    assert res.worst is None
