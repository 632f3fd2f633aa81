"""Privacy accounting: the budget split, Gaussian-mechanism calibration, DP-SGD's accountant.

Every use of the real data in a private fit is one of two kinds of Gaussian
mechanism, and this module turns budgets into noise for both:

* a plain Gaussian mechanism (the noisy histograms of preprocessing), calibrated
  exactly with the analytic Gaussian mechanism (Balle & Wang, 2018): a Gaussian
  mechanism with L2 sensitivity ``s`` and noise ``sigma`` is ``mu``-GDP with
  ``mu = s / sigma``, and ``mu``-GDP is ``(epsilon, delta(epsilon))``-DP for
  ``delta(epsilon) = Phi(-epsilon/mu + mu/2) - e^epsilon Phi(-epsilon/mu - mu/2)``
  (Dong, Roth & Su, 2022, Corollary 2.13), with no slack;
* the Poisson-subsampled Gaussian mechanism of DP-SGD, accounted by Opacus's RDP
  or PRV accountant for the exact number of steps taken.

A third kind is pure: the number of rows is released once, through the geometric
(discrete Laplace) mechanism (:func:`noisy_count`), and everything that depends on
the table's size (the sampling rate, the number of steps, the default delta, the
histograms' bins, the saved row count) is computed from that noisy count, never from
the true one: an output that revealed the exact count would tell any two neighbouring
tables (one row added or removed) apart with certainty.

The components are composed sequentially (basic composition): their epsilons
add and their deltas add, which is what :class:`tabgan.privacy.PrivacyLedger`
shows.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from ..errors import PrivacyError

__all__ = [
    "BudgetPlan",
    "default_delta",
    "gaussian_delta",
    "gaussian_epsilon",
    "gaussian_mu",
    "noise_multiplier",
    "noisy_count",
    "plan_budget",
    "row_count_share",
    "training_epsilon",
]

#: RDP orders: Opacus's defaults plus larger ones, so large epsilons are not overstated.
RDP_ALPHAS: list[float] = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)) + [
    80, 96, 128, 192, 256, 384, 512, 1024
]


#: Share of epsilon spent on the noisy row count (taken from preprocessing's share).
ROW_COUNT_SHARE = 0.01


def noisy_count(n: int, epsilon: float, rng: np.random.Generator) -> int:
    """``n`` plus two-sided geometric noise (the discrete Laplace mechanism): ``P(k) ∝
    exp(-epsilon |k - n|)``, which is ``(epsilon, 0)``-DP for a count (sensitivity 1),
    floored at 1. The noise is the difference of two geometric draws."""
    if epsilon <= 0:
        raise PrivacyError(f"noisy_count needs epsilon > 0; got {epsilon}.")
    p = -math.expm1(-epsilon)  # success probability 1 - e^-epsilon
    noise = int(rng.geometric(p)) - int(rng.geometric(p))
    return max(int(n) + noise, 1)


def row_count_share(preprocessing_share: float) -> float:
    """The share of epsilon spent on the noisy row count: :data:`ROW_COUNT_SHARE`, at most
    a tenth of preprocessing's share."""
    return min(ROW_COUNT_SHARE, preprocessing_share / 10)


def default_delta(n_rows: int) -> float:
    """``min(1e-5, 0.1 / n)``: below ``1 / n`` by a factor of 10 or more.

    A mechanism that publishes each row outright with probability ``delta`` is
    ``(0, delta)``-DP; with this default the expected number of rows exposed
    that way is at most 0.1 however large the table.
    """
    return min(1e-5, 0.1 / n_rows)


# ------------------------------------------------------------- Gaussian (GDP)
def gaussian_delta(mu: float, epsilon: float) -> float:
    """The exact delta at ``epsilon`` of a ``mu``-GDP mechanism (any Gaussian mechanism)."""
    if mu <= 0:
        return 0.0
    a = log_ndtr(-epsilon / mu + mu / 2)
    b = epsilon + log_ndtr(-epsilon / mu - mu / 2)
    return float(max(math.exp(a) - math.exp(b), 0.0)) if b < a else 0.0


def gaussian_mu(epsilon: float, delta: float) -> float:
    """The largest ``mu`` whose Gaussian mechanism is ``(epsilon, delta)``-DP.

    ``gaussian_delta`` increases with ``mu``; bisection to relative precision
    1e-10, then the lower end is returned, so the guarantee holds.
    """
    if epsilon <= 0 or delta <= 0:
        raise PrivacyError(
            f"A Gaussian mechanism needs epsilon > 0 and delta > 0; got epsilon={epsilon}, "
            f"delta={delta}."
        )
    lo, hi = 0.0, 1.0
    while gaussian_delta(hi, epsilon) < delta:
        lo, hi = hi, 2 * hi
    for _ in range(200):
        mid = (lo + hi) / 2
        if gaussian_delta(mid, epsilon) <= delta:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-10 * hi:
            break
    return lo


