"""Verbatim copies of rare values: a risk of its own.

A value that few training rows hold (a rare occupation, an unusual e-mail domain, one
person's exact income) points at those rows wherever it appears. A synthetic table can
copy such values without copying whole rows, which the distance and membership audits
do not see. :func:`rare_value_copies` counts, per column, the training values held by
fewer than ``k`` training rows that appear verbatim in the synthetic rows, and compares
the share of synthetic rows holding one with the share of real rows never used for
training (the holdout) holding one by chance.

Columns checked: discrete ones (booleans apart: their two values are public) and
continuous ones whose values are not all whole numbers (an exact float of a training
row is as telling as a rare category); integer and datetime columns are not, since
their values repeat naturally (an age of 90 is no one's fingerprint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..metadata import Metadata
from ._common import check_tables, positive_int

__all__ = ["RareValueResult", "rare_value_copies"]

#: Default threshold: a training value held by fewer rows is rare (tabgan's own
#: ``min_category_rows`` default).
DEFAULT_K = 10


@dataclass(frozen=True)
class RareValueResult:
    """Result of :func:`rare_value_copies`.

    ``columns``: per checked column, ``rare_values`` (training values held by fewer
    than ``k`` rows), ``copied_values`` (how many of them appear in the synthetic
    rows), ``synthetic_share`` and ``holdout_share`` (rows holding one).
    ``synthetic_share`` / ``holdout_share``: rows holding at least one rare training
    value in any checked column. No value is reported, only counts.
    """

    k: int
    synthetic_share: float
    holdout_share: float
    n_synthetic: int
    n_holdout: int
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def excess_share(self) -> float:
        """Synthetic rows holding a rare training value beyond the holdout's chance rate."""
        return self.synthetic_share - self.holdout_share

    @property
    def excess_share_low(self) -> float:
        """One-sided 95 % lower bound of :attr:`excess_share` (normal approximation of
        the difference of two shares): what the risk level reads, so that chance alone
        (an independent real sample holds rare training values too) is not flagged."""
        p, q = self.synthetic_share, self.holdout_share
        se = np.sqrt(p * (1 - p) / max(self.n_synthetic, 1) + q * (1 - q) / max(self.n_holdout, 1))
        return float(self.excess_share - 1.6449 * se)

    @property
    def copied_values(self) -> int:
        return int(sum(c["copied_values"] for c in self.columns.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "synthetic_share": self.synthetic_share,
            "holdout_share": self.holdout_share,
            "excess_share": self.excess_share,
            "excess_share_low": self.excess_share_low,
            "copied_values": self.copied_values,
            "columns": {k: dict(v) for k, v in self.columns.items()},
        }


def rare_value_copies(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    k: int = DEFAULT_K,
    metadata: Metadata | dict[str, Any] | None = None,
) -> RareValueResult:
    """Rare training values copied verbatim into ``synthetic`` (see the module docstring).

    ``holdout``: real rows never used for training (the baseline); ``k``: a training
    value held by fewer rows is rare; ``metadata``: column kinds, detected from
    ``train`` when None. Categories the metadata declares are public (a private fit's
    codebook, whose values a generator may write without having read them): they are
    not counted as rare."""
    train, holdout, synthetic, _ = check_tables(train, holdout, synthetic)
    k = positive_int(k, "k")
    meta = Metadata.detect(train, metadata)
    hit_syn = np.zeros(len(synthetic), dtype=bool)
    hit_hold = np.zeros(len(holdout), dtype=bool)
    columns: dict[str, dict[str, Any]] = {}
    for name in train.columns:
        kind = meta[name].kind
        if kind in ("discrete", "identifier"):
            def read(col: pd.Series) -> pd.Series:
                return col.astype(str).where(col.notna())
        elif kind == "continuous":
            def read(col: pd.Series) -> pd.Series:
                return pd.to_numeric(col, errors="coerce")
        else:
            continue
        values = read(train[name]).dropna()
        if not len(values) or (kind == "continuous"
                               and np.all(values.to_numpy() == np.round(values.to_numpy()))):
            continue
        counts = values.value_counts()
        rare = counts.index[counts.to_numpy() < k]
        declared = meta[name].categories
        if declared:
            rare = rare[~rare.isin([str(c) for c in declared])]
        if not len(rare):
            continue
        syn, hold = read(synthetic[name]), read(holdout[name])
        in_syn = (syn.isin(rare) & syn.notna()).to_numpy()
        in_hold = (hold.isin(rare) & hold.notna()).to_numpy()
        hit_syn |= in_syn
        hit_hold |= in_hold
        columns[name] = {
            "rare_values": int(len(rare)),
            "copied_values": int(syn[in_syn].nunique()),
            "synthetic_share": float(in_syn.mean()),
            "holdout_share": float(in_hold.mean()),
        }
    return RareValueResult(
        k=int(k),
        synthetic_share=float(hit_syn.mean()) if len(hit_syn) else 0.0,
        holdout_share=float(hit_hold.mean()) if len(hit_hold) else 0.0,
        n_synthetic=len(synthetic),
        n_holdout=len(holdout),
        columns=columns,
    )
