"""Contract tests of the Synthesizer estimator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tabgan
from tabgan import (
    ConditionError,
    InvalidDataError,
    InvalidParameterError,
    NotFittedError,
    Synthesizer,
    TabganError,
    TrainingError,
)
from tabgan.transformer import DataTransformer

from .conftest import TINY, make_mixed


def fit_tiny(df, **kw):
    params = {**TINY, "random_state": 0, **kw}
    return Synthesizer(**params).fit(df)


def test_fit_returns_self_and_sets_fitted_attributes(mixed):
    synth = Synthesizer(**TINY, random_state=0)
    assert synth.fit(mixed) is synth
    for attr in ("metadata_", "transformer_", "generator_", "loss_history_", "device_"):
        assert hasattr(synth, attr)
    assert list(synth.loss_history_.columns) == ["epoch", "discriminator", "generator"]
    assert len(synth.loss_history_) == TINY["epochs"]


def test_init_only_stores_parameters():
    synth = Synthesizer(epochs=-5, pac="bad")  # validation happens in fit, not here
    assert synth.epochs == -5 and synth.pac == "bad"
    assert not hasattr(synth, "generator_")


def test_defaults_follow_ctgan_recipe():
    from tabgan.fitting import RECIPE_KEYS, recipe

    p = Synthesizer().get_params()
    assert all(p[k] is None for k in RECIPE_KEYS)  # the library's choice: without epsilon,
    p = recipe(p)  # CTGAN's
    assert p["epochs"] == 300 and p["batch_size"] == 500 and p["pac"] == 10
    assert p["embedding_dim"] == 128
    assert tuple(p["generator_dim"]) == (256, 256) and tuple(p["discriminator_dim"]) == (256, 256)
    assert p["generator_lr"] == 2e-4 and p["discriminator_lr"] == 2e-4
    assert tuple(p["betas"]) == (0.5, 0.9)
    assert p["generator_decay"] == 1e-6 and p["discriminator_decay"] == 1e-6
    assert p["tau"] == 0.2 and p["gp_weight"] == 10 and p["log_frequency"] is True
    assert p["device"] == "auto"


def test_table_of_constant_columns_is_refused_clearly():
    df = pd.DataFrame({"a": [1] * 50, "b": ["x"] * 50, "c": [np.nan] * 50})
    with pytest.warns(UserWarning), pytest.raises(InvalidDataError, match="nothing for the"):
        Synthesizer(**TINY).fit(df)


def test_keyword_only():
    with pytest.raises(TypeError):
        Synthesizer(300)  # type: ignore[misc]


def test_sample_before_fit_raises():
    with pytest.raises(NotFittedError, match="fit"):
        Synthesizer().sample(10)
    with pytest.raises(NotFittedError):
        Synthesizer().save("x.tabgan")


BAD_PARAMS = [
    ("epochs", 0), ("epochs", 1.5), ("batch_size", 1), ("pac", 0), ("embedding_dim", 0),
    ("generator_dim", (0,)), ("discriminator_dim", "256"), ("generator_lr", 0.0),
    ("discriminator_lr", -1.0), ("generator_decay", -0.1), ("betas", (0.5,)),
    ("betas", (1.5, 0.9)), ("discriminator_steps", 0), ("loss", "hinge"),
    ("gp_weight", -1.0), ("spectral_norm", "yes"), ("label_smoothing", 0.7), ("dropout", 1.0),
    ("tau", 0.0), ("log_frequency", 1), ("n_modes", 0), ("weight_threshold", 1.0),
    ("max_gmm_samples", 5), ("max_categories", 1), ("device", "gpu9"), ("verbose", None),
    ("random_state", "seed"), ("random_state", -1), ("epochs", True), ("precision", "half"),
    ("ema_decay", 1.0), ("ema_decay", -0.1), ("ema_decay", "0.9"),
]


@pytest.mark.parametrize("name,value", BAD_PARAMS)
def test_each_invalid_parameter_raises(name, value, mixed):
    params = {**TINY, name: value}
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of Synthesizer"):
        Synthesizer(**params).fit(mixed)


def test_cross_parameter_rules(mixed):
    with pytest.raises(InvalidParameterError, match="multiple of 'pac'"):
        Synthesizer(**{**TINY, "batch_size": 42, "pac": 4}).fit(mixed)
    with pytest.raises(InvalidParameterError, match="label_smoothing"):
        Synthesizer(**{**TINY, "label_smoothing": 0.1}).fit(mixed)


def test_set_params_rejects_typos():
    with pytest.raises(InvalidParameterError, match="epoch"):
        Synthesizer().set_params(epoch=3)
    assert Synthesizer().set_params(epochs=3).epochs == 3


def test_same_seed_same_model_and_samples(mixed):
    a = fit_tiny(mixed).sample(100, random_state=5)
    b = fit_tiny(mixed).sample(100, random_state=5)
    pd.testing.assert_frame_equal(a, b)
    c = fit_tiny(mixed, random_state=1).sample(100, random_state=5)
    assert not a.equals(c)


def test_seeded_sampling_repeats_and_unseeded_continues(mixed):
    synth = fit_tiny(mixed)
    pd.testing.assert_frame_equal(synth.sample(50, random_state=3), synth.sample(50, random_state=3))
    assert not synth.sample(50).equals(synth.sample(50))


def test_no_global_rng_use(mixed):
    torch.manual_seed(123)
    np.random.seed(123)
    before_t = torch.get_rng_state().clone()
    before_np = np.random.get_state()[1].copy()
    synth = fit_tiny(mixed)
    synth.sample(30, random_state=1)
    assert torch.equal(before_t, torch.get_rng_state())
    assert np.array_equal(before_np, np.random.get_state()[1])


def test_numpy_generator_random_state(mixed):
    a = fit_tiny(mixed, random_state=np.random.default_rng(7)).sample(20, random_state=1)
    b = fit_tiny(mixed, random_state=np.random.default_rng(7)).sample(20, random_state=1)
    pd.testing.assert_frame_equal(a, b)


def test_output_has_same_columns_order_dtypes(adult):
    out = fit_tiny(adult).sample(123, random_state=0)
    assert list(out.columns) == list(adult.columns)
    assert (out.dtypes == adult.dtypes).all()
    assert len(out) == 123


def test_dtype_zoo_round_trips():
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame(
        {
            "f64": rng.normal(size=n),
            "f32": rng.normal(size=n).astype("float32"),
            "i64": rng.integers(-5, 100, n),
            "i32": rng.integers(0, 9, n).astype("int32"),
            "nullable_int": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 9, n)), dtype="Int64"),
            "b": rng.random(n) < 0.5,
            "nb": pd.array(np.where(rng.random(n) < 0.2, None, rng.random(n) < 0.5), dtype="boolean"),
            "cat": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"], ordered=True),
            "s": pd.array(rng.choice(["a", "b"], n), dtype="string"),
            "obj": rng.choice(["p", "q", "r"], n).astype(object),
            "when": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
            "when_tz": (pd.to_datetime("2021-06-01") + pd.to_timedelta(rng.integers(0, 50, n), unit="h")).tz_localize("Europe/Paris"),
        }
    )
    synth = fit_tiny(df)
    out = synth.sample(80, random_state=0)
    for col in df.columns:
        assert out[col].dtype == df[col].dtype, col
    assert out["cat"].cat.ordered and list(out["cat"].cat.categories) == ["lo", "mid", "hi"]
    # integers are whole and every numeric value stays inside the observed range
    for col in ("f64", "f32", "i64", "i32"):
        assert out[col].min() >= df[col].min() and out[col].max() <= df[col].max()
    assert out["when"].min() >= df["when"].min() and out["when"].max() <= df["when"].max()


def test_missing_values_come_back_at_the_real_rate():
    rng = np.random.default_rng(1)
    n = 400
    x = rng.normal(50, 10, n)
    x[rng.random(n) < 0.3] = np.nan
    c = rng.choice(["a", "b", "c"], n).astype(object)
    c[rng.random(n) < 0.2] = None
    df = pd.DataFrame({"x": x, "c": c})
    synth = Synthesizer(**{**TINY, "epochs": 100}, random_state=0).fit(df)
    out = synth.sample(3000, random_state=0)
    assert abs(out["x"].isna().mean() - df["x"].isna().mean()) < 0.08
    assert abs(out["c"].isna().mean() - df["c"].isna().mean()) < 0.08
    assert out["x"].notna().any() and out["c"].notna().any()


def test_constant_and_all_nan_columns_just_work():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"x": rng.normal(size=100), "const": 7.0, "const_cat": "same", "nan": np.nan}
    )
    with pytest.warns(UserWarning):
        synth = fit_tiny(df)
    out = synth.sample(50, random_state=0)
    assert (out["const"] == 7.0).all() and (out["const_cat"] == "same").all()
    assert out["nan"].isna().all()


@pytest.mark.parametrize(
    "frame,match",
    [
        (pd.DataFrame(), "no columns"),
        (pd.DataFrame({"a": []}), "0 row"),
        (pd.DataFrame({"a": [1.0]}), "1 row"),
        (pd.DataFrame({"a": [1.0, np.inf, 2.0]}), "infinite"),
        (pd.DataFrame({"a": [1.0, -np.inf, 2.0]}), "infinite"),
        (pd.DataFrame({"a": ["x", 1, 2.5, "y"]}), "mixes value types"),
        (pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]), "Duplicate column"),
        (pd.DataFrame({0: [1.0, 2.0]}), "strings"),
    ],
)
def test_bad_input_raises_clear_errors(frame, match):
    with pytest.raises(InvalidDataError, match=match):
        Synthesizer(**TINY).fit(frame)


def test_not_a_dataframe():
    with pytest.raises(InvalidDataError, match="DataFrame"):
        Synthesizer(**TINY).fit(np.zeros((10, 2)))


@pytest.mark.parametrize("n", [0, -3, 2.5, "10", None])
def test_sample_bad_n(mixed, n):
    synth = fit_tiny(mixed)
    with pytest.raises(InvalidParameterError, match="positive int"):
        synth.sample(n)


def test_metadata_override_and_bad_metadata(mixed):
    synth = fit_tiny(mixed, epochs=1).__class__(**TINY, min_category_rows=1).fit(
        mixed, metadata={"count": "discrete"})
    assert synth.metadata_["count"].kind == "discrete"
    assert set(synth.sample(200, random_state=0)["count"]).issubset(set(mixed["count"]))
    with pytest.raises(InvalidDataError, match="not in the table"):
        Synthesizer(**TINY).fit(mixed, metadata={"nope": "discrete"})
    with pytest.raises(InvalidDataError, match="non-numeric"):
        Synthesizer(**TINY).fit(mixed, metadata={"color": "continuous"})


# --------------------------------------------------------------- conditions
def test_conditions_are_exact(adult):
    synth = fit_tiny(adult, epochs=3)
    out = synth.sample(300, conditions={"sex": "Female", "race": "White"}, random_state=0)
    assert len(out) == 300
    assert (out["sex"] == "Female").all() and (out["race"] == "White").all()
    out = synth.sample(50, conditions={"workclass": None}, random_state=0)
    assert out["workclass"].isna().all()


def test_conditions_do_not_fill_whole_batch_norm_runs(adult):
    """Batch norm removes what every row of a run shares: the conditioned category must go
    to a share of each run's rows only, the others drawing conditions as usual."""
    from tabgan.generation import _native_share

    synth = fit_tiny(adult, epochs=1)
    seen = []
    infer = synth.generator_.infer

    def spy(noise, cond=None, group=None, **kw):
        seen.append((cond.clone(), group))
        return infer(noise, cond, group, **kw)

    synth.generator_.infer = spy
    out = synth.sample(200, conditions={"sex": "Female", "race": "White"}, random_state=0)
    assert (out["sex"] == "Female").all() and (out["race"] == "White").all()
    spans = list(synth.transformer_.layout_.condition_spans)
    # the rarer condition (Female) is the one put into the conditional vector
    infos = {i.name: i for i in synth.transformer_.infos_}
    sex, race = infos["sex"], infos["race"]
    p_female = sex.counts[sex.categories.index("Female")] / sum(sex.counts)
    assert p_female < race.counts[race.categories.index("White")] / sum(race.counts)
    span = next(s for s in spans if s.column == "sex")
    native = sum(s.width for s in spans[: spans.index(span)]) + sex.categories.index("Female")
    share = _native_share(len(spans))
    assert share == pytest.approx(1 / len(spans))
    hits = []
    for cond, group in seen:
        runs = cond.reshape(group, -1)  # row r is in run r mod (rows / group)
        hits.append((runs == native).float().mean(0))
    hits = torch.cat(hits)
    assert torch.all(hits < 0.5), hits  # no run is given the condition throughout
    # ... but the set share of its rows, plus the other rows' own draws of it (a column
    # uniformly, then a category by its frequency)
    expected = share + (1 - share) * p_female / len(spans)
    assert abs(float(hits.mean()) - expected) < 0.02, (float(hits.mean()), expected)
    assert _native_share(1) == 0.5 and _native_share(2) == 0.5 and _native_share(40) == 0.1


