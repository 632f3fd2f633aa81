"""Membership inference: can an attacker tell training rows from unseen rows?

Two black-box attacks score a target row using only the synthetic table and,
for the second, a reference sample of real rows from the same population:

``distance``
    Score = minus the distance from the target to its closest synthetic row.
    A generator that reproduces its training rows puts members at distance 0.
``density_ratio``
    The DOMIAS attack (van Breugel et al., 2023): score = log p_syn(x) - log p_ref(x),
    the log ratio of a kernel density fitted on the synthetic rows to one fitted
    on reference rows. Both densities use the kernel ``exp(-d(x, y) / h)`` on the
    mixed-type distance of :mod:`tabgan.audit.mixed_distance`. The reference density
    uses ``h_ref`` = the median distance of a reference row to its closest other
    reference row, a smooth estimate of the population density from few rows;
    the synthetic density uses ``h_syn = h_ref / 10``, because overfitting shows
    up as sharp spikes of synthetic density around training rows that a wide
    kernel would smooth away. Overfitting raises the synthetic density at the
    members more than the population density explains.

Evaluation: the holdout is split in two halves at random. One half is the
reference sample of ``density_ratio`` and is never scored; the other half are
the non-members. An equal number of train rows, drawn at random, are the
members. Each attack is summarised by its ROC AUC and its true-positive rate
at false-positive rates of 1% and 0.1%, each with a percentile bootstrap
interval (members and non-members resampled independently, seeded).
The TPR at a given FPR is read off the ROC curve with ties between scores
broken at random (linear interpolation), so duplicated rows, which tie at
distance 0, do not make the low-FPR numbers jump between 0 and 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InvalidDataError
from ..metadata import Metadata
from ._common import (
    RandomState,
    as_generator,
    check_tables,
    confidence_level,
    emit,
    positive_int,
)
from .mixed_distance import MixedTypeDistance
from .neighbors import EncodedTable

__all__ = ["AttackResult", "MembershipResult", "membership_inference", "ATTACKS"]

ATTACKS: tuple[str, ...] = ("distance", "density_ratio")
FPRS: tuple[float, ...] = (0.01, 0.001)
MIN_HOLDOUT = 20
# h_syn / h_ref of the density-ratio attack (see the module docstring)
SYNTHETIC_BANDWIDTH_RATIO = 0.1


@dataclass(frozen=True)
class AttackResult:
    """One membership-inference attack scored on members vs non-members.

    ``auc`` is 0.5 for an attack that cannot tell them apart and 1 for a
    perfect one; ``tpr_at_fpr`` maps a false-positive rate (0.01, 0.001) to
    the share of members the attacker identifies at that rate (the rate
    itself is what a guessing attacker gets).
    """

    name: str
    auc: float
    auc_ci: tuple[float, float]
    tpr_at_fpr: dict[float, float]
    tpr_at_fpr_ci: dict[float, tuple[float, float]]
    member_scores: np.ndarray
    non_member_scores: np.ndarray

    def roc_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(false-positive rates, true-positive rates) of the attack."""
        from sklearn.metrics import roc_curve

        y = np.r_[np.ones(len(self.member_scores)), np.zeros(len(self.non_member_scores))]
        s = np.r_[self.member_scores, self.non_member_scores]
        fpr, tpr, _ = roc_curve(y, s)
        return fpr, tpr

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"auc": self.auc, "auc_ci": list(self.auc_ci)}
        for f in FPRS:
            out[f"tpr_at_fpr_{f:g}"] = self.tpr_at_fpr[f]
            out[f"tpr_at_fpr_{f:g}_ci"] = list(self.tpr_at_fpr_ci[f])
        out["n_members"] = len(self.member_scores)
        out["n_non_members"] = len(self.non_member_scores)
        return out


