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

A relation that holds in most rows but not all (in the crashes table, 96.5 % of the
occupants with injury severity 4 died and 0.4 % of the others; in lending_club each
sub-grade has one to three interest rates) cannot be derived. :func:`find_joint` finds
such pairs (a discrete column and a discrete or few-valued numeric one, strongly
dependent) and the transformer models each as *one* categorical column whose
categories are the pair's frequent value pairs (*cells*): the generator then picks a
pair, never two values that must agree by chance. A pair held by fewer than
:data:`MIN_ROWS_PER_VALUE` rows is no cell (its rows are encoded as their parent
value's most frequent cell), so no rare combination of one or a few people is copied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MAX_JOINT_CELLS", "MIN_JOINT_COVER", "MIN_JOINT_DEPENDENCE", "MIN_ROWS_PER_VALUE",
    "Derived", "JointPair", "find_derived", "find_joint",
]

#: Fewest rows per parent value, on average, for a dependency to count as a fact.
MIN_ROWS_PER_VALUE = 20


@dataclass
class Derived:
    """Column ``name`` is ``values[k]`` in every row whose ``parent`` has its ``k``-th
    category (the parent's category order in the transformer); ``kind`` and ``dtype``
    restore the column as it was. ``joint``: the column is the child of a joint column
    (:func:`find_joint`), whose categories are cells: the parent's categories then
    repeat, one per cell, and ``values`` holds each cell's child value."""

    name: str
    parent: str
    kind: str
    dtype: str
    values: list[Any] = field(default_factory=list)  # None for a missing value
    pandas_categories: list[Any] | None = None
    ordered: bool = False
    joint: bool = False  # the parent's categories are the cells of a joint column