def test_conditional_rows_keep_a_dependence_carried_by_hidden_layers(adult):
    """A generator built by hand: the Female condition raises the first hidden layer, and
    age reads that layer. Conditional rows must keep it; they would not if batch norm saw
    one condition for a whole run (it would remove the raise)."""
    synth = fit_tiny(adult, epochs=1)
    layout = synth.transformer_.layout_
    spans = list(layout.condition_spans)
    sex = next(s for s in spans if s.column == "sex")
    cats = next(i for i in synth.transformer_.infos_ if i.name == "sex").categories
    offset = sum(s.width for s in spans[: spans.index(sex)])
    female, male = offset + cats.index("Female"), offset + cats.index("Male")
    value = next(s for s in layout.spans if s.column == "age" and s.role == "value")
    mode = next(s for s in layout.spans if s.column == "age" and s.role == "mode")
    gen = synth.generator_
    width = gen.blocks[0].fc.out_features
    first = sum(b.fc.out_features for b in gen.blocks) - width  # h_1 in the output's input
    with torch.no_grad():
        for block in gen.blocks:
            block.fc.cond_weight.zero_()
        gen.blocks[0].fc.cond_weight[female] = 5.0
        out_w, out_b, out_c = gen.out.weight, gen.out.bias, gen.out.cond_weight
        out_c.zero_()
        out_c[female, sex.start + cats.index("Female")] = 50.0  # the output follows the
        out_c[male, sex.start + cats.index("Male")] = 50.0  # sex condition, else Male
        out_w[sex.start : sex.end] = 0.0
        out_b[sex.start : sex.end] = 0.0
        out_b[sex.start + cats.index("Male")] = 10.0
        out_w[mode.start : mode.end] = 0.0  # age always in its first mode
        out_b[mode.start : mode.end] = 0.0
        out_b[mode.start] = 50.0
        out_w[value.start] = 0.0  # age's scalar: the mean of h_1
        out_w[value.start, first : first + width] = 1.0 / width
        out_b[value.start] = 0.0
    female_rows = synth.sample(300, conditions={"sex": "Female"}, random_state=0)
    male_rows = synth.sample(300, conditions={"sex": "Male"}, random_state=0)
    assert (female_rows["sex"] == "Female").all() and (male_rows["sex"] == "Male").all()
    assert female_rows["age"].mean() > male_rows["age"].mean() + 3


