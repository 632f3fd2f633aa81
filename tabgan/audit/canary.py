"""One-run canary audit: an empirical lower bound on the epsilon of a synthesizer.

Method (Steinke, Nasr & Jagielski, 2023, "Privacy Auditing with One (1)
Training Run", NeurIPS)
------------------------------------------------------------------------
1. Make ``m`` canary rows (by default, outliers: every column drawn on its own
   from the training table's values, categories uniformly and numbers
   uniformly between the column's minimum and maximum, so each canary is a
   rare combination far from the real rows).
2. Flip a fair coin per canary; the canaries that come up heads are added to
   the training table. Fit the synthesizer **once** on that table and sample.
3. Score every canary by how much closer it is to the synthetic rows than to
   the real training rows: ``log(d_real + t) - log(d_syn + t)`` (distances of
   :mod:`tabgan.audit.mixed_distance`, ``t = 1e-4``). Included canaries the
   synthesizer memorised score high.
4. Guess "in" for the ``k+`` highest scores and "out" for the ``k-`` lowest,
   abstain on the rest, and count the correct guesses ``v`` out of ``r``.
5. If the synthesizer is (eps, delta)-DP, then (their Theorem 5.2)::

       P[V >= v] <= f(v) + 2 m delta * max_{1<=i<=v} (f(v - i) - f(v)) / i,
       f(u) = P[Binomial(r, e^eps / (1 + e^eps)) >= u].

   The reported bound is the largest eps at which the right-hand side is at
   most ``1 - confidence``: at that confidence, the synthesizer is *not*
   (eps, delta)-DP for any smaller eps.

Guarantee and caveats
---------------------
The bound is valid whatever the synthesizer does: if it really is
(eps, delta)-DP, the reported bound exceeds eps with probability at most
``1 - confidence``. It is a *lower* bound: a small value does not prove the
synthesizer private (the canaries or the score may simply be weak, and one run
with m canaries cannot certify more than about ``log(m / log(1 / (1 - confidence)))``,
about 4.2 for 200 canaries at 95%).
Several guess sets ``(k+, k-)`` are tried; the bound of each is computed at
level ``1 - (1 - confidence) / L`` for ``L`` sets (Bonferroni), so the best of
them still holds at ``confidence``. Pass ``guesses=(k_plus, k_minus)`` to fix
one set in advance instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..columns import numeric_values
from ..errors import InvalidDataError, InvalidParameterError
from ..metadata import Metadata
from ._common import RandomState, as_generator, check_tables, confidence_level, emit, positive_int
from .mixed_distance import MixedTypeDistance

__all__ = [
    "CanaryAuditResult",
    "canary_audit",
    "epsilon_lower_bound",
    "one_run_p_value",
    "make_canaries",
]

DEFAULT_CANARIES = 200
_SCORE_OFFSET = 1e-4
# fractions of m guessed "in" (top scores) and "out" (bottom scores)
_IN_FRACTIONS = (0.05, 0.1, 0.25, 0.5)
_OUT_FRACTIONS = (0.0, 0.05, 0.1, 0.25, 0.5)


# --------------------------------------------------------------------- the bound
def _check_counts(n_correct: int, n_guesses: int, n_canaries: int) -> tuple[int, int, int]:
    for name, value in (
        ("n_correct", n_correct),
        ("n_guesses", n_guesses),
        ("n_canaries", n_canaries),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise InvalidParameterError(
                f"The '{name}' parameter must be an int >= 0. Got {value!r} instead."
            )
    v, r, m = int(n_correct), int(n_guesses), int(n_canaries)
    if not v <= r <= m:
        raise InvalidParameterError(
            "Need n_correct <= n_guesses <= n_canaries (you cannot guess more canaries than "
            f"there are, nor be right more often than you guess). Got {v}, {r}, {m}."
        )
    return v, r, m


def _check_delta(delta: float) -> float:
    if not isinstance(delta, (int, float)) or isinstance(delta, bool) or not 0.0 <= delta < 1.0:
        raise InvalidParameterError(
            f"The 'delta' parameter must be a float in [0, 1), e.g. 1e-5. Got {delta!r} instead."
        )
    return float(delta)


def _p_values(v: int, r: int, m: int, eps: np.ndarray, delta: float) -> np.ndarray:
    """Tail bound of Theorem 5.2 at each epsilon of ``eps`` (vectorised)."""
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    q = special.expit(eps)  # accuracy of eps-DP randomized response
    f_v = stats.binom.sf(v - 1, r, q)  # P[Binomial(r, q) >= v]
    if delta == 0.0 or v == 0:
        return np.minimum(f_v, 1.0)
    i = np.arange(1, v + 1)
    # f(v - i) - f(v) = P[v - i <= Binomial(r, q) < v], for every i and eps
    f_vi = stats.binom.sf(v - i[None, :] - 1, r, q[:, None])
    alpha = np.max((f_vi - f_v[:, None]) / i[None, :], axis=1)
    return np.minimum(f_v + 2.0 * m * delta * alpha, 1.0)


def one_run_p_value(
    n_correct: int, n_guesses: int, *, n_canaries: int, epsilon: float, delta: float = 0.0
) -> float:
    """Upper bound on P[at least ``n_correct`` of ``n_guesses`` right] under (epsilon, delta)-DP.

    Theorem 5.2 of Steinke, Nasr & Jagielski (2023), for ``n_canaries``
    canaries each included independently with probability 1/2.
    """
    v, r, m = _check_counts(n_correct, n_guesses, n_canaries)
    delta = _check_delta(delta)
    if not isinstance(epsilon, (int, float)) or not epsilon >= 0:
        raise InvalidParameterError(f"The 'epsilon' parameter must be >= 0. Got {epsilon!r}.")
    if r == 0:
        return 1.0
    return float(_p_values(v, r, m, np.array([float(epsilon)]), delta)[0])


def epsilon_lower_bound(
    n_correct: int,
    n_guesses: int,
    *,
    n_canaries: int,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> float:
    """Largest epsilon that ``n_correct`` right guesses out of ``n_guesses`` refute.

    Returns the largest ``eps`` with ``one_run_p_value(...) <= 1 - confidence``
    (0 when even eps = 0 is not refuted). With probability at least
    ``confidence``, a mechanism that is (eps, delta)-DP does not produce a
    bound above its eps.

    Examples
    --------
    With delta = 0 and every one of r guesses right, the bound has the closed
    form ``log(q / (1 - q))`` with ``q = (1 - confidence) ** (1 / r)``:

    >>> round(epsilon_lower_bound(10, 10, n_canaries=10), 4)
    1.0519
    """
    v, r, m = _check_counts(n_correct, n_guesses, n_canaries)
    delta = _check_delta(delta)
    beta = 1.0 - confidence_level(confidence)
    if r == 0 or v == 0:
        return 0.0
    # f(v) <= p(eps), and f(v) = beta exactly at eps_star: no eps above it is refuted.
    q_star = float(special.betaincinv(v, r - v + 1, beta))
    if not q_star > 0.5:
        return 0.0
    eps_star = math.inf if q_star >= 1.0 else float(special.logit(q_star))
    if delta == 0.0:
        return eps_star
    if not math.isfinite(eps_star):  # cannot happen for beta > 0, kept for safety
        eps_star = 50.0
    # p(eps) is not monotone in general once delta > 0: scan a grid, then refine.
    grid = np.linspace(0.0, eps_star, 801)
    p = _p_values(v, r, m, grid, delta)
    ok = np.nonzero(p <= beta)[0]
    if ok.size == 0:
        return 0.0
    j = int(ok[-1])
    if j == len(grid) - 1:
        return float(grid[j])

    def excess(e: float) -> float:
        return float(_p_values(v, r, m, np.array([e]), delta)[0]) - beta

    return float(optimize.brentq(excess, grid[j], grid[j + 1], xtol=1e-10, rtol=1e-12))


# ---------------------------------------------------------------------- canaries
def make_canaries(
    train: pd.DataFrame,
    n_canaries: int = DEFAULT_CANARIES,
    *,
    metadata: Metadata | dict[str, Any] | None = None,
    random_state: RandomState = None,
) -> pd.DataFrame:
    """Outlier rows for the canary audit, each column drawn independently.

    Categorical columns: uniform over the categories seen in ``train`` (rare
    ones as likely as common ones). Numeric columns: uniform between the
    column's minimum and maximum (rounded for integers), which puts most
    values where real rows are sparse. The independent draws make each row a
    combination that real data almost never has.
    """
    positive_int(n_canaries, "n_canaries", 1)
    (train, msgs) = check_tables(train, names=())
    rng = as_generator(random_state)
    meta = Metadata.detect(train, metadata)
    cols: dict[str, Any] = {}
    for c in train.columns:
        kind = meta[c].kind
        if meta[c].is_numeric:
            values = numeric_values(c, train[c], kind, table="training")
            finite = values[np.isfinite(values)]
            if finite.size == 0:
                cols[c] = pd.Series(np.full(n_canaries, np.nan))
                continue
            lo, hi = float(finite.min()), float(finite.max())
            draw = rng.uniform(lo, hi, size=n_canaries) if hi > lo else np.full(n_canaries, lo)
            if kind == "datetime":
                cols[c] = pd.Series(pd.to_datetime(draw.astype(np.int64)))
            elif kind == "integer":
                cols[c] = pd.Series(np.round(draw))
            else:
                cols[c] = pd.Series(draw)
        else:
            cats = pd.unique(train[c].dropna())
            if len(cats) == 0:
                cols[c] = pd.Series([np.nan] * n_canaries, dtype=object)
            else:
                cols[c] = pd.Series(cats[rng.integers(0, len(cats), size=n_canaries)])
    out = pd.DataFrame(cols)
    for c in train.columns:  # keep the train dtypes where they can hold the values
        try:
            out[c] = out[c].astype(train[c].dtype)
        except (TypeError, ValueError):
            pass
    return out


# -------------------------------------------------------------------- the audit
@dataclass(frozen=True)
class CanaryAuditResult:
    """Outcome of :func:`canary_audit`.

    Attributes
    ----------
    epsilon_lower_bound:
        At level ``confidence``, the synthesizer is not (eps, delta)-DP for any
        eps below this value.
    claimed_epsilon, claimed_delta:
        The fitted synthesizer's ``epsilon_`` / ``delta_`` attributes (None if absent).
    n_guesses, n_correct, k_plus, k_minus:
        The guess set behind the bound: ``k_plus`` top-scored canaries guessed
        "in", ``k_minus`` bottom-scored guessed "out", ``n_correct`` of the
        ``n_guesses = k_plus + k_minus`` right.
    n_guess_sets:
        How many guess sets were tried (the Bonferroni factor).
    scores, included:
        Each canary's membership score and whether it was in the training data.
    """

    epsilon_lower_bound: float
    claimed_epsilon: float | None
    claimed_delta: float | None
    delta: float
    confidence: float
    n_canaries: int
    n_included: int
    n_guesses: int
    n_correct: int
    k_plus: int
    k_minus: int
    n_guess_sets: int
    scores: np.ndarray
    included: np.ndarray
    canaries: pd.DataFrame

    @property
    def comparable(self) -> bool:
        """Whether the bound can be held against the claim: there is a claimed epsilon,
        and the audit tested a delta no smaller than the claimed one (a bound at a
        smaller delta is larger, and says nothing against a claim at a larger delta)."""
        return self.claimed_epsilon is not None and (
            self.claimed_delta is None or self.delta >= self.claimed_delta)

    @property
    def contradicts_claim(self) -> bool | None:
        """True when the bound exceeds the claimed epsilon (None without a claim, or when
        the audit's delta is below the claim's: see :attr:`comparable`)."""
        if not self.comparable:
            return None
        return bool(self.epsilon_lower_bound > self.claimed_epsilon)

    @property
    def verdict(self) -> str:
        b = self.epsilon_lower_bound
        head = (
            f"Empirical epsilon lower bound {b:.3g} at delta={self.delta:g} "
            f"({self.confidence:.0%} confidence; {self.n_correct} of {self.n_guesses} "
            f"membership guesses right on {self.n_canaries} canaries)."
        )
        if self.claimed_epsilon is None:
            tail = (
                " The synthesizer claims no epsilon; a bound above 0 means it is measurably "
                "not private for the canaries."
                if b > 0
                else " No leakage was detected, which does not prove privacy."
            )
        elif not self.comparable:
            tail = (
                f" NOT COMPARABLE with the claim (epsilon {self.claimed_epsilon:g} at delta "
                f"{self.claimed_delta:g}): the audit tested delta={self.delta:g}, below the "
                f"claim's, where bounds are larger. Rerun with delta={self.claimed_delta:g}."
            )
        elif self.contradicts_claim:
            tail = (
                f" This EXCEEDS the claimed epsilon {self.claimed_epsilon:g}: the privacy claim "
                "is false for this run (a bug in the DP implementation or its accounting)."
            )
        else:
            tail = (
                f" Consistent with the claimed epsilon {self.claimed_epsilon:g} (a lower bound "
                "below the claim is expected; it does not prove the claim)."
            )
        return head + tail

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon_lower_bound": self.epsilon_lower_bound,
            "claimed_epsilon": self.claimed_epsilon,
            "claimed_delta": self.claimed_delta,
            "delta": self.delta,
            "confidence": self.confidence,
            "contradicts_claim": self.contradicts_claim,
            "n_canaries": self.n_canaries,
            "n_included": self.n_included,
            "n_guesses": self.n_guesses,
            "n_correct": self.n_correct,
            "k_plus": self.k_plus,
            "k_minus": self.k_minus,
            "n_guess_sets": self.n_guess_sets,
            "verdict": self.verdict,
        }


def canary_audit(
    factory: Callable[[], Any],
    train: pd.DataFrame,
    *,
    n_canaries: int | None = None,
    delta: float = 1e-5,
    confidence: float = 0.95,
    canaries: pd.DataFrame | None = None,
    n_synthetic: int | None = None,
    guesses: tuple[int, int] | None = None,
    metadata: Metadata | dict[str, Any] | None = None,
    random_state: RandomState = None,
) -> CanaryAuditResult:
    """Audit a synthesizer's privacy with canaries and one training run.

    Parameters
    ----------
    factory:
        Called once with no arguments; must return an unfitted object with
        ``fit(df)`` and ``sample(n)`` (e.g. ``lambda: Synthesizer(epsilon=1.0)``).
    train:
        The training table the canaries are added to.
    n_canaries:
        Number of canaries ``m`` (default 200; more canaries allow larger bounds).
    delta:
        The delta of the DP claim being tested.
    confidence:
        Confidence of the lower bound (0.95: p-value 0.05).
    canaries:
        Your own canary rows (same columns as ``train``) instead of the default outliers.
    n_synthetic:
        Rows to sample from the fitted synthesizer (default: as many as it was trained on).
    guesses:
        ``(k_plus, k_minus)`` fixed in advance; by default several sets are
        tried with a Bonferroni correction.
    metadata:
        Column kinds (a :class:`tabgan.Metadata` or overrides); detected when None.
    random_state:
        Seed or ``numpy.random.Generator`` for the canaries and the coin flips.
        (Seed the synthesizer itself through the factory.)
    """
    (train, msgs) = check_tables(train, names=())
    for msg in msgs:
        emit(msg)
    if not callable(factory):
        raise InvalidParameterError(
            "The 'factory' parameter must be a callable returning a fresh synthesizer, "
            "e.g. lambda: Synthesizer(epsilon=1.0)."
        )
    delta = _check_delta(delta)
    confidence = confidence_level(confidence)
    rng = as_generator(random_state)
    meta = None if metadata is None else Metadata.detect(train, metadata)

    if canaries is None:
        m = DEFAULT_CANARIES if n_canaries is None else positive_int(n_canaries, "n_canaries", 2)
        canaries = make_canaries(train, m, metadata=meta, random_state=rng)
    else:
        (_, canaries, _unused) = check_tables(train, canaries, names=("canaries",))
        m = len(canaries)
        if n_canaries is not None and n_canaries != m:
            raise InvalidParameterError(
                f"n_canaries={n_canaries} but {m} canary rows were given; pass one or the other."
            )
        if m < 2:
            raise InvalidParameterError("The canary audit needs at least 2 canaries.")
    plan = _guess_sets(m, guesses)
    level = 1.0 - (1.0 - confidence) / len(plan)
    ceiling = epsilon_lower_bound(m, m, n_canaries=m, delta=delta, confidence=level)
    if ceiling < 2.0:
        emit(
            f"With {m} canaries the bound cannot exceed {ceiling:.2f} even if every guess is "
            "right; use more canaries (n_canaries) for a meaningful audit."
        )

    included = rng.random(m) < 0.5
    training = pd.concat([train, canaries[included]], ignore_index=True)
    training = training.iloc[rng.permutation(len(training))].reset_index(drop=True)

    model = factory()
    for method in ("fit", "sample"):
        if not callable(getattr(model, method, None)):
            raise InvalidParameterError(
                f"The factory returned a {type(model).__name__}, which has no {method}() "
                "method; it must return a synthesizer with fit(df) and sample(n)."
            )
    model.fit(training)
    n_syn = len(training) if n_synthetic is None else positive_int(n_synthetic, "n_synthetic")
    synthetic = model.sample(n_syn)
    if not isinstance(synthetic, pd.DataFrame):
        raise InvalidDataError(
            f"The synthesizer's sample() returned {type(synthetic).__name__}, not a DataFrame."
        )
    (_, synthetic, _) = check_tables(train, synthetic, names=("synthetic",))

    claimed = getattr(model, "epsilon_", None)
    claimed_eps = None if claimed is None else float(claimed)
    claimed_d = getattr(model, "delta_", None)
    claimed_delta = None if claimed_d is None else float(claimed_d)
    if claimed_delta is not None and claimed_delta > delta:
        emit(
            f"The synthesizer claims delta={claimed_delta:g} but the audit tests delta={delta:g}; "
            "a bound above its epsilon only contradicts the claim when tested at its delta. "
            f"Pass delta={claimed_delta:g}."
        )

    scores = _canary_scores(train, canaries, synthetic, meta)
    # rank by score, highest first, ties in random order (independent of membership)
    order = np.lexsort((rng.random(m), -scores))
    best = (-1.0, 0, 0, 0, 0)
    for k_plus, k_minus in plan:
        top, bottom = order[:k_plus], order[m - k_minus :] if k_minus else order[:0]
        v = int(included[top].sum() + (~included[bottom]).sum())
        r = k_plus + k_minus
        eps = epsilon_lower_bound(v, r, n_canaries=m, delta=delta, confidence=level)
        if eps > best[0]:
            best = (eps, r, v, k_plus, k_minus)
    eps, r, v, k_plus, k_minus = best
    return CanaryAuditResult(
        epsilon_lower_bound=float(eps),
        claimed_epsilon=claimed_eps,
        claimed_delta=claimed_delta,
        delta=delta,
        confidence=confidence,
        n_canaries=m,
        n_included=int(included.sum()),
        n_guesses=r,
        n_correct=v,
        k_plus=k_plus,
        k_minus=k_minus,
        n_guess_sets=len(plan),
        scores=scores,
        included=included,
        canaries=canaries,
    )


def _guess_sets(m: int, guesses: tuple[int, int] | None) -> list[tuple[int, int]]:
    if guesses is not None:
        try:
            k_plus, k_minus = (int(g) for g in guesses)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"The 'guesses' parameter must be a pair (k_plus, k_minus). Got {guesses!r}."
            ) from None
        if k_plus < 0 or k_minus < 0 or k_plus + k_minus > m or k_plus + k_minus == 0:
            raise InvalidParameterError(
                f"The 'guesses' parameter needs k_plus, k_minus >= 0 with 0 < k_plus + k_minus "
                f"<= n_canaries ({m}). Got {guesses!r}."
            )
        return [(k_plus, k_minus)]
    sets = set()
    for fi in _IN_FRACTIONS:
        for fo in _OUT_FRACTIONS:
            kp = max(1, int(round(fi * m)))
            km = int(round(fo * m))
            if kp + km <= m:
                sets.add((kp, km))
    return sorted(sets)


def _canary_scores(
    train: pd.DataFrame,
    canaries: pd.DataFrame,
    synthetic: pd.DataFrame,
    meta: Metadata | None,
) -> np.ndarray:
    """log(d_real + t) - log(d_syn + t): high when a canary is closer to the synthetic rows."""
    dist = MixedTypeDistance(meta).fit(train)
    enc_c, enc_s, enc_t = dist.encode(
        canaries, synthetic, train, roles=("canary", "synthetic", "training")
    )
    d_syn = dist.search(enc_c, enc_s, k=1).distances[:, 0]
    d_real = dist.search(enc_c, enc_t, k=1).distances[:, 0]
    return np.log(d_real + _SCORE_OFFSET) - np.log(d_syn + _SCORE_OFFSET)
