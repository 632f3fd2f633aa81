"""Target conditioning: the target's place in the encoding, the predictor, its penalty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tabgan import Synthesizer
from tabgan.auxiliary import TargetModel, TargetSpec
from tabgan.errors import InvalidParameterError
from tabgan.fitting import target_model
from tabgan.transformer import DataTransformer


def table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    x = r.normal(size=n)
    return pd.DataFrame({
        "x": x,
        "group": r.choice(["a", "b", "c"], n),
        "label": np.where(x > 0, "pos", "neg"),  # the target follows x
        "y": 3.0 * x + r.normal(0, 0.1, n),  # a numeric target that follows x
    })


def fitted(df: pd.DataFrame) -> DataTransformer:
    return DataTransformer(derive_columns=False).fit(df, rng=np.random.default_rng(0))


def test_spec_of_a_discrete_target_excludes_its_span():
    tr = fitted(table())
    spec = TargetSpec(tr.layout_, "label")
    span = next(s for s in tr.layout_.spans if s.column == "label")
    assert spec.n_outputs == span.width == 2
    assert set(spec.features) == set(range(tr.layout_.width)) - set(range(span.start, span.end))


def test_predictor_learns_the_relation_from_real_rows():
    df = table(2000)
    tr = fitted(df)
    spec = TargetSpec(tr.layout_, "label")
    model = TargetModel(spec, (32,), lr=1e-2, device=torch.device("cpu"),
                        rng=torch.Generator().manual_seed(0))
    rows = torch.from_numpy(tr.transform(df, rng=np.random.default_rng(1)))
    first = float(model.update(rows))
    for _ in range(150):
        last = float(model.update(rows))
    assert last < 0.3 * first


def make_model(tr: DataTransformer) -> TargetModel:
    return TargetModel(TargetSpec(tr.layout_, "label"), (8,), lr=1e-3,
                       device=torch.device("cpu"), rng=torch.Generator().manual_seed(0))


def test_penalty_moves_only_the_targets_logits():
    df = table()
    tr = fitted(df)
    model = make_model(tr)
    fake = torch.from_numpy(tr.transform(df, rng=np.random.default_rng(1))).requires_grad_(True)
    raw = torch.randn(fake.shape, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    model.penalty(fake, raw).backward()
    span = next(s for s in tr.layout_.spans if s.column == "label")
    assert raw.grad[:, span.start:span.end].abs().sum() > 0
    assert raw.grad[:, model.spec.features].abs().sum() == 0
    assert fake.grad is None  # the columns are the critic's business
    assert all(p.grad is None for p in model.net.parameters())


def test_penalty_is_zero_when_the_generator_gives_the_predicted_distribution():
    """Calibrated, not most likely: the KL vanishes at the predicted distribution, and
    a generator that always writes the likelier class pays for it."""
    df = table()
    tr = fitted(df)
    model = make_model(tr)
    fake = torch.from_numpy(tr.transform(df, rng=np.random.default_rng(1)))
    span = next(s for s in tr.layout_.spans if s.column == "label")
    with torch.no_grad():
        p = torch.softmax(model.net(fake.index_select(1, model.features)), dim=1)
    raw = torch.zeros_like(fake)
    raw[:, span.start:span.end] = torch.log(p)
    assert float(model.penalty(fake, raw)) == pytest.approx(0.0, abs=1e-6)
    sure = torch.zeros_like(fake)
    sure[:, span.start:span.end] = 20.0 * torch.nn.functional.one_hot(p.argmax(1), 2)
    assert float(model.penalty(fake, sure)) > 0.1


def test_target_model_of_a_derived_column_reads_its_parent():
    r = np.random.default_rng(0)
    code = r.choice(["a", "b", "c"], 1000)
    df = pd.DataFrame({"code": code, "num": pd.Series(code).map({"a": 1, "b": 2, "c": 3}),
                       "x": r.normal(size=1000)})
    tr = DataTransformer().fit(df, rng=np.random.default_rng(0))
    assert [d.name for d in tr.derived_] == ["num"]
    model = target_model("num", tr, torch.device("cpu"), torch.Generator().manual_seed(0))
    assert model.spec.column == "code"


def test_bad_targets_are_refused():
    with pytest.raises(InvalidParameterError, match="not a column"):
        Synthesizer(epochs=1, target="nope", random_state=0).fit(table(100))
    with pytest.raises(InvalidParameterError, match="discrete or boolean target"):
        Synthesizer(epochs=1, target="y", random_state=0).fit(table(100))
    with pytest.raises(InvalidParameterError, match="epsilon"):
        Synthesizer(epochs=1, target="label", epsilon=1.0).fit(table(100))


def test_a_fit_with_a_target_trains_its_predictor(monkeypatch):
    synth = Synthesizer(epochs=2, batch_size=50, pac=5, target="label", random_state=0,
                        generator_dim=(16,), discriminator_dim=(16,), embedding_dim=8)
    before = []
    real_update = TargetModel.update

    def spy(self, real):
        loss = real_update(self, real)
        before.append(float(loss))
        return loss

    monkeypatch.setattr(TargetModel, "update", spy)
    synth.fit(table(500))
    assert len(before) == 2 * (500 // 50)  # one update per step
    assert np.mean(before[-5:]) < np.mean(before[:5])
    assert len(synth.sample(10, random_state=0)) == 10


def test_the_penalty_changes_what_the_generator_learns():
    """Same seed, same target model, same random stream: only the penalty's weight differs."""
    kw = dict(epochs=1, batch_size=50, pac=5, target="label", random_state=0,
              generator_dim=(16,), discriminator_dim=(16,), embedding_dim=8)
    off = Synthesizer(**kw, target_weight=0.0).fit(table(300)).generator_.state_dict()
    on = Synthesizer(**kw, target_weight=1.0).fit(table(300)).generator_.state_dict()
    again = Synthesizer(**kw, target_weight=1.0).fit(table(300)).generator_.state_dict()
    assert all(torch.equal(on[k], again[k]) for k in on)
    assert not all(torch.equal(on[k], off[k]) for k in on)


def test_rows_conditioned_on_the_target_pay_no_penalty():
    df = table()
    tr = fitted(df)
    model = make_model(tr)
    fake = torch.from_numpy(tr.transform(df, rng=np.random.default_rng(1)))
    raw = torch.randn(fake.shape, generator=torch.Generator().manual_seed(2))
    mask = torch.zeros(len(fake), dtype=torch.bool)
    assert float(model.penalty(fake, raw, mask)) == 0.0
    mask[:10] = True
    assert float(model.penalty(fake, raw, mask)) > 0.0
