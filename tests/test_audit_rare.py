"""Tests for tabgan/audit/rare.py (rare values copied verbatim) and its place in the report."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from tabgan import Synthesizer
from tabgan.audit import audit, rare_value_copies
from tabgan.datasets import load_adult_sample

from .conftest import TINY


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult_sample()


def test_copies_are_counted_and_chance_is_not_flagged(adult):
    train, holdout = adult.iloc[:1000], adult.iloc[1000:2000]
    copied = rare_value_copies(train, holdout, train)
    # rare Adult categories (a small country) are rare in the population too: a copy of
    # the training rows holds them hardly more often than fresh rows do, and is counted
    assert copied.copied_values > 10 and copied.columns["native-country"]["copied_values"] > 5
    fresh = rare_value_copies(train, holdout, adult.iloc[2000:3000])  # other real people
    assert fresh.holdout_share > 0 and fresh.excess_share_low < 0.01
    # no value is reported, only counts
    text = json.dumps(copied.to_dict())
    rare = train["native-country"].value_counts()
    assert not any(str(v) in text for v in rare.index[rare < 10])


def test_exact_floats_of_training_rows_count_and_integers_do_not():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"income": rng.lognormal(10, 1, 500), "age": rng.integers(18, 90, 500)})
    holdout = pd.DataFrame({"income": rng.lognormal(10, 1, 500), "age": rng.integers(18, 90, 500)})
    syn = holdout.copy()
    syn.loc[:49, "income"] = train["income"].iloc[:50].to_numpy()  # 10 % exact incomes
    res = rare_value_copies(train, holdout, syn)
    assert list(res.columns) == ["income"]  # ages repeat naturally: not checked
    assert res.columns["income"]["copied_values"] == 50
    assert res.synthetic_share == pytest.approx(0.1) and res.holdout_share == 0.0


def test_report_flags_rare_copies_and_tabgan_defaults_copy_none(adult):
    train, holdout = adult.iloc[:1000], adult.iloc[1000:2000].copy()
    # values of one person each (e-mail addresses): a copy holds them, fresh rows never do
    with_mail = train.assign(mail=[f"p{i}@x.org" for i in range(len(train))])
    holdout["mail"] = [f"q{i}@x.org" for i in range(len(holdout))]
    rep = audit(with_mail, holdout, with_mail, n_bootstrap=20, n_attribute_targets=50,
                random_state=0)
    assert rep.summary.risk_levels["rare_values"] == "high"
    fresh = audit(with_mail, holdout, adult.iloc[2000:3000].assign(mail=[f"r{i}@x.org" for i in range(1000)]),
                  n_bootstrap=20, n_attribute_targets=50, random_state=0)
    assert fresh.summary.risk_levels["rare_values"] == "low"
    assert "rare_values" in rep.to_dict() and "4. Rare values copied verbatim" in rep.to_html()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        syn = Synthesizer(**TINY, random_state=0).fit(train).sample(1000, random_state=0)
    holdout = holdout.drop(columns="mail")
    res = rare_value_copies(train, holdout, syn)
    discrete = [c for c in res.columns if train[c].dtype == object]
    assert discrete and all(res.columns[c]["copied_values"] == 0 for c in discrete)
    plain = Synthesizer(**TINY, random_state=0, min_category_rows=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = plain.fit(train).sample(1000, random_state=0)
    assert rare_value_copies(train, holdout, kept).copied_values > 0  # the audit can see it


def test_a_bad_threshold_is_refused_clearly(adult):
    from tabgan import InvalidParameterError

    train, holdout = adult.iloc[:200], adult.iloc[200:400]
    for bad in (0, -3, 2.5, "ten", True):
        with pytest.raises(InvalidParameterError, match="'k' parameter must be an int >= 1"):
            rare_value_copies(train, holdout, train, k=bad)
    with pytest.raises(InvalidParameterError, match="'rare_k' parameter"):
        audit(train, holdout, train, rare_k=0)


def test_declared_categories_are_public_and_not_counted_as_rare(adult):
    """A private fit with a codebook may write a declared category that few training rows
    hold, without having read it: declared categories are not rare values."""
    train, holdout = adult.iloc[:1000], adult.iloc[1000:2000]
    countries = sorted(set(adult["native-country"].dropna()))
    declared = {"native-country": {"kind": "discrete", "categories": countries}}
    plain = rare_value_copies(train, holdout, train)
    public = rare_value_copies(train, holdout, train, metadata=declared)
    assert plain.columns["native-country"]["copied_values"] > 5
    assert "native-country" not in public.columns
    assert public.copied_values < plain.copied_values
