"""Calibration and accounting (tabgan.privacy.accountant) and the ledger."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgan import PrivacyError
from tabgan.privacy import LedgerEntry, PrivacyLedger, default_delta
from tabgan.privacy.accountant import (
    gaussian_delta,
    gaussian_epsilon,
    gaussian_mu,
    noise_multiplier,
    plan_budget,
    training_epsilon,
)


@settings(max_examples=40, deadline=None)
@given(eps=st.floats(0.01, 20.0), log_delta=st.floats(-12.0, -3.0))
def test_gaussian_calibration_is_tight_and_safe(eps, log_delta):
    delta = 10.0**log_delta
    mu = gaussian_mu(eps, delta)
    assert gaussian_delta(mu, eps) <= delta  # the guarantee holds
    assert gaussian_delta(mu * 1.001, eps) > delta * 0.999  # and little is wasted
    assert gaussian_epsilon(mu, delta) <= eps * (1 + 1e-6) + 1e-9


def test_analytic_gaussian_beats_the_classic_bound():
    # classic: sigma = sqrt(2 ln(1.25/delta)) / eps (eps < 1), i.e. mu = eps / sqrt(2 ln(1.25/delta))
    for eps in (0.1, 0.5, 0.9):
        classic = eps / math.sqrt(2 * math.log(1.25 / 1e-6))
        assert gaussian_mu(eps, 1e-6) >= classic


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_noise_multiplier_meets_the_target(accountant):
    q, steps, delta = 0.02, 500, 1e-6
    sigma = noise_multiplier(epsilon=1.0, delta=delta, sample_rate=q, steps=steps, accountant=accountant)
    spent = training_epsilon(
        noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta, accountant=accountant
    )
    assert 0.95 <= spent <= 1.0
    # fewer steps than planned spend less
    assert training_epsilon(
        noise_multiplier=sigma, sample_rate=q, steps=steps // 2, delta=delta, accountant=accountant
    ) < spent
    assert training_epsilon(
        noise_multiplier=sigma, sample_rate=q, steps=0, delta=delta, accountant=accountant
    ) == 0.0


def test_impossible_training_budget_is_refused():
    with pytest.raises(PrivacyError, match="Raise epsilon"):
        noise_multiplier(epsilon=1e-7, delta=1e-9, sample_rate=1.0, steps=10**6, accountant="rdp")


def test_budget_plan_adds_up():
    for need in (True, False):
        plan = plan_budget(2.0, 1e-6, preprocessing_share=0.2, need_ranges=need)
        parts = [plan.rows, plan.marginals, plan.training] + ([plan.ranges] if need else [])
        assert math.isclose(sum(p[0] for p in parts), 2.0)
        assert math.isclose(sum(p[1] for p in parts), 1e-6)
        assert (plan.ranges is None) == (not need)
        assert math.isclose(plan.training[0], 1.6)
        assert math.isclose(plan.rows[0], 0.02) and plan.rows[1] == 0.0  # pure


def test_default_delta_is_well_below_one_over_n():
    for n in (10, 1000, 32561, 10**7):
        assert default_delta(n) <= 0.1 / n and default_delta(n) <= 1e-5


def test_ledger_sums_and_round_trips():
    entries = (
        LedgerEntry("a", "x", 0.25, 1e-7, "m", "c", {"sigma": 3.0}),
        LedgerEntry("b", "y", 0.5, 2e-7, "m", "c"),
    )
    ledger = PrivacyLedger(entries=entries, target_epsilon=1.0, target_delta=1e-6)
    assert ledger.epsilon == 0.75 and np.isclose(ledger.delta, 3e-7)
    assert PrivacyLedger.from_dict(ledger.to_dict()) == ledger
    assert list(ledger.to_frame()["component"]) == ["a", "b"]
    assert ledger["b"].epsilon == 0.5
    text = str(ledger)
    assert "epsilon = 0.75" in text and "composition" in text
    with pytest.raises(KeyError):
        ledger["nope"]
