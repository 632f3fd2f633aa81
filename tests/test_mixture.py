from __future__ import annotations

import numpy as np

from tabgan.mixture import fit_mixtures


def test_recovers_separated_modes_and_prunes_the_rest():
    r = np.random.default_rng(0)
    a = np.concatenate([r.normal(-10, 1, 4000), r.normal(10, 2, 6000)])
    b = r.normal(5, 1, 3000)
    (pa, pb) = fit_mixtures([a, b], rng=np.random.default_rng(1))
    big = pa.weights > 0.05
    assert big.sum() >= 2
    assert np.isclose(pa.weights.sum(), 1) and np.isclose(pb.weights.sum(), 1)
    # the weighted mean and variance match the data's
    assert abs((pa.weights * pa.means).sum() - a.mean()) < 0.5
    assert abs((pb.weights * pb.means).sum() - b.mean()) < 0.2
    assert np.all(pb.stds > 0)


def test_same_rng_same_result():
    x = np.random.default_rng(0).normal(size=30_000)
    p1 = fit_mixtures([x], rng=np.random.default_rng(5), max_samples=2000)[0]
    p2 = fit_mixtures([x], rng=np.random.default_rng(5), max_samples=2000)[0]
    np.testing.assert_array_equal(p1.means, p2.means)


def test_spike_and_slab():
    r = np.random.default_rng(0)
    x = np.where(r.random(5000) < 0.9, 0.0, r.normal(5000, 1000, 5000))
    p = fit_mixtures([x], rng=np.random.default_rng(0))[0]
    assert np.min(np.abs(p.means)) < 50  # a mode sits on the spike at zero
    assert p.weights[np.argmin(np.abs(p.means))] > 0.8
