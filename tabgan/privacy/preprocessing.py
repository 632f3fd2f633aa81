"""Private preprocessing: what the transformer learns, from public metadata or noisy histograms.

In a private fit the transformer never sees the table. It is built from the
*releases* made here, each of which is either declared public by the user
(metadata ``categories``, ``lower``/``upper``: free) or a differentially
private estimate:

* **numeric ranges** (only for numeric columns without declared bounds): a
  noisy histogram over a fixed, data-independent grid of signed powers of two;
  the range is the span of the bins whose noisy count clears a threshold.
* **marginals** (every column, one Gaussian mechanism): per discrete column a
  noisy histogram of its categories — over the declared (or boolean) domain
  when there is one, else over the values seen, released only above a
  threshold that a value held by a handful of rows clears with probability
  below delta (the stability-based histogram) — and per numeric column a noisy
  histogram over bins of its (public or private) range. Missing values are one
  more bin. The Gaussian-mixture modes are fitted to draws from these noisy
  histograms, and the generator's conditional frequencies are the noisy
  counts: both are post-processing.

One row adds one to one bin of each column's histogram, so all histograms
together have L2 sensitivity ``sqrt(columns)``; the Gaussian mechanism is
calibrated exactly for that (see :mod:`tabgan.privacy.accountant`).

The column kinds come from the dtypes alone (never from the values), and the
row count ``n`` is treated as public, as in DP-SGD accounting generally: it
sets the sampling rate and the default delta.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..columns import MISSING, check_single_type, dtype_str, numeric_values, py_scalar
from ..errors import InvalidDataError, PrivacyError, warn_user
from ..metadata import ColumnMetadata, Metadata, _coerce_overrides, schema_kind
from ..transformer import CategoryRelease, NumericRelease
from .accountant import gaussian_mu
from .ledger import LedgerEntry

__all__ = [
    "CategoryRelease",
    "NumericRelease",
    "private_metadata",
    "public_entry",
    "release_marginals",
    "release_ranges",
    "schema_kind",
]


#: The range grid: magnitudes 2**e for e in [_E_LO, _E_HI], both signs, and zero.
_E_LO, _E_HI = -10, 63
_SIDE = _E_HI - _E_LO + 2  # magnitude classes per sign: tiny, 2**_E_LO ... 2**_E_HI (open top)
#: Interior bins of a numeric histogram: between these, chosen so bins hold ~8 sigma.
_MIN_BINS, _MAX_BINS = 4, 128
_COMPOSITION = "sequential: adds to the other entries"


# ----------------------------------------------------------------- metadata

def private_metadata(df: pd.DataFrame, metadata: Metadata | Mapping[str, Any] | None) -> Metadata:
    """Declared metadata, completed from dtypes only; refuses what would leak.

    Non-private detection looks at values (a float column of whole numbers
    becomes ``integer``, an object column of booleans ``boolean``); one row can
    flip that, so here undeclared columns get the kind their dtype implies.
    """
    declared = _coerce_overrides(metadata)
    Metadata.detect(df.iloc[:0], declared)  # checks names only (an empty frame: no values read)
    columns: dict[str, ColumnMetadata] = {}
    for name in df.columns:
        cm = declared.get(name) or ColumnMetadata(kind=schema_kind(df[name].dtype))
        if cm.kind == "identifier":
            raise PrivacyError(
                f"Column {name!r} is declared an identifier: its generated values take the "
                "shapes of the real ones, which a private fit cannot read. Drop the column "
                "before a private fit (ids carry no statistics worth a budget), or declare "
                "it a key ('id'): keys are generated as new unique numbers, never read."
            )
        if (
            cm.is_discrete
            and cm.categories is None
            and isinstance(df[name].dtype, pd.CategoricalDtype)
        ):
            raise PrivacyError(
                f"Column {name!r} has a pandas 'category' dtype, whose category list usually "
                "comes from the data (astype('category') lists every value seen) and would be "
                "saved with the model. If the list is public, declare it: metadata="
                f"{{{name!r}: {{'kind': 'discrete', 'categories': [...]}}}}; otherwise convert "
                f"the column with df[{name!r}].astype(object) so that its categories are "
                "estimated privately."
            )
        columns[name] = cm
    return Metadata(columns=columns)


def public_entry() -> LedgerEntry:
    """The ledger entry of what a private fit treats as public (costs nothing)."""
    return LedgerEntry(
        component="public inputs",
        uses="column names and dtypes (column kinds come from dtypes, not values) and the "
        "declared metadata (kinds, categories, bounds); the row count is not public (see "
        "'row count')",
        epsilon=0.0,
        delta=0.0,
        mechanism="none: treated as public",
        composition="free",
    )


def _numbers(name: str, series: pd.Series, kind: str) -> np.ndarray:
    """:func:`tabgan.columns.numeric_values`, with a refusal that shows no value: a
    private fit never echoes the data (a parse error names a value and its row)."""
    try:
        return numeric_values(name, series, kind)
    except InvalidDataError:
        raise InvalidDataError(
            f"Column {name!r} is treated as {kind} but some of its values cannot be read as "
            f"{'dates' if kind == 'datetime' else 'numbers'}, or are infinite (the values are "
            "not shown: a private fit never echoes the data). Declare it discrete with "
            f"metadata={{{name!r}: 'discrete'}} or clean the column."
        ) from None  # the chained error would show the value


def rows_entry(rows: int, epsilon: float) -> LedgerEntry:
    """The ledger entry of the noisy row count (:func:`tabgan.privacy.accountant.noisy_count`)."""
    return LedgerEntry(
        component="row count",
        uses="the number of rows; the sampling rate, the number of critic steps, the default "
        "delta, the histograms' bins and the saved row count are computed from its noisy "
        "value, never from the true one",
        epsilon=epsilon,
        delta=0.0,
        mechanism=f"geometric (discrete Laplace) mechanism, sensitivity 1, scale 1/{epsilon:.3g}",
        composition=_COMPOSITION,
        details={"noisy_rows": int(rows)},
    )


# ----------------------------------------------------------------- releases
def release_ranges(
    df: pd.DataFrame,
    meta: Metadata,
    *,
    epsilon: float,
    delta: float,
    rng: np.random.Generator,
) -> tuple[dict[str, tuple[float, float]], LedgerEntry]:
    """Private ranges of the numeric columns that lack declared ``lower`` or ``upper``."""
    names = [c for c in meta.numeric_columns if _needs_range(meta[c])]
    mu = gaussian_mu(epsilon, delta)
    sigma = np.sqrt(len(names)) / mu
    n_bins = 2 * _SIDE + 1
    # data-independent, Bonferroni over every bin: a bin no row is in passes w.p. <= 1e-3 in all
    threshold = sigma * norm.isf(1e-3 / (n_bins * len(names)))
    out: dict[str, tuple[float, float]] = {}
    for name in names:
        cm = meta[name]
        values = _numbers(name, df[name], cm.kind)
        values = values[~np.isnan(values)]
        noisy = np.bincount(_grid_index(values), minlength=n_bins) + rng.normal(0, sigma, n_bins)
        kept = np.flatnonzero(noisy > threshold)
        if cm.lower is not None:
            kept = kept[_grid_edges(kept)[1] > cm.lower]
        if cm.upper is not None:
            kept = kept[_grid_edges(kept)[0] < cm.upper]
        lo = cm.lower if cm.lower is not None else (_grid_edges(kept[:1])[0][0] if len(kept) else None)
        hi = cm.upper if cm.upper is not None else (_grid_edges(kept[-1:])[1][0] if len(kept) else None)
        if lo is None or hi is None or not np.isfinite(lo) or not np.isfinite(hi) or lo > hi:
            raise PrivacyError(
                f"The range of numeric column {name!r} could not be estimated privately (too few "
                f"rows clear the noise at this budget: threshold {threshold:.0f} rows per "
                "power-of-two bin). Declare public bounds: metadata="
                f"{{{name!r}: {{'kind': {cm.kind!r}, 'lower': ..., 'upper': ...}}}}, or raise "
                "epsilon."
            )
        out[name] = (float(lo), float(hi))
    entry = LedgerEntry(
        component="numeric ranges",
        uses=f"lower/upper bounds of {len(names)} numeric column(s) without declared bounds: "
        + ", ".join(names),
        epsilon=epsilon,
        delta=delta,
        mechanism=(
            f"Gaussian mechanism (sigma={sigma:.3g}, L2 sensitivity sqrt({len(names)})) on "
            f"histograms over a fixed grid of signed powers of two; bins above {threshold:.1f} "
            "kept (post-processing)"
        ),
        composition=_COMPOSITION,
        details={
            "sigma": float(sigma),
            "sensitivity": float(np.sqrt(len(names))),
            "threshold": float(threshold),
            "columns": names,
            "ranges": {k: list(v) for k, v in out.items()},
        },
    )
    return out, entry


def _needs_range(cm: ColumnMetadata) -> bool:
    return cm.is_numeric and (cm.lower is None or cm.upper is None)


def needs_ranges(meta: Metadata) -> bool:
    return any(_needs_range(meta[c]) for c in meta.numeric_columns)


def _grid_index(values: np.ndarray) -> np.ndarray:
    """Bin of each value on the signed power-of-two grid, ordered along the number line."""
    mag = np.abs(values)
    with np.errstate(divide="ignore"):
        e = np.floor(np.log2(np.where(mag > 0, mag, 1.0)))
    cls = np.clip(e, _E_LO - 1, _E_HI).astype(np.int64) - (_E_LO - 1)  # 0 .. _SIDE-1
    idx = np.where(values > 0, _SIDE + 1 + cls, _SIDE - 1 - cls)
    return np.where(values == 0, _SIDE, idx)


def _grid_edges(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edge of grid bins (``-inf``/``inf`` for the open outer bins)."""
    idx = np.asarray(idx, dtype=np.int64)
    pos = idx - (_SIDE + 1)  # class of positive bins
    neg = _SIDE - 1 - idx  # class of negative bins

    def mag_lo(c):
        return np.where(c == 0, 0.0, np.exp2(c + _E_LO - 1.0))

    def mag_hi(c):
        return np.where(c == _SIDE - 1, np.inf, np.exp2(c + _E_LO + 0.0))

    lo = np.where(idx > _SIDE, mag_lo(pos), np.where(idx == _SIDE, 0.0, -mag_hi(neg)))
    hi = np.where(idx > _SIDE, mag_hi(pos), np.where(idx == _SIDE, 0.0, -mag_lo(neg)))
    return lo.astype(np.float64), hi.astype(np.float64)


