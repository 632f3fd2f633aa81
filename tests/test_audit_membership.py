"""Tests for tabgan/audit/membership.py: membership-inference attacks and their statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgan.audit import membership_inference
from tabgan.audit.membership import _auc, _tpr_at_fpr, score_attack
from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError, InvalidParameterError


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult_sample()


def test_copying_generator_is_caught(adult):
    train, holdout = adult.iloc[:600], adult.iloc[600:1200]
    res = membership_inference(train, holdout, train, n_bootstrap=100, random_state=0)
    for name in ("distance", "density_ratio"):
        a = res[name]
        assert a.auc > 0.95, name
        assert a.auc_ci[0] > 0.9, name
        assert a.tpr_at_fpr[0.01] > 0.5, name
    d = res.to_dict()
    for name in ("distance", "density_ratio"):
        assert {
            "auc",
            "auc_ci",
            "tpr_at_fpr_0.01",
            "tpr_at_fpr_0.01_ci",
            "tpr_at_fpr_0.001",
            "tpr_at_fpr_0.001_ci",
        } <= set(d[name])


def test_independent_draw_is_at_chance(adult):
    # three disjoint random parts of one sample: synthetic never saw train
    train, holdout, syn = adult.iloc[:1000], adult.iloc[1000:2000], adult.iloc[2000:3000]
    res = membership_inference(train, holdout, syn, n_bootstrap=200, random_state=0)
    for name, a in res.attacks.items():
        assert abs(a.auc - 0.5) < 0.05, name
        assert a.auc_ci[0] <= 0.5 <= a.auc_ci[1], name
        assert a.tpr_at_fpr[0.01] < 0.05, name


def test_same_seed_same_numbers(adult):
    train, holdout, syn = adult.iloc[:300], adult.iloc[300:600], adult.iloc[600:900]
    a = membership_inference(train, holdout, syn, n_bootstrap=50, random_state=7).to_dict()
    b = membership_inference(train, holdout, syn, n_bootstrap=50, random_state=7).to_dict()
    assert a == b


def test_members_and_reference_are_disjoint_halves(adult):
    train, holdout = adult.iloc[:500], adult.iloc[500:600]
    res = membership_inference(train, holdout, train, n_bootstrap=20, random_state=0)
    assert res.n_reference == 50 and res.n_non_members == 50 and res.n_members == 50


def test_auc_and_tpr_by_hand():
    pos = np.array([[3.0, 4.0, 5.0, 1.0]])
    neg = np.array([[0.0, 1.0, 2.0, 2.5]])
    # pairs won: 3 ->4, 4 ->4, 5 ->4, 1 -> beats 0 (1), ties 1 (0.5) => 13.5 / 16
    assert _auc(pos, neg)[0] == pytest.approx(13.5 / 16)
    neg100 = np.arange(100.0)[None, :]
    pos100 = np.array([[99.5, 98.5, 50.0, 10.0]])
    # 1% FPR on 100 negatives: one false positive allowed, threshold = 98 -> 2 of 4 above
    assert _tpr_at_fpr(pos100, neg100, 0.01)[0] == pytest.approx(0.5)
    # 0.1% of 100 negatives is 0.1 false positive: only 99.5 is above the top negative
    assert _tpr_at_fpr(pos100, neg100, 0.001)[0] == pytest.approx(0.25)


def test_tpr_at_fpr_breaks_ties_at_random():
    # every member ties with the top non-member: the ROC goes straight from (0, 0) to
    # (0.01, 1), so TPR is 1 at FPR 1% and 0.1 at FPR 0.1%
    pos = np.zeros((1, 4))
    neg = -np.arange(100.0)[None, :]
    assert _tpr_at_fpr(pos, neg, 0.01)[0] == pytest.approx(1.0)
    assert _tpr_at_fpr(pos, neg, 0.001)[0] == pytest.approx(0.1)
    from sklearn.metrics import roc_curve

    y = np.r_[np.ones(4), np.zeros(100)]
    fpr, tpr, _ = roc_curve(y, np.r_[pos[0], neg[0]], drop_intermediate=False)
    assert np.interp(0.001, fpr, tpr) == pytest.approx(0.1)


@settings(max_examples=50, deadline=None)
@given(
    pos=st.lists(st.integers(0, 6), min_size=1, max_size=30),
    neg=st.lists(st.integers(0, 6), min_size=2, max_size=30),
    frac=st.floats(0.0, 0.99),
)
def test_tpr_at_fpr_is_the_interpolated_roc_curve(pos, neg, frac):
    from sklearn.metrics import roc_curve

    # an FPR strictly inside a segment of the ROC curve (k not an integer)
    fpr_target = (int(frac * (len(neg) - 1)) + 0.5) / len(neg)
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    fpr, tpr, _ = roc_curve(y, np.r_[pos, neg].astype(float), drop_intermediate=False)
    expected = np.interp(fpr_target, fpr, tpr)
    got = _tpr_at_fpr(np.array([pos], float), np.array([neg], float), fpr_target)[0]
    assert got == pytest.approx(expected, abs=1e-12)


def test_score_attack_handles_nan_and_gives_intervals():
    rng = np.random.default_rng(0)
    pos = rng.normal(1.0, 1.0, 300)
    pos[:5] = np.nan
    neg = rng.normal(0.0, 1.0, 300)
    r = score_attack("x", pos, neg, n_bootstrap=100, rng=np.random.default_rng(1))
    assert 0.6 < r.auc < 0.85
    assert r.auc_ci[0] < r.auc < r.auc_ci[1]
    fpr, tpr = r.roc_curve()
    assert fpr[0] == 0 and tpr[-1] == 1


def test_small_holdout_and_bad_parameters_raise(adult):
    train = adult.iloc[:100]
    with pytest.warns(UserWarning), pytest.raises(InvalidDataError, match="at least 20 holdout"):
        membership_inference(train, adult.iloc[100:110], train)
    with pytest.raises(InvalidParameterError, match="n_bootstrap"):
        membership_inference(train, adult.iloc[100:300], train, n_bootstrap=0)
    with pytest.raises(InvalidParameterError, match="random_state"):
        membership_inference(train, adult.iloc[100:300], train, random_state="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="confidence"):
        membership_inference(train, adult.iloc[100:300], train, confidence=1.5)
