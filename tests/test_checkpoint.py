"""tabgan.checkpoint: checkpoints of a fit, Ctrl-C, and resuming to the same result."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch

from tabgan import InvalidParameterError, ModelFileError, PrivacyError, Synthesizer
from tabgan.checkpoint import Checkpoint
from tabgan.cli import main
from tabgan.training import Trainer

from .conftest import TINY, make_mixed

PLAIN = {**TINY, "epochs": 4, "random_state": 0}
PRIVATE = {**TINY, "epochs": 4, "random_state": 0, "epsilon": 4.0, "batch_size": 50}


def private_table(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame({"x": r.normal(size=n), "c": r.choice(["a", "b", "c"], n)})


DECLARED = {"x": {"kind": "continuous", "lower": -4, "upper": 4},
            "c": {"kind": "discrete", "categories": ["a", "b", "c"]}}


def interrupt_after(monkeypatch, epoch: int) -> None:
    """Ctrl-C right after the checkpoint of ``epoch`` is written."""
    save = Checkpoint.save

    def saving(self, e, **kw):
        save(self, e, **kw)
        if e == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "save", saving)


def same_fit(a: Synthesizer, b: Synthesizer) -> None:
    # the sampling stream continues identically too (seeded samples leave it alone)
    assert torch.equal(a.sample_rng_.get_state(), b.sample_rng_.get_state())
    pd.testing.assert_frame_equal(a.sample(300, random_state=5), b.sample(300, random_state=5))
    pd.testing.assert_frame_equal(a.loss_history_, b.loss_history_)
    for x, y in zip(a.generator_.state_dict().values(), b.generator_.state_dict().values()):
        assert torch.equal(x, y)


@pytest.mark.parametrize("params,data,meta", [
    (PLAIN, make_mixed(), None),
    (PRIVATE, private_table(), DECLARED),
    ({**PLAIN, "check_every": 1, "patience": 10}, make_mixed(300), None),
    ({**PLAIN, "target": "color"}, make_mixed(), None),
], ids=["plain", "private", "selection", "target"])
def test_a_resumed_fit_is_the_uninterrupted_fit_bit_for_bit(tmp_path, monkeypatch, capsys,
                                                            params, data, meta):
    whole = Synthesizer(**params).fit(data, metadata=meta)
    path = tmp_path / "fit.ckpt"
    with monkeypatch.context() as m:
        interrupt_after(m, 2)
        with pytest.raises(KeyboardInterrupt):
            Synthesizer(**params).fit(data, metadata=meta, checkpoint=path, checkpoint_every=2)
    err = capsys.readouterr().err
    assert "checkpoint of epoch 2" in err and "resume=True" in err and "--resume" in err
    assert os.listdir(tmp_path) == ["fit.ckpt"]  # no partial file beside it
    starts = []
    run = Trainer.run
    with monkeypatch.context() as m:  # only the epochs after the checkpoint's are trained
        m.setattr(Trainer, "run", lambda self, *a, **kw: starts.append(kw["start"])
                  or run(self, *a, **kw))
        resumed = Synthesizer(**params).fit(data, metadata=meta, checkpoint=path, resume=True)
    assert starts == [2]
    same_fit(whole, resumed)
    if params.get("epsilon"):
        assert resumed.epsilon_ == whole.epsilon_ <= params["epsilon"]
        assert resumed.privacy_ledger_ == whole.privacy_ledger_
    if params.get("check_every"):
        assert resumed.selection_ == whole.selection_
    # the finished fit left its last checkpoint: resuming it trains nothing more
    again = Synthesizer(**params).fit(data, metadata=meta, checkpoint=path, resume=True)
    same_fit(whole, again)


def test_an_unseeded_fit_resumes_from_its_own_saved_stream(tmp_path, monkeypatch):
    data, path = make_mixed(), tmp_path / "fit.ckpt"
    params = {**PLAIN, "random_state": None}
    with monkeypatch.context() as m:
        interrupt_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            Synthesizer(**params).fit(data, checkpoint=path)
    a = Synthesizer(**params).fit(data, checkpoint=path, resume=True)
    b = Synthesizer(**params).fit(data, checkpoint=path, resume=True)
    same_fit(a, b)


def test_resume_refuses_other_settings_another_table_and_other_files(tmp_path, monkeypatch):
    data, path = make_mixed(), tmp_path / "fit.ckpt"
    with monkeypatch.context() as m:
        interrupt_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            Synthesizer(**PLAIN).fit(data, checkpoint=path)
    with pytest.raises(InvalidParameterError, match="other settings"):
        Synthesizer(**{**PLAIN, "epochs": 5}).fit(data, checkpoint=path, resume=True)
    with pytest.raises(InvalidParameterError, match="another table"):
        Synthesizer(**PLAIN).fit(make_mixed(seed=1), checkpoint=path, resume=True)
    with pytest.raises(InvalidParameterError, match="needs checkpoint="):
        Synthesizer(**PLAIN).fit(data, resume=True)
    with pytest.raises(InvalidParameterError, match="it is a directory"):
        Synthesizer(**PLAIN).fit(data, checkpoint=tmp_path)
    with pytest.raises(InvalidParameterError, match="create the directory first"):
        Synthesizer(**PLAIN).fit(data, checkpoint=tmp_path / "no" / "c.ckpt")
    with pytest.raises(InvalidParameterError, match="checkpoint_every"):
        Synthesizer(**PLAIN).fit(data, checkpoint=path, checkpoint_every=0)
    with pytest.raises(ModelFileError, match="No checkpoint file"):
        Synthesizer(**PLAIN).fit(data, checkpoint=tmp_path / "none.ckpt", resume=True)
    Synthesizer(**PLAIN).fit(data).save(tmp_path / "m.tabgan")
    with pytest.raises(ModelFileError, match="it is a tabgan model"):
        Synthesizer(**PLAIN).fit(data, checkpoint=tmp_path / "m.tabgan", resume=True)
    with pytest.raises(InvalidParameterError, match="secure_mode"):
        Synthesizer(**{**PRIVATE, "random_state": None}, secure_mode=True).fit(
            private_table(), metadata=DECLARED, checkpoint=path)


def test_a_private_checkpoint_never_resumes_past_its_planned_steps(tmp_path):
    synth = Synthesizer(**{**PRIVATE, "epochs": 1})
    path = tmp_path / "p.ckpt"
    synth.fit(private_table(), metadata=DECLARED, checkpoint=path)
    steps = synth.privacy_ledger_["training"].details["steps"]

    def more_steps(doc):  # as if more steps had been taken
        assert doc["trainer"]["steps_taken"] == steps
        doc["trainer"]["steps_taken"] = steps + 1

    _rewrite(path, more_steps)
    with pytest.raises(PrivacyError, match="more than the"):
        Synthesizer(**{**PRIVATE, "epochs": 1}).fit(private_table(), metadata=DECLARED,
                                                    checkpoint=path, resume=True)


def test_cli_checkpoint_and_resume(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "data.csv"
    make_mixed().to_csv(csv, index=False)
    args = ["fit", str(csv), "--epochs", "3", "--batch-size", "40", "--pac", "4", "--seed", "0",
            "--quiet", "--device", "cpu", "--checkpoint", str(tmp_path / "c.ckpt")]
    assert main([*args, "-o", str(tmp_path / "a.tabgan")]) == 0
    assert main([*args, "--resume", "-o", str(tmp_path / "b.tabgan")]) == 0
    from tabgan import load

    a, b = load(tmp_path / "a.tabgan"), load(tmp_path / "b.tabgan")
    pd.testing.assert_frame_equal(a.sample(100, random_state=0), b.sample(100, random_state=0))


def _rewrite(path, change) -> None:
    from tabgan.persistence import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, read_model, write_model

    doc, tensors = read_model(path, fmt=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION)
    change(doc)
    doc = {k: v for k, v in doc.items() if k not in ("format", "format_version", "tabgan_version")}
    write_model(path, doc, tensors, fmt=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION)


def test_resume_refuses_a_reordered_table_another_precision_and_generator_seeds(tmp_path):
    r = np.random.default_rng(0)
    data = pd.DataFrame({"a": r.choice(["x", "y", "z"], 300), "b": r.choice(["u", "v"], 300)})
    path = tmp_path / "fit.ckpt"
    Synthesizer(**PLAIN).fit(data, checkpoint=path)
    shuffled = data.sample(frac=1.0, random_state=1).reset_index(drop=True)  # same counts
    with pytest.raises(InvalidParameterError, match="another table"):
        Synthesizer(**PLAIN).fit(shuffled, checkpoint=path, resume=True)
    _rewrite(path, lambda doc: doc["context"].update(precision="float16"))
    with pytest.raises(InvalidParameterError, match="precision .float16."):
        Synthesizer(**PLAIN).fit(data, checkpoint=path, resume=True)
    with pytest.raises(InvalidParameterError, match="random_state=None or an int"):
        Synthesizer(**{**PLAIN, "random_state": np.random.default_rng(0)}).fit(
            data, checkpoint=tmp_path / "g.ckpt")