def release_marginals(
    df: pd.DataFrame,
    meta: Metadata,
    ranges: Mapping[str, tuple[float, float]],
    *,
    epsilon: float,
    delta: float,
    max_categories: int,
    rows: int,
    rng: np.random.Generator,
) -> tuple[list[CategoryRelease | NumericRelease], LedgerEntry]:
    """Noisy histograms of every column (one Gaussian mechanism); see the module docstring.
    ``rows``: the noisy row count, which sets the number of bins and the saved counts (the
    true count is never used)."""
    n = int(rows)
    counts: list[tuple[str, Any]] = []  # per column: the raw histogram, built first
    for name in df.columns:
        cm = meta[name]
        if cm.is_numeric:
            lo, hi = (cm.lower, cm.upper) if name not in ranges else ranges[name]
            counts.append(("numeric", _numeric_histogram(name, df[name], cm, lo, hi)))
        else:
            counts.append(("discrete", _category_histogram(name, df[name], cm)))
    sparse = [h["name"] for kind, h in counts if kind == "discrete" and h["source"] == "estimated"]
    k = len(counts)
    delta_t = delta / 2 if sparse else 0.0  # the chance a value held by one row is released
    mu = gaussian_mu(epsilon, delta - delta_t)
    sigma = np.sqrt(k) / mu
    # a row adds at most one new value per sparse column: union bound over those columns
    threshold = 1.0 + sigma * norm.isf(delta_t / len(sparse)) if sparse else 0.0
    floor = 2.0 * sigma  # for public keys (missing, bins): drop what noise alone explains
    releases: list[CategoryRelease | NumericRelease] = []
    bins_used: dict[str, int] = {}
    for kind, h in counts:
        if kind == "numeric":
            rel = _release_numeric(h, sigma, floor, n, rng)
            bins_used[rel.name] = len(rel.starts)
        else:
            rel = _release_discrete(h, sigma, threshold, floor, max_categories, rng)
        releases.append(rel)
    declared = [h["name"] for kind, h in counts if kind == "discrete" and h["source"] != "estimated"]
    numeric = [h["name"] for kind, h in counts if kind == "numeric"]
    entry = LedgerEntry(
        component="marginals",
        uses=(
            f"one histogram per column ({k}): category counts of {len(declared) + len(sparse)} "
            f"discrete column(s) ({len(sparse)} with categories not declared), value histograms "
            f"of {len(numeric)} numeric column(s), missing counts; gives category lists, "
            "conditional frequencies, missing rates, numeric modes"
        ),
        epsilon=epsilon,
        delta=delta,
        mechanism=(
            f"Gaussian mechanism (sigma={sigma:.3g}, L2 sensitivity sqrt({k}))"
            + (
                f"; undeclared categories released only above {threshold:.1f} rows "
                f"(stability-based histogram, delta {delta_t:.2g} of the total)"
                if sparse
                else ""
            )
        ),
        composition=_COMPOSITION,
        details={
            "sigma": float(sigma),
            "sensitivity": float(np.sqrt(k)),
            "threshold": float(threshold),
            "threshold_delta": float(delta_t),
            "declared_categories": declared,
            "estimated_categories": sparse,
            "numeric_bins": bins_used,
            "n_rows": "the noisy row count (entry 'row count')",
        },
    )
    return releases, entry


