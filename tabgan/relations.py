"""Relations between columns found in the data: columns that are functions of another.

A table often holds one fact twice: a category and its numeric code (Adult's
``education`` and ``education-num``), a code and its label. Modelled as two outputs,
the generator must learn to coordinate them and gets it wrong in a share of the rows
(Adult: 16 % of synthetic rows paired an education with another one's number). A
column that the training rows show to be a function of a discrete column is instead
*derived*: the transformer models the parent alone and writes the child from it, so
the relation holds in every generated row.

:func:`find_derived` looks for exact functional dependencies only (every parent value
goes with exactly one child value in every row, missing values counting as a value),
with the parent a discrete column with a category for each of its values (no pooled
rare values) and at least :data:`MIN_ROWS_PER_VALUE` rows per parent value on average,
so that a dependency that holds by chance in a small table is not taken for a fact.
The work is one ``np.unique`` over row codes per candidate pair, after a cheap
necessary condition (the child has no more distinct values than the parent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MIN_ROWS_PER_VALUE", "Derived", "find_derived"]

#: Fewest rows per parent value, on average, for a dependency to count as a fact.
MIN_ROWS_PER_VALUE = 20


@dataclass
class Derived:
    """Column ``name`` is ``values[k]`` in every row whose ``parent`` has its ``k``-th
    category (the parent's category order in the transformer); ``kind`` and ``dtype``
    restore the column as it was."""

    name: str
    parent: str
    kind: str
    dtype: str
    values: list[Any] = field(default_factory=list)  # None for a missing value
    pandas_categories: list[Any] | None = None
    ordered: bool = False


def find_derived(
    df: pd.DataFrame,
    parents: Mapping[str, np.ndarray],
    n_values: Mapping[str, int],
    candidates: Sequence[str],
) -> dict[str, tuple[str, np.ndarray]]:
    """Children and their parents: ``{child: (parent, child value codes)}``.

    ``parents``: per eligible parent column, each row's category code (``0 ..
    n_values[parent] - 1``); ``candidates``: the columns that may be derived, in the
    order they are considered. A column that is a parent is never derived, and a
    derived column is never a parent, so there are no chains. Among several parents a
    child takes the one with the fewest values (ties: the first in ``parents``).
    """
    n = len(df)
    derived: dict[str, tuple[str, np.ndarray]] = {}
    used_as_parent: set[str] = set()
    eligible = [p for p in parents if n_values[p] >= 2 and n >= MIN_ROWS_PER_VALUE * n_values[p]]
    present: dict[str, int] = {}  # parent values seen, counted on first need
    for child in candidates:
        if child in used_as_parent:
            continue
        codes, uniques = pd.factorize(df[child], use_na_sentinel=False)
        k = len(uniques)
        if k < 2:
            continue  # a constant is no relation
        found = None
        for parent in sorted(eligible, key=lambda p: n_values[p]):
            if parent == child or parent in derived or k > n_values[parent]:
                continue
            pair = parents[parent].astype(np.int64) * k + codes
            if parent not in present:
                present[parent] = len(np.unique(parents[parent]))
            if len(np.unique(pair)) == present[parent]:
                found = parent
                break
        if found is not None:
            derived[child] = (found, codes)
            used_as_parent.add(found)
            eligible = [p for p in eligible if p != child]
    return derived
