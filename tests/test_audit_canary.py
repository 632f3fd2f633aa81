"""Tests for tabgan/audit/canary.py: the one-run epsilon lower bound and the canary audit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tabgan.audit import canary_audit, epsilon_lower_bound, make_canaries, one_run_p_value
from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError, InvalidParameterError


# ------------------------------------------------------------------ the bound
def test_all_guesses_right_matches_closed_form():
    # delta = 0, v = r: P[Binomial(r, q) >= r] = q^r = beta  =>  eps = logit(beta^(1/r))
    for r, conf in [(10, 0.95), (50, 0.95), (100, 0.99), (1, 0.5)]:
        q = (1 - conf) ** (1 / r)
        expected = math.log(q / (1 - q))
        got = epsilon_lower_bound(r, r, n_canaries=max(r, 10), confidence=conf)
        assert got == pytest.approx(expected, abs=1e-7)
    assert epsilon_lower_bound(10, 10, n_canaries=10) == pytest.approx(1.0518732, abs=1e-6)


def test_half_right_gives_zero():
    assert epsilon_lower_bound(5, 10, n_canaries=10) == 0.0
    assert epsilon_lower_bound(50, 100, n_canaries=200, delta=1e-5) == 0.0
    assert epsilon_lower_bound(0, 0, n_canaries=10) == 0.0


def test_p_value_at_the_bound_is_the_significance_level():
    # 9 of 10 right, delta = 0: P[Binomial(10, q) >= 9] = 0.05 at the bound
    eps = epsilon_lower_bound(9, 10, n_canaries=20)
    q = 1 / (1 + math.exp(-eps))
    assert stats.binom.sf(8, 10, q) == pytest.approx(0.05, abs=1e-8)
    assert one_run_p_value(9, 10, n_canaries=20, epsilon=eps) == pytest.approx(0.05, abs=1e-8)


def test_delta_term_by_hand():
    # Theorem 5.2: p = f(v) + 2 m delta max_i (f(v-i) - f(v)) / i
    m, r, v, eps, delta = 20, 10, 8, 1.0, 1e-3
    q = math.exp(eps) / (1 + math.exp(eps))

    def f(u):
        return (
            1.0
            if u <= 0
            else sum(math.comb(r, j) * q**j * (1 - q) ** (r - j) for j in range(u, r + 1))
        )

    alpha = max((f(v - i) - f(v)) / i for i in range(1, v + 1))
    expected = f(v) + 2 * m * delta * alpha
    got = one_run_p_value(v, r, n_canaries=m, epsilon=eps, delta=delta)
    assert got == pytest.approx(expected, rel=1e-10)


def test_delta_lowers_the_bound_and_bound_is_exact_root():
    b0 = epsilon_lower_bound(60, 60, n_canaries=100, delta=0.0)
    b1 = epsilon_lower_bound(60, 60, n_canaries=100, delta=1e-4)
    assert 0 < b1 < b0
    assert one_run_p_value(60, 60, n_canaries=100, epsilon=b1, delta=1e-4) == pytest.approx(
        0.05, abs=1e-8
    )
    # a huge delta leaves nothing to refute
    assert epsilon_lower_bound(60, 60, n_canaries=100, delta=0.5) == 0.0


@settings(max_examples=30, deadline=None)
@given(r=st.integers(1, 60), delta=st.sampled_from([0.0, 1e-5, 1e-3]))
def test_bound_is_monotone_in_correct_guesses(r, delta):
    bounds = [epsilon_lower_bound(v, r, n_canaries=2 * r, delta=delta) for v in range(r + 1)]
    assert all(b >= 0 for b in bounds)
    assert all(b2 >= b1 - 1e-9 for b1, b2 in zip(bounds, bounds[1:]))


def test_more_confidence_gives_smaller_bound():
    assert epsilon_lower_bound(40, 50, n_canaries=100, confidence=0.99) < epsilon_lower_bound(
        40, 50, n_canaries=100, confidence=0.9
    )


@pytest.mark.parametrize(
    "args",
    [
        dict(n_correct=5, n_guesses=4, n_canaries=10),
        dict(n_correct=1, n_guesses=11, n_canaries=10),
        dict(n_correct=-1, n_guesses=4, n_canaries=10),
        dict(n_correct=1.5, n_guesses=4, n_canaries=10),
    ],
)
def test_bound_rejects_impossible_counts(args):
    with pytest.raises(InvalidParameterError):
        epsilon_lower_bound(args["n_correct"], args["n_guesses"], n_canaries=args["n_canaries"])


def test_bound_rejects_bad_delta_and_confidence():
    with pytest.raises(InvalidParameterError, match="delta"):
        epsilon_lower_bound(1, 1, n_canaries=1, delta=1.0)
    with pytest.raises(InvalidParameterError, match="confidence"):
        epsilon_lower_bound(1, 1, n_canaries=1, confidence=0.0)


# -------------------------------------------------------------- the audit
@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return load_adult_sample().iloc[:400]


class Memoriser:
    """Returns its training rows: the least private synthesizer there is."""

    def __init__(self, claim: float | None = 1.0):
        self.claim = claim

    def fit(self, df: pd.DataFrame) -> Memoriser:
        self.rows_ = df.reset_index(drop=True)
        if self.claim is not None:
            self.epsilon_ = self.claim
        return self

    def sample(self, n: int) -> pd.DataFrame:
        return self.rows_.sample(n, replace=n > len(self.rows_), random_state=0).reset_index(
            drop=True
        )


class Independent:
    """Ignores its input and samples an independent population: perfectly private."""

    def __init__(self):
        self.population = load_adult_sample(holdout=True)

    def fit(self, df: pd.DataFrame) -> Independent:
        self.epsilon_ = 1.0
        self.delta_ = 1e-5
        return self

    def sample(self, n: int) -> pd.DataFrame:
        return self.population.sample(n, replace=True, random_state=1).reset_index(drop=True)


def test_memorising_generator_gives_a_clearly_positive_bound(train):
    calls = []

    def factory():
        calls.append(1)
        return Memoriser(claim=1.0)

    res = canary_audit(factory, train, n_canaries=200, random_state=0)
    assert len(calls) == 1  # one training run
    assert res.epsilon_lower_bound > 2.5
    assert res.claimed_epsilon == 1.0
    assert res.contradicts_claim is True
    assert "EXCEEDS" in res.verdict
    assert res.n_correct <= res.n_guesses <= res.n_canaries == 200
    assert 70 < res.n_included < 130
    d = res.to_dict()
    assert d["epsilon_lower_bound"] == res.epsilon_lower_bound
    assert d["claimed_epsilon"] == 1.0


def test_independent_generator_gives_no_bound(train):
    for seed in range(3):
        res = canary_audit(Independent, train, n_canaries=200, random_state=seed)
        assert res.epsilon_lower_bound < 0.3
        assert res.contradicts_claim is False
        assert res.claimed_delta == 1e-5


def test_a_claim_at_a_larger_delta_is_not_compared(train):
    """A bound at a delta below the claim's is larger than at the claim's: it is not held
    against the claim, and the verdict says so plainly."""

    class LooseClaim(Memoriser):
        def fit(self, df):
            super().fit(df)
            self.delta_ = 1e-3
            return self

    with pytest.warns(UserWarning, match="claims delta=0.001"):
        res = canary_audit(lambda: LooseClaim(claim=1.0), train, n_canaries=100, delta=1e-5,
                           random_state=0)
    assert res.epsilon_lower_bound > 1.0  # above the claimed epsilon, yet:
    assert res.comparable is False and res.contradicts_claim is None
    assert "NOT COMPARABLE" in res.verdict and "EXCEEDS" not in res.verdict
    assert res.to_dict()["contradicts_claim"] is None


def test_no_claim_reports_none(train):
    res = canary_audit(lambda: Memoriser(claim=None), train, n_canaries=50, random_state=0)
    assert res.claimed_epsilon is None and res.contradicts_claim is None
    assert res.epsilon_lower_bound > 1.0


def test_same_seed_same_result(train):
    a = canary_audit(Memoriser, train, n_canaries=60, random_state=5).to_dict()
    b = canary_audit(Memoriser, train, n_canaries=60, random_state=5).to_dict()
    assert a == b


def test_custom_canaries_and_fixed_guesses(train):
    canaries = make_canaries(train, 40, random_state=1)
    res = canary_audit(Memoriser, train, canaries=canaries, guesses=(10, 10), random_state=2)
    assert res.n_canaries == 40 and res.n_guess_sets == 1
    assert (res.k_plus, res.k_minus) == (10, 10)
    assert res.n_correct == 20
    assert res.epsilon_lower_bound == pytest.approx(
        epsilon_lower_bound(20, 20, n_canaries=40, delta=1e-5)
    )
    with pytest.raises(InvalidParameterError, match="n_canaries=10"):
        canary_audit(Memoriser, train, canaries=canaries, n_canaries=10)
    with pytest.raises(InvalidParameterError, match="guesses"):
        canary_audit(Memoriser, train, canaries=canaries, guesses=(30, 30))
    with pytest.raises(InvalidDataError, match="columns do not match"):
        canary_audit(Memoriser, train, canaries=canaries.drop(columns="age"))


def test_make_canaries_are_outliers_with_train_dtypes(train):
    can = make_canaries(train, 100, random_state=0)
    assert list(can.columns) == list(train.columns)
    assert len(can) == 100
    assert can["age"].dtype == train["age"].dtype
    assert can["age"].between(train["age"].min(), train["age"].max()).all()
    assert set(can["workclass"].dropna()) <= set(train["workclass"].dropna())
    # no canary equals a real row
    merged = can.merge(train.drop_duplicates(), how="inner")
    assert len(merged) == 0


def test_bad_factory_raises(train):
    with pytest.raises(InvalidParameterError, match="callable"):
        canary_audit(Memoriser(), train)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="fit"):
        canary_audit(lambda: object(), train, n_canaries=50)

    class BadSample(Memoriser):
        def sample(self, n):
            return np.zeros((n, 3))

    with pytest.raises(InvalidDataError, match="not a DataFrame"):
        canary_audit(BadSample, train, n_canaries=50)


def test_mismatched_delta_warns(train):
    class Claims(Memoriser):
        def fit(self, df):
            super().fit(df)
            self.delta_ = 1e-3
            return self

    with pytest.warns(UserWarning, match="delta"):
        canary_audit(Claims, train, n_canaries=100, delta=1e-5, random_state=0)


def test_too_few_canaries_warns(train):
    with pytest.warns(UserWarning, match="cannot exceed"):
        canary_audit(Memoriser, train, n_canaries=5, random_state=0)


def test_canary_scores_separate_members(train):
    res = canary_audit(Memoriser, train, n_canaries=100, random_state=3)
    assert np.mean(res.scores[res.included]) > np.mean(res.scores[~res.included])
