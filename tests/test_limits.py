"""Tests for tabgan/limits.py: row subsampling and the thread scope."""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from tabgan.audit import MixedTypeDistance, neighbors
from tabgan.datasets import load_adult_sample
from tabgan.limits import _torch_mkl_local, limit_threads, subsample_rows


def test_subsample_keeps_every_row_without_drawing():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert subsample_rows(5, 5, rng).tolist() == [0, 1, 2, 3, 4]
    assert subsample_rows(5, None, rng).tolist() == [0, 1, 2, 3, 4]
    assert rng.bit_generator.state == state  # nothing drawn: later draws are unchanged


def test_subsample_is_one_seeded_choice_sorted():
    rows = subsample_rows(100, 10, np.random.default_rng(3))
    expected = np.sort(np.random.default_rng(3).choice(100, size=10, replace=False))
    np.testing.assert_array_equal(rows, expected)
    assert len(np.unique(rows)) == 10 and np.all(np.diff(rows) > 0)


# ---------------------------------------------------------------------- threads
@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # also gives this thread an MKL count of its own
    yield
    torch.set_num_threads(before)


def mkl_threads() -> int | None:
    """The calling thread's count in PyTorch's MKL, or None without one."""
    if _torch_mkl_local() is None:
        return None
    lib = ctypes.CDLL(str(next((Path(torch.__file__).parent / "lib").glob("*torch_cpu.*"))))
    lib.MKL_Get_Max_Threads.restype = ctypes.c_int
    return int(lib.MKL_Get_Max_Threads())


def counts() -> dict[str, int]:
    """The thread counts the calling thread's native pools would use now."""
    out = {"torch": torch.get_num_threads()}
    for p in threadpool_info():
        if p["user_api"] == "openmp":
            out[p["filepath"]] = p["num_threads"]
    mkl = mkl_threads()
    if mkl is not None:
        out["torch mkl"] = mkl
    return out


def test_thread_scope_limits_every_pool_and_restores_them(two_threads):
    before = counts()
    assert before["torch"] == 2
    with limit_threads(1):
        inside = counts()
    assert inside == dict.fromkeys(before, 1)  # OpenMP of torch and scikit-learn, torch's MKL
    assert counts() == before
    with limit_threads(None):
        assert counts() == before


def test_thread_scope_reaches_torch_mkl(two_threads):
    """torch.set_num_threads gave this thread an MKL count that OpenMP limits miss."""
    if _torch_mkl_local() is None:
        pytest.skip("this PyTorch build exports no MKL thread control")
    assert mkl_threads() == 2
    with limit_threads(1):
        assert mkl_threads() == 1
    assert mkl_threads() == 2


def test_thread_scope_leaves_other_threads_alone(two_threads):
    inside, started = threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def other():
        torch.get_num_threads()
        started.set()
        inside.wait()
        seen["running"] = torch.get_num_threads()

    def fresh():
        seen["new"] = torch.get_num_threads()  # the process default a new thread takes

    t = threading.Thread(target=other)
    t.start()
    started.wait()
    with limit_threads(1):
        inside.set()
        t.join()
        u = threading.Thread(target=fresh)
        u.start()
        u.join()
        assert torch.get_num_threads() == 1
    assert seen == {"running": 2, "new": 2}


def test_search_runs_with_the_limit(two_threads, monkeypatch):
    """The audits' search runs its torch operations inside the scope."""
    seen = []
    block_distance = neighbors._block_distance

    def spy(*args):
        seen.append(counts())
        return block_distance(*args)

    monkeypatch.setattr(neighbors, "_block_distance", spy)
    t = load_adult_sample().iloc[:40]
    MixedTypeDistance(n_threads=1).fit(t).nearest(t.iloc[:5], t)
    assert seen and all(set(c.values()) == {1} for c in seen)
    assert torch.get_num_threads() == 2
