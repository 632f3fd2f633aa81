"""``evaluate`` and its report (tabgan/evaluation/evaluator.py, report.py, _plots.py)."""

from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError, InvalidParameterError, TabganError
from tabgan.evaluation import EvaluationReport, EvaluationWarning, evaluate
from tabgan.evaluation._plots import association_matrices

FAST = dict(detection_folds=2, detection_max_rows=300)


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return load_adult_sample().iloc[:300].reset_index(drop=True)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return load_adult_sample(holdout=True).iloc[:150].reset_index(drop=True)


def unrelated(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Same columns and kinds, different distributions: uniform values, uniform categories."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, col in df.items():
        if pd.api.types.is_numeric_dtype(col):
            out[name] = rng.integers(col.min(), col.max() + 1, len(df))
        else:
            out[name] = rng.choice(col.dropna().unique(), len(df))
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def identical_report(real, holdout) -> EvaluationReport:
    return evaluate(real, real.copy(), target="income", holdout=holdout, random_state=0, **FAST)


@pytest.fixture(scope="module")
def unrelated_report(real, holdout) -> EvaluationReport:
    return evaluate(real, unrelated(real), target="income", holdout=holdout, random_state=0, **FAST)


# ------------------------------------------------------------------- scores
def test_identical_tables_score_one(identical_report):
    r = identical_report
    assert r.score == 1.0 and r.column_shape == 1.0 and r.pair_trend == 1.0
    assert r.detection_auc == pytest.approx(0.5)
    assert r.detection_score == 1.0
    assert r.utility["ratio"]["accuracy"] == pytest.approx(1.0)
    assert r.utility_score == pytest.approx(1.0)
    assert (r.columns["score"] == 1.0).all()


def test_unrelated_tables_score_clearly_lower(unrelated_report):
    r = unrelated_report
    assert r.score < 0.8
    assert r.column_shape < 0.8
    assert r.detection_auc > 0.9
    assert r.detection_score < 0.2
    assert r.utility["synthetic"]["roc_auc"] < r.utility["real"]["roc_auc"] - 0.1


def test_report_tables_have_one_row_per_column_and_pair(unrelated_report, real):
    r = unrelated_report
    assert list(r.columns.index) == list(real.columns)
    assert r.columns.index.name == "column"
    assert set(r.columns.loc[["age", "fnlwgt"], "metric"]) == {"KS"}
    assert r.columns.loc["workclass", "metric"] == "TVD"
    assert len(r.pairs) == r.n_pairs_total == 15 * 14 // 2
    assert not r.pairs_sampled
    assert set(r.pairs["kind"]) == {"numeric", "categorical", "mixed"}
    assert r.column_shape == pytest.approx(r.columns["score"].mean())
    assert r.pair_trend == pytest.approx(r.pairs["score"].mean())
    assert r.score == pytest.approx((r.column_shape + r.pair_trend) / 2)


def test_thread_count_does_not_change_the_report(real, holdout):
    synth = unrelated(real, seed=3)
    kwargs = dict(target="income", holdout=holdout, random_state=0, **FAST)
    one = evaluate(real, synth, n_threads=1, **kwargs)
    default = evaluate(real, synth, **kwargs)
    assert one.detection_auc == pytest.approx(default.detection_auc, abs=1e-9)
    assert one.utility["synthetic"] == pytest.approx(default.utility["synthetic"], abs=1e-9)


def test_same_seed_gives_the_same_report(real, holdout):
    synth = unrelated(real, seed=1)
    a = evaluate(real, synth, target="income", holdout=holdout, random_state=7, **FAST)
    b = evaluate(real, synth, target="income", holdout=holdout, random_state=7, **FAST)
    assert a.to_json() == b.to_json()


def test_column_order_of_the_synthetic_table_does_not_matter(real):
    synth = unrelated(real, seed=2)
    a = evaluate(real, synth, detection=False, random_state=0)
    b = evaluate(real, synth[synth.columns[::-1]], detection=False, random_state=0)
    pd.testing.assert_frame_equal(a.columns, b.columns)
    assert a.score == b.score


def test_wide_tables_sample_pairs_and_say_so():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(60, 12)), columns=[f"c{i}" for i in range(12)])
    report = evaluate(wide, wide * 1.1, max_pairs=10, detection=False, random_state=0)
    assert report.pairs_sampled and report.n_pairs_total == 66 and len(report.pairs) == 10
    assert any("sample of 10" in n for n in report.notes)
    again = evaluate(wide, wide * 1.1, max_pairs=10, detection=False, random_state=0)
    pd.testing.assert_frame_equal(report.pairs, again.pairs)
    assert report.to_dict()["pairs_sampled"] is True


