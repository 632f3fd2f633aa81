"""Tests for tabgan/reporting.py: the toolkit both reports use."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd

from tabgan import reporting


def test_plain_turns_numpy_and_pandas_values_into_python_types():
    data = {
        1: (np.int64(3), np.float32(1.5), np.bool_(True)),
        "arr": np.array([1.0, np.nan]),
        "missing": [None, pd.NA, pd.NaT],
        "when": pd.Timestamp("2021-02-03 04:05"),
        "other": complex(1, 2),
    }
    out = reporting.plain(data)
    assert out["1"] == [3, 1.5, True]
    assert [type(v) for v in out["1"]] == [int, float, bool]
    assert out["arr"][0] == 1.0 and np.isnan(out["arr"][1])  # NaN stays a float by default
    assert out["missing"] == [None, None, None]
    assert out["when"] == "2021-02-03T04:05:00"
    assert out["other"] == "(1+2j)"


def test_json_text_writes_nan_and_infinities_as_null():
    value = {"a": float("nan"), "b": [np.float32(1.5), np.inf, -np.inf], "c": np.int64(3)}
    assert reporting.plain(value, nan_as_none=True) == {"a": None, "b": [1.5, None, None], "c": 3}
    text = reporting.json_text(value, indent=None)
    assert json.loads(text) == {"a": None, "b": [1.5, None, None], "c": 3}
    assert "NaN" not in text and "Infinity" not in text


def test_save_writes_only_when_given_a_path(tmp_path):
    path = tmp_path / "out.txt"
    assert reporting.save("é text", None) == "é text"
    assert reporting.save("é text", str(path)) == "é text"
    assert path.read_text(encoding="utf-8") == "é text"


def test_png_embedding_returns_a_png_data_uri():
    fig = reporting.figure(2.0, 1.5, dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    uri = reporting.png_data_uri(fig)
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix) :]).startswith(b"\x89PNG\r\n\x1a\n")
    tag = reporting.image(fig, "a <plot>")
    assert tag.startswith("<img alt='a &lt;plot&gt;' src='data:image/png;base64,")


def test_table_escapes_the_header_and_aligns_text_columns():
    text = reporting.table(["name", "a<b"], [["x", "<b>1</b>"]], text_columns=("name",))
    assert text == (
        '<table><thead><tr><th class="t">name</th><th>a&lt;b</th></tr></thead>'
        '<tbody><tr><td class="t">x</td><td><b>1</b></td></tr></tbody></table>'
    )


def test_page_is_self_contained_with_the_stylesheet():
    text = reporting.page("a & b", ["<h1>x</h1>"])
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>a &amp; b</title>" in text and reporting.CSS in text
    assert text.endswith("<h1>x</h1>\n</body></html>")