def _category_histogram(name: str, series: pd.Series, cm: ColumnMetadata) -> dict:
    is_cat = isinstance(series.dtype, pd.CategoricalDtype)
    values = series.astype(object) if is_cat else series
    nonnull = values.dropna()
    check_single_type(name, series, nonnull)
    vc = nonnull.value_counts(sort=False)
    seen = {py_scalar(v): int(c) for v, c in zip(vc.index, vc.to_numpy())}
    if cm.categories is not None:
        keys = [py_scalar(v) for v in cm.categories]
        undeclared = [c for c in seen if c not in set(keys)]
        if undeclared:
            raise InvalidDataError(
                f"Column {name!r} holds {len(undeclared)} value(s) not in its declared "
                "categories (not shown: a private fit never echoes the data). Add them to "
                "the metadata or clean the data."
            )
        source = "declared"
    elif cm.kind == "boolean":  # the kind (from the dtype or declared) fixes a public domain
        keys, source = [False, True], "boolean"
        other = [c for c in seen if c not in (False, True)]
        if other:
            raise InvalidDataError(
                f"Column {name!r} is boolean but holds {len(other)} other value(s) (not shown: "
                f"a private fit never echoes the data). Declare it discrete (metadata="
                f"{{{name!r}: 'discrete'}}) or clean the values."
            )
    else:
        keys, source = list(seen), "estimated"
    return {
        "name": name,
        "kind": cm.kind,
        "dtype": dtype_str(series),
        "keys": keys,
        "counts": np.array([seen.get(key, 0) for key in keys], dtype=np.float64),
        "missing": float(series.isna().sum()),
        "source": source,
        "pandas_categories": list(keys) if is_cat else None,
        "ordered": bool(series.cat.ordered) if is_cat else False,
    }


