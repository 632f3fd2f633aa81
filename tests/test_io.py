"""tabgan.io: reading and writing tables, and the chunked writer."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from tabgan.errors import InvalidDataError
from tabgan.io import ChunkWriter, read_table, write_table


def chunk(k: int, n: int = 50) -> pd.DataFrame:
    r = np.random.default_rng(k)
    return pd.DataFrame({
        "x": r.normal(size=n),
        "count": pd.array(np.where(r.random(n) < 0.2, None, r.integers(0, 9, n)), dtype="Int64"),
        "color": pd.Categorical(r.choice(["red", "blue"], n), categories=["red", "blue", "green"]),
        "name": np.where(r.random(n) < 0.1, None, r.choice(["a", "b"], n)).astype(object),
        "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(r.integers(0, 900, n), unit="D"),
        "flag": r.random(n) < 0.5,
    })


@pytest.mark.parametrize("name", ["out.parquet", "out.csv", "out.csv.gz"])
def test_chunks_read_back_as_one_table(tmp_path, name):
    path = tmp_path / name
    parts = [chunk(k) for k in range(3)]
    with ChunkWriter(path) as w:
        for part in parts:
            w.write(part)
    assert w.rows == 150 and w.chunks == 3
    assert sorted(os.listdir(tmp_path)) == [name]  # no partial file left
    back = read_table(str(path))
    whole = pd.concat(parts, ignore_index=True)
    if name.endswith(".parquet"):  # dtypes survive
        pd.testing.assert_frame_equal(back, whole)
    else:
        assert len(back) == 150 and list(back.columns) == list(whole.columns)
        np.testing.assert_allclose(back["x"], whole["x"])


def test_a_directory_gets_parquet_shards(tmp_path):
    path = str(tmp_path / "shards") + "/"
    with ChunkWriter(path) as w:
        for k in range(3):
            w.write(chunk(k, 10))
    assert sorted(os.listdir(path)) == [f"part-0000{k}.parquet" for k in range(3)]
    assert len(pd.read_parquet(path)) == 30
    with pytest.raises(InvalidDataError, match="already holds shards"):
        ChunkWriter(path)


def test_an_interrupted_write_leaves_nothing_under_the_name(tmp_path):
    path = tmp_path / "out.parquet"
    write_table(chunk(9), str(path))  # an earlier table stays whole
    with pytest.raises(KeyboardInterrupt):
        with ChunkWriter(path) as w:
            w.write(chunk(0))
            raise KeyboardInterrupt
    assert sorted(os.listdir(tmp_path)) == ["out.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(path), chunk(9))


def test_refusals(tmp_path):
    with pytest.raises(InvalidDataError, match="archive"):
        ChunkWriter(tmp_path / "out.zip")
    with ChunkWriter(tmp_path / "out.parquet") as w:
        w.write(chunk(0))
        with pytest.raises(InvalidDataError, match="first chunk's columns"):
            w.write(chunk(1)[["x"]])


def test_a_column_missing_throughout_the_first_chunk_takes_values_later(tmp_path):
    first = pd.DataFrame({"name": [None, None], "note": [np.nan, np.nan], "x": [1.0, 2.0]},
                         ).astype({"name": object, "note": object})
    later = pd.DataFrame({"name": ["a", None], "note": ["n", "m"], "x": [3.0, 4.0]})
    for path in (tmp_path / "one.parquet", str(tmp_path / "shards") + "/"):
        with ChunkWriter(path) as w:
            w.write(first)
            w.write(later)
        back = pd.read_parquet(path)
        assert back["name"].tolist()[2] == "a" and back["note"].tolist()[2:] == ["n", "m"]
        assert back["name"].isna().sum() == 3


def test_archives_are_refused_and_a_failed_first_chunk_leaves_no_directory(tmp_path):
    for name in ("out.tar", "out.csv.tar.gz", "out.zip"):
        assert not ChunkWriter.streamable(name)
        with pytest.raises(InvalidDataError, match="archive"):
            ChunkWriter(tmp_path / name)
    path = str(tmp_path / "new") + "/"
    with pytest.raises(RuntimeError):
        with ChunkWriter(path):
            raise RuntimeError("the first sample failed")
    assert not os.path.exists(path)


def test_a_missing_directory_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(InvalidDataError, match="does not exist"):
        ChunkWriter(tmp_path / "no" / "out.parquet")
    with ChunkWriter(str(tmp_path / "new" / "shards") + "/") as w:  # shards: made
        w.write(chunk(0, 5))
    assert len(pd.read_parquet(tmp_path / "new" / "shards")) == 5
