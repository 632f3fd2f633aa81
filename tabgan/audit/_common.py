"""Helpers shared by the audits: input checks, RNG, intervals, warnings."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InvalidDataError, InvalidParameterError

RandomState = int | np.random.Generator | None

# Below this many rows the attacks' estimates are too noisy to mean much.
SMALL_TABLE = 100


def as_generator(random_state: RandomState) -> np.random.Generator:
    """One NumPy generator from a seed, a generator, or None (fresh entropy)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
    ):
        if random_state is not None and random_state < 0:
            raise InvalidParameterError(
                f"The 'random_state' parameter must be an int >= 0, a numpy Generator or None. "
                f"Got {random_state!r} instead."
            )
        return np.random.default_rng(random_state)
    raise InvalidParameterError(
        "The 'random_state' parameter must be an int >= 0, a numpy Generator or None. "
        f"Got {random_state!r} instead."
    )


def emit(message: str, stacklevel: int = 3) -> None:
    """Warn about degenerate but legal input, pointing at the caller of the public function."""
    warnings.warn(message, UserWarning, stacklevel=stacklevel)


def confidence_level(confidence: float, name: str = "confidence") -> float:
    if not isinstance(confidence, (int, float)) or not 0.0 < float(confidence) < 1.0:
        raise InvalidParameterError(
            f"The '{name}' parameter must be a float in (0, 1), e.g. 0.95. "
            f"Got {confidence!r} instead."
        )
    return float(confidence)


def positive_int(value: object, name: str, minimum: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise InvalidParameterError(
            f"The '{name}' parameter must be an int >= {minimum}. Got {value!r} instead."
        )
    return int(value)


def check_tables(
    train: pd.DataFrame, *others: pd.DataFrame, names: tuple[str, ...] = ("holdout", "synthetic")
) -> tuple:
    """Validate the audit's tables and align their columns on the training table.

    Returns the tables (others reordered like ``train``) followed by a list of
    warning messages for degenerate but legal input.
    """
    all_names = ("train", *names)
    tables = (train, *others)
    for name, t in zip(all_names, tables):
        if not isinstance(t, pd.DataFrame):
            raise InvalidDataError(
                f"The {name} table must be a pandas DataFrame, got {type(t).__name__}. "
                "Wrap it with pandas.DataFrame(...) or read it with pandas.read_csv."
            )
        if t.columns.duplicated().any():
            dup = list(t.columns[t.columns.duplicated()])
            raise InvalidDataError(
                f"The {name} table has duplicated column names {dup}; rename them."
            )
        if len(t) == 0 or t.shape[1] == 0:
            raise InvalidDataError(
                f"The {name} table is empty ({t.shape[0]} rows, {t.shape[1]} columns)."
            )
    cols = list(train.columns)
    aligned = [train]
    for name, t in zip(names, others):
        missing = [c for c in cols if c not in t.columns]
        extra = [c for c in t.columns if c not in cols]
        if missing or extra:
            raise InvalidDataError(
                f"The {name} table's columns do not match the train table's: "
                f"missing {missing}, unexpected {extra}. All tables of an audit must have "
                "the same columns; select or rename them first."
            )
        aligned.append(t[cols].reset_index(drop=True))
    aligned[0] = train.reset_index(drop=True)

    msgs: list[str] = []
    for c in cols:
        col = train[c]
        if col.isna().all():
            msgs.append(
                f"Column {c!r} is empty (all missing) in the train table; it adds nothing "
                "to the distances."
            )
        elif col.nunique(dropna=False) == 1:
            msgs.append(
                f"Column {c!r} has a single value in the train table; it cannot tell rows "
                "apart and adds nothing to the distances."
            )
    for name, t in zip(all_names, aligned):
        if len(t) < SMALL_TABLE:
            msgs.append(
                f"The {name} table has only {len(t)} rows; audit numbers from fewer than "
                f"{SMALL_TABLE} rows are very noisy (see the intervals)."
            )
    return (*aligned, msgs)


def wilson_interval(successes: float, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n <= 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def quantile(values: np.ndarray, q: float) -> float:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan
    return float(np.quantile(v, q))
