"""CUDA checks: skipped where there is no GPU (CI never has one)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from tabgan import Synthesizer, load

from .conftest import TINY, make_mixed

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]
CUDA = {**TINY, "device": "cuda"}


def test_fit_and_sample_on_cuda_are_reproducible():
    df = make_mixed()
    a = Synthesizer(**CUDA, random_state=0).fit(df)
    b = Synthesizer(**CUDA, random_state=0).fit(df)
    assert a.device_.type == "cuda"
    pd.testing.assert_frame_equal(a.sample(300, random_state=1), b.sample(300, random_state=1))
    out = a.sample(100, conditions={"color": "blue"}, random_state=0)
    assert (out["color"] == "blue").all()


def test_training_step_never_syncs_with_the_host(monkeypatch):
    from tabgan import training

    real_step = training.Trainer.train_step
    calls = []

    def strict(self):  # one generated batch, a critic update and a generator update
        torch.cuda.set_sync_debug_mode("error")
        try:
            return real_step(self)
        finally:
            torch.cuda.set_sync_debug_mode("default")
            calls.append(1)

    monkeypatch.setattr(training.Trainer, "train_step", strict)
    Synthesizer(**CUDA, random_state=0).fit(make_mixed())
    assert calls  # the strict steps really ran


def test_cuda_model_loads_on_cpu(tmp_path):
    synth = Synthesizer(**CUDA, random_state=0).fit(make_mixed())
    synth.save(str(tmp_path / "m.tabgan"))
    cpu = load(str(tmp_path / "m.tabgan"), device="cpu")
    assert cpu.device_.type == "cpu"
    out = cpu.sample(50, random_state=0)
    assert list(out.columns) == list(make_mixed().columns)
    again = load(str(tmp_path / "m.tabgan"), device="cuda")
    pd.testing.assert_frame_equal(again.sample(50, random_state=2), synth.sample(50, random_state=2))
