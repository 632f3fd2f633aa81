"""One contract, run over every estimator-like class (STYLE.md, "Tests"):

* use before fit raises ``NotFittedError``;
* each invalid parameter raises ``InvalidParameterError`` naming it, when ``fit`` starts;
* the same seed gives the same fitted state and output;
* a save/load round trip gives the same output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tabgan import InvalidParameterError, NotFittedError, Synthesizer, load
from tabgan.audit.mixed_distance import MixedTypeDistance
from tabgan.transformer import DataTransformer

from .conftest import TINY, make_mixed


@dataclass
class Contract:
    name: str
    make: Callable[..., Any]  # keyword parameters -> an unfitted estimator
    fit: Callable[[Any, int], Any]  # (estimator, seed) -> the fitted estimator
    uses: list[Callable[[Any], Any]]  # calls that need a fitted estimator
    output: Callable[[Any], Any]  # what a fitted estimator gives, to compare
    round_trip: Callable[[Any, Any], Any]  # (fitted, tmp_path) -> the same, saved and loaded
    bad: list[tuple[str, Any]] = field(default_factory=list)
    #: (tmp_path) -> reads a malformed saved state (must raise a TabganError)
    load_broken: Callable[[Any], Any] | None = None
    #: whether another seed must give another output (a transformer fitted without
    #: subsampling is deterministic)
    seed_matters: bool = True


DF = make_mixed(120)


def _transformer_round_trip(tr: DataTransformer, _tmp) -> DataTransformer:
    import json

    state = json.loads(json.dumps(tr.to_dict()))  # through JSON, as a model file holds it
    return DataTransformer.from_dict(state, metadata=tr.metadata_)


def _synth_round_trip(s: Synthesizer, tmp) -> Synthesizer:
    s.save(tmp / "m.tabgan")
    return load(tmp / "m.tabgan")


def _distance_round_trip(dist: MixedTypeDistance, _tmp) -> MixedTypeDistance:
    import json

    return MixedTypeDistance.from_dict(json.loads(json.dumps(dist.to_dict())))


def _frames_equal(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        np.testing.assert_array_equal(a, b)


CONTRACTS = [
    Contract(
        name="Synthesizer",
        make=lambda **kw: Synthesizer(**{**TINY, "epochs": 1, **kw}),
        fit=lambda est, seed: est.set_params(random_state=seed).fit(DF),
        uses=[lambda s: s.sample(5), lambda s: s.save("never-written.tabgan")],
        output=lambda s: s.sample(30, random_state=1),
        round_trip=_synth_round_trip,
        load_broken=lambda tmp: (tmp / "bad.tabgan").write_bytes(b"not a model") and load(
            tmp / "bad.tabgan"),
        bad=[("epochs", 0), ("batch_size", 1.5), ("pac", -1), ("loss", "hinge"),
             ("dropout", 1.0), ("ema_decay", 1.0), ("precision", "half"),
             ("random_state", -3), ("epsilon", 0.0), ("derive_columns", 1),
             ("check_every", 0), ("validation_size", 1.0), ("patience", 0),
             ("target", 3), ("target_weight", -1.0), ("calibrate", "joint"),
             ("point_share", 0.0)],
    ),
    Contract(
        name="DataTransformer",
        make=lambda **kw: DataTransformer(**kw),
        fit=lambda est, seed: est.fit(DF, rng=np.random.default_rng(seed)),
        uses=[lambda t: t.transform(DF, rng=np.random.default_rng(0)),
              lambda t: t.inverse_transform(np.zeros((1, 3)), rng=np.random.default_rng(0)),
              lambda t: t.to_dict(), lambda t: t.condition_counts()],
        output=lambda t: t.transform(DF, rng=np.random.default_rng(1)),
        round_trip=_transformer_round_trip,
        load_broken=lambda tmp: DataTransformer.from_dict({"settings": {}}, metadata=None),
        bad=[("n_modes", 0), ("weight_threshold", 1.0), ("max_gmm_samples", 5),
             ("max_categories", 1), ("point_share", 0.0), ("derive_columns", "yes")],
        seed_matters=False,
    ),
    Contract(
        name="MixedTypeDistance",
        make=lambda **kw: MixedTypeDistance(**kw),
        fit=lambda est, seed: est.fit(DF),  # no randomness: a seed has nothing to repeat
        uses=[lambda d: d.pairwise(DF[:3], DF[:4]), lambda d: d.nearest(DF[:3], DF, k=1),
              lambda d: d.to_dict()],
        output=lambda d: d.pairwise(DF[:20], DF[20:60]),
        round_trip=_distance_round_trip,
        load_broken=lambda tmp: MixedTypeDistance.from_dict({"columns": ["a"]}),
        bad=[("chunk_elements", 0), ("n_threads", 0), ("n_threads", 1.5)],
        seed_matters=False,
    ),
]

IDS = [c.name for c in CONTRACTS]


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_use_before_fit_raises_not_fitted(contract):
    for use in contract.uses:
        with pytest.raises(NotFittedError, match="fit"):
            use(contract.make())


@pytest.mark.parametrize(
    "contract,param,value",
    [(c, p, v) for c in CONTRACTS for p, v in c.bad],
    ids=[f"{c.name}-{p}" for c in CONTRACTS for p, _ in c.bad],
)
def test_each_invalid_parameter_raises_naming_it(contract, param, value):
    est = contract.make(**({} if param == "random_state" else {param: value}))
    with pytest.raises(InvalidParameterError, match=repr(param)[1:-1]):
        if param == "random_state":
            contract.fit(est, value)
        else:
            contract.fit(est, 0)


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_same_seed_same_output(contract):
    a = contract.output(contract.fit(contract.make(), 0))
    b = contract.output(contract.fit(contract.make(), 0))
    _frames_equal(a, b)
    if contract.seed_matters:
        c = contract.output(contract.fit(contract.make(), 1))
        with pytest.raises(AssertionError):
            _frames_equal(a, c)


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_save_load_round_trip_gives_the_same_output(contract, tmp_path):
    fitted = contract.fit(contract.make(), 0)
    _frames_equal(contract.output(fitted), contract.output(contract.round_trip(fitted, tmp_path)))


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_a_malformed_saved_state_raises_a_tabgan_error(contract, tmp_path):
    from tabgan import TabganError

    with pytest.raises(TabganError, match="(?i)not a|tabgan model"):
        contract.load_broken(tmp_path)
