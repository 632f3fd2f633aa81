"""Attribute inference: can an attacker who knows some columns of a person learn a secret one?

The attack
----------
The attacker knows a target's quasi-identifiers (QIs) and looks up the
``n_neighbors`` synthetic rows closest to them (mixed-type distance restricted
to the QI columns). The guess for the secret is the most common value among
them (categorical) or their median (numeric).

A guess is a success when it equals the true value (categorical; a missing
value is a category of its own) or, for a numeric secret, when it lies within
``numeric_tolerance`` times the column's robust range (1st-99th percentile
width in train) of the true value (a missing truth needs a missing guess).

Control and residual risk
-------------------------
Some secrets can be guessed from the QIs of anyone, because the population
links them (that is what useful synthetic data should reproduce). So the
attack is run twice: on train rows (the people in the training data) and on
holdout rows (people who are not). The *residual risk*
``(attack - control) / (1 - control)`` is the part of the attacker's success
that only exists for people in the training data (Giomi et al., 2023,
"Anonymeter"). Each rate has a Wilson interval at level
``1 - (1 - confidence) / 2``; the risk interval combines the two worst cases,
so it holds at level ``confidence`` or better (Bonferroni).

Defaults
--------
* ``sensitive=None, quasi_identifiers=None``: every column is attacked in turn
  as the secret, with all other columns as QIs (an attacker who knows
  everything else about a person: the worst case).
* only ``quasi_identifiers`` given: every other column is a secret in turn.
* only ``sensitive`` given: every other column is a QI.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..columns import numeric_values
from ..errors import InvalidParameterError
from ..metadata import Metadata
from ._common import (
    RandomState,
    as_generator,
    check_tables,
    confidence_level,
    emit,
    positive_int,
    wilson_interval,
)
from .mixed_distance import MixedTypeDistance, _category_text

__all__ = ["SecretResult", "AttributeInferenceResult", "attribute_inference"]


@dataclass(frozen=True)
class SecretResult:
    """The attack on one sensitive column."""

    sensitive: str
    quasi_identifiers: tuple[str, ...]
    kind: str
    attack_rate: float
    attack_ci: tuple[float, float]
    control_rate: float
    control_ci: tuple[float, float]
    residual_risk: float
    residual_risk_ci: tuple[float, float]
    n_targets: int
    n_controls: int
    tolerance: float | None  # absolute tolerance of a numeric secret

    def to_dict(self) -> dict[str, Any]:
        return {
            "quasi_identifiers": list(self.quasi_identifiers),
            "kind": self.kind,
            "attack_rate": self.attack_rate,
            "attack_ci": list(self.attack_ci),
            "control_rate": self.control_rate,
            "control_ci": list(self.control_ci),
            "residual_risk": self.residual_risk,
            "residual_risk_ci": list(self.residual_risk_ci),
            "n_targets": self.n_targets,
            "n_controls": self.n_controls,
            "tolerance": self.tolerance,
        }


@dataclass(frozen=True)
class AttributeInferenceResult:
    """Attribute-inference results per sensitive column (see :func:`attribute_inference`)."""

    secrets: dict[str, SecretResult]
    n_neighbors: int
    numeric_tolerance: float
    confidence: float

    def __getitem__(self, column: str) -> SecretResult:
        return self.secrets[column]

    @property
    def worst(self) -> SecretResult | None:
        """The secret with the highest residual risk (None when nothing was attacked)."""
        if not self.secrets:
            return None
        return max(
            self.secrets.values(),
            key=lambda r: -math.inf if math.isnan(r.residual_risk) else r.residual_risk,
        )

    @property
    def max_residual_risk(self) -> float:
        w = self.worst
        return math.nan if w is None else w.residual_risk

    def to_dict(self) -> dict[str, Any]:
        w = self.worst
        return {
            "secrets": {name: r.to_dict() for name, r in self.secrets.items()},
            "max_residual_risk": self.max_residual_risk,
            "worst_secret": None if w is None else w.sensitive,
            "n_neighbors": self.n_neighbors,
            "numeric_tolerance": self.numeric_tolerance,
            "confidence": self.confidence,
        }


def attribute_inference(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: str | Sequence[str] | None = None,
    metadata: Metadata | dict[str, Any] | None = None,
    n_targets: int = 1_000,
    n_neighbors: int = 1,
    numeric_tolerance: float = 0.05,
    confidence: float = 0.95,
    random_state: RandomState = None,
) -> AttributeInferenceResult:
    """Attack each sensitive column from the quasi-identifiers, on train targets vs holdout controls.

    Parameters
    ----------
    train, holdout, synthetic:
        The training table, real rows never used for training, and the synthetic table.
    quasi_identifiers, sensitive:
        Columns the attacker knows, and the secret column(s); see the module
        docstring for the defaults.
    metadata:
        Column kinds (a :class:`tabgan.Metadata` or overrides); detected when None.
    n_targets:
        At most this many train targets and as many holdout controls are attacked.
    n_neighbors:
        Synthetic rows the guess is taken from.
    numeric_tolerance:
        A numeric guess within this fraction of the column's robust range is a success.
    confidence:
        Level of the residual-risk interval.
    random_state:
        Seed or ``numpy.random.Generator``.
    """
    train, holdout, synthetic, msgs = check_tables(train, holdout, synthetic)
    for m in msgs:
        emit(m)
    rng = as_generator(random_state)
    meta = None if metadata is None else Metadata.detect(train, metadata)
    dist = MixedTypeDistance(meta).fit(train)
    plan = resolve_columns(list(train.columns), quasi_identifiers, sensitive)
    if not plan:
        emit("The table has a single column: there is nothing to infer it from; skipped.")
    return _attribute(
        dist,
        train,
        holdout,
        synthetic,
        plan=plan,
        n_targets=n_targets,
        n_neighbors=n_neighbors,
        numeric_tolerance=numeric_tolerance,
        confidence=confidence,
        rng=rng,
    )


def resolve_columns(
    columns: list[str],
    quasi_identifiers: Sequence[str] | None,
    sensitive: str | Sequence[str] | None,
) -> list[tuple[str, tuple[str, ...]]]:
    """(secret, its QIs) pairs from the user's choice and the documented defaults."""
    qis = _as_list(quasi_identifiers, "quasi_identifiers")
    secrets = _as_list(sensitive, "sensitive")
    for label, given in (("quasi_identifiers", qis), ("sensitive", secrets)):
        if given is not None:
            unknown = [c for c in given if c not in columns]
            if unknown:
                raise InvalidParameterError(
                    f"The '{label}' parameter names columns that are not in the tables: "
                    f"{unknown}. The tables have: {columns}."
                )
            if len(set(given)) != len(given):
                raise InvalidParameterError(f"The '{label}' parameter repeats a column: {given}.")
    if qis is not None and secrets is not None:
        both = sorted(set(qis) & set(secrets))
        if both:
            raise InvalidParameterError(
                f"Columns {both} are both quasi-identifiers and sensitive; a column the "
                "attacker knows cannot be the secret. Pick one role per column."
            )
    if qis is not None and not qis:
        raise InvalidParameterError(
            "The 'quasi_identifiers' parameter is empty; name at least one."
        )
    if secrets is not None and not secrets:
        raise InvalidParameterError("The 'sensitive' parameter is empty; name at least one.")
    if secrets is None:
        secrets = [c for c in columns if qis is None or c not in qis]
    plan = []
    for s in secrets:
        q = tuple(qis) if qis is not None else tuple(c for c in columns if c != s)
        if q:
            plan.append((s, q))
    return plan


