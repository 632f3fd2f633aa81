"""Columns derived from another and joint columns (tabgan.relations and the
transformer's use of them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgan import ConditionError, Synthesizer, load
from tabgan.relations import (
    MAX_JOINT_CELLS,
    MIN_JOINT_COVER,
    MIN_JOINT_DEPENDENCE,
    MIN_ROWS_PER_VALUE,
    find_derived,
    find_joint,
)
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
    """Exact relations only: ``{child: parent}``."""
    return {d.name: d.parent for d in tr.derived_ if not d.joint}


def assert_reloads_alike(synth: Synthesizer, tmp_path) -> None:
    """Saved and loaded, the model samples the same rows for the same seed."""
    synth.save(tmp_path / "m.tabgan")
    pd.testing.assert_frame_equal(load(tmp_path / "m.tabgan").sample(50, random_state=3),
                                  synth.sample(50, random_state=3))


def joint_of(tr: DataTransformer) -> dict[str, str]:
    """Joint columns: ``{child: parent}``."""
    return {d.name: d.parent for d in tr.derived_ if d.joint}


def test_finds_a_one_to_one_map_and_a_functional_dependency_and_ignores_near_ones():
    df = related()
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    # the numeric code follows its label (the label stays modelled); the region follows
    # the state; a column equal to the code in 99 % of rows is no function of anything,
    # but it is modelled jointly with the label
    assert derived_of(tr) == {"level_code": "level", "region": "state"}
    assert joint_of(tr) == {"almost": "level"}
    modelled = {info.name for info in tr.infos_}
    assert not modelled & {"level_code", "region", "almost"}
    assert joint_of(DataTransformer(joint_columns=False).fit(df, rng=np.random.default_rng(0))) == {}


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
    west = synth.sample(200, random_state=2, conditions={"region": "west"})  # two states
    assert set(west["state"]) == {"CA", "OR"} and (west["region"] == "west").all()
    with pytest.raises(ConditionError, match="no value"):
        synth.sample(10, conditions={"level_code": 9})
    assert_reloads_alike(synth, tmp_path)


def test_derive_columns_false_models_every_column():
    df = related(600)
    synth = Synthesizer(**TINY, derive_columns=False, joint_columns=False, random_state=0).fit(df)
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


# ----------------------------------------------------------------- joint columns
def severity(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """An injury severity (a few numeric codes, some missing) and a death indicator that
    follows it almost always (as in the crashes table), beside unrelated columns."""
    rng = np.random.default_rng(seed)
    sev = rng.choice([0.0, 1.0, 2.0, 3.0, 4.0, np.nan], n, p=[0.3, 0.25, 0.2, 0.15, 0.07, 0.03])
    p_dead = np.where(sev == 4, 0.95, np.where(sev == 3, 0.1, 0.0))
    dead = np.where(rng.random(n) < p_dead, "dead", "alive")
    return pd.DataFrame({"sev": sev, "dead": dead, "color": rng.choice(list("rgb"), n),
                         "x": rng.normal(size=n)})


def codes_of(df: pd.DataFrame) -> tuple[dict, dict]:
    codes, n_values = {}, {}
    for c in df.columns:
        codes[c], uniques = pd.factorize(df[c], use_na_sentinel=False)
        n_values[c] = len(uniques)
    return codes, n_values


def test_find_joint_pairs_a_near_function_and_ignores_independent_columns():
    df = severity()[["sev", "dead", "color"]]
    codes, n_values = codes_of(df)
    pairs = find_joint(codes, n_values, parents=["dead", "color"])
    assert [(p.parent, p.child) for p in pairs] == [("dead", "sev")]
    pair = pairs[0]
    assert pair.dependence >= MIN_JOINT_DEPENDENCE and pair.counts.sum() == len(df)
    # rare pairs (fewer than 20 rows) are not cells; every cell is a seen pair
    table = pd.crosstab(codes["dead"], codes["sev"]).to_numpy()
    kept = table[pair.cells[:, 0], pair.cells[:, 1]]
    assert (kept >= MIN_ROWS_PER_VALUE).all()
    # independent columns alone: nothing
    codes, n_values = codes_of(df[["color", "sev"]])
    assert find_joint(codes, n_values, parents=["color"]) == []


def test_find_joint_skips_pairs_with_too_many_cells_or_too_few_rows_and_uses_a_column_once():
    rng = np.random.default_rng(1)
    n = 60 * MAX_JOINT_CELLS
    a = rng.integers(0, 2 * MAX_JOINT_CELLS, n)  # many values: too many cells with its copy
    b = np.where(rng.random(n) < 0.9, a, rng.integers(0, 2 * MAX_JOINT_CELLS, n))
    k = rng.integers(0, 4, n)
    df = pd.DataFrame({"a": a, "b": b, "k": k, "k2": k, "k3": np.where(rng.random(n) < 0.97, k, 0)})
    codes, n_values = codes_of(df)
    pairs = find_joint(codes, n_values, parents=["a", "k", "k2"])
    assert [(p.parent, p.child) for p in pairs] == [("k", "k2")]  # then k3 has no partner
    codes, n_values = codes_of(df.iloc[: 4 * MIN_ROWS_PER_VALUE - 1][["k", "k3"]])
    assert find_joint(codes, n_values, parents=["k"]) == []  # 4 cells need 80 rows


def test_joint_column_round_trip_keeps_every_pair_of_its_cells():
    df = severity(4000)
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    assert joint_of(tr) == {"sev": "dead"}
    assert {info.name for info in tr.infos_} == {"dead", "color", "x"}
    back = tr.inverse_transform(tr.transform(df, rng=np.random.default_rng(1)),
                                rng=np.random.default_rng(2))
    assert back.dtypes.equals(df.dtypes)
    pd.testing.assert_series_equal(back["dead"], df["dead"])  # the parent is never changed
    d = tr.derived_[0]
    info = next(i for i in tr.infos_ if i.name == "dead")
    cells = set(zip(info.categories, d.values))
    pair = list(zip(df["dead"], df["sev"].astype(object).where(df["sev"].notna(), None)))
    in_cell = np.array([p in cells for p in pair])
    same = (back["sev"] == df["sev"]) | (back["sev"].isna() & df["sev"].isna())
    assert same[in_cell].all() and in_cell.mean() >= MIN_JOINT_COVER
    # a rare pair becomes its parent value's most frequent cell
    alive_top = df.loc[df["dead"] == "alive", "sev"].mode()[0]
    moved = ~in_cell & (df["dead"] == "alive").to_numpy()
    assert (back.loc[moved, "sev"] == alive_top).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(0, 10_000), st.floats(0.0, 0.02))
def test_joint_round_trip_is_exact_on_the_cells(k, seed, noise):
    """Property: decoding the encoded rows gives every row of a kept cell back as it was,
    and every decoded pair is a cell."""
    rng = np.random.default_rng(seed)
    n = 60 * k
    parent = rng.integers(0, k, n)
    child = np.where(rng.random(n) < noise, rng.integers(0, k, n), parent * 2 + rng.integers(0, 2, n))
    df = pd.DataFrame({"p": [f"v{i}" for i in parent], "c": child.astype(np.int64)})
    tr = DataTransformer().fit(df, rng=rng)
    back = tr.inverse_transform(tr.transform(df, rng=rng), rng=rng)
    pd.testing.assert_series_equal(back["p"], df["p"])
    joint = {d.name: d for d in tr.derived_ if d.joint}
    if "c" not in joint:
        pd.testing.assert_series_equal(back["c"], df["c"])  # modelled otherwise: exact too
        return
    info = next(i for i in tr.infos_ if i.name == "p")
    cells = set(zip(info.categories, joint["c"].values))
    in_cell = np.array([pair in cells for pair in zip(df["p"], df["c"])])
    assert (back["c"][in_cell] == df["c"][in_cell]).all()
    assert all(pair in cells for pair in zip(back["p"], back["c"]))


def test_synthetic_rows_pair_joint_columns_as_real_rows_do_and_take_conditions(tmp_path):
    df = severity(2000)
    synth = Synthesizer(**{**TINY, "batch_size": 100}, random_state=0).fit(df)
    d = next(d for d in synth.transformer_.derived_ if d.joint)
    info = next(i for i in synth.transformer_.infos_ if i.name == "dead")
    cells = set(zip(info.categories, d.values))
    out = synth.sample(600, random_state=0)
    sev = out["sev"].astype(object).where(out["sev"].notna(), None)
    assert all(pair in cells for pair in zip(out["dead"], sev))
    assert out.dtypes.equals(df.dtypes)
    # a condition on the child reads every cell that gives it, in proportion to its rows
    dead = synth.sample(300, random_state=1, conditions={"dead": "dead"})
    assert (dead["dead"] == "dead").all() and set(dead["sev"]) == {3.0, 4.0}
    four = synth.sample(50, random_state=1, conditions={"sev": 4.0})
    assert (four["sev"] == 4.0).all()
    both = synth.sample(20, random_state=1, conditions={"sev": 4.0, "dead": "dead"})
    assert (both["sev"] == 4.0).all() and (both["dead"] == "dead").all()
    with pytest.raises(ConditionError, match="no value"):
        synth.sample(10, conditions={"sev": 9.0})
    assert_reloads_alike(synth, tmp_path)


def test_review_cases_of_joint_columns():
    """A parent of an exact child is never a joint child (its child reads its codes), and
    a parent value whose only cell is a pair of a few rows keeps the pair from being joint
    (that pair would be written word for word)."""
    rng = np.random.default_rng(0)
    n = 3000
    a = rng.integers(0, 6, n)
    b = np.where(rng.random(n) < 0.995, a // 2, (a // 2 + 1) % 3)
    df = pd.DataFrame({"A": [f"a{i}" for i in a], "B": [f"b{i}" for i in b]})
    df["C"] = df["B"].map({"b0": 10, "b1": 20, "b2": 30})
    synth = Synthesizer(**{**TINY, "batch_size": 100}, random_state=0).fit(df)
    d = {x.name: x for x in synth.transformer_.derived_}
    assert d["C"].parent == "B" and "B" not in {x.name for x in d.values() if x.joint}
    out = synth.sample(200, random_state=0)
    assert (out["C"] == out["B"].map({"b0": 10, "b1": 20, "b2": 30})).all()
    # a parent value of 12 rows whose most frequent child value has 5: no joint column
    few = pd.DataFrame({"p": ["x"] * 600 + ["y"] * 600 + ["z"] * 12,
                        "c": [1.0] * 600 + [2.0] * 600 + [13.37] * 5 + [14.1] * 4 + [15.2] * 3})
    codes, n_values = codes_of(few)
    assert find_joint(codes, n_values, parents=["p"]) == []


def test_a_parent_with_pooled_rare_values_still_has_its_children():
    """Rows whose parent value is pooled as rare take no part in the check; a numeric child
    gets one common value there (its dtype kept; never a value of one or a few rows), and is exact everywhere
    else; a discrete child is written missing there."""
    df = related(2000)
    df.loc[:5, "level"] = [f"rare-{i}" for i in range(6)]  # six values of one row each
    df.loc[:5, "level_code"] = np.arange(100, 106)
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    assert derived_of(tr)["level_code"] == "level"
    back = tr.inverse_transform(tr.transform(df, rng=np.random.default_rng(1)),
                                rng=np.random.default_rng(2))
    assert (back["level"][:6] == "(other)").all() and back["level_code"].dtype == df["level_code"].dtype
    assert (back["level_code"][6:] == df["level_code"][6:]).all()
    # one value for the pooled rows, and not one of theirs (each is one row's)
    assert back["level_code"][:6].nunique() == 1 and not back["level_code"].isin(range(100, 106)).any()
