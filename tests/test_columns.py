"""The column helpers every module reads cells with (tabgan.columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgan import InvalidDataError
from tabgan.columns import check_dataframe, numeric_values, py_scalar


def test_numbers_and_missing_values():
    s = pd.Series([1, None, 2.5, np.nan], dtype=object)
    out = numeric_values("a", s, "continuous")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, np.nan, 2.5, np.nan])
    nullable = pd.Series([1, None, 3], dtype="Int64")
    np.testing.assert_array_equal(numeric_values("b", nullable, "integer"), [1.0, np.nan, 3.0])


def test_booleans_are_zero_and_one():
    np.testing.assert_array_equal(numeric_values("f", pd.Series([True, False]), "integer"), [1, 0])


@pytest.mark.parametrize("kind", ["datetime", "continuous", "integer"])
def test_datetimes_are_utc_nanoseconds_and_missing_dates_nan_whatever_the_kind(kind):
    naive = pd.Series(pd.to_datetime(["1970-01-01 00:00:01", None]))
    np.testing.assert_array_equal(numeric_values("t", naive, kind), [1e9, np.nan])
    aware = pd.Series(pd.to_datetime(["1970-01-01 01:00:00+01:00"]))
    np.testing.assert_array_equal(numeric_values("t", aware, kind), [0.0])


def test_date_strings_parse_when_the_kind_is_datetime():
    out = numeric_values("t", pd.Series(["1970-01-02", None]), "datetime")
    np.testing.assert_array_equal(out, [86_400e9, np.nan])


@pytest.mark.parametrize("values,kind,match", [
    (["1", "two"], "continuous", "'c'.*non-numeric"),
    ([1.0, np.inf], "continuous", "'c'.*infinite"),
    ([-np.inf, 0.0], "integer", "'c'.*infinite"),
    (["not a date"], "datetime", "'c'.*dates"),
])
def test_unparseable_or_infinite_values_raise_naming_the_column(values, kind, match):
    with pytest.raises(InvalidDataError, match=match):
        numeric_values("c", pd.Series(values), kind)


def test_plain_scalars():
    assert type(py_scalar(np.int64(3))) is int and py_scalar(np.int64(3)) == 3
    assert py_scalar(pd.Timestamp("2020-01-02")) == "2020-01-02T00:00:00"
    assert py_scalar("x") == "x"


@pytest.mark.parametrize("table,match", [
    ([[1, 2]], "DataFrame"),
    (pd.DataFrame(index=range(3)), "no columns"),
    (pd.DataFrame({"a": [1]}), "1 row"),
    (pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]), "Duplicate"),
    (pd.DataFrame({0: [1, 2]}), "strings"),
    (pd.DataFrame({"tags": ["a", ["x", "y"], "b"]}), r"'tags' holds list cells; tabgan models one value per cell"),
    (pd.DataFrame({"meta": [{"k": 1}, {"k": 2}]}), "holds dict cells"),
    (pd.DataFrame({"v": [np.zeros(2), None]}), "holds ndarray cells"),
])
def test_tables_tabgan_cannot_learn_from_are_refused(table, match):
    with pytest.raises(InvalidDataError, match=match):
        check_dataframe(table)