def _as_list(value: str | Sequence[str] | None, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise InvalidParameterError(
            f"The '{name}' parameter must be a column name or a list of names. Got {value!r}."
        ) from None


def _attribute(
    dist: MixedTypeDistance,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    plan: list[tuple[str, tuple[str, ...]]],
    n_targets: int,
    n_neighbors: int,
    numeric_tolerance: float,
    confidence: float,
    rng: np.random.Generator,
) -> AttributeInferenceResult:
    positive_int(n_targets, "n_targets", 1)
    positive_int(n_neighbors, "n_neighbors", 1)
    confidence_level(confidence)
    if not isinstance(numeric_tolerance, (int, float)) or not numeric_tolerance >= 0:
        raise InvalidParameterError(
            "The 'numeric_tolerance' parameter must be a float >= 0 (a fraction of the "
            f"column's robust range). Got {numeric_tolerance!r} instead."
        )
    n_t = min(n_targets, len(train))
    n_c = min(n_targets, len(holdout))
    t_rows = train.iloc[rng.choice(len(train), size=n_t, replace=False)]
    c_rows = holdout.iloc[rng.choice(len(holdout), size=n_c, replace=False)]
    level = 1 - (1 - confidence) / 2  # each rate; the combination then holds at `confidence`
    secrets: dict[str, SecretResult] = {}
    all_t, all_c, all_s = dist.encode(
        t_rows, c_rows, synthetic, roles=("training", "holdout", "synthetic")
    )
    for secret, qis in plan:
        enc_t, enc_c, enc_s = (e.select(qis) for e in (all_t, all_c, all_s))
        k = min(n_neighbors, len(synthetic))
        nn_t = dist.search(enc_t, enc_s, k=k)
        nn_c = dist.search(enc_c, enc_s, k=k)
        numeric = secret in dist.numeric_
        tol: float | None = None
        if numeric:
            spec = dist.numeric_[secret]
            syn_vals = numeric_values(secret, synthetic[secret], spec.kind, table="synthetic")
            tol = float(numeric_tolerance * spec.scale)
            ok_t = _numeric_success(
                syn_vals[nn_t.indices],
                numeric_values(secret, t_rows[secret], spec.kind, table="training"),
                tol,
            )
            ok_c = _numeric_success(
                syn_vals[nn_c.indices],
                numeric_values(secret, c_rows[secret], spec.kind, table="holdout"),
                tol,
            )
            kind = spec.kind
        else:
            joined = pd.concat(
                [_category_text(x[secret]) for x in (synthetic, t_rows, c_rows)],
                ignore_index=True,
            )
            codes, _ = pd.factorize(joined, use_na_sentinel=False)
            s_codes = codes[: len(synthetic)]
            t_codes = codes[len(synthetic) : len(synthetic) + n_t]
            c_codes = codes[len(synthetic) + n_t :]
            ok_t = _mode(s_codes[nn_t.indices]) == t_codes
            ok_c = _mode(s_codes[nn_c.indices]) == c_codes
            kind = dist.metadata_[secret].kind
        a, c = float(ok_t.mean()), float(ok_c.mean())
        a_ci = wilson_interval(float(ok_t.sum()), n_t, level)
        c_ci = wilson_interval(float(ok_c.sum()), n_c, level)
        secrets[secret] = SecretResult(
            sensitive=secret,
            quasi_identifiers=qis,
            kind=kind,
            attack_rate=a,
            attack_ci=a_ci,
            control_rate=c,
            control_ci=c_ci,
            residual_risk=_residual(a, c),
            residual_risk_ci=(_residual(a_ci[0], c_ci[1]), _residual(a_ci[1], c_ci[0])),
            n_targets=n_t,
            n_controls=n_c,
            tolerance=tol,
        )
    return AttributeInferenceResult(
        secrets=secrets,
        n_neighbors=n_neighbors,
        numeric_tolerance=float(numeric_tolerance),
        confidence=confidence,
    )


def _residual(attack: float, control: float) -> float:
    """(attack - control) / (1 - control), in [-1, 1]; 0 when the control is already perfect."""
    if control >= 1.0:
        return 0.0
    return float(np.clip((attack - control) / (1.0 - control), -1.0, 1.0))


def _mode(codes: np.ndarray) -> np.ndarray:
    """Most common code per row of an (n, k) array (ties: the nearest neighbour's value wins)."""
    if codes.shape[1] == 1:
        return codes[:, 0]
    # count, per row, how often each entry's value occurs in the row
    counts = (codes[:, :, None] == codes[:, None, :]).sum(axis=2)
    best = np.argmax(counts, axis=1)  # first maximum = closest neighbour among the tied values
    return codes[np.arange(len(codes)), best]


def _numeric_success(guesses: np.ndarray, truth: np.ndarray, tol: float) -> np.ndarray:
    if guesses.shape[1] > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing neighbours -> NaN
            guess = np.nanmedian(guesses, axis=1)
    else:
        guess = guesses[:, 0]
    both_missing = np.isnan(guess) & np.isnan(truth)
    with np.errstate(invalid="ignore"):
        close = np.abs(guess - truth) <= tol
    return both_missing | close