def test_metadata_overrides_the_detected_kinds(real):
    report = evaluate(real, real, metadata={"education-num": "discrete"}, detection=False)
    assert report.columns.loc["education-num", "kind"] == "discrete"
    assert report.columns.loc["education-num", "metric"] == "TVD"


def test_datetime_and_boolean_columns():
    rng = np.random.default_rng(0)
    n = 80
    real = pd.DataFrame(
        {
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "flag": rng.random(n) < 0.3,
        }
    )
    synth = real.assign(when=real["when"] + pd.Timedelta(days=30))
    report = evaluate(real, synth, detection=False, random_state=0)
    assert report.columns.loc["when", "kind"] == "datetime"
    assert report.columns.loc["flag", "kind"] == "boolean"
    assert report.columns.loc["flag", "score"] == 1.0
    assert report.columns.loc["when", "score"] < 1.0
    assert report.pairs.loc[0, "kind"] == "mixed"
    assert "<img" in report.to_html()


# ----------------------------------------------------------- degenerate input
def test_degenerate_columns_warn_but_do_not_crash(real):
    real = (
        real.iloc[:60]
        .reset_index(drop=True)
        .assign(constant=1.0, empty=np.nan, only_real=["a"] * 30 + ["b"] * 30)
    )
    synth = real.assign(only_real=["a"] * 30 + ["z"] * 30, constant=1.0)
    with pytest.warns(EvaluationWarning) as record:
        report = evaluate(real, synth, target="income", random_state=0, **FAST)
    messages = [str(w.message) for w in record]
    assert all(w.filename == __file__ for w in record)  # stacklevel points at the caller
    assert any("'constant' is constant" in m for m in messages)
    assert any("'empty' has no non-missing value" in m for m in messages)
    assert math.isnan(report.columns.loc["empty", "score"])
    assert report.columns.loc["only_real", "unseen_share"] == pytest.approx(0.5)
    assert report.columns.loc["only_real", "category_coverage"] == pytest.approx(0.5)
    assert not math.isnan(report.score)
    assert set(messages) <= set(report.notes)
    assert report.utility["holdout"] == "split"
    json.loads(report.to_json())
    report.to_html(max_plots=2)


def test_single_row_tables_warn_and_report_nan():
    one = pd.DataFrame({"x": [1.0], "c": ["a"]})
    with pytest.warns(EvaluationWarning) as record:
        report = evaluate(one, one, target="c", random_state=0)
    assert any("single row" in str(w.message) for w in record)
    assert report.column_shape == 1.0
    assert math.isnan(report.detection_auc)
    assert math.isnan(report.utility["real"]["accuracy"])
    report.to_html()


