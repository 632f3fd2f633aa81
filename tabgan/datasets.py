"""Small bundled data sets for the demo, the docs and the tests."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_adult_sample"]


def load_adult_sample(*, holdout: bool = False) -> pd.DataFrame:
    """A bundled random sample of the UCI Adult census table (CC BY 4.0).

    Parameters
    ----------
    holdout:
        If False (default), 3,000 rows of the training split; if True, 1,000 rows
        of the test split (no row in common with the training sample).
    """
    name = "adult_sample_holdout.csv" if holdout else "adult_sample.csv"
    with resources.files("tabgan").joinpath("data", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)
