"""The encoded table held compactly, and expanded to one-hot rows a batch at a time.

An encoded row (:mod:`tabgan.layout`) is mostly one-hots: on the NYC flights table,
2,295 float32 columns a row, of which 19 carry information. Training keeps instead,
per row, the chosen index of each softmax span (a category, a Gaussian-mixture mode,
missing or not) as a small integer and the scalar of each value span, and writes the
one-hot form only for the rows of a batch (:meth:`EncodedTable.__getitem__`). The
conditional sampler reads the codes directly (:meth:`EncodedTable.span_codes`).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from .layout import Layout, Span

__all__ = ["EncodedTable"]


class EncodedTable:
    """``codes[:, k]``: the chosen entry of the layout's ``k``-th softmax span; ``values[:, k]``:
    the scalar of its ``k``-th value (tanh) span. Indexing with row positions gives the
    rows in the layout's dense encoding (float32, ``layout.width`` columns)."""

    def __init__(self, layout: Layout, codes: torch.Tensor, values: torch.Tensor) -> None:
        soft, tanh = layout.softmax_spans, layout.tanh_spans
        if codes.shape[1:] != (len(soft),) or values.shape[1:] != (len(tanh),) or \
                codes.shape[0] != values.shape[0]:
            raise ValueError(
                f"An EncodedTable of this layout needs codes of shape (n, {len(soft)}) and "
                f"values of shape (n, {len(tanh)}); got {tuple(codes.shape)} and "
                f"{tuple(values.shape)}."
            )
        self.layout = layout
        self.codes = codes
        self.values = values
        device = codes.device
        self._starts = torch.tensor([s.start for s in soft], dtype=torch.long, device=device)
        self._value_cols = torch.tensor([s.start for s in tanh], dtype=torch.long, device=device)
        self._soft_index = {s: k for k, s in enumerate(soft)}

    @staticmethod
    def code_dtype(layout: Layout) -> np.dtype:
        """The smallest integer type that holds every softmax span's indices."""
        widest = max((s.width for s in layout.softmax_spans), default=1)
        return np.dtype(np.int8 if widest <= 127 else np.int16 if widest <= 32767 else np.int32)

    @classmethod
    def from_dense(cls, layout: Layout, dense: torch.Tensor) -> "EncodedTable":
        """The compact form of rows in the dense encoding (each softmax span one-hot)."""
        dtype = torch.from_numpy(np.zeros(0, dtype=cls.code_dtype(layout))).dtype
        codes = torch.stack(
            [dense[:, s.start:s.end].argmax(1) for s in layout.softmax_spans], 1
        ) if layout.softmax_spans else torch.zeros(dense.shape[0], 0, dtype=torch.long)
        values = dense[:, [s.start for s in layout.tanh_spans]].to(torch.float32)
        return cls(layout, codes.to(dtype=dtype, device=dense.device), values)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, layout.width)``: the shape of the dense encoding."""
        return (self.codes.shape[0], self.layout.width)

    @property
    def device(self) -> torch.device:
        return self.codes.device

    def __len__(self) -> int:
        return self.codes.shape[0]

    @property
    def nbytes(self) -> int:
        """Bytes held by the codes and values."""
        return self.codes.element_size() * self.codes.nelement() + \
            self.values.element_size() * self.values.nelement()

    def digest(self) -> str:
        """A SHA-256 digest (hex) of the codes and values: the same rows, the same digest."""
        out = hashlib.sha256()
        for t in (self.codes, self.values):
            out.update(t.detach().cpu().contiguous().numpy().tobytes())
        return out.hexdigest()

    def to(self, device: torch.device | str) -> "EncodedTable":
        return EncodedTable(self.layout, self.codes.to(device), self.values.to(device))

    def __getitem__(self, rows: torch.Tensor | slice) -> torch.Tensor:
        """The dense encoding (float32) of ``rows`` (positions, a boolean mask or a slice)."""
        codes, values = self.codes[rows], self.values[rows]
        out = torch.zeros(codes.shape[0], self.layout.width, device=self.device)
        if codes.shape[1]:
            out.scatter_(1, codes.long() + self._starts, 1.0)
        if values.shape[1]:
            out[:, self._value_cols] = values
        return out

    def span_codes(self, span: Span) -> torch.Tensor:
        """Each row's chosen entry (long) of the softmax ``span``."""
        return self.codes[:, self._soft_index[span]].long()

    def dense(self) -> torch.Tensor:
        """The whole table in the dense encoding (for tests and small tables)."""
        return self[:]