@dataclass(frozen=True)
class MembershipResult:
    """All membership-inference attacks of one audit (see :func:`membership_inference`)."""

    attacks: dict[str, AttackResult]
    n_members: int
    n_non_members: int
    n_reference: int
    bandwidth: float  # h_ref; the synthetic density uses bandwidth * SYNTHETIC_BANDWIDTH_RATIO
    confidence: float
    n_bootstrap: int

    def __getitem__(self, name: str) -> AttackResult:
        return self.attacks[name]

    @property
    def max_auc(self) -> float:
        return max(a.auc for a in self.attacks.values())

    def to_dict(self) -> dict[str, Any]:
        """Attack name -> its numbers (``auc``, ``tpr_at_fpr_0.01``, ... and intervals)."""
        return {name: a.to_dict() for name, a in self.attacks.items()}

    def settings(self) -> dict[str, Any]:
        """How the attacks were run (sample sizes, bandwidths, interval settings)."""
        return {
            "n_members": self.n_members,
            "n_non_members": self.n_non_members,
            "n_reference": self.n_reference,
            "bandwidth_reference": self.bandwidth,
            "bandwidth_synthetic": self.bandwidth * SYNTHETIC_BANDWIDTH_RATIO,
            "confidence": self.confidence,
            "n_bootstrap": self.n_bootstrap,
        }


def membership_inference(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Metadata | dict[str, Any] | None = None,
    max_targets: int | None = 5_000,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    random_state: RandomState = None,
) -> MembershipResult:
    """Run the membership-inference attacks on train members vs holdout non-members.

    Parameters
    ----------
    train, holdout, synthetic:
        The training table, real rows never used for training (at least 20),
        and the synthetic table.
    metadata:
        Column kinds (a :class:`tabgan.Metadata` or overrides); detected when None.
    max_targets:
        At most this many members and as many non-members are scored.
    n_bootstrap:
        Bootstrap resamples for the intervals.
    confidence:
        Level of the intervals.
    random_state:
        Seed or ``numpy.random.Generator``; the same seed gives the same numbers.
    """
    train, holdout, synthetic, msgs = check_tables(train, holdout, synthetic)
    for m in msgs:
        emit(m)
    rng = as_generator(random_state)
    meta = None if metadata is None else Metadata.detect(train, metadata)
    dist = MixedTypeDistance(meta).fit(train)
    return _membership(
        dist,
        train,
        holdout,
        synthetic,
        max_targets=max_targets,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        rng=rng,
    )


