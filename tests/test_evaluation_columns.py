"""Per-column metrics (tabgan/evaluation/columns.py) against their reference definitions."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

from tabgan.errors import InvalidDataError, InvalidParameterError
from tabgan.evaluation import (
    QUANTILES,
    CategoricalColumnResult,
    EvaluationWarning,
    NumericColumnResult,
    compare_column,
    total_variation_distance,
)


@pytest.fixture
def normal_pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, 400), rng.normal(0.3, 1.5, 250)


def test_ks_and_wasserstein_are_scipys(normal_pair):
    real, synth = normal_pair
    result = compare_column(real, synth)
    assert isinstance(result, NumericColumnResult)
    reference = ks_2samp(real, synth, method="asymp")
    assert result.ks_statistic == pytest.approx(reference.statistic, abs=1e-15)
    assert result.ks_pvalue == pytest.approx(reference.pvalue, rel=1e-12)
    assert result.score == pytest.approx(1 - reference.statistic)
    assert result.statistic == result.ks_statistic
    assert result.wasserstein == pytest.approx(wasserstein_distance(real, synth), rel=1e-12)
    iqr = np.subtract(*np.quantile(real, [0.75, 0.25]))
    assert result.wasserstein_iqr == pytest.approx(wasserstein_distance(real, synth) / iqr)


def test_tied_samples_do_not_warn():
    # scipy's exact KS p-value fails with a RuntimeWarning on this input
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compare_column([0.0] * 5 + [1.0] * 2, [0.0] * 6 + [1.0])
    assert result.ks_statistic == pytest.approx(1 / 7)


def test_moments_quantiles_and_range_on_hand_made_values():
    real = pd.Series([0.0, 10.0, 2.0, 4.0, 6.0, 8.0])
    synth = pd.Series([5.0, 15.0, np.nan, 20.0])  # range [5, 20] covers half of [0, 10]
    result = compare_column(real, synth, kind="continuous")
    assert result.mean_real == pytest.approx(5.0)
    assert result.mean_synthetic == pytest.approx(40 / 3)
    assert result.mean_difference == pytest.approx(40 / 3 - 5)
    assert result.std_real == pytest.approx(np.std(real.to_numpy()))
    assert result.quantiles_real == pytest.approx(tuple(np.quantile(real, QUANTILES)))
    assert result.quantile_differences == pytest.approx(
        tuple(np.quantile([5, 15, 20], QUANTILES) - np.quantile(real, QUANTILES))
    )
    assert result.range_coverage == pytest.approx(0.5)
    assert result.out_of_range_share == pytest.approx(2 / 3)  # 15 and 20 of 3 values
    assert result.missing_real == 0.0
    assert result.missing_synthetic == pytest.approx(0.25)
    assert result.missing_difference == pytest.approx(0.25)


def test_tvd_js_and_coverage_on_hand_made_categories():
    real = ["a", "a", "b", "c"]  # p = (1/2, 1/4, 1/4, 0)
    synth = ["a", "b", "b", "b", "d", None]  # q = (1/5, 3/5, 0, 1/5), one missing
    result = compare_column(real, synth)
    assert isinstance(result, CategoricalColumnResult)
    # 0.5 * (|.5-.2| + |.25-.6| + |.25-0| + |0-.2|) = 0.5 * 1.1
    assert result.tvd == pytest.approx(0.55)
    assert result.score == pytest.approx(0.45)
    assert total_variation_distance(real, synth) == pytest.approx(0.55)
    p, q = np.array([0.5, 0.25, 0.25, 0]), np.array([0.2, 0.6, 0, 0.2])
    assert result.js_distance == pytest.approx(jensenshannon(p, q, base=2))
    assert result.category_coverage == pytest.approx(2 / 3)  # a and b of a, b, c
    assert result.unseen_share == pytest.approx(1 / 5)  # d
    assert (result.n_categories_real, result.n_categories_synthetic) == (3, 3)
    assert result.missing_synthetic == pytest.approx(1 / 6)


def test_disjoint_categories_have_tvd_one():
    result = compare_column(["x", "y"], ["u", "v", "w"])
    assert result.tvd == pytest.approx(1.0)
    assert result.js_distance == pytest.approx(1.0)
    assert result.category_coverage == 0.0
    assert result.unseen_share == 1.0


def test_identical_columns_score_one(normal_pair):
    real, _ = normal_pair
    assert compare_column(real, real.copy()).score == 1.0
    cats = ["a", "b", "b", "c"]
    assert compare_column(cats, cats[::-1]).score == 1.0


def test_datetimes_are_compared_as_int64_nanoseconds():
    real = pd.Series(pd.date_range("2020-01-01", periods=50, freq="D"))
    synth = pd.Series(pd.date_range("2020-01-20", periods=40, freq="36h"))
    result = compare_column(real, synth)
    r = real.to_numpy().astype("datetime64[ns]").astype("int64").astype(float)
    s = synth.to_numpy().astype("datetime64[ns]").astype("int64").astype(float)
    assert result.ks_statistic == pytest.approx(ks_2samp(r, s).statistic)
    assert result.wasserstein == pytest.approx(wasserstein_distance(r, s))


def test_datetime_kind_parses_strings():
    real = pd.Series(["2021-01-01", "2021-02-01", None])
    synth = pd.Series(["2021-01-01", "2021-02-01", "2021-03-01"])
    result = compare_column(real, synth, kind="datetime")
    assert result.missing_real == pytest.approx(1 / 3)
    assert result.out_of_range_share == pytest.approx(1 / 3)


def test_constant_real_column_warns_and_gives_nan_where_undefined():
    with pytest.warns(EvaluationWarning, match="constant") as record:
        result = compare_column([3.0] * 20, [3.0] * 10 + [4.0] * 10)
    assert record[0].filename == __file__  # stacklevel points at the caller
    assert math.isnan(result.wasserstein_iqr)
    assert result.ks_statistic == pytest.approx(0.5)
    assert result.range_coverage == 1.0
    assert result.out_of_range_share == pytest.approx(0.5)


def test_all_missing_column_warns_and_reports_nan():
    with pytest.warns(EvaluationWarning, match="no non-missing value in the synthetic"):
        result = compare_column([1.0, 2.0, 3.0], [np.nan, np.nan])
    assert math.isnan(result.ks_statistic) and math.isnan(result.score)
    assert result.missing_synthetic == 1.0
    with pytest.warns(EvaluationWarning, match="no non-missing value in the real"):
        cat = compare_column(pd.Series([None, None], dtype=object), ["a"], kind="discrete")
    assert math.isnan(cat.tvd)


def test_single_values_do_not_crash():
    with pytest.warns(EvaluationWarning, match="constant in the real table"):
        result = compare_column([1.0], [2.0])
    assert result.ks_statistic == 1.0
    assert compare_column(["a"], ["a"]).tvd == 0.0


def test_collapsed_synthetic_column_warns():
    with pytest.warns(EvaluationWarning, match="constant in the synthetic table"):
        compare_column([1.0, 2.0, 3.0], [2.0, 2.0])
    with pytest.warns(EvaluationWarning, match="single category in the synthetic table"):
        result = compare_column(["a", "b", "b"], ["b", "b"])
    assert result.tvd == pytest.approx(1 / 3)


def test_non_numeric_values_in_a_numeric_column_raise():
    with pytest.raises(InvalidDataError, match="In the synthetic table: .*non-numeric"):
        compare_column([1.0, 2.0], ["x", "y"], kind="continuous")


def test_empty_input_and_unknown_kind_raise():
    with pytest.raises(InvalidDataError, match="empty"):
        compare_column([], [1.0])
    with pytest.raises(InvalidParameterError, match="kind"):
        compare_column([1.0], [1.0], kind="float")
    with pytest.raises(InvalidDataError, match="1-D"):
        compare_column(np.zeros((3, 2)), [1.0])


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_values_raise_naming_the_column_and_table(bad):
    with pytest.raises(InvalidDataError, match=r"In the synthetic table: Column 'x' .*infinite"):
        compare_column(pd.Series([1.0, 2.0, 3.0], name="x"), [1.0, bad, 2.0])
    with pytest.raises(InvalidDataError, match=r"In the real table: .*df\.replace"):
        compare_column([1.0, bad, 3.0], [1.0, 2.0])


def test_results_are_frozen():
    result = compare_column([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.ks_statistic = 0.0  # type: ignore[misc]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from("abcde"), min_size=1, max_size=40),
    st.lists(st.sampled_from("abcdef"), min_size=1, max_size=40),
)
def test_tvd_is_a_symmetric_distance_in_unit_interval(real, synth):
    d = total_variation_distance(real, synth)
    assert 0.0 <= d <= 1.0 + 1e-12
    assert d == pytest.approx(total_variation_distance(synth, real))
    assert total_variation_distance(real, list(reversed(real))) == pytest.approx(0.0)


@pytest.mark.filterwarnings("ignore::tabgan.evaluation.EvaluationWarning")  # constant draws
@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30),
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30),
)
def test_ks_score_is_in_unit_interval_and_matches_scipy(real, synth):
    result = compare_column(np.array(real), np.array(synth), kind="continuous")
    assert 0.0 <= result.score <= 1.0
    with np.errstate(divide="ignore"):  # scipy's p-value for single values
        reference = ks_2samp(real, synth, method="asymp")
    assert result.ks_statistic == pytest.approx(reference.statistic)
    assert 0.0 <= result.range_coverage <= 1.0