def test_boolean_condition(mixed):
    out = fit_tiny(mixed).sample(40, conditions={"flag": True}, random_state=0)
    assert out["flag"].all()


@pytest.mark.parametrize(
    "conditions,match",
    [
        ({"nope": "x"}, "Unknown column"),
        ({"color": "purple"}, "no category"),
        ({"x": 1.0}, "discrete and boolean"),
        (["color"], "dict"),
    ],
)
def test_bad_conditions(mixed, conditions, match):
    synth = fit_tiny(mixed)
    with pytest.raises(ConditionError, match=match):
        synth.sample(10, conditions=conditions)


def test_unreachable_condition_stops_with_error(mixed):
    synth = fit_tiny(mixed)
    layout = synth.transformer_.layout_
    span = next(s for s in layout.spans if s.column == "color")
    red = synth.transformer_.infos_[2].categories.index("red")

    class AlwaysRed(torch.nn.Module):
        noise_dim = synth.embedding_dim

        def infer(self, x, cond=None, group=None, workspace=None, plan=None):
            out = torch.zeros(x.shape[0], layout.width)
            out[:, span.start + red] = 50.0
            return out[:, plan]

        def plan(self, outputs):
            return outputs

        def workspace(self, rows, device):
            return None

    synth.generator_ = AlwaysRed()
    other = next(c for c in ("green", "blue"))
    with pytest.raises(ConditionError, match="too rare"):
        synth.sample(5, conditions={"color": other})