def _membership(
    dist: MixedTypeDistance,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    max_targets: int | None,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> MembershipResult:
    confidence_level(confidence)
    positive_int(n_bootstrap, "n_bootstrap", 10)
    if max_targets is not None:
        positive_int(max_targets, "max_targets", 10)
    if len(holdout) < MIN_HOLDOUT:
        raise InvalidDataError(
            f"Membership inference needs at least {MIN_HOLDOUT} holdout rows (half are scored "
            f"as non-members, half are the attacker's reference sample); got {len(holdout)}. "
            "Keep more real rows out of training."
        )
    perm = rng.permutation(len(holdout))
    ref_idx, non_idx = perm[: len(holdout) // 2], perm[len(holdout) // 2 :]
    n_eval = min(len(non_idx), len(train))
    if max_targets is not None:
        n_eval = min(n_eval, max_targets)
    non_idx = non_idx[:n_eval]
    mem_idx = rng.choice(len(train), size=n_eval, replace=False)

    targets = pd.concat([train.iloc[mem_idx], holdout.iloc[non_idx]], ignore_index=True)
    enc_q, enc_s, enc_r = dist.encode(
        targets,
        synthetic,
        holdout.iloc[ref_idx],
        roles=("training or holdout", "synthetic", "holdout"),
    )
    bandwidth = _bandwidth(dist, enc_r, rng)

    nn_syn = dist.search(enc_q, enc_s, k=1, bandwidth=bandwidth * SYNTHETIC_BANDWIDTH_RATIO)
    nn_ref = dist.search(enc_q, enc_r, k=1, bandwidth=bandwidth)
    assert nn_syn.log_density is not None and nn_ref.log_density is not None
    scores = {
        "distance": -nn_syn.distances[:, 0],
        "density_ratio": nn_syn.log_density - nn_ref.log_density,
    }
    attacks = {
        name: score_attack(
            name,
            s[:n_eval],
            s[n_eval:],
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            rng=rng,
        )
        for name, s in scores.items()
    }
    return MembershipResult(
        attacks=attacks,
        n_members=n_eval,
        n_non_members=n_eval,
        n_reference=len(ref_idx),
        bandwidth=bandwidth,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
    )


def _bandwidth(dist: MixedTypeDistance, enc_ref: EncodedTable, rng: np.random.Generator) -> float:
    """Median distance of a reference row to its closest other reference row (floored)."""
    n = len(enc_ref)
    sample = rng.choice(n, size=min(n, 1000), replace=False)
    # search the sampled rows against the full reference, skipping each row itself
    order = np.r_[sample, np.setdiff1d(np.arange(n), sample)]
    enc = enc_ref.take(order)
    nn = dist.search(enc.take(np.arange(len(sample))), enc, k=1, exclude_self=True)
    h = float(np.median(nn.distances[:, 0]))
    return max(h, 1e-3)


def score_attack(
    name: str,
    member_scores: np.ndarray,
    non_member_scores: np.ndarray,
    *,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
) -> AttackResult:
    """AUC and TPR at low FPR of attack scores (higher = 'member'), with bootstrap intervals."""
    rng = as_generator(rng)
    pos = np.asarray(member_scores, dtype=float)
    neg = np.asarray(non_member_scores, dtype=float)
    # a NaN score carries no evidence: put it at the bottom
    floor = np.nanmin(np.r_[pos, neg, 0.0]) - 1.0
    pos = np.where(np.isnan(pos), floor, pos)
    neg = np.where(np.isnan(neg), floor, neg)
    auc = float(_auc(pos[None, :], neg[None, :])[0])
    tprs = {f: float(_tpr_at_fpr(pos[None, :], neg[None, :], f)[0]) for f in FPRS}

    bp = pos[rng.integers(0, len(pos), size=(n_bootstrap, len(pos)))]
    bn = neg[rng.integers(0, len(neg), size=(n_bootstrap, len(neg)))]
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    boot_auc = _auc(bp, bn)
    auc_ci = (float(np.quantile(boot_auc, lo_q)), float(np.quantile(boot_auc, hi_q)))
    tpr_ci = {}
    for f in FPRS:
        bt = _tpr_at_fpr(bp, bn, f)
        tpr_ci[f] = (float(np.quantile(bt, lo_q)), float(np.quantile(bt, hi_q)))
    return AttackResult(
        name=name,
        auc=auc,
        auc_ci=auc_ci,
        tpr_at_fpr=tprs,
        tpr_at_fpr_ci=tpr_ci,
        member_scores=pos,
        non_member_scores=neg,
    )


def _auc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Row-wise ROC AUC (Mann-Whitney, ties count half) of (B, n_pos) vs (B, n_neg) scores."""
    n_pos, n_neg = pos.shape[1], neg.shape[1]
    ranks = stats.rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    r_pos = ranks[:, :n_pos].sum(axis=1)
    return (r_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _tpr_at_fpr(pos: np.ndarray, neg: np.ndarray, fpr: float) -> np.ndarray:
    """Row-wise TPR of the ROC curve at exactly ``fpr`` (ties broken at random).

    The threshold is the non-member score ``t`` at which the allowed number of
    false positives ``k = fpr * n_neg`` is reached; rows scoring above ``t``
    are called members, and a share ``(k - #neg > t) / #neg == t`` of the rows
    tied at ``t``, so that exactly ``k`` non-members pass on average. This is
    the linear interpolation of the ROC curve, the value a threshold attacker
    who breaks ties at random achieves.
    """
    n_neg = neg.shape[1]
    k = fpr * n_neg
    pos_k = min(int(math.floor(k + 1e-9)), n_neg - 1)
    # the (pos_k + 1)-th largest non-member score of every row
    t = -np.partition(-neg, pos_k, axis=1)[:, pos_k][:, None]
    above = (neg > t).sum(axis=1)
    tied = (neg == t).sum(axis=1)
    share = np.clip((k - above) / tied, 0.0, 1.0)
    tp = (pos > t).sum(axis=1) + share * (pos == t).sum(axis=1)
    return tp / pos.shape[1]
