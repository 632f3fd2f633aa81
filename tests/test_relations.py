"""Columns derived from another (tabgan.relations and the transformer's use of it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgan import ConditionError, Synthesizer, load
from tabgan.relations import MIN_ROWS_PER_VALUE, find_derived
from tabgan.transformer import DataTransformer

from .conftest import TINY


def related(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A label and its code (1:1), a state and its region (many to one), a noisy copy."""
    rng = np.random.default_rng(seed)
    labels = np.array(["low", "mid", "high", "top"])
    k = rng.integers(0, 4, n)
    state = rng.choice(["CA", "OR", "NY", "NJ", "TX"], n)
    region = pd.Series(state).map({"CA": "west", "OR": "west", "NY": "east", "NJ": "east",
                                   "TX": "south"})
    noisy = k.copy()
    flip = rng.random(n) < 0.01
    noisy[flip] = (noisy[flip] + 1) % 4
    return pd.DataFrame({
        "level": labels[k], "level_code": k + 1, "state": state, "region": region,
        "almost": noisy, "x": rng.normal(size=n),
    })


def derived_of(tr: DataTransformer) -> dict[str, str]:
    return {d.name: d.parent for d in tr.derived_}


def test_finds_a_one_to_one_map_and_a_functional_dependency_and_ignores_near_ones():
    df = related()
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    # the numeric code follows its label (the label stays modelled); the region follows
    # the state; a column equal to the code in 99 % of rows is no function of anything
    assert derived_of(tr) == {"level_code": "level", "region": "state"}
    modelled = {info.name for info in tr.infos_}
    assert "level_code" not in modelled and "region" not in modelled and "almost" in modelled


def test_round_trip_is_exact_and_the_relation_holds_in_decoded_rows():
    df = related(500)
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    back = tr.inverse_transform(tr.transform(df, rng=np.random.default_rng(1)),
                                rng=np.random.default_rng(2))
    pd.testing.assert_frame_equal(back[["level", "level_code", "state", "region"]],
                                  df[["level", "level_code", "state", "region"]])
    assert back.dtypes.equals(df.dtypes)


def test_a_dependency_seen_in_too_few_rows_is_not_taken_for_a_fact():
    rng = np.random.default_rng(3)
    n = 12 * MIN_ROWS_PER_VALUE - 1  # 12 parent values, just short of enough rows each
    parent = rng.integers(0, 12, n)
    df = pd.DataFrame({"p": parent.astype(str), "c": parent % 3})
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    assert tr.derived_ == []
    df = pd.concat([df, df.iloc[:1]], ignore_index=True)  # now enough rows
    assert derived_of(DataTransformer().fit(df, rng=np.random.default_rng(0))) == {"c": "p"}


def test_missing_values_count_as_a_value():
    df = related(1000)
    df.loc[df["level"] == "top", ["level", "level_code"]] = [None, np.nan]
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    assert derived_of(tr)["level_code"] == "level"
    out = tr.inverse_transform(tr.transform(df, rng=np.random.default_rng(1)),
                               rng=np.random.default_rng(2))
    assert out["level_code"].isna().sum() == df["level_code"].isna().sum()


def test_wide_tables_check_only_pairs_that_could_be_functions(monkeypatch):
    """The exact check (one np.unique per pair) runs only where the child has no more
    distinct values than the parent: continuous columns are never checked."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({f"x{i}": rng.normal(size=3000) for i in range(40)})
    df["cat"] = rng.choice(list("abcde"), 3000)
    codes = {"cat": pd.factorize(df["cat"])[0]}
    calls = []
    real_unique = np.unique
    monkeypatch.setattr(np, "unique", lambda *a, **k: calls.append(1) or real_unique(*a, **k))
    assert find_derived(df, codes, {"cat": 5}, list(df.columns)) == {}
    assert calls == []


def test_synthetic_rows_keep_the_relation_and_conditions_on_a_derived_column(tmp_path):
    df = related(1200)
    synth = Synthesizer(**{**TINY, "batch_size": 40}, random_state=0).fit(df)
    out = synth.sample(400, random_state=0)
    code_of = dict(zip(df["level"], df["level_code"]))
    assert (out["level_code"] == out["level"].map(code_of)).all()
    assert (out["region"] == out["state"].map(dict(zip(df["state"], df["region"])))).all()
    assert out.dtypes.equals(df.dtypes)
    # a condition on the derived code is a condition on its label
    two = synth.sample(30, random_state=1, conditions={"level_code": 2})
    assert (two["level"] == "mid").all() and (two["level_code"] == 2).all()
    with pytest.raises(ConditionError, match="condition on 'state'"):
        synth.sample(10, conditions={"region": "west"})  # two states give it
    with pytest.raises(ConditionError, match="no value"):
        synth.sample(10, conditions={"level_code": 9})
    synth.save(tmp_path / "m.tabgan")
    pd.testing.assert_frame_equal(load(tmp_path / "m.tabgan").sample(50, random_state=3),
                                  synth.sample(50, random_state=3))


def test_derive_columns_false_models_every_column():
    df = related(600)
    synth = Synthesizer(**TINY, derive_columns=False, random_state=0).fit(df)
    assert synth.transformer_.derived_ == []
    assert {i.name for i in synth.transformer_.infos_} == set(df.columns)


def test_private_fits_find_no_relations():
    df = related(2000)
    meta = {"level_code": {"kind": "integer", "lower": 1, "upper": 4},
            "almost": {"kind": "integer", "lower": 0, "upper": 3},
            "x": {"kind": "continuous", "lower": -5.0, "upper": 5.0}}
    synth = Synthesizer(**{**TINY, "batch_size": 100}, epsilon=3.0, random_state=0).fit(
        df, metadata=meta)
    assert synth.transformer_.derived_ == []
