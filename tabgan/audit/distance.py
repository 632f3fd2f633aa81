"""The distance-to-closest-record (DCR) audit: are synthetic rows closer to train than
unseen real rows are?

Distances are the mixed-type distance of :mod:`tabgan.audit.mixed_distance`; the
statistics are described in ``docs/audits.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..columns import numeric_values
from ..errors import InvalidParameterError
from ..limits import subsample_rows
from ..metadata import Metadata
from ._common import (
    RandomState,
    as_generator,
    check_tables,
    confidence_level,
    emit,
    quantile,
    wilson_interval,
)
from .mixed_distance import MixedTypeDistance, _category_text
from .neighbors import knn

__all__ = ["DistanceResult", "distance_to_closest_record"]


@dataclass(frozen=True)
class DistanceResult:
    """Distance-to-closest-record audit (see :func:`distance_to_closest_record`).

    Attributes
    ----------
    dcr_synthetic, dcr_holdout:
        Distance of each (evaluated) synthetic / holdout row to its closest train row.
    median_synthetic, median_holdout, p5_synthetic, p5_holdout:
        Medians and 5th percentiles of those two arrays. Synthetic rows much
        closer to train than real unseen rows are (smaller values) suggest copying.
    share_closer_to_train, share_closer_to_train_ci:
        Share of synthetic rows closer to an equal-size train subset than to an
        equal-size holdout subset (ties count half), with a Wilson interval.
        ``0.5`` is what data that never saw the train rows give; near 1 means
        the synthetic rows sit on top of training rows.
    exact_copy_rate, holdout_exact_copy_rate:
        Share of synthetic (resp. holdout) rows equal to some train row in every
        column. The holdout rate is the baseline of natural duplicates.
    nndr_synthetic, nndr_holdout:
        Nearest-neighbour distance ratio (closest / second-closest train row)
        per row; small values mean a row is uniquely close to one record.
    """

    dcr_synthetic: np.ndarray
    dcr_holdout: np.ndarray
    median_synthetic: float
    median_holdout: float
    p5_synthetic: float
    p5_holdout: float
    share_closer_to_train: float
    share_closer_to_train_ci: tuple[float, float]
    exact_copy_rate: float
    holdout_exact_copy_rate: float
    nndr_synthetic: np.ndarray
    nndr_holdout: np.ndarray
    median_nndr_synthetic: float
    median_nndr_holdout: float
    p5_nndr_synthetic: float
    p5_nndr_holdout: float
    n_train: int
    n_holdout: int
    n_synthetic: int
    n_subset: int
    confidence: float
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "median_synthetic_to_train": self.median_synthetic,
            "median_holdout_to_train": self.median_holdout,
            "p5_synthetic_to_train": self.p5_synthetic,
            "p5_holdout_to_train": self.p5_holdout,
            "share_closer_to_train": self.share_closer_to_train,
            "share_closer_to_train_ci": list(self.share_closer_to_train_ci),
            "exact_copy_rate": self.exact_copy_rate,
            "holdout_exact_copy_rate": self.holdout_exact_copy_rate,
            "median_nndr_synthetic": self.median_nndr_synthetic,
            "median_nndr_holdout": self.median_nndr_holdout,
            "p5_nndr_synthetic": self.p5_nndr_synthetic,
            "p5_nndr_holdout": self.p5_nndr_holdout,
            "n_train": self.n_train,
            "n_holdout": self.n_holdout,
            "n_synthetic": self.n_synthetic,
            "n_subset": self.n_subset,
            "confidence": self.confidence,
        }


def distance_to_closest_record(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    metadata: Metadata | dict[str, Any] | None = None,
    max_rows: int | None = 20_000,
    confidence: float = 0.95,
    random_state: RandomState = None,
) -> DistanceResult:
    """Distance to closest record: are synthetic rows closer to train than unseen real rows?

    Parameters
    ----------
    train, holdout, synthetic:
        The training table, real rows never used for training, and the synthetic table.
    metadata:
        Column kinds (a :class:`tabgan.Metadata` or overrides); detected when None.
    max_rows:
        At most this many synthetic and holdout rows are evaluated (a seeded
        random sample); the search is always against the full train table.
        None evaluates every row.
    confidence:
        Level of the interval on the share closer to train.
    random_state:
        Seed or ``numpy.random.Generator`` for the subsamples.
    """
    train, holdout, synthetic, msgs = check_tables(train, holdout, synthetic)
    for m in msgs:
        emit(m)
    rng = as_generator(random_state)
    confidence_level(confidence)
    dist = MixedTypeDistance(_metadata_or_none(train, metadata)).fit(train)
    return _dcr(dist, train, holdout, synthetic, max_rows=max_rows, confidence=confidence, rng=rng)


def _metadata_or_none(train: pd.DataFrame, metadata: Any) -> Metadata | None:
    if metadata is None:
        return None
    return Metadata.detect(train, metadata)


def _dcr(
    dist: MixedTypeDistance,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    max_rows: int | None,
    confidence: float,
    rng: np.random.Generator,
) -> DistanceResult:
    if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 10):
        raise InvalidParameterError(
            f"The 'max_rows' parameter must be an int >= 10 or None. Got {max_rows!r} instead."
        )
    s_idx = subsample_rows(len(synthetic), max_rows, rng)
    h_idx = subsample_rows(len(holdout), max_rows, rng)
    syn = synthetic.iloc[s_idx]
    hol = holdout.iloc[h_idx]
    enc_t, enc_h, enc_s = dist.encode(train, hol, syn, roles=("training", "holdout", "synthetic"))

    nn_s = dist.search(enc_s, enc_t, k=2)
    nn_h = dist.search(enc_h, enc_t, k=2)
    dcr_s, dcr_h = nn_s.distances[:, 0], nn_h.distances[:, 0]
    nndr_s, nndr_h = _nndr(nn_s.distances), _nndr(nn_h.distances)

    # equal-size subsets of train and holdout, so that 1/2 is the no-overfitting value
    n_sub = min(len(train), len(hol))
    t_sub = rng.choice(len(train), size=n_sub, replace=False)
    h_sub = rng.choice(len(hol), size=n_sub, replace=False)
    d_to_t = knn(enc_s, enc_t.take(t_sub), k=1, chunk_elements=dist.chunk_elements).distances[:, 0]
    d_to_h = knn(enc_s, enc_h.take(h_sub), k=1, chunk_elements=dist.chunk_elements).distances[:, 0]
    closer = (d_to_t < d_to_h).astype(float) + 0.5 * (d_to_t == d_to_h)
    share = float(closer.mean())
    share_ci = wilson_interval(float(closer.sum()), len(closer), confidence)

    train_keys = _row_keys(dist, train, "training")
    exact_s = float(np.isin(_row_keys(dist, syn, "synthetic"), train_keys).mean())
    exact_h = float(np.isin(_row_keys(dist, hol, "holdout"), train_keys).mean())

    return DistanceResult(
        dcr_synthetic=dcr_s,
        dcr_holdout=dcr_h,
        median_synthetic=float(np.median(dcr_s)),
        median_holdout=float(np.median(dcr_h)),
        p5_synthetic=quantile(dcr_s, 0.05),
        p5_holdout=quantile(dcr_h, 0.05),
        share_closer_to_train=share,
        share_closer_to_train_ci=share_ci,
        exact_copy_rate=exact_s,
        holdout_exact_copy_rate=exact_h,
        nndr_synthetic=nndr_s,
        nndr_holdout=nndr_h,
        median_nndr_synthetic=quantile(nndr_s, 0.5),
        median_nndr_holdout=quantile(nndr_h, 0.5),
        p5_nndr_synthetic=quantile(nndr_s, 0.05),
        p5_nndr_holdout=quantile(nndr_h, 0.05),
        n_train=len(train),
        n_holdout=len(hol),
        n_synthetic=len(syn),
        n_subset=n_sub,
        confidence=confidence,
    )


def _nndr(d: np.ndarray) -> np.ndarray:
    """closest / second-closest distance; 0/0 (a copy of a duplicated row) is 0."""
    if d.shape[1] < 2:
        return np.full(d.shape[0], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = d[:, 0] / d[:, 1]
    r[d[:, 1] == 0] = 0.0
    return r


def _row_keys(dist: MixedTypeDistance, df: pd.DataFrame, role: str) -> np.ndarray:
    """A 64-bit hash per row of the normalised values (numbers as float, categories as text)."""
    cols: dict[str, Any] = {}
    for c in dist.columns_:
        if c in dist.numeric_:
            cols[c] = numeric_values(c, df[c], dist.numeric_[c].kind, table=role)
        else:
            cols[c] = _category_text(df[c]).to_numpy()
    frame = pd.DataFrame(cols)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()
