"""Calibrated sampling: raking weights, weighted draws without replacement, saved state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tabgan import Synthesizer, load
from tabgan.calibration import MIN_CELL_ROWS, Calibration

KINDS = {"x": "continuous", "sex": "discrete", "label": "discrete"}


def real(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    x = r.normal(size=n)
    return pd.DataFrame({
        "x": x,
        "sex": np.where(r.random(n) < 0.67, "Male", "Female"),
        "label": np.where(x + r.normal(0, 0.3, n) > 0, "hi", "lo"),  # follows x
    })


def drifted(n: int = 12000, seed: int = 1) -> pd.DataFrame:
    """A generator's rows: sex pulled towards uniform, label independent of x."""
    r = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": r.normal(size=n),
        "sex": np.where(r.random(n) < 0.55, "Male", "Female"),
        "label": np.where(r.random(n) < 0.5, "hi", "lo"),
    })


def agreement(df: pd.DataFrame) -> float:
    return float(((df["x"] > 0) == (df["label"] == "hi")).mean())


@pytest.mark.parametrize("mode", ["marginals", "pairs"])
def test_raking_brings_the_marginals_back(mode):
    cal = Calibration.fit(real(), KINDS, mode=mode, rng=np.random.default_rng(0))
    pool = drifted()
    keep = cal.select(pool, 6000, np.random.default_rng(0))
    assert abs((pool.iloc[keep]["sex"] == "Male").mean() - 0.67) < 0.01
    assert abs((pool["sex"] == "Male").mean() - 0.67) > 0.1


def test_pairs_mode_restores_a_relation_that_marginals_cannot():
    pool = drifted()
    by_mode = {}
    for mode in ("marginals", "pairs"):
        cal = Calibration.fit(real(), KINDS, mode=mode, rng=np.random.default_rng(0))
        by_mode[mode] = agreement(pool.iloc[cal.select(pool, 6000, np.random.default_rng(0))])
    assert by_mode["marginals"] < 0.55 < 0.7 < by_mode["pairs"]  # real rows: about 0.87


def test_a_draw_keeps_each_row_at_most_once_in_order():
    cal = Calibration.fit(real(), KINDS, mode="pairs", rng=np.random.default_rng(0))
    keep = cal.select(drifted(), 5000, np.random.default_rng(3))
    assert len(keep) == 5000 == len(np.unique(keep)) and np.all(np.diff(keep) > 0)
    assert np.array_equal(cal.select(drifted(100), 100, np.random.default_rng(0)), np.arange(100))


def test_small_cells_are_neither_kept_nor_corrected():
    df = real(1000)
    df.loc[:4, "sex"] = "Other"  # five rows
    cal = Calibration.fit(df, KINDS, mode="pairs", rng=np.random.default_rng(0))
    for _, share in cal.joint:
        counts = share * len(df)
        # saved pair counts are multiples of MIN_CELL_ROWS: a hidden pair cell cannot be
        # recovered by subtracting saved cells from a column's total
        np.testing.assert_allclose(counts, np.round(counts / MIN_CELL_ROWS) * MIN_CELL_ROWS)
        assert np.all(counts >= MIN_CELL_ROWS)
    for _, share in cal.single:
        assert np.all(np.round(share * len(df)) >= MIN_CELL_ROWS)
    sex = cal.binnings[1]
    assert "Other" not in sex.categories  # pooled with any other value
    assert sex.n_bins - 2 not in cal.single[1][0]
    pool = pd.concat([drifted(2000), real(500).assign(sex="Other")], ignore_index=True)
    pi = cal.inclusion(pool, 1000)
    assert np.all(np.isfinite(pi)) and pi.min() > 0 and pi.max() <= 1
    assert pi.sum() == pytest.approx(1000)


def test_cells_left_uncorrected_keep_their_generated_share():
    cal = Calibration.fit(real(), KINDS, mode="marginals", rng=np.random.default_rng(0))
    pool = drifted(10_000)
    pool.loc[:1999, "sex"] = "Other"  # 20 % in a cell the training rows do not hold
    pi = cal.inclusion(pool, 5000)
    assert pi[:2000].sum() / 5000 == pytest.approx(0.2, abs=0.01)
    male = (pool["sex"] == "Male").to_numpy()
    assert pi[male].sum() / pi[2000:].sum() == pytest.approx(0.67, abs=0.01)


def test_state_round_trips_through_json():
    cal = Calibration.fit(real(), KINDS, mode="pairs", rng=np.random.default_rng(0))
    again = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    pool = drifted()
    np.testing.assert_allclose(again.inclusion(pool, 5000), cal.inclusion(pool, 5000))


def test_wide_tables_calibrate_a_sample_of_pairs():
    r = np.random.default_rng(0)
    wide = pd.DataFrame(r.normal(size=(500, 30)), columns=[f"v{i}" for i in range(30)])
    cal = Calibration.fit(wide, {c: "continuous" for c in wide}, mode="pairs", rng=r)
    assert len(cal.pairs) == 200


