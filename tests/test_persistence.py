from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest
import torch

import tabgan
from tabgan import ModelFileError, Synthesizer, load

from .conftest import TINY, make_mixed


@pytest.fixture(scope="module")
def fitted():
    df = make_mixed()
    df["when"] = pd.to_datetime("2020-01-01") + pd.to_timedelta(df["count"], unit="D")
    df.loc[::7, "x"] = None
    return Synthesizer(**TINY, random_state=0).fit(df)


def test_round_trip_samples_identically(fitted, tmp_path):
    path = tmp_path / "m.tabgan"
    fitted.save(str(path))
    loaded = load(str(path))
    pd.testing.assert_frame_equal(loaded.sample(200, random_state=4), fitted.sample(200, random_state=4))
    pd.testing.assert_frame_equal(
        loaded.sample(50, random_state=1, conditions={"color": "blue"}),
        fitted.sample(50, random_state=1, conditions={"color": "blue"}),
    )
    assert loaded.get_params()["epochs"] == fitted.epochs
    pd.testing.assert_frame_equal(loaded.loss_history_, fitted.loss_history_)
    assert loaded.metadata_ == fitted.metadata_


def test_unseeded_stream_continues_after_load(tmp_path):
    synth = Synthesizer(**TINY, random_state=0).fit(make_mixed())
    synth.save(str(tmp_path / "m.tabgan"))
    loaded = load(str(tmp_path / "m.tabgan"))
    pd.testing.assert_frame_equal(loaded.sample(30), synth.sample(30))


def test_loading_never_unpickles(fitted, tmp_path, monkeypatch):
    path = tmp_path / "m.tabgan"
    fitted.save(str(path))

    def boom(*a, **k):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(torch, "load", boom)
    load(str(path)).sample(5, random_state=0)
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])  # safetensors: a JSON header, then raw tensors
    doc = json.loads(header["__metadata__"]["tabgan"])
    assert doc["format"] == "tabgan" and doc["tabgan_version"] == tabgan.__version__


def test_corrupt_and_foreign_files(fitted, tmp_path):
    missing = tmp_path / "none.tabgan"
    with pytest.raises(ModelFileError, match="No model file"):
        load(str(missing))
    junk = tmp_path / "junk.tabgan"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelFileError, match="not a readable"):
        load(str(junk))
    good = tmp_path / "good.tabgan"
    fitted.save(str(good))
    truncated = tmp_path / "trunc.tabgan"
    truncated.write_bytes(good.read_bytes()[:-1000])
    with pytest.raises(ModelFileError):
        load(str(truncated))
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(ModelFileError, match="not a tabgan model"):
        load(str(foreign))


def _rewrite(src, dst, change):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(src), framework="pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    doc = json.loads(meta["tabgan"])
    change(doc, tensors)
    save_file(tensors, str(dst), metadata={"tabgan": json.dumps(doc)})


def test_incompatible_version_and_broken_content(fitted, tmp_path):
    good = tmp_path / "good.tabgan"
    fitted.save(str(good))
    future = tmp_path / "future.tabgan"
    _rewrite(good, future, lambda d, t: d.update(format_version=99))
    with pytest.raises(ModelFileError, match="format version 99"):
        load(str(future))
    broken = tmp_path / "broken.tabgan"
    _rewrite(good, broken, lambda d, t: d["transformer"].pop("layout"))
    with pytest.raises(ModelFileError, match="incomplete or corrupt"):
        load(str(broken))
    wrong_shape = tmp_path / "shape.tabgan"

    def shrink(d, t):
        key = next(k for k in t if k.endswith("out.weight"))
        t[key] = t[key][:-1].contiguous()

    _rewrite(good, wrong_shape, shrink)
    with pytest.raises(ModelFileError):
        load(str(wrong_shape))


def test_unknown_precision_in_file_is_refused(fitted, tmp_path):
    good = tmp_path / "good.tabgan"
    fitted.save(str(good))
    odd = tmp_path / "odd.tabgan"
    _rewrite(good, odd, lambda d, t: d.update(precision="float8"))
    with pytest.raises(ModelFileError, match="unknown precision 'float8'"):
        load(str(odd))


def test_file_without_ema_decay_loads_as_last_weights(fitted, tmp_path):
    """A file written before the weight average existed holds the last weights: it loads
    with ema_decay=None (not the new default) and samples as before."""
    good = tmp_path / "good.tabgan"
    fitted.save(str(good))
    old = tmp_path / "old.tabgan"
    _rewrite(good, old, lambda d, t: d["params"].pop("ema_decay"))
    loaded = load(str(old))
    assert loaded.ema_decay is None
    assert load(str(good)).ema_decay == fitted.ema_decay
    assert loaded.sample(50, random_state=3).equals(fitted.sample(50, random_state=3))


def test_file_from_before_points_and_calibration_says_so(fitted, tmp_path):
    """A file written before point_share and calibrated sampling existed loads with the
    settings it was fitted with (5 % points, no calibration), not the new defaults, and
    samples the generator's rows as they come."""
    good = tmp_path / "good.tabgan"
    fitted.save(str(good))
    old = tmp_path / "old.tabgan"

    def strip(d, t):
        d["params"].pop("point_share")
        d["params"].pop("calibrate")
        d["extra"].pop("calibration", None)

    _rewrite(good, old, strip)
    loaded = load(str(old))
    assert loaded.point_share == 0.05 and loaded.calibrate is None
    assert loaded.calibration_ is None and fitted.calibration_ is not None
    assert len(loaded.sample(40, random_state=3)) == 40


def test_save_to_a_missing_directory_or_over_a_directory_says_so(tmp_path):
    from .conftest import TINY, make_mixed

    synth = Synthesizer(**TINY).fit(make_mixed())
    for path in (tmp_path / "no" / "m.tabgan", tmp_path):
        with pytest.raises(ModelFileError, match="Could not write"):
            synth.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no partial file left