# ------------------------------------------------------------- training
def test_nan_loss_stops_training(mixed, monkeypatch):
    from tabgan import training

    monkeypatch.setattr(
        training.Trainer, "discriminator_step", lambda self, batch=None: torch.tensor(float("nan"))
    )
    with pytest.raises(TrainingError, match="diverged"):
        fit_tiny(mixed)


@pytest.mark.parametrize(
    "options",
    [
        {"loss": "gan"},
        {"loss": "gan", "label_smoothing": 0.1, "gp_weight": 0.0},
        {"spectral_norm": True, "gp_weight": 0.0},
        {"discriminator_steps": 2},
        {"log_frequency": False},
    ],
)
def test_training_options_run(mixed, options):
    synth = fit_tiny(mixed, **options)
    assert np.isfinite(synth.loss_history_[["discriminator", "generator"]].to_numpy()).all()
    out = synth.sample(20, random_state=0)
    assert len(out) == 20


@pytest.mark.parametrize("log_frequency", [True, False])
def test_training_conditions_follow_log_frequency_or_frequency(monkeypatch, log_frequency):
    """The conditions drawn while training pick a rare category by log-frequency (CTGAN's
    recipe) or by its frequency, as asked."""
    from tabgan.sampler import ConditionalSampler

    drawn = []
    real = ConditionalSampler.sample_index

    def spy(self, batch, generator, *, original=False, **kw):
        flat = real(self, batch, generator, original=original, **kw)
        if not original:  # training draws, not generation
            drawn.append(flat)
        return flat

    monkeypatch.setattr(ConditionalSampler, "sample_index", spy)
    rare, common = 20, 380
    df = pd.DataFrame({
        "x": np.random.default_rng(0).normal(size=rare + common),
        "c": np.random.default_rng(1).permutation(["b"] * rare + ["a"] * common).astype(object),
    })
    synth = fit_tiny(df, log_frequency=log_frequency)
    assert [s.column for s in synth.transformer_.layout_.condition_spans] == ["c"]
    flat = torch.cat(drawn)
    share = float((flat == synth.transformer_.infos_[1].categories.index("b")).float().mean())
    by_log = np.log1p(rare) / (np.log1p(rare) + np.log1p(common))  # about 0.31
    by_freq = rare / (rare + common)  # 0.05
    expected, other = (by_log, by_freq) if log_frequency else (by_freq, by_log)
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / len(flat))
    assert abs(share - other) > 0.15


@pytest.mark.parametrize("spectral_norm", [True, False])
def test_spectral_norm_option_normalises_every_critic_layer(mixed, spectral_norm):
    from torch.nn.utils import parametrize

    # one power iteration per critic update (as in Miyato et al.): 30 updates here
    synth = fit_tiny(mixed, spectral_norm=spectral_norm, gp_weight=0.0, epochs=6)
    layers = [m for m in synth.discriminator_.modules() if isinstance(m, torch.nn.Linear)]
    assert len(layers) == len(TINY["discriminator_dim"]) + 1
    for layer in layers:
        assert parametrize.is_parametrized(layer, "weight") == spectral_norm
    # the effective weights (what forward uses) have largest singular value 1
    top = [float(torch.linalg.matrix_norm(m.weight.detach(), ord=2)) for m in layers]
    if spectral_norm:
        np.testing.assert_allclose(top, 1.0, atol=0.05)
    else:
        assert max(abs(t - 1.0) for t in top) > 0.1