TINY = dict(epochs=1, batch_size=50, pac=5, random_state=0, generator_dim=(16,),
            discriminator_dim=(16,), embedding_dim=8)


def test_synthesizer_samples_calibrated_rows_and_saves_the_histograms(tmp_path):
    synth = Synthesizer(**TINY).fit(real(600))
    assert synth.calibration_.mode == "pairs"
    out = synth.sample(300, random_state=1)
    assert len(out) == 300 and list(out.columns) == ["x", "sex", "label"]
    assert out.equals(synth.sample(300, random_state=1))
    plain = Synthesizer(**TINY, calibrate=None).fit(real(600))
    assert plain.calibration_ is None
    # calibration only picks among the generator's rows: the same model, uncalibrated,
    # makes a pool that holds every calibrated row
    synth.save(tmp_path / "m.tabgan")
    again = load(tmp_path / "m.tabgan")
    assert again.sample(300, random_state=1).equals(out)
    assert again.calibration_.to_dict() == synth.calibration_.to_dict()


def test_conditions_sample_uncalibrated_and_private_fits_calibrate_to_released_marginals():
    synth = Synthesizer(**TINY).fit(real(600))
    out = synth.sample(50, random_state=0, conditions={"sex": "Female"})
    assert (out["sex"] == "Female").all()
    df = real(3000)
    private = Synthesizer(**{**TINY, "batch_size": 100}, epsilon=5.0).fit(df)
    cal = private.calibration_
    assert cal is not None and cal.mode == "marginals" and cal.pairs == []
    # its targets are the released (noisy) counts, nothing read from the table since
    info = next(i for i in private.transformer_.infos_ if i.name == "sex")
    k = [b.name for b in cal.binnings].index("sex")
    index, share = cal.single[k]
    released = np.asarray(info.counts, dtype=float) / sum(info.counts)
    b = cal.binnings[k]
    for i, s in zip(index, share):
        assert s == pytest.approx(released[info.categories.index(b.categories[i])])
    # and it pulls the sample's marginals towards them
    raw = Synthesizer(**{**TINY, "batch_size": 100}, epsilon=5.0,
                      calibrate=None).fit(df).sample(3000, random_state=1)
    cooked = private.sample(3000, random_state=1)
    target = dict(zip(info.categories, released))
    gap = lambda out: sum(abs(out["sex"].eq(c).mean() - p) for c, p in target.items())  # noqa: E731
    assert gap(cooked) < gap(raw)


