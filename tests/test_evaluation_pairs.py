"""Pair metrics (tabgan/evaluation/pairs.py) on hand-made tables with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr
from scipy.stats.contingency import association

from tabgan.errors import InvalidDataError, InvalidParameterError
from tabgan.evaluation import EvaluationWarning, PairResult, compare_pair, cramers_v
from tabgan.evaluation.pairs import quantile_cuts


def _table(a, b) -> pd.DataFrame:
    return pd.DataFrame({"a": a, "b": b})


def test_contingency_tvd_on_a_hand_made_table():
    # real joint: (x,u) 2, (x,v) 1, (y,v) 1  -> 1/2, 1/4, 0, 1/4
    real = _table(["x", "x", "x", "y"], ["u", "u", "v", "v"])
    # synthetic joint: (x,u) 1, (y,u) 1, (y,v) 2 -> 1/4, 0, 1/4, 1/2
    synth = _table(["x", "y", "y", "y"], ["u", "u", "v", "v"])
    result = compare_pair(real, synth, columns=("a", "b"))
    assert result.kind == "categorical"
    # 0.5 * (|.5-.25| + |.25-0| + |0-.25| + |.25-.5|) = 0.5
    assert result.contingency_tvd == pytest.approx(0.5)
    assert result.score == pytest.approx(0.5)


def test_contingency_tvd_leaves_out_rows_with_a_missing_value():
    real = _table(["x", "y", None], ["u", "v", "u"])
    synth = _table(["x", "y", "x"], ["u", "v", None])
    assert compare_pair(real, synth, columns=("a", "b")).contingency_tvd == pytest.approx(0.0)


def test_cramers_v_matches_scipy_and_known_values():
    rng = np.random.default_rng(1)
    a = rng.choice(list("pqr"), 300)
    b = np.where(rng.random(300) < 0.6, a, rng.choice(list("pqrs"), 300))
    table = pd.crosstab(a, b).to_numpy()
    assert cramers_v(a, b) == pytest.approx(association(table, method="cramer"))
    assert cramers_v(list("aabb"), list("xxyy")) == pytest.approx(1.0)  # perfect association
    assert cramers_v(list("aabb"), list("xyxy")) == pytest.approx(0.0)  # independent
    assert math.isnan(cramers_v(list("aaaa"), list("xyxy")))  # a single category
    with pytest.raises(InvalidParameterError, match="equal length"):
        cramers_v([1, 2], [1])


def test_numeric_pair_correlations_match_scipy():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    real = _table(x, 2 * x + rng.normal(size=200))
    synth = _table(x, rng.normal(size=200) - 0.5 * x)
    result = compare_pair(real, synth, columns=("a", "b"))
    assert result.kind == "numeric"
    assert result.pearson_real == pytest.approx(pearsonr(real.a, real.b).statistic)
    assert result.spearman_synthetic == pytest.approx(spearmanr(synth.a, synth.b).statistic)
    assert result.pearson_diff == pytest.approx(
        abs(pearsonr(synth.a, synth.b).statistic - pearsonr(real.a, real.b).statistic)
    )
    assert result.score == pytest.approx(1 - result.pearson_diff / 2)
    assert result.association_real == result.pearson_real


def test_numeric_pair_uses_rows_where_both_are_present():
    real = _table([1.0, 2.0, 3.0, np.nan, 5.0], [2.0, 4.0, 7.0, 1.0, np.nan])
    result = compare_pair(real, real, columns=("a", "b"))
    assert result.pearson_real == pytest.approx(pearsonr([1, 2, 3], [2, 4, 7]).statistic)
    assert result.score == 1.0


def test_mixed_pair_bins_the_numeric_side_at_real_quantiles():
    # real: 'lo' when v <= 50, 'hi' above; the synthetic table breaks that link
    v = np.arange(100, dtype=float)
    real = _table(v, np.where(v < 50, "lo", "hi"))
    synth = _table(v, np.where(v % 2 == 0, "lo", "hi"))
    result = compare_pair(real, synth, columns=("a", "b"), n_bins=2)
    assert result.kind == "mixed"
    # two bins split at the real median 49.5: real puts all mass on (lo, bin0), (hi, bin1);
    # synthetic spreads 1/4 on each cell -> TVD 0.5
    assert result.contingency_tvd == pytest.approx(0.5)
    assert result.cramers_v_real == pytest.approx(1.0)
    assert result.cramers_v_synthetic == pytest.approx(0.0, abs=1e-12)
    assert result.cramers_v_diff == pytest.approx(1.0)
    assert result.association_synthetic == result.cramers_v_synthetic


def test_quantile_cuts():
    # few distinct values: one bin each, cut halfway between them
    assert quantile_cuts(np.array([1.0, 1.0, 2.0, 4.0]), 10) == pytest.approx([1.5, 3.0])
    # many values: deciles of the real data
    values = np.arange(1000, dtype=float)
    expected = np.quantile(values, np.linspace(0, 1, 11)[1:-1])
    assert quantile_cuts(values, 10) == pytest.approx(expected)
    # mostly zeros (capital-gain): zero versus the rest
    zero_heavy = np.r_[np.zeros(950), np.arange(1, 51, dtype=float)]
    assert quantile_cuts(zero_heavy, 10) == pytest.approx([0.0])
    # mostly the maximum: the maximum versus the rest
    max_heavy = np.r_[np.arange(20, dtype=float), np.full(980, 100.0)]
    assert quantile_cuts(max_heavy, 10) == pytest.approx([19.0])
    assert len(quantile_cuts(np.array([np.nan]), 10)) == 0


def test_synthetic_values_outside_the_real_range_fall_in_the_end_bins():
    real = _table(np.arange(10, dtype=float), ["a"] * 5 + ["b"] * 5)
    synth = _table(np.arange(10, dtype=float) + 1000, ["a"] * 5 + ["b"] * 5)
    result = compare_pair(real, synth, columns=("a", "b"))
    # every synthetic value lands in the top bin with label split a/b -> far from real
    assert result.contingency_tvd == pytest.approx(0.9)


def test_identical_tables_give_pair_score_one():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=50), "c": rng.choice(list("abc"), 50)})
    assert compare_pair(df, df.sample(frac=1, random_state=0), columns=("x", "c")).score == 1.0


def test_constant_real_column_warns_and_gives_nan():
    real = _table([1.0] * 10, np.arange(10.0))
    synth = _table(np.arange(10.0), np.arange(10.0))
    with pytest.warns(EvaluationWarning, match="single value in the real table") as record:
        result = compare_pair(real, synth, columns=("a", "b"))
    assert record[0].filename == __file__
    assert math.isnan(result.pearson_real) and math.isnan(result.score)


def test_constant_synthetic_column_counts_as_uncorrelated():
    real = _table(np.arange(10.0), np.arange(10.0))
    synth = _table(np.arange(10.0), np.full(10, 3.0))
    result = compare_pair(real, synth, columns=("a", "b"))
    assert math.isnan(result.pearson_synthetic)
    assert result.score == pytest.approx(0.5)  # 1 - |0 - 1| / 2


def test_metadata_override_turns_a_numeric_pair_categorical():
    real = _table([1, 1, 2, 2], [1, 2, 1, 2])
    result = compare_pair(
        real, real, columns=("a", "b"), metadata={"a": "discrete", "b": "discrete"}
    )
    assert result.kind == "categorical"


def test_bad_arguments_raise():
    df = _table([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(InvalidParameterError, match="two different column names"):
        compare_pair(df, df, columns=("a", "a"))
    with pytest.raises(InvalidParameterError, match="'zzz'"):
        compare_pair(df, df, columns=("a", "zzz"))
    with pytest.raises(InvalidParameterError, match="n_bins"):
        compare_pair(df, df, columns=("a", "b"), n_bins=1)
    with pytest.raises(InvalidDataError, match="no rows"):
        compare_pair(df.iloc[:0], df, columns=("a", "b"))


def test_pair_result_row_has_every_field():
    row = PairResult("a", "b", "numeric", pearson_real=0.5, pearson_synthetic=0.1).to_dict()
    assert row["pearson_diff"] == pytest.approx(0.4)
    assert row["score"] == pytest.approx(0.8)
    assert math.isnan(row["contingency_tvd"])
