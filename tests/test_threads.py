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


def test_large_samples_do_not_depend_on_the_thread_count(two_threads):
    """A large round is split into passes by its size alone, each with its own seed and
    one thread: on the worker pool (2 threads) or in the calling thread (1) it gives the
    same rows, whichever worker ran which pass."""
    df = make_mixed(300)
    synth = Synthesizer(**TINY, random_state=0).fit(df)
    n = 20_000  # at least 4 full passes of 4,080 rows: drawn on the workers
    both = synth.sample(n, random_state=5)
    torch.set_num_threads(1)
    one = synth.sample(n, random_state=5)
    assert both.equals(one) and len(both) == n


def test_a_pool_in_use_survives_another_thread_count(two_threads):
    """A thread with another count gets a pool of its own; the first stays usable (it is
    never shut down under a thread that may be using it)."""
    pool2, _ = sampling_pool(torch.device("cpu"))
    other = []

    def three():
        torch.set_num_threads(3)
        other.append(sampling_pool(torch.device("cpu")))

    t = threading.Thread(target=three)
    t.start()
    t.join()
    pool3, workers3 = other[0]
    assert workers3 == 3 and pool3 is not pool2
    assert list(pool2.map(lambda x: x + 1, range(4))) == [1, 2, 3, 4]
    assert torch.get_num_threads() == 2


def test_concurrent_sampling_from_threads_with_different_counts(two_threads):
    df = make_mixed(300)
    synth = Synthesizer(**TINY, random_state=0).fit(df)
    expected = synth.sample(5_000, random_state=1)
    errors, results = [], []

    def run(threads):
        try:
            torch.set_num_threads(threads)
            for _ in range(3):
                results.append(synth.sample(5_000, random_state=1))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    workers = [threading.Thread(target=run, args=(k,)) for k in (2, 3, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert len(results) == 9 and all(r.equals(expected) for r in results)