def _release_discrete(h, sigma, threshold, floor, max_categories, rng) -> CategoryRelease:
    noisy = h["counts"] + rng.normal(0.0, sigma, len(h["counts"]))
    noisy_missing = h["missing"] + rng.normal(0.0, sigma)
    keys = h["keys"]
    if h["source"] == "estimated":
        keep = np.flatnonzero(noisy > threshold)
        keep = keep[np.argsort(-noisy[keep], kind="stable")][:max_categories]
        cats = [keys[i] for i in keep]
        cnts = [noisy[i] for i in keep]
    else:  # public keys: all kept; counts noise alone explains are zeroed (post-processing)
        cats = list(keys)
        cnts = list(np.where(noisy > floor, noisy, 0.0))
        if not any(cnts):
            cnts = list(np.clip(noisy, 0.0, None))
    if noisy_missing > floor:
        cats.append(MISSING)
        cnts.append(noisy_missing)
    if cats == [MISSING]:
        warn_user(
            f"Column {h['name']!r}: no value is frequent enough to be released privately (each "
            f"would need about {threshold:.0f} rows at this budget), only its missing values: "
            "it will be sampled as entirely missing. Declare its categories public in the "
            f"metadata ({{{h['name']!r}: {{'kind': 'discrete', 'categories': [...]}}}}), raise "
            "epsilon, or drop the column."
        )
    if not cats:
        raise PrivacyError(
            f"Column {h['name']!r}: no value is frequent enough to be released privately "
            f"(each would need about {threshold:.0f} rows at this budget), so the column cannot "
            "be modelled without leaking rare values. Declare its categories public in the "
            f"metadata ({{{h['name']!r}: {{'kind': 'discrete', 'categories': [...]}}}}), drop "
            "the column (identifiers, free text), or raise epsilon."
        )
    return CategoryRelease(
        name=h["name"],
        kind=h["kind"],
        dtype=h["dtype"],
        categories=cats,
        counts=[int(max(round(c), 0)) for c in cnts],
        pandas_categories=h["pandas_categories"],
        ordered=h["ordered"],
        source=h["source"],
    )