def test_precision_is_resolved_recorded_and_kept_after_load(mixed, tmp_path):
    from tabgan._validation import fast_bfloat16

    for asked, got in [("float32", "float32"), ("bfloat16", "bfloat16"),
                       ("auto", "bfloat16" if fast_bfloat16(torch.device("cpu")) else "float32")]:
        synth = fit_tiny(mixed, precision=asked)
        assert synth.precision_ == got
        assert synth.generator_.compute_dtype == (torch.bfloat16 if got == "bfloat16" else None)
        synth.save(tmp_path / "m.tabgan")
        back = tabgan.load(tmp_path / "m.tabgan")
        assert back.precision_ == got
        pd.testing.assert_frame_equal(
            back.sample(50, random_state=3), synth.sample(50, random_state=3)
        )


def test_auto_precision_keeps_float32_off_capable_cpus():
    from tabgan._validation import resolve_precision

    assert resolve_precision("auto", torch.device("cuda")) == "float32"  # launch-bound there
    assert resolve_precision("bfloat16", torch.device("cuda")) == "bfloat16"
    assert resolve_precision("float32", torch.device("cpu")) == "float32"
    assert resolve_precision("auto", torch.device("cpu"), private=True) == "float32"
    assert resolve_precision("bfloat16", torch.device("cpu"), private=True) == "bfloat16"


def test_precisions_train_differently_but_both_learn(mixed):
    a = fit_tiny(mixed, precision="float32")
    b = fit_tiny(mixed, precision="bfloat16")
    assert not a.loss_history_.equals(b.loss_history_)  # bfloat16 really was used
    for synth in (a, b):
        assert np.isfinite(synth.loss_history_[["discriminator", "generator"]].to_numpy()).all()


def test_spectral_norm_is_deterministic(mixed):
    a = fit_tiny(mixed, spectral_norm=True, gp_weight=0.0).sample(30, random_state=0)
    b = fit_tiny(mixed, spectral_norm=True, gp_weight=0.0).sample(30, random_state=0)
    pd.testing.assert_frame_equal(a, b)


def test_learns_something(adult):
    """A short fit moves the marginals towards the data (catches a broken training loop)."""
    from scipy.stats import ks_2samp

    def mean_distance(synthetic):  # mean of KS (numeric) and TVD (categorical) over columns
        out = []
        for c in adult.columns:
            if not pd.api.types.is_numeric_dtype(adult[c]):
                diff = adult[c].value_counts(normalize=True).sub(
                    synthetic[c].value_counts(normalize=True), fill_value=0
                )
                out.append(0.5 * diff.abs().sum())
            else:
                out.append(ks_2samp(adult[c], synthetic[c]).statistic)
        return float(np.mean(out))

    untrained = Synthesizer(**{**TINY, "epochs": 1}, random_state=0).fit(adult)
    trained = Synthesizer(
        **{**TINY, "epochs": 30, "generator_dim": (64, 64), "discriminator_dim": (64, 64)},
        random_state=0,
    ).fit(adult)
    before = mean_distance(untrained.sample(800, random_state=0))
    after = mean_distance(trained.sample(800, random_state=0))
    assert after < 0.7 * before
    assert after < 0.25


def test_errors_are_tabgan_errors():
    for exc in (ConditionError, InvalidDataError, InvalidParameterError, NotFittedError, TrainingError,
                tabgan.ModelFileError, tabgan.PrivacyError):
        assert issubclass(exc, TabganError)


def test_make_mixed_helper_is_seeded():
    pd.testing.assert_frame_equal(make_mixed(seed=3), make_mixed(seed=3))


def test_many_batches_per_generator_pass(mixed, monkeypatch):
    """The CUDA sampling path (several training-sized batches per pass), run on the CPU."""
    from tabgan import generation

    synth = fit_tiny(mixed)
    monkeypatch.setattr(generation, "_rows_per_pass", lambda device: 4 * synth.batch_size)
    out = synth.sample(333, random_state=0)
    assert len(out) == 333 and list(out.columns) == list(mixed.columns)
    pd.testing.assert_frame_equal(out, synth.sample(333, random_state=0))
    blue = synth.sample(90, random_state=0, conditions={"color": "blue"})
    assert len(blue) == 90 and (blue["color"] == "blue").all()


@pytest.mark.parametrize("batches,most", [(1, 8), (3, 8), (10, 8), (66, 8), (2000, 8), (5, 1)])
def test_passes_split_the_work_evenly(batches, most):
    from tabgan.generation import _plan_passes

    passes = _plan_passes(batches, most)
    assert sum(passes) == batches and max(passes) <= most
    assert max(passes) - min(passes) <= 1  # as even as possible
    if batches >= 4:  # enough to share between 2 or 4 workers
        assert len(passes) % 4 == 0 or len(passes) == batches


