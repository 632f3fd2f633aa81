"""Data-parallel training (tabgan/parallel.py): the split of a batch, and fits of two
processes (gloo, on the CPU, through torchrun) against the same fit in one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tabgan import Synthesizer, load
from tabgan.errors import InvalidParameterError
from tabgan.parallel import DataParallel, Shard

WORKER = str(Path(__file__).with_name("_parallel_worker.py"))
needs_dist = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch.distributed with gloo is not available",
)


# ------------------------------------------------------------------ the split
@pytest.mark.parametrize("world,total,unit", [(2, 60, 10), (2, 50, 10), (3, 70, 10), (4, 7, 1)])
def test_shards_cover_the_batch_in_whole_groups(world, total, unit):
    shards = [DataParallel(r, world, r, owned=False).shard(total, unit) for r in range(world)]
    assert shards[0].lo == 0 and shards[-1].hi == (total // unit) * unit
    assert all(a.hi == b.lo for a, b in zip(shards, shards[1:]))
    sizes = [s.size for s in shards]
    assert all(s % unit == 0 for s in sizes) and max(sizes) - min(sizes) <= unit
    # the weighted means of the parts average to the whole batch's mean
    x = torch.arange(total, dtype=torch.float64)
    means = [s.take(x).mean() * s.weight for s in shards if s.size]
    assert torch.isclose(sum(means) / world, x.mean())


def test_take_keeps_this_parts_rows_of_every_block():
    s = Shard(1, 3, 4, 2)
    t = torch.arange(12).reshape(12, 1)  # three blocks of four rows
    assert s.take(t, parts=3).flatten().tolist() == [1, 2, 5, 6, 9, 10]
    assert s.in_units(2) == Shard(0, 1, 2, 2)


def test_one_process_fits_do_not_join_a_group(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert DataParallel.join(None, "cpu") is None
    assert DataParallel.join(False, "cpu") is None
    with pytest.raises(InvalidParameterError, match="torchrun"):
        DataParallel.join(True, "cpu")
    with pytest.raises(InvalidParameterError, match="distributed"):
        Synthesizer(epochs=1).fit(_tiny(), distributed="yes")


def _tiny():
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=50), "b": rng.choice(["x", "y"], 50)})


# -------------------------------------------------------- two processes
def _run(args: list[str], *, procs: int | None, tmp_path: Path, env: dict | None = None,
         extra: list[str] | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                "TORCHELASTIC_RESTART_COUNT"):
        environment.pop(key, None)
    if procs is None:
        cmd = [sys.executable, WORKER, *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={procs}",
               "--standalone", *(extra or []), WORKER, *args]
    return subprocess.run(cmd, cwd=tmp_path, env=environment, capture_output=True, text=True,
                          timeout=timeout)


def _result(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def plain_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plain")
    one = _run(["plain", str(tmp / "one.json")], procs=None, tmp_path=tmp)
    two = _run(["plain", str(tmp / "two.json")], procs=2, tmp_path=tmp)
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    return _result(tmp / "one.json"), _result(tmp / "two.json")


@needs_dist
def test_two_processes_take_the_steps_of_one(plain_runs):
    one, two = plain_runs
    # batch 50, pac 10: parts of three and two critic samples, weighted by their share
    assert len(one["steps"]) == len(two["steps"]) == 12
    for name in ("critic", "generator"):  # the first step's gradients, before any update
        for a, b in zip(one["first"][name], two["first"][name]):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    # later steps: the same to float rounding, which Adam's first steps magnify in the
    # weights whose gradient is nearly zero (an exact 0 in one process is 1e-8 in two)
    np.testing.assert_allclose(two["steps"], one["steps"], rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(two["history"], one["history"], rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(two["sample"], one["sample"], rtol=1e-2, atol=1e-2)


def _one_and_two(scenario: str, tmp_path: Path) -> tuple[dict, dict]:
    one = _run([scenario, str(tmp_path / "one.json")], procs=None, tmp_path=tmp_path)
    two = _run([scenario, str(tmp_path / "two.json")], procs=2, tmp_path=tmp_path)
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    return _result(tmp_path / "one.json"), _result(tmp_path / "two.json")


@needs_dist
def test_critic_variants_target_and_selection_take_the_same_steps(tmp_path):
    # spectral norm (the autograd critic), two critic steps a round (no reused batch),
    # target conditioning (its predictor trained on every process) and model selection
    # (every process stops with rank 0)
    one, two = _one_and_two("variants", tmp_path)
    assert len(two["steps"]) == len(one["steps"]) > 0
    for name in ("critic", "generator"):
        for a, b in zip(one["first"][name], two["first"][name]):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(two["steps"], one["steps"], rtol=2e-3, atol=2e-3)


@needs_dist
def test_private_steps_with_fewer_rows_than_processes(tmp_path):
    # a batch of 3 expected rows: about a fifth of the steps give a process no row, one
    # in twenty none to anyone; all 100 steps run, and the first 20 agree (with batch
    # norm over 3 generated rows, Adam magnifies the rounding faster afterwards)
    one, two = _one_and_two("private_small", tmp_path)
    assert two["epsilon"] == one["epsilon"]
    assert len(two["steps"]) == len(one["steps"]) >= 100
    np.testing.assert_allclose(two["steps"][:20], one["steps"][:20], rtol=1e-3, atol=1e-3)


@needs_dist
def test_a_private_fit_on_two_processes_spends_the_same_epsilon(tmp_path):
    one, two = _one_and_two("private", tmp_path)
    # epsilon follows the plan and the steps taken; the losses show they were the same steps
    assert 0 < one["epsilon"] <= 1.0 and two["epsilon"] == one["epsilon"]
    # the same Poisson draws and the same noise, added once to the whole step's sum
    np.testing.assert_allclose(two["steps"], one["steps"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(two["sample"], one["sample"], rtol=1e-3, atol=1e-3)


@needs_dist
def test_processes_given_different_tables_are_refused(tmp_path):
    run = _run(["different", str(tmp_path / "out.json")], procs=2, tmp_path=tmp_path)
    assert run.returncode != 0
    assert "do not hold the same prepared table" in run.stdout + run.stderr
    assert not (tmp_path / "out.json").exists()


@needs_dist
def test_processes_given_different_settings_are_refused_before_training(tmp_path):
    run = _run(["mismatch", str(tmp_path / "out.json")], procs=2, tmp_path=tmp_path,
               timeout=120)
    assert run.returncode != 0
    assert "do not hold the same settings" in run.stdout + run.stderr
    assert "injected" not in run.stdout + run.stderr


@needs_dist
def test_a_failing_process_ends_the_job_without_a_hang(tmp_path):
    run = _run(["crash", str(tmp_path / "out.json")], procs=2, tmp_path=tmp_path, timeout=180)
    assert run.returncode != 0
    assert "injected failure of rank 1" in run.stdout + run.stderr
    assert not (tmp_path / "out.json").exists()


@needs_dist
def test_the_command_line_fits_on_two_processes_and_a_restart_resumes(tmp_path):
    _tiny().to_csv(tmp_path / "t.csv", index=False)
    common = ["t.csv", "--epochs", "3", "--batch-size", "20", "--pac", "5", "--seed", "3",
              "--precision", "float32", "--quiet"]
    whole = _run(["cli", str(tmp_path / "a.json"), "fit", *common, "-o", "whole.tabgan"],
                 procs=2, tmp_path=tmp_path)
    assert whole.returncode == 0, whole.stderr[-3000:]
    assert "model written to whole.tabgan" in whole.stdout
    assert whole.stdout.count("model written") == 1  # rank 0 writes, alone
    # rank 1 fails in the first attempt's 3rd step (the first of epoch 2, of 2 steps
    # each); torchrun restarts the job, which resumes from the checkpoint of epoch 1
    resumed = _run(["cli", str(tmp_path / "b.json"), "fit", *common, "-o", "resumed.tabgan",
                    "--checkpoint", "ck.tabgan"],
                   procs=2, tmp_path=tmp_path, env={"TABGAN_TEST_CRASH_STEP": "3"},
                   extra=["--max-restarts=1"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "injected failure of rank 1" in resumed.stderr
    assert "resuming from the checkpoint ck.tabgan" in resumed.stderr
    assert len(_result(tmp_path / "b.json")["steps"]) == 4  # epochs 2 and 3 only
    a = load(tmp_path / "whole.tabgan").sample(30, random_state=0)
    b = load(tmp_path / "resumed.tabgan").sample(30, random_state=0)
    assert a.equals(b)  # the same processes from the same state: bit for bit


def test_a_gpu_other_than_the_local_ranks_is_refused():
    dp = DataParallel(1, 2, 1, owned=False)
    assert dp.device(torch.device("cpu")) == torch.device("cpu")
    assert dp.device(torch.device("cuda")) == torch.device("cuda", 1)
    assert dp.device(torch.device("cuda", 1)) == torch.device("cuda", 1)
    with pytest.raises(InvalidParameterError, match="LOCAL_RANK"):
        dp.device(torch.device("cuda", 0))
