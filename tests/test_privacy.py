"""Private fits end to end: budget, ledger, leakage, refusals, persistence, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgan import InvalidParameterError, PrivacyError, Synthesizer, load
from tabgan.privacy import PrivacyLedger, default_delta
from tabgan.privacy.accountant import training_epsilon

from .conftest import TINY

DECLARED = {
    "x": {"kind": "continuous", "lower": 0.0, "upper": 20.0},
    "count": {"kind": "integer", "lower": 0, "upper": 49},
}


def table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(10, 3, n),
            "count": rng.integers(0, 50, n),
            "color": rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]).astype(object),
            "flag": rng.random(n) < 0.3,
        }
    )


def fit_private(df, metadata=DECLARED, **kw):
    params = {**TINY, "random_state": 0, "epsilon": 1.0, **kw}
    return Synthesizer(**params).fit(df, metadata=metadata)


@pytest.fixture(scope="module")
def private_model():
    df = table()
    df.loc[7, "color"] = "SECRET-VALUE"  # one row holds it
    return df, fit_private(df)


# ----------------------------------------------------------------- budget
def test_epsilon_spent_is_within_target_and_the_ledger_adds_up(private_model):
    df, synth = private_model
    ledger = synth.privacy_ledger_
    assert isinstance(ledger, PrivacyLedger)
    assert synth.epsilon_ <= 1.0 and synth.epsilon_ > 0.95
    assert synth.precision_ == "float32"  # "auto" keeps private fits in float32
    assert math.isclose(synth.epsilon_, sum(e.epsilon for e in ledger.entries))
    assert math.isclose(synth.delta_, sum(e.delta for e in ledger.entries))
    rows = ledger["row count"].details["noisy_rows"]
    assert synth.n_rows_ == rows and abs(rows - len(df)) < 2000  # 1 % of epsilon=1: scale 100
    assert synth.delta_ <= default_delta(rows) * (1 + 1e-9)
    assert [e.component for e in ledger] == ["public inputs", "row count", "marginals", "training"]
    assert ledger["public inputs"].epsilon == 0.0
    assert ledger["row count"].epsilon == pytest.approx(0.01) and ledger["row count"].delta == 0
    # the training entry is the accountant's epsilon for the steps actually taken; the
    # steps and the sampling rate come from the noisy row count, not the table's
    train = ledger["training"]
    d = train.details
    assert d["steps"] == d["planned_steps"] == TINY["epochs"] * (rows // TINY["batch_size"])
    assert d["sample_rate"] == TINY["batch_size"] / rows
    assert train.epsilon == training_epsilon(
        noise_multiplier=d["noise_multiplier"], sample_rate=d["sample_rate"], steps=d["steps"],
        delta=train.delta, accountant="rdp",
    )
    assert train.epsilon <= 0.8  # the training share of epsilon=1
    assert d["expected_batch_size"] == pytest.approx(TINY["batch_size"])
    assert "mean_batch_size" not in d  # the realised sizes would reveal the row count
    assert list(synth.loss_history_.columns) == ["epoch", "discriminator_fake", "generator"]


def test_undeclared_ranges_are_a_ledger_entry():
    df = table(4000)
    synth = fit_private(df, metadata=None, epsilon=4.0)
    ledger = synth.privacy_ledger_
    assert [e.component for e in ledger] == ["public inputs", "row count", "numeric ranges",
                                            "marginals", "training"]
    assert math.isclose(synth.epsilon_, ledger.epsilon) and synth.epsilon_ <= 4.0
    info = {i.name: i for i in synth.transformer_.infos_}
    # private bounds: near the data's but never copied from it
    assert info["x"].lower != df["x"].min() and info["x"].upper != df["x"].max()
    assert -1 <= info["x"].lower <= 8 and 13 <= info["x"].upper <= 32
    out = synth.sample(500, random_state=0)
    assert out["x"].between(info["x"].lower, info["x"].upper).all()


def test_prv_accountant():
    synth = fit_private(table(), accountant="prv")
    assert synth.privacy_ledger_["training"].details["accountant"] == "prv"
    assert synth.epsilon_ <= 1.0


# ----------------------------------------------------------------- row count
def _flat(doc, path=""):
    """``{path: value}`` of every scalar in a JSON document."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _flat(v, f"{path}/{k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _flat(v, f"{path}/{i}")
    else:
        yield path, doc


#: Saved fields that are noisy releases or computed from them and the training noise:
#: they may differ between neighbouring tables (by the mechanisms' randomness).
_RELEASED = ("/loss_history/", "/transformer/infos/", "/extra/calibration/")


def test_nothing_saved_is_a_function_of_the_true_row_count(tmp_path, monkeypatch):
    """Neighbouring tables (one row removed), the same seed, and the noisy row count
    drawn to the same value (as it is with nearly the same chance for both): the ledgers
    are identical and every saved field that is not a noisy release is equal. Before the
    row count was released with noise, the saved count, the default delta, the sampling
    rate, the number of steps and the mean batch size each told the two apart."""
    from tabgan.privacy import accountant

    monkeypatch.setattr(accountant, "noisy_count", lambda n, epsilon, rng: 2600)
    df = table(3000)
    docs = []
    for data in (df, df.iloc[1:]):
        doc, _ = _saved_doc(fit_private(data, epsilon=2.0), tmp_path / f"m{len(data)}.tabgan")
        docs.append(doc)
    a, b = (dict(_flat(d)) for d in docs)
    assert a.keys() == b.keys()
    assert docs[0]["extra"]["privacy_ledger"] == docs[1]["extra"]["privacy_ledger"]
    differ = [k for k in a if a[k] != b[k]]
    assert differ and all(k.startswith(_RELEASED) or "/weights" in k for k in differ), [
        k for k in differ if not k.startswith(_RELEASED)][:5]
    assert docs[0]["n_rows"] == 2600
    for d in docs:  # the true counts appear nowhere
        assert not {3000, 2999} & {v for v in _numbers(d) if isinstance(v, int)}


def test_the_noisy_row_count_is_differentially_private():
    """The released count's distribution for n and n + 1 rows: every value's chance
    differs by at most a factor e^epsilon (the geometric mechanism's guarantee), and
    the count is not the true one most of the time."""
    from tabgan.privacy.accountant import noisy_count

    eps, draws = 0.5, 200_000
    rng = np.random.default_rng(0)
    a = np.array([noisy_count(1000, eps, rng) for _ in range(draws)])
    b = np.array([noisy_count(1001, eps, rng) for _ in range(draws)])
    assert (a != 1000).mean() > 0.6
    for k in range(995, 1007):
        pa, pb = (a == k).mean(), (b == k).mean()
        assert max(pa / pb, pb / pa) < np.exp(eps) * 1.1
    assert abs(a.mean() - 1000) < 0.05 and a.std() == pytest.approx(np.sqrt(2 * np.exp(-eps)) / (1 - np.exp(-eps)), rel=0.03)


# ---------------------------------------------------------------- leakage
def test_rare_category_stays_out_of_the_model_and_samples(private_model, tmp_path):
    df, synth = private_model
    color = next(i for i in synth.transformer_.infos_ if i.name == "color")
    assert "SECRET-VALUE" not in color.categories
    assert set(color.categories) <= {"red", "green", "blue"}
    assert "SECRET-VALUE" not in set(synth.sample(5000, random_state=1)["color"])
    synth.save(str(tmp_path / "m.tabgan"))
    assert b"SECRET-VALUE" not in (tmp_path / "m.tabgan").read_bytes()


def test_declared_rare_category_may_appear():
    df = table()
    df.loc[7, "color"] = "SECRET-VALUE"
    meta = {**DECLARED, "color": {"kind": "discrete",
                                  "categories": ["red", "green", "blue", "SECRET-VALUE"]}}
    synth = fit_private(df, metadata=meta)
    color = next(i for i in synth.transformer_.infos_ if i.name == "color")
    assert color.categories[:4] == ["red", "green", "blue", "SECRET-VALUE"]  # public: kept
    assert synth.privacy_ledger_["marginals"].details["estimated_categories"] == []


def _numbers(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from _numbers(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _numbers(v)
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        yield float(doc)


def _saved_doc(synth, path):
    synth.save(str(path))
    raw = path.read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    return json.loads(header["__metadata__"]["tabgan"]), raw


def test_saved_model_holds_no_raw_values(tmp_path):
    df = table(3000, seed=1)
    rng = np.random.default_rng(5)
    df["code"] = rng.choice(["A", "B"], len(df)).astype(object)
    df.loc[:4, "code"] = [f"rare-{i}" for i in range(5)]  # five values held by one row each
    raw_values = set(df["x"].round(12)) | {df["x"].min(), df["x"].max()}
    doc, raw = _saved_doc(fit_private(df, metadata=None, epsilon=8.0), tmp_path / "p.tabgan")
    numbers = set(_numbers(doc))
    assert not {round(v, 12) for v in numbers} & raw_values
    assert not any(f"rare-{i}".encode() in raw for i in range(5))
    assert "discriminator" not in doc["loss_history"]  # real-row losses are not released
    # the saved row count is the noisy one of the ledger, never the table's
    ledger = PrivacyLedger.from_dict(doc["extra"]["privacy_ledger"])
    assert doc["n_rows"] == ledger["row count"].details["noisy_rows"]
    assert "not public" in ledger["public inputs"].uses
    # the same check finds the raw values in a non-private model (it can see a leak)
    doc, raw = _saved_doc(Synthesizer(**TINY, random_state=0, min_category_rows=1).fit(df),
                          tmp_path / "n.tabgan")
    assert {round(v, 12) for v in _numbers(doc)} & raw_values
    assert b"rare-0" in raw
    # and the non-private default keeps no value of fewer than min_category_rows rows
    _, raw = _saved_doc(Synthesizer(**TINY, random_state=0).fit(df), tmp_path / "d.tabgan")
    assert not any(f"rare-{i}".encode() in raw for i in range(5))


def test_kinds_come_from_dtypes_not_values():
    df = table(1500)
    df["whole"] = np.round(df["x"])  # floats holding whole numbers: 'integer' by value detection
    df["yes"] = (df["x"] > 10).astype(object)  # object column of booleans: 'boolean' by values
    synth = fit_private(df, epsilon=4.0)
    assert synth.metadata_["whole"].kind == "continuous"
    assert synth.metadata_["yes"].kind == "discrete"
    plain = Synthesizer(**TINY, random_state=0).fit(df)
    assert plain.metadata_["whole"].kind == "integer" and plain.metadata_["yes"].kind == "boolean"


def test_missing_rates_are_estimated_privately():
    df = table(3000)
    df.loc[df.sample(frac=0.3, random_state=0).index, "x"] = np.nan
    synth = fit_private(df, epsilon=3.0)
    info = next(i for i in synth.transformer_.infos_ if i.name == "x")
    assert info.has_missing and abs(info.missing_rate - 0.3) < 0.05
    sigma = synth.privacy_ledger_["marginals"].details["sigma"]
    assert sum(info.missing_counts) == synth.n_rows_  # the noisy row count
    assert abs(info.missing_counts[1] - df["x"].isna().sum()) < 5 * sigma  # within the noise
    out = synth.sample(2000, random_state=0)
    assert 0.1 < out["x"].isna().mean() < 0.5


def test_released_missing_counts_are_noisy_and_centred_on_the_truth():
    """What a private fit stores as a numeric column's missing count is the true count plus
    Gaussian noise of the ledger's sigma: it varies with the seed, around the truth."""
    from tabgan.privacy.preprocessing import private_metadata, release_marginals
    from tabgan.transformer import DataTransformer

    df = table(3000)
    df.loc[df.sample(frac=0.3, random_state=0).index, "x"] = np.nan
    truth = int(df["x"].isna().sum())
    meta = private_metadata(df, DECLARED)
    stored = []
    for seed in range(40):
        releases, entry = release_marginals(
            df, meta, {}, epsilon=0.3, delta=1e-6, max_categories=1000, rows=len(df),
            rng=np.random.default_rng(seed),
        )
        tr = DataTransformer(max_gmm_samples=200).fit_released(
            releases, meta, rng=np.random.default_rng(seed)
        )
        info = next(i for i in tr.infos_ if i.name == "x")
        assert sum(info.missing_counts) == len(df)
        assert info.missing_rate == info.missing_counts[1] / len(df)
        stored.append(info.missing_counts[1])
    sigma = entry.details["sigma"]
    assert sigma > 5  # the noise is large enough for the checks below to mean something
    stored = np.array(stored)
    assert len(set(stored)) > 20  # not the exact count, nor any fixed count
    assert abs(stored.mean() - truth) < 4 * sigma / np.sqrt(len(stored)) + 0.5
    assert 0.6 * sigma < stored.std() < 1.4 * sigma


# --------------------------------------------------------------- refusals
def test_category_dtype_must_be_declared():
    df = table(1000)
    df["color"] = df["color"].astype("category")
    with pytest.raises(PrivacyError, match="category.*declare"):
        fit_private(df)
    meta = {**DECLARED, "color": {"kind": "discrete", "categories": ["red", "green", "blue"]}}
    out = fit_private(df, metadata=meta, epsilon=3.0).sample(50, random_state=0)
    assert isinstance(out["color"].dtype, pd.CategoricalDtype)


def test_delta_must_be_below_one_over_n():
    with pytest.raises(PrivacyError, match="1/n"):
        fit_private(table(1000), delta=0.002)


def test_impossible_budget_is_refused_before_reading_data(monkeypatch):
    from tabgan.privacy import preprocessing

    def boom(*a, **k):
        raise AssertionError("data read")

    monkeypatch.setattr(preprocessing, "release_marginals", boom)
    with pytest.raises(PrivacyError, match="Raise epsilon"):
        fit_private(table(1000), epsilon=1e-6, epochs=50, batch_size=1000)


def test_identifier_column_is_refused():
    df = table(2000)
    df["name"] = [f"person-{i}" for i in range(len(df))]
    with pytest.raises(PrivacyError, match="'name'.*Declare its categories"):
        fit_private(df)


def test_unestimable_range_asks_for_bounds():
    df = table(60)
    with pytest.raises(PrivacyError, match="lower.*upper"):
        fit_private(df, metadata=None, epsilon=0.5, batch_size=10)


@pytest.mark.parametrize(
    "name,value",
    [("epsilon", 0.0), ("epsilon", -1.0), ("epsilon", "1"), ("epsilon", float("inf")),
     ("delta", 0.0), ("delta", 1.0), ("max_grad_norm", 0.0), ("preprocessing_share", 1.0),
     ("preprocessing_share", 0.0), ("accountant", "moments")],
)
def test_invalid_privacy_parameters(name, value):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of Synthesizer"):
        fit_private(table(500), **{name: value})


# ----------------------------------------------------------- model contract
def test_clipped_gradients_are_float32_even_with_bfloat16(monkeypatch):
    """Per-row norms in bfloat16 could be underestimated, letting a row exceed the clip."""
    import torch

    from tabgan.privacy import dp_training

    seen = []
    original = dp_training.clipped_gradient_sum

    def spy(*args, **kw):
        seen.append(torch.is_autocast_enabled("cpu"))
        return original(*args, **kw)

    monkeypatch.setattr(dp_training, "clipped_gradient_sum", spy)
    synth = fit_private(table(), precision="bfloat16")
    assert synth.precision_ == "bfloat16" and seen and not any(seen)


def test_same_seed_same_private_model(private_model):
    df, synth = private_model
    again = fit_private(df)
    pd.testing.assert_frame_equal(synth.sample(100, random_state=3), again.sample(100, random_state=3))
    assert again.privacy_ledger_ == synth.privacy_ledger_


def test_non_private_fit_reports_no_guarantee():
    synth = Synthesizer(**TINY, random_state=0).fit(table(300))
    assert synth.epsilon_ == math.inf and synth.privacy_ledger_ is None


def test_save_load_keeps_ledger_and_samples(private_model, tmp_path):
    _, synth = private_model
    synth.save(str(tmp_path / "m.tabgan"))
    loaded = load(str(tmp_path / "m.tabgan"))
    assert loaded.privacy_ledger_ == synth.privacy_ledger_
    assert loaded.epsilon_ == synth.epsilon_ and loaded.delta_ == synth.delta_
    assert loaded.transformer_.private_
    pd.testing.assert_frame_equal(loaded.sample(80, random_state=2), synth.sample(80, random_state=2))
    out = loaded.sample(30, random_state=0, conditions={"color": "blue"})
    assert (out["color"] == "blue").all()


def test_cli_fit_prints_the_ledger(tmp_path, capsys):
    from tabgan.cli import main

    csv = tmp_path / "d.csv"
    table(1500).to_csv(csv, index=False)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"columns": DECLARED}))
    model = tmp_path / "m.tabgan"
    code = main(["fit", str(csv), "-o", str(model), "--epochs", "2", "--batch-size", "40",
                 "--seed", "0", "--quiet", "--device", "cpu", "--epsilon", "2",
                 "--delta", "1e-6", "--max-grad-norm", "0.5", "--metadata", str(meta)])
    assert code == 0
    captured = capsys.readouterr()
    assert "privacy ledger: epsilon =" in captured.out and "training" in captured.out
    assert "C=0.5" in captured.out
    assert "inferred from the values" in captured.err  # color and flag kinds came from the CSV
    loaded = load(str(model))
    assert loaded.epsilon_ <= 2.0 and loaded.delta_ <= 1e-6 * (1 + 1e-9)
    assert main(["fit", str(csv), "-o", str(model), "--epsilon", "1", "--delta", "0.5",
                 "--quiet", "--device", "cpu"]) == 2
    assert "1/n" in capsys.readouterr().err


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e20, 1e20, allow_nan=False))
def test_range_grid_bins_contain_their_values(x):
    from tabgan.privacy.preprocessing import _grid_edges, _grid_index

    idx = _grid_index(np.array([x]))
    lo, hi = _grid_edges(idx)
    assert lo[0] <= x <= hi[0]
    assert 0 <= idx[0] <= 2 * 75  # 2 * (magnitude classes) + zero
    if x != 0:  # bins are ordered along the number line
        y = x * 2.5
        assert (_grid_index(np.array([y]))[0] - idx[0]) * np.sign(x) >= 0