def ordered(n: int, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    low = r.integers(0, 10, n)
    return pd.DataFrame({
        "low": low,
        "high": low + r.integers(0, 5, n),  # high >= low in every row
        "small": r.uniform(0, 1, n),  # below "big" in every row, but only by range
        "big": r.uniform(2, 3, n),
        "free": r.normal(size=n),
    })


ORDER_KINDS = {"low": "integer", "high": "integer", "small": "continuous",
               "big": "continuous", "free": "continuous"}


def test_orders_kept_by_every_training_row_are_found():
    cal = Calibration.fit(ordered(500), ORDER_KINDS, mode="marginals", rng=np.random.default_rng(0))
    names = [(cal.binnings[i].name, cal.binnings[j].name) for i, j in cal.orders]
    assert names == [("low", "high")]  # small <= big follows from the ranges alone
    broken = ordered(500)
    broken.loc[0, "high"] = broken.loc[0, "low"] - 1
    again = Calibration.fit(broken, ORDER_KINDS, mode="marginals", rng=np.random.default_rng(0))
    assert again.orders == []  # one row is enough to say there is no order


def test_draws_avoid_rows_that_break_an_order():
    cal = Calibration.fit(ordered(2000), ORDER_KINDS, mode="pairs", rng=np.random.default_rng(0))
    pool = ordered(4000, seed=1)
    swap = np.random.default_rng(2).random(4000) < 0.3  # 30 % of generated rows broken
    pool.loc[swap, ["low", "high"]] = pool.loc[swap, ["high", "low"]].to_numpy()
    bad = (pool["low"] > pool["high"]).to_numpy()
    keep = cal.select(pool, 2000, np.random.default_rng(0))
    assert len(keep) == 2000 == len(np.unique(keep)) and not bad[keep].any()
    # fewer good rows than asked: all good rows, then the least broken
    keep = cal.select(pool, 3500, np.random.default_rng(0))
    assert len(keep) == 3500 and (~bad[keep]).sum() == (~bad).sum()
    assert Calibration.from_dict(json.loads(json.dumps(cal.to_dict()))).orders == cal.orders


def test_repair_mends_broken_orders_in_chains_and_keeps_dtypes():
    cal = Calibration.fit(ordered(2000), ORDER_KINDS, mode="pairs", rng=np.random.default_rng(0))
    pool = ordered(4000, seed=1)
    swap = np.random.default_rng(2).random(4000) < 0.3
    pool.loc[swap, ["low", "high"]] = pool.loc[swap, ["high", "low"]].to_numpy()
    fixed = cal.repair(pool)
    assert (fixed["low"] <= fixed["high"]).all() and fixed.dtypes.equals(pool.dtypes)
    pd.testing.assert_series_equal(fixed["low"], pool["low"])  # the smaller side is kept
    assert (fixed.loc[swap, "high"] == pool.loc[swap, "low"]).all()
    assert (pool["low"] > pool["high"]).any()  # the caller's frame is not changed
    assert cal.repair(fixed) is fixed  # nothing broken: no copy
    # a chain a <= b <= c: one repair can break the next order, passes mend both
    r = np.random.default_rng(3)
    a = r.integers(0, 5, 600)
    chain = pd.DataFrame({"a": a, "b": a + r.integers(0, 3, 600)})
    chain["c"] = chain["b"] + r.integers(0, 3, 600)
    cal = Calibration.fit(chain, dict.fromkeys(chain, "integer"), mode="marginals",
                          rng=np.random.default_rng(0))
    gen = pd.DataFrame({"a": [5, 0, 9], "b": [1, 0, 2], "c": [3, 0, 1]})
    fixed = cal.repair(gen)
    assert (fixed["a"] <= fixed["b"]).all() and (fixed["b"] <= fixed["c"]).all()
    # a fixed column (one that holds another relation) keeps its values: the other moves
    kept = cal.repair(gen, fixed=frozenset({"b"}))
    pd.testing.assert_series_equal(kept["b"], gen["b"])
    assert (kept["a"] <= kept["b"]).all() and (kept["b"] <= kept["c"]).all()


def test_an_unknown_mode_is_refused_clearly():
    from tabgan.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'mode' parameter"):
        Calibration.fit(real(100), KINDS, mode="joint", rng=np.random.default_rng(0))


def _inclusion_by_full_sort(w: np.ndarray, n: int) -> np.ndarray:
    """The reference: min(1, c w) summing to n, with every rank examined after one sort."""
    m = len(w)
    if n >= m:
        return np.ones(m)
    order = np.argsort(-w, kind="stable")
    sw = w[order]
    tail = np.cumsum(sw[::-1])[::-1]
    fits = sw[:n] * (n - np.arange(n)) <= tail[:n]
    first = int(np.argmax(fits))
    pi = np.empty(m)
    pi[order[:first]] = 1.0
    rest = order[first:]
    pi[rest] = w[rest] * ((n - first) / max(tail[first], 1e-300))
    return np.minimum(pi, 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_inclusion_chances_match_the_full_sort_with_heavy_tails_and_ties(seed):
    from tabgan.calibration import _inclusion

    r = np.random.default_rng(seed)
    m = 20_000
    # few distinct weights (rows sharing every cell share a weight), heavy-tailed
    levels = np.exp(r.normal(0, 3, 40))
    w = levels[r.integers(0, 40, m)] * (r.random(m) < 0.9)
    for n in (10, 1000, 9_000, 19_999):
        pi = _inclusion(w, n)
        assert pi.max() <= 1.0
        if n <= (w > 0).sum():  # else the rows of weight 0 cannot make up the number
            assert pi.sum() == pytest.approx(n)
        np.testing.assert_allclose(pi, _inclusion_by_full_sort(w, n), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rounds", [0, 6])
def test_inclusion_cut_off_keeps_small_remainders_beside_huge_weights(monkeypatch, rounds):
    """The weights after the largest are summed from the smallest up: a total less the
    largest weights would round them away (the review's cases)."""
    import tabgan.calibration as cal

    monkeypatch.setattr(cal, "_ROUNDS", rounds)
    r = np.random.default_rng(0)
    cases = [(np.array([1e300, 1.0, 1.0, 1.0]), 2),
             (np.array([10.0 ** e for e in range(20, 0, -2)] + [1.0] * 5), 7)]
    for _ in range(60):
        m = int(r.integers(20, 300))
        cases.append((r.pareto(0.3, m), int(r.integers(1, m))))
        cases.append((10.0 ** r.uniform(-300, 300, m), int(r.integers(1, m))))
        cases.append((np.exp(r.normal(0, 8, m)) * (r.random(m) < 0.7), int(r.integers(1, m))))
    for w, n in cases:
        pi = cal._inclusion(w, n)
        ref = _inclusion_by_full_sort(w, n)
        assert pi.max() <= 1.0
        np.testing.assert_allclose(pi, ref, rtol=1e-6, atol=1e-12)
        if n <= (w > 0).sum():
            assert pi.sum() == pytest.approx(n, rel=1e-9)
