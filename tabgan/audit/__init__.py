"""Privacy audits of synthetic tables: could the release expose someone in the training data?

Entry points
------------
:func:`audit`
    Attacks any synthetic table (from any generator) using the training table
    and a holdout of real rows never used for training: distance to closest
    record, membership inference, attribute inference. Returns an
    :class:`AuditReport` with a verdict, JSON and HTML.
:func:`canary_audit`
    Trains a synthesizer once with randomly included canary rows and turns
    membership guesses into an empirical lower bound on its epsilon
    (Steinke, Nasr & Jagielski, 2023).
:func:`epsilon_lower_bound`
    The bound of the canary audit from counts of correct guesses.

The methods are described in ``docs/audits.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..metadata import Metadata
from ._common import (
    RandomState,
    as_generator,
    check_tables,
    confidence_level,
    emit,
    positive_int,
)
from .attribute import (
    AttributeInferenceResult,
    SecretResult,
    _attribute,
    attribute_inference,
    resolve_columns,
)
from .canary import (
    CanaryAuditResult,
    canary_audit,
    epsilon_lower_bound,
    make_canaries,
    one_run_p_value,
)
from .distance import DistanceResult, _dcr, distance_to_closest_record
from .membership import AttackResult, MembershipResult, _membership, membership_inference
from .mixed_distance import MixedTypeDistance
from .neighbors import NearestNeighbors
from .rare import RareValueResult, rare_value_copies
from .report import AuditReport, AuditSummary, summarize

__all__ = [
    "audit",
    "canary_audit",
    "epsilon_lower_bound",
    "one_run_p_value",
    "make_canaries",
    "distance_to_closest_record",
    "membership_inference",
    "attribute_inference",
    "rare_value_copies",
    "AuditReport",
    "AuditSummary",
    "CanaryAuditResult",
    "DistanceResult",
    "MembershipResult",
    "AttackResult",
    "AttributeInferenceResult",
    "SecretResult",
    "RareValueResult",
    "MixedTypeDistance",
    "NearestNeighbors",
]


def audit(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: str | Sequence[str] | None = None,
    metadata: Metadata | dict[str, Any] | None = None,
    max_rows: int | None = 20_000,
    max_targets: int | None = 5_000,
    n_attribute_targets: int = 1_000,
    n_neighbors: int = 1,
    numeric_tolerance: float = 0.05,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    rare_k: int = 10,
    random_state: RandomState = None,
) -> AuditReport:
    """Run every DataFrame audit and return a report with a plain-words verdict.

    Parameters
    ----------
    train:
        The real table the synthesizer was trained on.
    holdout:
        Real rows from the same population that were **not** used for training
        (at least 20; a few thousand give tight intervals).
    synthetic:
        The synthetic table to release (any generator's output), same columns.
    quasi_identifiers:
        Attribute inference: the columns an attacker knows. Default: all the
        columns but the secret one (the worst case). See :func:`attribute_inference`.
    sensitive:
        Attribute inference: the secret column(s). Default: every column is a
        secret in turn.
    metadata:
        Column kinds (a :class:`tabgan.Metadata` or overrides such as
        ``{"zip": "discrete"}``); detected from ``train`` when None.
    max_rows:
        Distance-to-closest-record statistics use at most this many synthetic
        and holdout rows (seeded sample); None uses all.
    max_targets:
        Membership inference scores at most this many members and non-members.
    n_attribute_targets:
        Attribute inference attacks at most this many train targets and holdout controls.
    n_neighbors:
        Attribute inference: synthetic rows the guess is taken from (see
        :func:`attribute_inference`).
    numeric_tolerance:
        Attribute inference: a numeric guess within this fraction of the column's
        robust range is a success.
    n_bootstrap:
        Bootstrap resamples for the membership-inference intervals.
    confidence:
        Level of every interval.
    rare_k:
        Rare-value audit: a training value held by fewer rows is rare, and its verbatim
        copies are counted (:func:`rare_value_copies`).
    random_state:
        Seed or ``numpy.random.Generator``; the same seed gives the same report.

    Returns
    -------
    AuditReport
        ``rep.to_dict()`` has keys ``"dcr"``, ``"mia"``, ``"attribute_inference"``,
        ``"rare_values"``, ``"summary"`` (and ``"settings"``); ``rep.to_html(path)``, ``rep.to_json(path)``.

    Raises
    ------
    tabgan.InvalidDataError
        If the tables are not DataFrames, are empty, or have different columns.
    tabgan.InvalidParameterError
        If a parameter is out of range or names unknown columns.
    """
    train, holdout, synthetic, msgs = check_tables(train, holdout, synthetic)
    for m in msgs:
        emit(m)
    confidence_level(confidence)
    rng = as_generator(random_state)
    plan = resolve_columns(list(train.columns), quasi_identifiers, sensitive)
    if not plan:
        emit("The table has a single column: attribute inference has nothing to infer from.")
    meta = None if metadata is None else Metadata.detect(train, metadata)
    dist = MixedTypeDistance(meta).fit(train)

    dcr = _dcr(dist, train, holdout, synthetic, max_rows=max_rows, confidence=confidence, rng=rng)
    mia = _membership(
        dist,
        train,
        holdout,
        synthetic,
        max_targets=max_targets,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        rng=rng,
    )
    attr = _attribute(
        dist,
        train,
        holdout,
        synthetic,
        plan=plan,
        n_targets=n_attribute_targets,
        n_neighbors=n_neighbors,
        numeric_tolerance=numeric_tolerance,
        confidence=confidence,
        rng=rng,
    )
    rare_k = positive_int(rare_k, "rare_k")
    rare = rare_value_copies(train, holdout, synthetic, k=rare_k, metadata=metadata)
    settings = {
        "rare_k": rare_k,
        "n_train": len(train),
        "n_holdout": len(holdout),
        "n_synthetic": len(synthetic),
        "columns": len(train.columns),
        "quasi_identifiers": None
        if quasi_identifiers is None
        else list(_listify(quasi_identifiers)),
        "sensitive": None if sensitive is None else list(_listify(sensitive)),
        "max_rows": max_rows,
        "max_targets": max_targets,
        "n_attribute_targets": n_attribute_targets,
        "n_neighbors": n_neighbors,
        "numeric_tolerance": numeric_tolerance,
        "n_bootstrap": n_bootstrap,
        "confidence": confidence,
        "random_state": random_state if isinstance(random_state, int) else None,
        "mia": mia.settings(),
    }
    return AuditReport(
        dcr=dcr,
        mia=mia,
        attribute_inference=attr,
        rare_values=rare,
        summary=summarize(dcr, mia, attr, rare),
        settings=settings,
    )


def _listify(x: str | Sequence[str]) -> list[str]:
    return [x] if isinstance(x, str) else list(x)
