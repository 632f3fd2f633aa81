from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgan import ColumnMetadata, InvalidDataError, Metadata


def frame():
    return pd.DataFrame(
        {
            "f": [0.5, 1.5, 2.5],
            "i": [1, 2, 3],
            "whole_float": [1.0, np.nan, 3.0],
            "s": ["a", "b", "c"],
            "b": [True, False, True],
            "ob": pd.Series([True, False, None], dtype=object),
            "cat": pd.Categorical(["x", "y", "x"]),
            "d": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"]),
        }
    )


def test_detection():
    m = Metadata.detect(frame())
    kinds = {n: c.kind for n, c in m.columns.items()}
    assert kinds == {
        "f": "continuous", "i": "integer", "whole_float": "integer", "s": "discrete",
        "b": "boolean", "ob": "boolean", "cat": "discrete", "d": "datetime",
    }
    assert m.discrete_columns == ["s", "b", "ob", "cat"]
    assert m.numeric_columns == ["f", "i", "whole_float", "d"]


def test_overrides_and_json_round_trip(tmp_path):
    m = Metadata.detect(frame(), {"i": "discrete", "f": {"kind": "continuous", "lower": 0, "upper": 3}})
    assert m["i"].kind == "discrete" and m["f"].upper == 3
    again = Metadata.from_json(m.to_json())
    assert again == m
    path = tmp_path / "meta.json"
    m.to_json(str(path))
    assert Metadata.from_json(str(path)) == m
    m2 = Metadata.detect(frame(), m)
    assert m2 == m


@pytest.mark.parametrize(
    "overrides,match",
    [
        ({"nope": "discrete"}, "not in the table"),
        ({"f": "float"}, "Unknown column kind"),
        ({"f": {"kind": "continuous", "lower": 3, "upper": 1}}, "inverted"),
        ({"f": {"kind": "continuous", "min": 3}}, "unknown keys"),
        ({"f": {"lower": 1}}, "needs a 'kind'"),
        ({"f": 3}, "kind string or a dict"),
        ("f", "mapping"),
    ],
)
def test_bad_overrides(overrides, match):
    with pytest.raises(InvalidDataError, match=match):
        Metadata.detect(frame(), overrides)


def test_bad_json():
    with pytest.raises(InvalidDataError, match="not valid JSON"):
        Metadata.from_json("{nope")
    with pytest.raises(InvalidDataError, match="columns"):
        Metadata.from_dict({"cols": {}})


def test_column_metadata_categories_are_tuples():
    c = ColumnMetadata(kind="discrete", categories=["a", "b"])
    assert c.categories == ("a", "b") and c.is_discrete and not c.is_numeric