# ----------------------------------------------------------------- bad input
def test_mismatched_columns_raise(real):
    with pytest.raises(InvalidDataError, match=r"missing from the synthetic table: \['age'\]"):
        evaluate(real, real.drop(columns="age"))
    with pytest.raises(InvalidDataError, match=r"only in the synthetic table: \['extra'\]"):
        evaluate(real, real.assign(extra=1))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda df: (df.iloc[:0], df), "real table has no rows"),
        (lambda df: (df, df.iloc[:0]), "synthetic table has no rows"),
        (lambda df: (df, df.to_numpy()), "must be a pandas DataFrame"),
        (lambda df: (pd.DataFrame(index=[0, 1]), df), "no columns"),
        (lambda df: (df, df.assign(age="old")), "non-numeric"),
    ],
)
def test_impossible_input_raises(real, make, match):
    a, b = make(real)
    with pytest.raises(InvalidDataError, match=match):
        evaluate(a, b)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_pairs=-1), "max_pairs"),
        (dict(detection_folds=1), "detection_folds"),
        (dict(detection_max_rows=1.5), "detection_max_rows"),
        (dict(detection="yes"), "'detection'"),
        (dict(random_state="seed"), "random_state"),
        (dict(n_threads=0), "n_threads"),
        (dict(target="nope"), "'target'"),
        (dict(holdout=pd.DataFrame({"a": [1]})), "only used with a 'target'"),
    ],
)
def test_invalid_parameters_raise(real, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        evaluate(real, real, **kwargs)


def test_holdout_without_the_real_columns_raises(real, holdout):
    with pytest.raises(InvalidDataError, match="holdout table lacks"):
        evaluate(real, real, target="income", holdout=holdout.drop(columns="age"))


def test_errors_are_tabgan_errors(real):
    with pytest.raises(TabganError):
        evaluate(real, real.drop(columns="age"))


# ------------------------------------------------------------------- exports
def test_to_dict_gives_plain_python_types(unrelated_report):
    def check(obj):
        if isinstance(obj, dict):
            assert all(isinstance(k, str) for k in obj)
            for v in obj.values():
                check(v)
        elif isinstance(obj, list):
            for v in obj:
                check(v)
        else:
            assert obj is None or type(obj) in (str, int, float, bool), type(obj)

    d = unrelated_report.to_dict()
    check(d)
    assert d["score"] == unrelated_report.score
    assert len(d["columns"]) == 15 and d["columns"][0]["column"] == "age"
    assert d["utility"]["target"] == "income"
    assert d["detection"]["auc"] == unrelated_report.detection_auc


def test_to_json_is_valid_json_with_null_for_nan(tmp_path, real):
    with pytest.warns(EvaluationWarning):
        report = evaluate(real.assign(empty=np.nan), real.assign(empty=np.nan), detection=False)
    path = tmp_path / "report.json"
    text = report.to_json(str(path))
    assert path.read_text(encoding="utf-8") == text
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    empty = next(c for c in data["columns"] if c["column"] == "empty")
    assert empty["score"] is None
    assert data["detection_auc"] is None and data["utility"] == {}


def test_to_html_is_one_self_contained_page(tmp_path, unrelated_report):
    path = tmp_path / "report.html"
    text = unrelated_report.to_html(str(path), max_plots=4)
    assert path.read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    images = re.findall(r"<img [^>]*src='([^']*)'", text)
    assert len(images) == 1 + 4  # heatmaps + capped column plots
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r"(src|href)=['\"]?https?:", text)  # nothing fetched from a network
    assert "11 more columns are not plotted" in text
    for needle in ("Worst columns", "Worst pairs", "Machine-learning utility", "Detection"):
        assert needle in text


def test_association_matrices_use_pearson_and_cramers_v(unrelated_report):
    names, real, synth = association_matrices(
        unrelated_report.columns.index, unrelated_report.pairs
    )
    pairs = unrelated_report.pairs.set_index(["column_a", "column_b"])
    i, j = names.index("age"), names.index("fnlwgt")
    assert real[i, j] == real[j, i] == pairs.loc[("age", "fnlwgt"), "pearson_real"]
    i, j = names.index("workclass"), names.index("sex")
    assert synth[j, i] == pairs.loc[("workclass", "sex"), "cramers_v_synthetic"]
    assert np.all(np.diag(real) == 1.0)


def test_summary_and_repr(unrelated_report):
    text = unrelated_report.summary()
    assert "overall score" in text and "detection AUC" in text and "worst columns" in text
    assert len(text.split("worst pairs:")[1].strip().splitlines()) == 3
    assert "accuracy" in text
    assert repr(unrelated_report).startswith("EvaluationReport(score=")


def test_report_is_frozen(identical_report):
    with pytest.raises(AttributeError):
        identical_report.score = 0.0  # type: ignore[misc]


def test_no_warnings_for_ordinary_tables(real):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(real, unrelated(real), detection=False, random_state=0)
