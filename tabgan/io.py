"""Reading and writing tables: CSV or Parquet, chosen by the file's extension."""

from __future__ import annotations

import os

import pandas as pd

from .errors import InvalidDataError

__all__ = ["read_table", "write_table"]


def read_table(path: str) -> pd.DataFrame:
    """Read a CSV or Parquet file (by extension)."""
    if not os.path.isfile(path):
        raise InvalidDataError(f"No such file: {path!r}.")
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".parquet", ".pq", ".csv", ".txt", ".gz", ".bz2", ".zip", ".xz"):
        raise InvalidDataError(
            f"Cannot tell the format of {path!r}; use a .csv or .parquet file."
        )
    try:
        if ext in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except ImportError as exc:
        raise InvalidDataError(
            f"Reading Parquet needs pyarrow: pip install 'tabgan[parquet]' ({exc})."
        ) from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InvalidDataError(f"Could not read {path!r}: {exc}") from exc


def write_table(df: pd.DataFrame, path: str) -> None:
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".parquet", ".pq"):
            df.to_parquet(path, index=False)
        else:
            df.to_csv(path, index=False)
    except ImportError as exc:
        raise InvalidDataError(
            f"Writing Parquet needs pyarrow: pip install 'tabgan[parquet]' ({exc})."
        ) from exc
