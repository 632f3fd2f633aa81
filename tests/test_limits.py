"""Tests for tabgan/limits.py: row subsampling and the thread scope."""

from __future__ import annotations

import numpy as np

from tabgan.limits import subsample_rows


def test_subsample_keeps_every_row_without_drawing():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert subsample_rows(5, 5, rng).tolist() == [0, 1, 2, 3, 4]
    assert subsample_rows(5, None, rng).tolist() == [0, 1, 2, 3, 4]
    assert rng.bit_generator.state == state  # nothing drawn: later draws are unchanged


def test_subsample_is_one_seeded_choice_sorted():
    rows = subsample_rows(100, 10, np.random.default_rng(3))
    expected = np.sort(np.random.default_rng(3).choice(100, size=10, replace=False))
    np.testing.assert_array_equal(rows, expected)
    assert len(np.unique(rows)) == 10 and np.all(np.diff(rows) > 0)