def gaussian_epsilon(mu: float, delta: float) -> float:
    """The smallest epsilon at which a ``mu``-GDP mechanism is ``(epsilon, delta)``-DP."""
    if mu <= 0:
        return 0.0
    lo, hi = 0.0, 1.0
    while gaussian_delta(mu, hi) > delta:
        lo, hi = hi, 2 * hi
    for _ in range(200):
        mid = (lo + hi) / 2
        if gaussian_delta(mu, mid) > delta:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-10 * max(hi, 1e-12):
            break
    return hi


# ------------------------------------------------------------------ DP-SGD
def _accountant(name: str):
    try:
        from opacus.accountants import PRVAccountant, RDPAccountant
    except ImportError as exc:  # pragma: no cover - opacus ships with the 'dp' extra
        raise ImportError(
            "Private training (epsilon=...) needs Opacus: pip install opacus (or pip "
            "install -e '.[dp]' in tabgan's source tree)."
        ) from exc
    return {"rdp": RDPAccountant, "prv": PRVAccountant}[name]()


def _epsilon_kwargs(name: str) -> dict:
    return {"alphas": RDP_ALPHAS} if name == "rdp" else {}


def training_epsilon(
    *, noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str
) -> float:
    """Epsilon spent by ``steps`` Poisson-subsampled Gaussian steps, from Opacus's accountant."""
    if steps == 0:
        return 0.0
    acc = _accountant(accountant)
    acc.history = [(noise_multiplier, sample_rate, steps)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "optimal order is the largest alpha"
        return float(acc.get_epsilon(delta=delta, **_epsilon_kwargs(accountant)))


def noise_multiplier(
    *, epsilon: float, delta: float, sample_rate: float, steps: int, accountant: str
) -> float:
    """The noise multiplier for which ``steps`` steps spend at most ``epsilon`` (Opacus search)."""
    from opacus.accountants.utils import get_noise_multiplier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            sigma = get_noise_multiplier(
                target_epsilon=epsilon,
                target_delta=delta,
                sample_rate=sample_rate,
                steps=steps,
                accountant=accountant,
                epsilon_tolerance=0.005 * epsilon,
                **_epsilon_kwargs(accountant),
            )
        except ValueError as exc:
            raise PrivacyError(
                f"No amount of noise makes {steps} critic steps at sampling rate "
                f"{sample_rate:.4g} fit in epsilon={epsilon:.4g} for training ({exc}). "
                "Raise epsilon, or train fewer steps (fewer epochs, a larger batch_size)."
            ) from exc
    # the search stops within its tolerance below the target; check, never assume
    spent = training_epsilon(
        noise_multiplier=sigma, sample_rate=sample_rate, steps=steps, delta=delta,
        accountant=accountant,
    )
    if spent > epsilon:  # pragma: no cover - defensive
        raise PrivacyError(f"Accountant search overshot: {spent} > {epsilon}.")
    return float(sigma)


# ------------------------------------------------------------- budget split
@dataclass(frozen=True)
class BudgetPlan:
    """How the requested (epsilon, delta) is divided; each pair is spent by one component."""

    epsilon: float  # requested total
    delta: float  # requested total
    rows: tuple[float, float]  # the noisy row count (pure: delta 0)
    ranges: tuple[float, float] | None  # numeric ranges not declared public (None: none needed)
    marginals: tuple[float, float]  # category lists/frequencies, missing rates, value histograms
    training: tuple[float, float]  # DP-SGD on the critic


def plan_budget(
    epsilon: float, delta: float, *, preprocessing_share: float, need_ranges: bool
) -> BudgetPlan:
    """Split (epsilon, delta): ``preprocessing_share`` to preprocessing, the rest to training.

    Preprocessing gives :data:`ROW_COUNT_SHARE` of epsilon (and no delta) to the noisy
    row count, a quarter of its share to estimating numeric ranges when some are not
    declared, the rest to the marginal histograms. Delta is split in the proportions
    of epsilon among the parts that use one (all but the row count).
    """
    pre = preprocessing_share
    rows_share = row_count_share(pre)
    ranges_share = pre / 4 if need_ranges else 0.0
    marg_share = pre - ranges_share - rows_share
    train_share = 1.0 - pre
    with_delta = 1.0 - rows_share
    split = lambda s: (epsilon * s, delta * s / with_delta)  # noqa: E731
    return BudgetPlan(
        epsilon=epsilon,
        delta=delta,
        rows=(epsilon * rows_share, 0.0),
        ranges=split(ranges_share) if need_ranges else None,
        marginals=split(marg_share),
        training=split(train_share),
    )
