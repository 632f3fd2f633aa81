"""Tests for tabgan/audit/__init__.py (audit) and tabgan/audit/report.py (verdict, JSON, HTML)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from tabgan.audit import AuditReport, audit
from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError, InvalidParameterError


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult_sample()


@pytest.fixture(scope="module")
def copy_report(adult) -> AuditReport:
    train, holdout = adult.iloc[:500], adult.iloc[500:1000]
    return audit(train, holdout, train, n_bootstrap=50, n_attribute_targets=200, random_state=0)


@pytest.fixture(scope="module")
def clean_report(adult) -> AuditReport:
    train, holdout, syn = adult.iloc[:1000], adult.iloc[1000:2000], adult.iloc[2000:3000]
    return audit(
        train,
        holdout,
        syn,
        quasi_identifiers=["age", "sex", "race", "education"],
        sensitive="income",
        n_bootstrap=100,
        random_state=0,
    )


def test_copying_generator_report(copy_report):
    d = copy_report.to_dict()
    assert set(d) >= {"dcr", "mia", "attribute_inference", "summary"}
    assert set(d["mia"]) == {"distance", "density_ratio"}
    assert d["settings"]["mia"]["n_members"] == 250
    assert d["dcr"]["exact_copy_rate"] == pytest.approx(1.0)
    assert d["dcr"]["share_closer_to_train"] > 0.95
    for attack in ("distance", "density_ratio"):
        assert d["mia"][attack]["auc"] > 0.95
    assert copy_report.summary.risk_levels["overall"] == "high"
    assert copy_report.summary.verdict.startswith("HIGH RISK")
    assert d["summary"]["risk_levels"]["dcr"] == "high"


def test_independent_draw_report_is_low_risk(clean_report):
    s = clean_report.summary
    assert s.risk_levels["overall"] == "low", str(s)
    d = clean_report.to_dict()
    for attack in ("distance", "density_ratio"):
        lo, hi = d["mia"][attack]["auc_ci"]
        assert lo <= 0.5 <= hi
    assert list(d["attribute_inference"]["secrets"]) == ["income"]
    assert s.verdict.startswith("LOW RISK")
    assert len(s.caveats) >= 3


def test_json_round_trip_and_nan_becomes_null(copy_report, tmp_path):
    path = tmp_path / "audit.json"
    text = copy_report.to_json(str(path))
    assert path.read_text(encoding="utf-8") == text
    data = json.loads(text)
    assert data["summary"]["verdict"] == copy_report.summary.verdict
    assert "NaN" not in text


def test_html_is_self_contained_with_plots(copy_report, tmp_path):
    path = tmp_path / "audit.html"
    text = copy_report.to_html(str(path))
    assert path.read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>")
    assert len(re.findall(r"data:image/png;base64,", text)) == 3
    assert "http://" not in text and "https://" not in text  # no external resources
    assert "HIGH RISK" in text


def test_same_seed_same_report(adult):
    train, holdout, syn = adult.iloc[:200], adult.iloc[200:400], adult.iloc[400:600]
    kw = dict(n_bootstrap=20, n_attribute_targets=50, random_state=11)
    assert audit(train, holdout, syn, **kw).to_json() == audit(train, holdout, syn, **kw).to_json()


def test_mixed_types_nans_and_single_category_column():
    rng = np.random.default_rng(0)

    def table(n):
        x = rng.normal(size=n)
        x[rng.random(n) < 0.15] = np.nan
        return pd.DataFrame(
            {
                "x": x,
                "count": rng.integers(0, 20, size=n),
                "day": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 100, n), "D"),
                "colour": rng.choice(["red", "green", None], size=n),
                "flag": rng.random(n) < 0.5,
                "country": ["NL"] * n,  # a single category
            }
        )

    train, holdout, syn = table(300), table(300), table(300)
    with pytest.warns(UserWarning, match="'country' has a single value"):
        rep = audit(train, holdout, syn, n_bootstrap=20, n_attribute_targets=100, random_state=0)
    text = rep.to_json()
    assert json.loads(text)["summary"]["risk_levels"]["overall"] in {"low", "medium", "high"}
    assert "country" in rep.attribute_inference.secrets
    assert rep.attribute_inference["country"].residual_risk == 0.0  # always guessed, by anyone


def test_mismatched_columns_raise(adult):
    train = adult.iloc[:100]
    with pytest.raises(InvalidDataError, match="columns do not match"):
        audit(train, train, train.drop(columns=["age"]))
    with pytest.raises(InvalidDataError, match="holdout"):
        audit(train, train.rename(columns={"age": "AGE"}), train)


def test_bad_parameters_raise(adult):
    train = adult.iloc[:100]
    with pytest.raises(InvalidParameterError, match="confidence"):
        audit(train, train, train, confidence=2)
    with pytest.raises(InvalidParameterError, match="quasi_identifiers"):
        audit(train, train, train, quasi_identifiers=["nope"])
    with pytest.raises(InvalidParameterError, match="max_rows"):
        audit(train, adult.iloc[100:200], train, max_rows=1)


def test_small_tables_warn_at_the_callers_line(adult):
    with pytest.warns(UserWarning, match="very noisy") as record:
        rep = audit(adult.iloc[:50], adult.iloc[50:100], adult.iloc[100:150], n_bootstrap=10)
    assert all(r.filename == __file__ for r in record)  # stacklevel points at the caller
    assert "unreliable" in rep.summary.verdict


def test_summary_text_is_one_screen(copy_report):
    text = str(copy_report)
    assert len(text.splitlines()) < 25
    assert "dcr" in text and "mia" in text and "attribute_inference" in text
    assert not math.isnan(copy_report.attribute_inference.max_residual_risk)
