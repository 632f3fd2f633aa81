"""The two limits on the work of an audit or an evaluation: rows and threads.

:func:`subsample_rows` implements every ``max_rows`` parameter (the distance-to-
closest-record audit, the detection classifier), so that a seed draws the same rows
wherever it is used.

This module imports only NumPy, so any module may use it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["subsample_rows"]


def subsample_rows(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of at most ``max_rows`` of ``n`` rows: all of them (in order, drawing
    nothing from ``rng``) when ``n <= max_rows`` or ``max_rows`` is None, else a uniform
    sample without replacement (one ``rng.choice`` call)."""
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))