def test_conditional_sampling_does_not_overshoot_a_common_condition(adult):
    """The first round measures the rate rows are kept before committing more work. Adult
    has 9 condition columns, so only a ninth of the rows carry the condition; sized by
    that share alone, sampling would generate about ten times the rows it returns; for
    sex=Male, which most rows meet, it stays well under three times."""
    synth = fit_tiny(adult)
    made = []
    infer = synth.generator_.infer

    def spy(noise, *args, **kw):
        made.append(noise.shape[0])
        return infer(noise, *args, **kw)

    synth.generator_.infer = spy
    out = synth.sample(4_000, random_state=0, conditions={"sex": "Male"})
    assert len(out) == 4_000 and (out["sex"] == "Male").all()
    assert sum(made) < 2.5 * 4_000, made  # sized by the share alone: about 40,000


def test_fit_warnings_point_at_the_callers_line(mixed):
    """However deep in the fit path a warning is raised, it names the user's line."""
    df = mixed.assign(const=1.0, empty=np.nan)
    with pytest.warns(UserWarning) as record:
        fit_tiny(df)
    assert {r.filename for r in record} == {__file__}
    with pytest.warns(UserWarning) as record:
        DataTransformer().fit(df, rng=np.random.default_rng(0))
    assert {r.filename for r in record} == {__file__}


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
@pytest.mark.parametrize("kind", ["continuous", "datetime"])
def test_datetimes_of_any_resolution_come_back_in_range(unit, kind):
    stamps = pd.Series(pd.date_range("2020-01-01", periods=120, freq="D")).astype(
        f"datetime64[{unit}]")
    stamps[::7] = pd.NaT
    df = pd.DataFrame({"when": stamps, "x": np.arange(120) % 5})
    synth = Synthesizer(**TINY, random_state=0).fit(df, metadata={"when": kind})
    out = synth.sample(60, random_state=0)
    assert out["when"].dtype == df["when"].dtype
    present = out["when"].dropna()
    assert len(present) and present.min() >= stamps.min() and present.max() <= stamps.max()


# ------------------------------------------------------------ privacy by default
def test_no_identifier_rare_value_or_timestamp_of_the_data_is_copied(adult, tmp_path):
    """Without epsilon: a column of unique e-mail addresses is not modelled and its
    generated values are new; no value of fewer than min_category_rows rows comes back;
    ISO timestamps are read as datetimes and come back as new strings of their format,
    within the real range."""
    import warnings

    from tabgan import load
    from tabgan.transformer import RARE_VALUE

    rng = np.random.default_rng(0)
    df = adult.copy()
    n = len(df)
    df["email"] = [f"{''.join(rng.choice(list('abcdefgh'), 7))}{i}@site{i % 5}.com" for i in range(n)]
    stamps = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    df["stop"] = stamps.strftime("%Y-%m-%dT%H:%M:%SZ")
    df["rare"] = rng.choice(["x", "y"], n).astype(object)
    df.loc[:3, "rare"] = ["only-0", "only-1", "only-2", "only-3"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        synth = Synthesizer(**TINY, random_state=0).fit(df)
    assert any("'email' looks like an identifier" in str(w.message) for w in caught)
    assert synth.metadata_["email"].kind == "identifier"
    assert synth.metadata_["stop"].kind == "datetime"
    out = synth.sample(n, random_state=0)
    assert not out["email"].isin(set(df["email"])).any()
    assert out["email"].str.fullmatch(r"[a-z]+\d+@[a-z]+\d\.[a-z]{3}").all()  # the same shapes
    assert not out["rare"].str.startswith("only").any()
    assert set(out["rare"]) <= {"x", "y", RARE_VALUE}
    assert out["stop"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert df["stop"].min() <= out["stop"].min() and out["stop"].max() <= df["stop"].max()
    assert out["stop"].isin(set(df["stop"])).mean() < 0.01  # new values (chance matches only)
    synth.save(tmp_path / "m.tabgan")
    again = load(tmp_path / "m.tabgan").sample(50, random_state=1)
    pd.testing.assert_frame_equal(again, synth.sample(50, random_state=1))


def test_generated_numbers_beyond_the_range_are_reflected_not_piled_on_its_ends():
    from tabgan.transformer import _reflect

    v = np.array([-0.5, 0.0, 0.3, 1.0, 1.2, 5.0])
    np.testing.assert_allclose(_reflect(v, 0.0, 1.0), [0.5, 0.0, 0.3, 1.0, 0.8, 1.0])
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.uniform(0, 1, 800), "c": rng.choice(list("ab"), 800)})
    out = Synthesizer(**TINY, random_state=0).fit(df).sample(2000, random_state=0)
    assert (out["x"] == df["x"].max()).sum() + (out["x"] == df["x"].min()).sum() == 0
    assert out["x"].between(df["x"].min(), df["x"].max()).all()


