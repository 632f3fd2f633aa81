"""Declarative parameter checks and random-state helpers."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .errors import InvalidParameterError

__all__ = ["Constraint", "validate_params", "check_random_state", "resolve_device"]


@dataclass(frozen=True)
class Constraint:
    """One rule: a predicate and the phrase that completes "must be ..."."""

    check: Callable[[Any], bool]
    description: str


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)


def int_at_least(lo: int) -> Constraint:
    return Constraint(lambda v: _is_int(v) and v >= lo, f"an int >= {lo}")


def int_or_none_at_least(lo: int) -> Constraint:
    return Constraint(lambda v: v is None or (_is_int(v) and v >= lo), f"None or an int >= {lo}")


def real_in(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> Constraint:
    def check(v: Any) -> bool:
        if not _is_real(v):
            return False
        return (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)

    left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
    return Constraint(check, f"a float in {left}{lo}, {hi}{right}")


def one_of(*options: Any) -> Constraint:
    return Constraint(lambda v: v in options, "one of " + ", ".join(repr(o) for o in options))


def int_tuple() -> Constraint:
    return Constraint(
        lambda v: isinstance(v, (tuple, list)) and all(_is_int(x) and x >= 1 for x in v),
        "a tuple of ints >= 1 (layer widths)",
    )


def or_none(rule: Constraint) -> Constraint:
    """``rule``, or ``None`` (the library chooses the value at fit time)."""
    return Constraint(lambda v: v is None or rule.check(v), f"None or {rule.description}")


def betas() -> Constraint:
    return Constraint(
        lambda v: isinstance(v, (tuple, list))
        and len(v) == 2
        and all(_is_real(x) and 0 <= x < 1 for x in v),
        "a pair of floats in [0, 1)",
    )


def boolean() -> Constraint:
    return Constraint(lambda v: isinstance(v, (bool, np.bool_)), "a bool")


def random_state() -> Constraint:
    return Constraint(
        lambda v: v is None or (_is_int(v) and v >= 0) or isinstance(v, np.random.Generator),
        "None, a non-negative int or a numpy.random.Generator",
    )


def device() -> Constraint:
    def check(v: Any) -> bool:
        if isinstance(v, torch.device) or v == "auto":
            return True
        try:
            torch.device(v)
        except (RuntimeError, TypeError):
            return False
        return True

    return Constraint(check, "'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device")


def validate_params(owner: str, params: Mapping[str, Any], table: Mapping[str, Constraint]) -> None:
    for name, rule in table.items():
        value = params[name]
        if not rule.check(value):
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be {rule.description}. "
                f"Got {value!r} instead."
            )


def check_random_state(seed: Any) -> np.random.Generator:
    """A NumPy Generator from None, an int or a Generator (which is used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (_is_int(seed) and seed >= 0):
        return np.random.default_rng(seed)
    raise InvalidParameterError(
        "random_state must be None, a non-negative int or a numpy.random.Generator. "
        f"Got {seed!r} instead."
    )


def torch_generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A torch.Generator on ``device`` seeded from ``rng``."""
    g = torch.Generator(device=device)
    g.manual_seed(int(rng.integers(0, 2**62)))
    return g


def resolve_device(value: Any) -> torch.device:
    if value == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(value)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError(
            f"device={value!r} was requested but CUDA is not available here. "
            "Use device='auto' or 'cpu'."
        )
    return dev


def fast_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` is a CPU that multiplies bfloat16 natively (AVX-512 BF16 or AMX
    tiles; elsewhere oneDNN emulates bfloat16, slower than float32)."""
    if device.type != "cpu":
        return False
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:
        return False


def resolve_precision(value: str, device: torch.device, *, private: bool = False) -> str:
    """``"auto"`` becomes ``"bfloat16"`` on a CPU with fast bfloat16, else ``"float32"``.

    On CUDA the CTGAN-sized step is bound by kernel launches, not arithmetic, so
    bfloat16 buys little there; ``"auto"`` keeps float32 (ask for ``"bfloat16"``).
    Private fits (``private=True``) keep float32 unless bfloat16 is asked for.
    """
    if value == "auto":
        return "bfloat16" if fast_bfloat16(device) and not private else "float32"
    return value


def compute_dtype(precision: str) -> torch.dtype | None:
    return torch.bfloat16 if precision == "bfloat16" else None