def find_derived(
    df: pd.DataFrame,
    parents: Mapping[str, np.ndarray],
    n_values: Mapping[str, int],
    candidates: Sequence[str],
) -> dict[str, tuple[str, np.ndarray]]:
    """Children and their parents: ``{child: (parent, child value codes)}``.

    ``parents``: per eligible parent column, each row's category code (``0 ..
    n_values[parent] - 1``, or ``-1`` for a row whose value is pooled with rare ones:
    such rows are left out of the check, and the child is written missing for them);
    ``candidates``: the columns that may be derived, in the
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
            if parent == child or parent in derived:
                continue
            pcodes = parents[parent]
            pooled = pcodes < 0
            if pooled.any():  # rows of pooled rare values take no part
                if len(np.unique(codes[~pooled])) > n_values[parent]:
                    continue
                pcodes, ccodes = pcodes[~pooled], codes[~pooled]
            elif k > n_values[parent]:
                continue
            else:
                ccodes = codes
            pair = pcodes.astype(np.int64) * k + ccodes
            if parent not in present:
                present[parent] = len(np.unique(pcodes))
            if len(np.unique(pair)) == present[parent]:
                found = parent
                break
        if found is not None:
            derived[child] = (found, codes)
            used_as_parent.add(found)
            eligible = [p for p in eligible if p != child]
    return derived


# ----------------------------------------------------------------- joint columns
#: Most cells (parent value, child value) of a joint column.
MAX_JOINT_CELLS = 128
#: Least dependence of a pair modelled jointly: their mutual information over the
#: smaller of their two entropies (1: one column is a function of the other; 0: they
#: are independent).
MIN_JOINT_DEPENDENCE = 0.5
#: Least share of the rows that a joint column's cells must hold as they are; the rows
#: of the other pairs are encoded as their parent value's most frequent cell.
MIN_JOINT_COVER = 0.99
#: Most columns examined for joint pairs (the pairs grow with its square).
MAX_JOINT_COLUMNS = 60


@dataclass
class JointPair:
    """Columns ``parent`` and ``child`` modelled as one categorical column whose categories
    are the ``cells`` (rows of ``(parent code, child code)``); ``counts``: the rows encoded
    as each cell (those of a dropped pair added to their parent value's most frequent
    cell); ``dependence``: see :data:`MIN_JOINT_DEPENDENCE`."""

    parent: str
    child: str
    cells: np.ndarray
    counts: np.ndarray
    dependence: float


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def find_joint(
    codes: Mapping[str, np.ndarray],
    n_values: Mapping[str, int],
    parents: Sequence[str],
) -> list[JointPair]:
    """Pairs of strongly dependent columns to model as one categorical column each.

    ``codes``: per candidate column (discrete, or numeric with few distinct values), each
    row's code ``0 .. n_values[column] - 1``; ``parents``: the candidates that may be
    parents (discrete columns: the joint column keeps the parent's name). A pair is
    taken when its dependence is at least :data:`MIN_JOINT_DEPENDENCE`, its cells of at
    least :data:`MIN_ROWS_PER_VALUE` rows (and each parent value's most frequent cell)
    are at most :data:`MAX_JOINT_CELLS` and hold at least :data:`MIN_JOINT_COVER` of
    the rows, with :data:`MIN_ROWS_PER_VALUE` rows per cell on average. Pairs are taken greedily, most dependent first, each column in one pair at
    most. Of two discrete columns the parent is the one with more values. Only the first
    :data:`MAX_JOINT_COLUMNS` candidates are examined. The work is one ``np.bincount``
    over the rows per pair.
    """
    names = list(codes)[:MAX_JOINT_COLUMNS]
    can_parent = set(parents)
    if not names:
        return []
    n = len(codes[names[0]])
    entropy = {c: _entropy(np.bincount(codes[c], minlength=n_values[c])) for c in names}
    found: list[tuple[float, int, JointPair]] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if a not in can_parent and b not in can_parent:
                continue
            if a in can_parent and b in can_parent:
                parent, child = (a, b) if n_values[a] >= n_values[b] else (b, a)
            else:
                parent, child = (a, b) if a in can_parent else (b, a)
            small = min(entropy[a], entropy[b])
            kp, kc = n_values[parent], n_values[child]
            if small <= 0 or kp * kc > 1_000_000:
                continue
            table = np.bincount(codes[parent].astype(np.int64) * kc + codes[child],
                                minlength=kp * kc)
            dependence = (entropy[a] + entropy[b] - _entropy(table)) / small
            if dependence < MIN_JOINT_DEPENDENCE:
                continue
            pair = _joint_cells(table.reshape(kp, kc), parent, child, dependence, n)
            if pair is not None:
                found.append((dependence, len(found), pair))
    used: set[str] = set()
    out = []
    for _, _, pair in sorted(found, key=lambda t: (-t[0], t[1])):
        if pair.parent not in used and pair.child not in used:
            out.append(pair)
            used.update((pair.parent, pair.child))
    return out


def _joint_cells(
    table: np.ndarray, parent: str, child: str, dependence: float, n: int
) -> JointPair | None:
    """The cells of a candidate pair from its ``(parent, child)`` contingency table, or
    ``None`` where they are too many or hold too few of the rows."""
    keep = table >= MIN_ROWS_PER_VALUE
    seen = table.sum(axis=1) > 0
    top = table.argmax(axis=1)
    if (table[np.flatnonzero(seen), top[seen]] < MIN_ROWS_PER_VALUE).any():
        return None  # a parent value's only cell would be a pair of a few rows, copied
    keep[np.flatnonzero(seen), top[seen]] = True  # every parent value keeps one cell
    cells = int(keep.sum())
    if (cells > MAX_JOINT_CELLS or table[keep].sum() < MIN_JOINT_COVER * n
            or n < MIN_ROWS_PER_VALUE * cells):  # too few rows per cell on average
        return None
    rows = table.sum(axis=1) - np.where(keep, table, 0).sum(axis=1)  # moved rows per parent
    counts = np.where(keep, table, 0)
    counts[np.flatnonzero(seen), top[seen]] += rows[seen]
    p_codes, c_codes = np.nonzero(keep)  # parent-major order
    return JointPair(parent, child, np.stack([p_codes, c_codes], axis=1),
                     counts[p_codes, c_codes], float(dependence))