def _numeric_histogram(name, series, cm: ColumnMetadata, lo, hi) -> dict:
    values = _numbers(name, series, cm.kind)
    isnan = np.isnan(values)
    finite = np.clip(values[~isnan], lo, hi)  # per row: values outside the public range are clipped
    return {
        "name": name,
        "kind": cm.kind,
        "dtype": dtype_str(series),
        "lower": float(lo),
        "upper": float(hi),
        "values": finite,
        "missing": float(isnan.sum()),
        "refine": (cm.lower is None, cm.upper is None),
    }


def _bins(lo: float, hi: float, kind: str, n_interior: int) -> tuple[np.ndarray, np.ndarray]:
    """Points at both bounds, and between them unit points (small integer ranges) or intervals."""
    if hi == lo:
        return np.array([lo]), np.zeros(1)
    if kind == "integer" and lo == np.floor(lo) and hi == np.floor(hi) and hi - lo - 1 <= n_interior:
        starts = np.arange(lo, hi + 1, dtype=np.float64)
        return starts, np.zeros(len(starts))
    width = (hi - lo) / n_interior
    starts = np.concatenate([[lo], lo + width * np.arange(n_interior), [hi]])
    widths = np.concatenate([[0.0], np.full(n_interior, width), [0.0]])
    return starts, widths


def _bin_index(values: np.ndarray, starts: np.ndarray, widths: np.ndarray) -> np.ndarray:
    lo, hi = starts[0], starts[-1]
    if len(starts) == 1:
        return np.zeros(len(values), dtype=np.int64)
    if not widths.any():  # unit points
        return np.clip(np.rint(values - lo), 0, len(starts) - 1).astype(np.int64)
    inner = len(starts) - 2
    idx = 1 + np.clip(np.floor((values - lo) / widths[1]), 0, inner - 1).astype(np.int64)
    idx = np.where(values <= lo, 0, idx)
    return np.where(values >= hi, len(starts) - 1, idx)


def _release_numeric(h, sigma, floor, n, rng) -> NumericRelease:
    lo, hi = h["lower"], h["upper"]
    n_interior = int(np.clip(n / (8.0 * sigma), _MIN_BINS, _MAX_BINS))
    starts, widths = _bins(lo, hi, h["kind"], n_interior)
    raw = np.bincount(_bin_index(h["values"], starts, widths), minlength=len(starts))
    noisy = raw + rng.normal(0.0, sigma, len(starts))
    noisy_missing = max(h["missing"] + rng.normal(0.0, sigma), 0.0)
    weights = np.where(noisy > floor, noisy, 0.0)
    if weights.sum() <= 0:
        weights = np.clip(noisy, 0.0, None)
    all_missing = noisy_missing > floor and (n - noisy_missing) < 3 * sigma
    if weights.sum() <= 0:
        weights = np.ones(len(starts))  # nothing clears the noise: assume nothing
    kept = np.flatnonzero(weights > 0)
    refine_lo, refine_hi = h["refine"]
    if refine_lo:  # private bounds narrow to the outermost bins that clear the noise
        lo = float(starts[kept[0]])
    if refine_hi:
        hi = float(starts[kept[-1]] + widths[kept[-1]])
    return NumericRelease(
        name=h["name"],
        kind=h["kind"],
        dtype=h["dtype"],
        lower=float(lo),
        upper=float(hi),
        starts=starts,
        widths=widths,
        weights=weights,
        missing=float(noisy_missing),
        n_rows=n,
        has_missing=bool(noisy_missing > floor),
        all_missing=bool(all_missing),
        constant=float(lo) if h["lower"] == h["upper"] else None,
    )