# ------------------------------------------------------------ sample_to
def test_sample_to_writes_chunks_reproducibly_and_matches_sample_in_one_chunk(tmp_path):
    synth = Synthesizer(**TINY).fit(make_mixed())
    one = tmp_path / "one.parquet"
    assert synth.sample_to(one, 120, chunk_rows=500, random_state=3) == 120
    pd.testing.assert_frame_equal(pd.read_parquet(one), synth.sample(120, random_state=3))
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert synth.sample_to(a, 250, chunk_rows=100, random_state=3) == 250
    synth.sample_to(b, 250, chunk_rows=100, random_state=3)
    got = pd.read_parquet(a)
    pd.testing.assert_frame_equal(got, pd.read_parquet(b))
    assert len(got) == 250 and got.dtypes.equals(synth.sample(5, random_state=0).dtypes)
    # the first chunk is sample(chunk_rows, seed); later chunks continue the stream
    pd.testing.assert_frame_equal(got.iloc[:100], synth.sample(100, random_state=3))
    assert not got.iloc[100:200].reset_index(drop=True).equals(got.iloc[:100])
    red = tmp_path / "red.csv"
    synth.sample_to(red, 30, chunk_rows=7, conditions={"color": "red"})
    assert (pd.read_csv(red)["color"] == "red").all()
    with pytest.raises(InvalidParameterError, match="chunk_rows"):
        synth.sample_to(tmp_path / "x.parquet", 10, chunk_rows=0)
    with pytest.raises(InvalidParameterError, match="positive int"):
        synth.sample_to(tmp_path / "x.parquet", 0)


# ------------------------------------------------------------ declared roles
def _keyed_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    return pd.DataFrame({
        "cust": [f"C-{i:05d}" for i in rng.permutation(n)],
        "num_id": rng.permutation(n) + 1000,
        "day": days.strftime("%d/%m/%Y"),
        "notes": [1, "two"] * (n // 2),  # mixes types: refused if it were read
        "x": rng.normal(size=n),
        "c": rng.choice(list("abc"), n),
    })


ROLES = {"cust": "id", "num_id": "id", "day": {"kind": "datetime", "format": "%d/%m/%Y"},
         "notes": "omit"}


def test_declared_keys_omitted_columns_and_date_formats(tmp_path):
    """Keys: not modelled, new values of their shapes, unique in a sample; an omitted
    column: never read (it would be refused), absent from the samples; day-first date
    strings: read and written in their declared format, within the real range."""
    from tabgan import load

    df = _keyed_table()
    with pytest.raises(InvalidDataError, match="Every column is declared 'omit'"):
        Synthesizer(**TINY).fit(df, metadata={c: "omit" for c in df.columns})
    with pytest.raises(InvalidDataError, match="'notes' mixes value types"):
        Synthesizer(**TINY, random_state=0).fit(df, metadata={**ROLES, "notes": "discrete"})
    synth = Synthesizer(**TINY, random_state=0).fit(df, metadata=ROLES)
    assert synth.omitted_columns_ == ["notes"]
    assert {i.name for i in synth.transformer_.infos_}.isdisjoint({"cust", "num_id"})
    out = synth.sample(2000, random_state=0)
    assert list(out.columns) == ["cust", "num_id", "day", "x", "c"]
    assert out["cust"].is_unique and out["num_id"].is_unique
    assert out["cust"].str.fullmatch(r"C-\d{5}").all()  # the shared prefix kept
    assert out["num_id"].dtype == df["num_id"].dtype and out["num_id"].between(1000, 9999).all()
    days = pd.to_datetime(out["day"], format="%d/%m/%Y")  # raises if one is not in the format
    real = pd.to_datetime(df["day"], format="%d/%m/%Y")
    assert real.min() <= days.min() and days.max() <= real.max()
    assert days.dt.day.max() > 12  # read day first: a month-first reading would fail
    synth.save(tmp_path / "m.tabgan")
    again = load(tmp_path / "m.tabgan")
    assert again.omitted_columns_ == ["notes"]
    pd.testing.assert_frame_equal(again.sample(300, random_state=4),
                                  synth.sample(300, random_state=4))


def test_a_key_whose_shapes_hold_too_few_values_is_refused_by_name():
    rng = np.random.default_rng(1)
    n = 240  # keys of one letter and one digit: 260 possible values
    df = pd.DataFrame({"k": [f"{a}{d}" for a in "ABCDEFGHIJKLMNOPQRSTUVWX" for d in range(10)],
                       "x": rng.normal(size=n)})
    synth = Synthesizer(**TINY, random_state=0).fit(df, metadata={"k": "id"})
    assert synth.sample(100, random_state=0)["k"].is_unique
    with pytest.raises(InvalidParameterError, match="key column 'k': its shapes hold 260 values"):
        synth.sample(300, random_state=0)


def test_a_private_fit_generates_keys_without_reading_them():
    df = _keyed_table(seed=2)
    meta = {**ROLES, "c": {"kind": "discrete", "categories": list("abc")},
            "x": {"kind": "continuous", "lower": -4, "upper": 4},
            "day": {"kind": "datetime", "format": "%d/%m/%Y",
                    "lower": pd.Timestamp("2020-01-01").value,
                    "upper": pd.Timestamp("2021-02-05").value}}
    synth = Synthesizer(epsilon=1.0, epochs=1, batch_size=100, random_state=0).fit(df, meta)
    out = synth.sample(500, random_state=0)
    assert list(out.columns) == ["cust", "num_id", "day", "x", "c"]
    assert out["cust"].is_unique and out["num_id"].is_unique
    assert out["cust"].str.fullmatch(r"\d{12}").all()  # a public shape, not the data's
    assert out["num_id"].astype(str).str.fullmatch(r"[1-9]\d{11}").all()
    assert pd.to_datetime(out["day"], format="%d/%m/%Y").notna().all()
    # the ledger's budget did not grow: nothing of the keys was released
    assert not any("cust" in str(e.details) for e in synth.privacy_ledger_.entries)


def test_day_first_dates_in_order_with_model_selection_and_evaluation():
    """Two ordered day-first date columns (calibration keeps their order) with model
    selection: the checks and calibrated sampling read them in the declared format, and
    evaluate() with the fit's metadata compares them as dates and skips the key."""
    from tabgan import evaluate

    rng = np.random.default_rng(3)
    n = 400
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(1, 20, n), unit="D")
    df = pd.DataFrame({"key": [f"K{i:04d}" for i in range(n)],
                       "checkin": start.strftime("%d/%m/%Y"), "checkout": end.strftime("%d/%m/%Y"),
                       "room": rng.choice(["single", "double"], n)})
    fmt = {"kind": "datetime", "format": "%d/%m/%Y"}
    synth = Synthesizer(**TINY, random_state=0, check_every=1).fit(
        df, metadata={"key": "id", "checkin": fmt, "checkout": fmt})
    assert synth.selection_ is not None
    out = synth.sample(300, random_state=0)
    a = pd.to_datetime(out["checkin"], format="%d/%m/%Y")
    b = pd.to_datetime(out["checkout"], format="%d/%m/%Y")
    assert (a <= b).all()  # calibration kept the order every training row keeps
    report = evaluate(df, out, metadata=synth.metadata_, detection=False)
    assert set(report.columns.index) == {"checkin", "checkout", "room"}  # not the key
    assert report.columns.loc["checkin", "kind"] == "datetime"


