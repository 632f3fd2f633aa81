"""Sampling's CPU worker threads (tabgan._threads) and what they must not change."""

from __future__ import annotations

import threading

import pytest
import torch

from tabgan import Synthesizer
from tabgan._threads import sampling_pool

from .conftest import TINY, make_mixed


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_workers_run_single_threaded_and_the_default_is_kept(two_threads):
    pool, workers = sampling_pool(torch.device("cpu"))
    assert pool is not None and workers == 2

    def probe(_):
        x = torch.randn(300, 300)
        x @ x  # a parallel op: the thread's count is settled by now
        return torch.get_num_threads()

    assert list(pool.map(probe, range(6))) == [1] * 6
    assert torch.get_num_threads() == 2  # the calling thread keeps its own
    seen = []
    fresh = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    fresh.start()
    fresh.join()
    assert seen == [2]  # and a new thread gets the process default, not the workers' 1
    assert sampling_pool(torch.device("cpu"))[0] is pool  # made once


def test_no_pool_on_one_thread_or_off_the_cpu(two_threads):
    assert sampling_pool(torch.device("cuda")) == (None, 1)
    torch.set_num_threads(1)
    assert sampling_pool(torch.device("cpu")) == (None, 1)


def test_samples_do_not_depend_on_the_thread_count(two_threads):
    """Every pass draws from its own seed and runs with one thread, on a worker or in the
    calling thread: the same rows with 2 threads (worker pool) and with 1 (no pool)."""
    df = make_mixed(300)
    synth = Synthesizer(**TINY, random_state=0).fit(df)
    n = 9_000  # several passes, so both workers take some
    both = synth.sample(n, random_state=5), synth.sample(333, random_state=6,
                                                        conditions={"color": "red"})
    torch.set_num_threads(1)
    one = synth.sample(n, random_state=5), synth.sample(333, random_state=6,
                                                       conditions={"color": "red"})
    assert both[0].equals(one[0]) and both[1].equals(one[1])
    assert (both[1]["color"] == "red").all() and len(both[0]) == n
