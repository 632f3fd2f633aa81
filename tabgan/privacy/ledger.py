"""The privacy ledger: every use of the real data, with what it cost.

A private :class:`tabgan.Synthesizer` fit reads the real table in a few
places only; each is one :class:`LedgerEntry` (what it read, its epsilon and
delta, the mechanism, how it composes). Entries compose sequentially — basic
composition — so the fit is ``(sum of epsilons, sum of deltas)``-DP, and
``PrivacyLedger.epsilon`` is that sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["LedgerEntry", "PrivacyLedger"]

COMPOSITION = (
    "sequential composition over entries: the epsilons add and the deltas add "
    "(adaptive choices between entries use only earlier entries' private outputs)"
)


@dataclass(frozen=True)
class LedgerEntry:
    """One use of the real data."""

    component: str  # short name: "marginals", "training", ...
    uses: str  # what it reads from the real table and what it produces
    epsilon: float
    delta: float
    mechanism: str  # the mechanism and its noise
    composition: str  # how it combines with the other entries
    details: Mapping[str, Any] = field(default_factory=dict)  # noise scales, counts, ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "uses": self.uses,
            "epsilon": float(self.epsilon),
            "delta": float(self.delta),
            "mechanism": self.mechanism,
            "composition": self.composition,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class PrivacyLedger:
    """All uses of the real data in one private fit, and their total.

    Attributes
    ----------
    entries:
        One :class:`LedgerEntry` per component, in the order they ran.
    target_epsilon, target_delta:
        What was asked for; ``epsilon <= target_epsilon`` and ``delta <= target_delta``.
    """

    entries: tuple[LedgerEntry, ...]
    target_epsilon: float
    target_delta: float
    composition: str = COMPOSITION

    @property
    def epsilon(self) -> float:
        """Total epsilon spent: the sum over entries."""
        return float(sum(e.epsilon for e in self.entries))

    @property
    def delta(self) -> float:
        """Total delta: the sum over entries."""
        return float(sum(e.delta for e in self.entries))

    def __getitem__(self, component: str) -> LedgerEntry:
        for entry in self.entries:
            if entry.component == component:
                return entry
        raise KeyError(f"No ledger entry {component!r}; entries: {[e.component for e in self.entries]}.")

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def to_frame(self) -> pd.DataFrame:
        """One row per entry: component, epsilon, delta, mechanism, uses, composition."""
        return pd.DataFrame(
            [
                {
                    "component": e.component,
                    "epsilon": e.epsilon,
                    "delta": e.delta,
                    "mechanism": e.mechanism,
                    "uses": e.uses,
                    "composition": e.composition,
                }
                for e in self.entries
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": [e.to_dict() for e in self.entries],
            "target_epsilon": float(self.target_epsilon),
            "target_delta": float(self.target_delta),
            "composition": self.composition,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PrivacyLedger":
        return cls(
            entries=tuple(LedgerEntry(**dict(e)) for e in data["entries"]),
            target_epsilon=float(data["target_epsilon"]),
            target_delta=float(data["target_delta"]),
            composition=str(data.get("composition", COMPOSITION)),
        )

    def __str__(self) -> str:
        lines = [
            f"privacy ledger: epsilon = {self.epsilon:.4g} (asked {self.target_epsilon:.4g}), "
            f"delta = {self.delta:.3g} (asked {self.target_delta:.3g})"
        ]
        width = max(len(e.component) for e in self.entries) if self.entries else 0
        for e in self.entries:
            lines.append(
                f"  {e.component:<{width}}  eps {e.epsilon:8.4f}  delta {e.delta:9.3g}  "
                f"{e.mechanism}"
            )
            lines.append(f"  {'':<{width}}  uses: {e.uses}")
        lines.append(f"  composition: {self.composition}")
        return "\n".join(lines)
