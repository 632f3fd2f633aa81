"""Reading and writing tables: CSV or Parquet, chosen by the file's extension."""

from __future__ import annotations

import os

import pandas as pd

from .errors import InvalidDataError

__all__ = ["ChunkWriter", "read_table", "write_table"]


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
            f"Reading Parquet needs pyarrow: pip install pyarrow (or pip install -e '.[parquet]' in tabgan's source tree) ({exc})."
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
            f"Writing Parquet needs pyarrow: pip install pyarrow (or pip install -e '.[parquet]' in tabgan's source tree) ({exc})."
        ) from exc


_PARQUET = (".parquet", ".pq")


class ChunkWriter:
    """Writes a table a chunk at a time, with memory independent of its length.

    ``path``: a ``.parquet`` file (one row group per chunk), a directory (an existing
    one, or a path ending in a separator) that receives Parquet shards
    ``part-00000.parquet``, ``part-00001.parquet``, ..., or else a CSV file (chunks
    appended; ``.gz``, ``.bz2`` and ``.xz`` compress it). A single file is written as
    ``.partial-<name>`` beside ``path`` and renamed when :meth:`close` succeeds, so an
    interrupted write never leaves a truncated table under ``path``.
    Every chunk must have the first chunk's columns and dtypes."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self.shards = os.path.isdir(self.path) or self.path.endswith((os.sep, "/"))
        ext = os.path.splitext(self.path)[1].lower()
        if not self.shards and not self.streamable(self.path):
            raise InvalidDataError(
                f"Cannot write {self.path!r} a chunk at a time: an archive (.zip, .tar) "
                "cannot be appended to. Use .parquet, .csv, .csv.gz, or a directory for "
                "Parquet shards."
            )
        folder = os.path.dirname(os.path.abspath(self.path))
        if not self.shards and not os.path.isdir(folder):  # shards' folders are made
            raise InvalidDataError(
                f"Cannot write {self.path!r}: the directory {folder!r} does not exist. "
                "Create it first."
            )
        self.parquet = self.shards or ext in _PARQUET
        if self.parquet:
            try:
                import pyarrow  # noqa: F401
            except ImportError as exc:
                raise InvalidDataError(
                    f"Writing Parquet needs pyarrow: pip install pyarrow (or pip install -e '.[parquet]' in tabgan's source tree) ({exc})."
                ) from exc
        self._made_dir = False
        if self.shards:
            self._made_dir = not os.path.isdir(self.path)
            os.makedirs(self.path, exist_ok=True)
            taken = [f for f in os.listdir(self.path) if f.startswith("part-")]
            if taken:
                raise InvalidDataError(
                    f"{self.path!r} already holds shards ({taken[0]}, ...): write to an empty "
                    "directory."
                )
        head, tail = os.path.split(self.path)
        # the same extensions (CSV compression is inferred from them), another name
        self._tmp = None if self.shards else os.path.join(
            head, f".partial-{os.getpid()}-{tail}")
        self._writer = None
        self._schema = None
        self._columns: list[str] | None = None
        self.rows = 0
        self.chunks = 0

    def write(self, chunk: pd.DataFrame) -> None:
        """Append ``chunk`` (the first chunk sets the columns and, for Parquet, the schema)."""
        if self._columns is None:
            self._columns = list(chunk.columns)
        elif list(chunk.columns) != self._columns:
            raise InvalidDataError("Every chunk must have the first chunk's columns.")
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._schema is None:
                self._schema = _schema(chunk)
            table = pa.Table.from_pandas(chunk, schema=self._schema, preserve_index=False)
            if self.shards:  # each shard whole or absent, like a single file
                name = os.path.join(self.path, f"part-{self.chunks:05d}.parquet")
                part = os.path.join(self.path, f".partial-{os.getpid()}-part")
                pq.write_table(table, part)
                os.replace(part, name)
            else:
                if self._writer is None:
                    self._writer = pq.ParquetWriter(self._tmp, self._schema)
                self._writer.write_table(table)
        else:
            chunk.to_csv(self._tmp, mode="a" if self.chunks else "w", header=not self.chunks,
                         index=False)
        self.rows += len(chunk)
        self.chunks += 1

    def close(self) -> None:
        """Finish the file and give it its name."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._tmp is not None and os.path.exists(self._tmp):
            os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop a single file's partial write (shards already written stay; a shards
        directory this writer made and left empty goes)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._tmp is not None and os.path.exists(self._tmp):
            os.remove(self._tmp)
        if self.shards and self._made_dir and not os.listdir(self.path):
            os.rmdir(self.path)

    @staticmethod
    def streamable(path: str | os.PathLike) -> bool:
        """Whether ``path`` can be written a chunk at a time (not a .zip or .tar archive)."""
        name = os.fspath(path).lower()
        return not name.endswith((".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))

    def __enter__(self) -> "ChunkWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _schema(chunk: pd.DataFrame):
    """The Parquet schema of every chunk, from the first (with pandas' metadata, so that
    dtypes read back): object columns (text, or Python values) take the type of their
    values, and text when this chunk has none (a column missing throughout the first
    chunk may hold values in a later one)."""
    import pyarrow as pa

    schema = pa.Table.from_pandas(chunk, preserve_index=False).schema
    for i, name in enumerate(chunk.columns):
        col = chunk[name]
        if col.dtype != object:
            continue
        values = col.dropna()
        kind = pa.string() if not len(values) else pa.array(values.tolist()).type
        if pa.types.is_null(kind):
            kind = pa.string()
        schema = schema.set(i, pa.field(schema.field(i).name, kind))
    return schema
