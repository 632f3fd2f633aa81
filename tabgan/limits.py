"""The two limits on the work of an audit or an evaluation: rows and threads.

:func:`subsample_rows` implements every ``max_rows`` parameter (the distance-to-
closest-record audit, the detection classifier), so that a seed draws the same rows
wherever it is used.

:func:`limit_threads` implements every ``n_threads`` parameter (the audits' nearest-
neighbour search in torch, the evaluation's scikit-learn models). It changes only the
calling thread's settings, so concurrent callers with different limits do not disturb
each other:

* every OpenMP runtime loaded in the process (scikit-learn's, PyTorch's) gets the
  limit through ``threadpoolctl.threadpool_limits(user_api="openmp")``, which calls
  ``omp_set_num_threads``: that sets the calling thread's own count (an OpenMP ICV is
  per thread), and PyTorch's CPU operators read exactly that count
  (``at::get_num_threads()`` is ``omp_get_max_threads()``);
* PyTorch's statically linked MKL (its matrix products) keeps a count of its own per
  thread once ``torch.set_num_threads`` has run in that thread, which OpenMP limits do
  not reach; it gets the limit through MKL's ``mkl_set_num_threads_local``, the
  per-thread call (C entry ``MKL_Set_Num_Threads_Local``), where the PyTorch build
  exports it (the Linux x86-64 wheels do).

``torch.set_num_threads`` is deliberately not used: besides the calling thread's counts
it sets the process-wide default that every thread takes on its first parallel
operation, so swapping it in and out races with other threads.

This module imports NumPy and threadpoolctl (and touches PyTorch only if it is already
imported), so any module may use it.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["limit_threads", "pin_threads", "subsample_rows"]


def subsample_rows(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of at most ``max_rows`` of ``n`` rows: all of them (in order, drawing
    nothing from ``rng``) when ``n <= max_rows`` or ``max_rows`` is None, else a uniform
    sample without replacement (one ``rng.choice`` call)."""
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def pin_threads(n_threads: int) -> None:
    """For the rest of the calling thread's life, at most ``n_threads`` threads in its
    OpenMP (and PyTorch MKL) pools, set the way :func:`limit_threads` sets them: nothing
    process-wide changes, so threads started later keep PyTorch's default (the CPU
    sampling workers of :mod:`tabgan._threads` run this once each)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.get_num_threads()  # settle PyTorch's lazy per-thread count first
    threadpool_limits(limits=n_threads, user_api="openmp")  # set now, never restored
    set_mkl_local = _torch_mkl_local() if torch is not None else None
    if set_mkl_local is not None:
        set_mkl_local(n_threads)


@contextmanager
def limit_threads(n_threads: int | None) -> Iterator[None]:
    """Run the block with at most ``n_threads`` threads in the calling thread's OpenMP
    (and PyTorch MKL) pools, restoring its previous counts afterwards; None changes
    nothing. Other threads keep their own counts (see the module docstring)."""
    if n_threads is None:
        yield
        return
    torch = sys.modules.get("torch")
    if torch is not None:
        # PyTorch sets a thread's OpenMP count lazily, once, on the thread's first query
        # or parallel operation; settle it now so that it cannot undo the limit inside.
        torch.get_num_threads()
    set_mkl_local = _torch_mkl_local() if torch is not None else None
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        previous = set_mkl_local(n_threads) if set_mkl_local is not None else None
        try:
            yield
        finally:
            if set_mkl_local is not None:
                set_mkl_local(previous)  # 0 (no count of its own) is restored as 0


@functools.cache
def _torch_mkl_local() -> Callable[[int], int] | None:
    """MKL's ``mkl_set_num_threads_local`` inside the loaded PyTorch CPU library (it
    returns the thread's previous local count, 0 for none), or None where PyTorch has no
    MKL or does not export it."""
    import torch

    for path in sorted((Path(torch.__file__).parent / "lib").glob("*torch_cpu.*")):
        try:
            # the C entry point; the lower-case name is Fortran's, which takes a pointer
            fn = ctypes.CDLL(str(path)).MKL_Set_Num_Threads_Local
        except (OSError, AttributeError):
            continue
        fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
        return fn
    return None
