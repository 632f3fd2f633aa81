"""A variational (Dirichlet-process) Gaussian mixture for many 1-D columns at once.

The transformer needs one mixture per continuous column. Fitting them one by
one with a general-purpose estimator costs seconds per column; here every
column is fitted in the same vectorised loop: the arrays have shape
``(columns, samples, components)`` and one iteration updates all columns.

The model is the standard mean-field variational treatment of a 1-D Gaussian
mixture with a truncated stick-breaking (Dirichlet-process) prior on the
weights and a Normal-Gamma prior on each component's mean and precision
(Bishop, *Pattern Recognition and Machine Learning*, §10.2; Blei & Jordan,
2006). A small concentration (default 1e-3) drives unneeded components'
weights towards zero, so the number of modes is learned; components whose
expected weight is below a threshold are dropped afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

__all__ = ["MixtureParams", "fit_mixtures"]


@dataclass(frozen=True)
class MixtureParams:
    """The fitted modes of one column (only the kept components)."""

    means: np.ndarray  # (k,)
    stds: np.ndarray  # (k,)
    weights: np.ndarray  # (k,), sums to 1


def fit_mixtures(
    columns: list[np.ndarray],
    *,
    n_components: int = 10,
    weight_threshold: float = 0.005,
    concentration: float = 1e-3,
    max_iter: int = 100,
    tol: float = 1e-4,
    max_samples: int | None = 20_000,
    rng: np.random.Generator,
) -> list[MixtureParams]:
    """Fit one mixture per array in ``columns`` (finite float values, any lengths).

    Columns longer than ``max_samples`` are fitted on a random subsample of
    that size (drawn from ``rng``).
    """
    if not columns:
        return []
    k = n_components
    prepared = []
    for values in columns:
        v = np.asarray(values, dtype=np.float64)
        if max_samples is not None and len(v) > max_samples:
            v = v[rng.choice(len(v), size=max_samples, replace=False)]
        prepared.append(v)
    n_max = max(len(v) for v in prepared)
    c = len(prepared)
    x = np.zeros((c, n_max))
    mask = np.zeros((c, n_max))
    loc = np.empty(c)
    scale = np.empty(c)
    for i, v in enumerate(prepared):
        loc[i] = v.mean()
        s = v.std()
        scale[i] = s if s > 0 else 1.0
        x[i, : len(v)] = (v - loc[i]) / scale[i]
        mask[i, : len(v)] = 1.0
    counts = mask.sum(axis=1)  # (c,)

    # Priors (on standardised data): mean ~ N(0, 1/(beta0*lambda)), lambda ~ Gamma(a0, b0).
    beta0, m0, a0, b0 = 1.0, 0.0, 0.5, 0.5

    # Initial responsibilities: hard assignment to equal-mass rank bins. A value
    # repeated across bins (a spike) goes wholly to its first bin, so identical
    # components never start side by side (they would stay identical).
    resp = np.zeros((c, n_max, k))
    for i, v in enumerate(prepared):
        z = x[i, : len(v)]
        bins = np.empty(len(z), dtype=np.int64)
        bins[np.argsort(z, kind="stable")] = (np.arange(len(z)) * k) // len(z)
        _, inverse = np.unique(z, return_inverse=True)
        first = np.full(inverse.max() + 1, k, dtype=np.int64)
        np.minimum.at(first, inverse, bins)
        resp[i, np.arange(len(z)), first[inverse]] = 1.0

    x2 = x * x
    prev_bound = None
    for _ in range(max_iter):
        # ---- M step: variational posteriors given responsibilities
        nk = resp.sum(axis=1) + 1e-10  # (c, k)
        xbar = np.einsum("cnk,cn->ck", resp, x) / nk
        sk = np.maximum(np.einsum("cnk,cn->ck", resp, x2) / nk - xbar**2, 0.0)
        beta = beta0 + nk
        m = (beta0 * m0 + nk * xbar) / beta
        a = a0 + 0.5 * nk
        b = b0 + 0.5 * (nk * sk + beta0 * nk / (beta0 + nk) * (xbar - m0) ** 2)
        # stick-breaking Beta(g1, g2) posteriors
        tail = np.cumsum(nk[:, ::-1], axis=1)[:, ::-1] - nk  # sum_{j>k} N_j
        g1 = 1.0 + nk
        g2 = concentration + tail
        # ---- E step
        dg12 = digamma(g1 + g2)
        e_log_v = digamma(g1) - dg12
        e_log_1mv = digamma(g2) - dg12
        e_log_pi = e_log_v + np.concatenate(
            [np.zeros((c, 1)), np.cumsum(e_log_1mv, axis=1)[:, :-1]], axis=1
        )
        e_log_lam = digamma(a) - np.log(b)
        e_lam = a / b
        # log rho = const_k + lin_k * x + quad_k * x^2, expanded to avoid (c,n,k) temporaries
        const = e_log_pi + 0.5 * e_log_lam - 0.5 / beta - 0.5 * e_lam * m**2
        lin = e_lam * m
        quad = -0.5 * e_lam
        log_rho = const[:, None, :] + x[..., None] * lin[:, None, :]
        log_rho += x2[..., None] * quad[:, None, :]
        mx = log_rho.max(axis=2, keepdims=True)
        log_rho -= mx
        np.exp(log_rho, out=log_rho)
        norm = log_rho.sum(axis=2, keepdims=True)
        resp = log_rho
        resp *= (mask[..., None] / norm)
        # convergence on the mean log normaliser (a lower-bound surrogate)
        bound = ((np.log(norm[..., 0]) + mx[..., 0]) * mask).sum(axis=1) / counts
        if prev_bound is not None and np.all(np.abs(bound - prev_bound) < tol):
            break
        prev_bound = bound

    nk = resp.sum(axis=1)
    tail = np.cumsum(nk[:, ::-1], axis=1)[:, ::-1] - nk
    g1 = 1.0 + nk
    g2 = concentration + tail
    ev = g1 / (g1 + g2)
    weights = ev * np.concatenate(
        [np.ones((c, 1)), np.cumprod(1.0 - ev, axis=1)[:, :-1]], axis=1
    )
    stds = np.sqrt(b / a)  # 1/sqrt(E[lambda])

    out = []
    for i in range(c):
        keep = weights[i] > weight_threshold
        if not keep.any():
            keep = weights[i] == weights[i].max()
        w = weights[i, keep]
        out.append(
            MixtureParams(
                means=m[i, keep] * scale[i] + loc[i],
                stds=np.maximum(stds[i, keep] * scale[i], 1e-6 * scale[i]),
                weights=w / w.sum(),
            )
        )
    return out