def test_private_transformer_encodes_from_released_numbers_only(private_model):
    df, synth = private_model
    tr = synth.transformer_
    assert tr.private_
    odd = df.head(50).copy()
    odd.loc[0, "x"] = 1e9  # outside the declared range: clipped, not an error
    odd.loc[1, "color"] = "never-seen"  # not released: a released category instead
    enc = tr.transform(odd, rng=np.random.default_rng(0))
    back = tr.inverse_transform(enc, rng=np.random.default_rng(0))
    assert back.loc[0, "x"] <= 20.0 and back.loc[1, "color"] in {"red", "green", "blue"}


def test_settings_left_none_take_the_private_recipe_and_explicit_ones_are_kept(monkeypatch):
    """With epsilon and nothing set, the library chooses from the noisy row count (no
    warning); a value the user passes is always used; without epsilon, CTGAN's."""
    import warnings

    from tabgan.fitting import private_steps, recipe
    from tabgan.privacy import accountant

    monkeypatch.setattr(accountant, "noisy_count", lambda n, epsilon, rng: 6000)
    df = table(2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning about the settings any more
        synth = Synthesizer(epsilon=1.0, random_state=0, epochs=1, device="cpu").fit(
            df, metadata=DECLARED)
    s = synth.settings_
    assert s["epochs"] == 1  # passed: kept
    assert s["batch_size"] == 200 and s["discriminator_dim"] == (64, 64)  # 6000 // 30
    assert s["generator_lr"] == s["discriminator_lr"] == 1e-3
    assert synth.batch_size is None and synth.get_params()["epochs"] == 1
    assert synth.privacy_ledger_["training"].details["sample_rate"] == 200 / 6000
    none = {k: None for k in s}
    chosen = recipe({**none, "epsilon": 1.0}, rows=32_000)
    assert chosen["batch_size"] == 1000 and chosen["epochs"] == round(2000 / 32)
    # the steps follow epsilon, between their bounds
    assert [private_steps(e) for e in (0.1, 0.3, 1.0, 1.2, 3.0, 10.0)] == [
        500, 600, 2000, 2400, 3000, 3000]
    assert recipe({**none, "epsilon": 0.3}, rows=32_000)["epochs"] == round(600 / 32)
    assert recipe({**none, "epsilon": 10.0}, rows=32_000)["epochs"] == round(3000 / 32)
    assert recipe({**none, "epsilon": 1.0}, rows=1000)["batch_size"] == 64
    plain = recipe({**{k: None for k in s}, "batch_size": 250})
    assert plain == {"epochs": 300, "batch_size": 250, "discriminator_dim": (256, 256),
                     "generator_lr": 2e-4, "discriminator_lr": 2e-4}


# ----------------------------------------------------------------- refusals
def test_refusals_of_a_private_fit_show_no_value():
    """A value that does not parse, or lies outside its declared categories or a boolean
    column's two values, is counted in the error, never echoed (nor in a chained one)."""
    from tabgan import InvalidDataError

    bad = table(300)
    bad["x"] = bad["x"].astype(object)
    bad.loc[5, "x"] = "SECRET-123"
    declared_color = {**DECLARED, "color": {"kind": "discrete", "categories": ["red", "green"]}}
    flag = table(300)
    flag["flag"] = flag["flag"].astype(int)
    flag.loc[3, "flag"] = 777777
    cases = [(bad, DECLARED, "SECRET-123"), (table(300), declared_color, "blue"),
             (flag, {**DECLARED, "flag": "boolean"}, "777777")]
    for df, meta, secret in cases:
        with pytest.raises(InvalidDataError) as info:
            fit_private(df, metadata=meta)
        exc = info.value
        assert secret not in str(exc) and "never echoes" in str(exc), str(exc)
        assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


def test_a_column_released_as_missing_only_warns_and_is_sampled_missing():
    rng = np.random.default_rng(0)
    df = table(1500)
    df["job"] = rng.choice([f"job-{i}" for i in range(40)], len(df)).astype(object)
    df.loc[: len(df) // 2, "job"] = None  # half missing: only that key clears the noise
    with pytest.warns(UserWarning, match="'job': no value is frequent enough.*entirely missing"):
        synth = fit_private(df, epsilon=1.0)
    assert synth.sample(200, random_state=0)["job"].isna().all()


# ----------------------------------------------------------------- randomness
def test_secure_mode_refuses_a_seed_and_the_saved_stream_is_not_the_noise_stream(monkeypatch):
    from tabgan import InvalidParameterError

    df = table(600)
    with pytest.raises(InvalidParameterError, match="random_state=None"):
        fit_private(df, secure_mode=True)  # fit_private passes random_state=0
    with pytest.raises(InvalidParameterError, match="needs epsilon"):
        Synthesizer(**TINY, secure_mode=True).fit(df)
    # Without a seed, the saved sampling stream is not the fit's: with the fit's own
    # stream pinned (as if its entropy were known), two fits still save unrelated states.
    import torch

    from tabgan import _validation

    pinned = _validation.check_random_state
    monkeypatch.setattr(_validation, "check_random_state",
                        lambda seed: pinned(0) if seed is None else pinned(seed))
    states = []
    for _ in range(2):
        synth = fit_private(df, random_state=None, secure_mode=True)
        states.append(synth.sample_rng_.get_state())
    assert not torch.equal(states[0], states[1])
    # with a seed, a private fit stays reproducible (for experiments, not for release)
    a = fit_private(df).sample(50, random_state=None)
    b = fit_private(df).sample(50, random_state=None)
    pd.testing.assert_frame_equal(a, b)


def test_an_identifier_column_is_refused_in_a_private_fit():
    from tabgan import PrivacyError

    df = table(300)
    df["email"] = [f"u{i}@x.org" for i in range(len(df))]
    with pytest.raises(PrivacyError, match="'email' is declared an identifier"):
        fit_private(df, metadata={**DECLARED, "email": "identifier"})