def test_keys_of_every_dtype_and_a_format_on_datetimes_keeps_the_dtype():
    rng = np.random.default_rng(4)
    n = 300
    whole = pd.Series(rng.permutation(n) + 5000, dtype="float64")
    whole[:5] = np.nan  # whole numbers with missing values: a float column
    df = pd.DataFrame({
        "cat_key": pd.Categorical([f"k{i:04d}" for i in range(n)]),
        "float_key": whole,
        "int32_key": pd.Series(rng.permutation(n) + 10_000, dtype="int32"),
        "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 99, n), unit="D"),
        "x": rng.normal(size=n),
    })
    meta = {"cat_key": "id", "float_key": "id", "int32_key": "id",
            "when": {"kind": "datetime", "format": "%d/%m/%Y"}}
    out = Synthesizer(**TINY, random_state=0).fit(df, metadata=meta).sample(2000, random_state=0)
    assert out["cat_key"].is_unique and isinstance(out["cat_key"].dtype, pd.CategoricalDtype)
    assert out["cat_key"].astype(str).str.fullmatch(r"k\d{4}").all()
    present = out["float_key"].dropna()
    assert present.is_unique and (present == present.round()).all()  # no 1234.5 keys
    assert out["int32_key"].is_unique and out["int32_key"].dtype == "int32"
    assert out["when"].dtype == df["when"].dtype  # not strings
    private = Synthesizer(epsilon=1.0, epochs=1, batch_size=100, random_state=0).fit(
        df[["int32_key", "x"]], {"int32_key": "id", "x": {"kind": "continuous", "lower": -4,
                                                          "upper": 4}})
    keys = private.sample(500, random_state=0)["int32_key"]
    assert keys.dtype == "int32" and keys.is_unique  # nine digits: int32 holds them


def test_few_values_of_a_shape_keep_no_letters_and_roles_are_named_in_errors():
    from tabgan import ConditionError

    rng = np.random.default_rng(5)
    n = 200
    emails = [f"{''.join(rng.choice(list('abcdefgh'), 6))}{i}@site.com" for i in range(n)]
    emails[0] = "alice.smith@gmail.com"  # a shape of its own, kept with min_category_rows=1
    df = pd.DataFrame({"email": emails, "x": rng.normal(size=n), "c": rng.choice(list("ab"), n),
                       "notes": ["text"] * n})
    synth = Synthesizer(**TINY, random_state=0, min_category_rows=1).fit(
        df, metadata={"email": "identifier", "notes": "omit"})
    out = synth.sample(3000, random_state=0)
    assert not out["email"].isin(set(emails)).any()
    assert out["email"].str.endswith("@site.com").mean() > 0.9  # a shape of 199 values
    with pytest.raises(InvalidParameterError, match="target 'email' is declared 'identifier'"):
        Synthesizer(**TINY, target="email").fit(df, metadata={"email": "identifier"})
    with pytest.raises(ConditionError, match="'email' is a key or identifier"):
        synth.sample(5, conditions={"email": "x@site.com"})
    with pytest.raises(ConditionError, match=r"\['notes'\] were left out"):
        synth.sample(5, conditions={"notes": "text"})
