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
    assert spec.discrete and spec.n_outputs == span.width == 2
    assert set(spec.features) == set(range(tr.layout_.width)) - set(range(span.start, span.end))


def test_numeric_target_reads_the_decoded_value_standardised():
    df = table()
    tr = fitted(df)
    info = next(i for i in tr.infos_ if i.name == "y")
    spec = TargetSpec(tr.layout_, "y", means=info.means, scales=info.scales)
    model = TargetModel(spec, (8,), lr=1e-3, device=torch.device("cpu"),
                        rng=torch.Generator().manual_seed(0))
    rows = torch.from_numpy(tr.transform(df, rng=np.random.default_rng(1)))
    read = model._target(rows).numpy()
    # an affine map of the true values (standardisation), exactly
    slope, intercept = np.polyfit(df["y"], read, 1)
    np.testing.assert_allclose(read, slope * df["y"] + intercept, atol=1e-4)
    assert slope > 0


@pytest.mark.parametrize("column", ["label", "y"])
def test_predictor_learns_the_relation_from_real_rows(column):
    df = table(2000)
    tr = fitted(df)
    info = next(i for i in tr.infos_ if i.name == column)
    spec = TargetSpec(tr.layout_, column, means=getattr(info, "means", None),
                      scales=getattr(info, "scales", None))
    model = TargetModel(spec, (32,), lr=1e-2, device=torch.device("cpu"),
                        rng=torch.Generator().manual_seed(0))
    rows = torch.from_numpy(tr.transform(df, rng=np.random.default_rng(1)))
    first = float(model.update(rows))
    for _ in range(150):
        last = float(model.update(rows))
    assert last < 0.3 * first


def test_penalty_reaches_the_rows_not_the_predictor():
    df = table()
    tr = fitted(df)
    model = TargetModel(TargetSpec(tr.layout_, "label"), (8,), lr=1e-3,
                        device=torch.device("cpu"), rng=torch.Generator().manual_seed(0))
    fake = torch.from_numpy(tr.transform(df, rng=np.random.default_rng(1))).requires_grad_(True)
    model.penalty(fake).backward()
    span = next(s for s in tr.layout_.spans if s.column == "label")
    assert fake.grad[:, span.start:span.end].abs().sum() > 0  # the generated target
    assert fake.grad[:, spec_features(model)].abs().sum() > 0  # and the features
    assert all(p.grad is None for p in model.net.parameters())
    assert all(p.requires_grad for p in model.net.parameters())


def spec_features(model: TargetModel) -> list[int]:
    return list(model.spec.features)


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
