"""The layout of an encoded row: which slice is which column, and its activation.

Computed once by the transformer and shared by the networks (output
activations), the losses (conditional cross-entropy) and the sampler
(conditional vectors), so that no part walks the columns on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

__all__ = ["Span", "Layout"]

Activation = Literal["tanh", "softmax"]
Role = Literal["value", "mode", "missing", "category"]


@dataclass(frozen=True)
class Span:
    """A contiguous slice ``[start, end)`` of the encoded row."""

    column: str
    role: str  # one of Role
    start: int
    end: int

    @property
    def width(self) -> int:
        return self.end - self.start

    @property
    def activation(self) -> str:
        return "tanh" if self.role == "value" else "softmax"

    def to_dict(self) -> dict:
        return {"column": self.column, "role": self.role, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Layout:
    """All spans of an encoded row, in order."""

    spans: tuple[Span, ...]

    @property
    def width(self) -> int:
        return self.spans[-1].end if self.spans else 0

    @property
    def softmax_spans(self) -> tuple[Span, ...]:
        return tuple(s for s in self.spans if s.activation == "softmax")

    @property
    def tanh_spans(self) -> tuple[Span, ...]:
        return tuple(s for s in self.spans if s.activation == "tanh")

    @property
    def condition_spans(self) -> tuple[Span, ...]:
        """Spans that conditional vectors can fix (training-by-sampling).

        Discrete columns with at least two categories, and the missing-value
        indicators of numeric columns (so that missing rates are learned too).
        """
        return tuple(
            s for s in self.spans if s.role in ("category", "missing") and s.width >= 2
        )

    @property
    def condition_width(self) -> int:
        return sum(s.width for s in self.condition_spans)

    def to_list(self) -> list[dict]:
        return [s.to_dict() for s in self.spans]

    @classmethod
    def from_list(cls, items: list[dict]) -> "Layout":
        return cls(tuple(Span(**d) for d in items))

    # ------------------------------------------------------------ tensors
    def segment_tensors(self, device: torch.device) -> "SegmentIndex":
        return SegmentIndex.build(self, device)


@dataclass(frozen=True)
class SegmentIndex:
    """Index tensors that let activations and losses treat all softmax spans at once."""

    tanh_cols: torch.Tensor  # (n_tanh,) long
    soft_cols: torch.Tensor  # (n_soft,) long: encoded columns inside softmax spans
    soft_segment: torch.Tensor  # (n_soft,) long: which softmax span each belongs to
    n_segments: int
    membership: torch.Tensor  # (n_soft, n_segments) float one-hot
    cond_to_output: torch.Tensor  # (condition_width,) long: encoded column of each cond slot

    @classmethod
    def build(cls, layout: Layout, device: torch.device) -> "SegmentIndex":
        tanh = [i for s in layout.tanh_spans for i in range(s.start, s.end)]
        soft, seg = [], []
        for k, s in enumerate(layout.softmax_spans):
            soft.extend(range(s.start, s.end))
            seg.extend([k] * s.width)
        n_seg = len(layout.softmax_spans)
        seg_t = torch.tensor(seg, dtype=torch.long, device=device)
        member = torch.zeros(len(soft), max(n_seg, 1), device=device)
        if soft:
            member[torch.arange(len(soft), device=device), seg_t] = 1.0
        cond = [i for s in layout.condition_spans for i in range(s.start, s.end)]
        return cls(
            tanh_cols=torch.tensor(tanh, dtype=torch.long, device=device),
            soft_cols=torch.tensor(soft, dtype=torch.long, device=device),
            soft_segment=seg_t,
            n_segments=n_seg,
            membership=member,
            cond_to_output=torch.tensor(cond, dtype=torch.long, device=device),
        )
