"""The canary audit run on tabgan itself (audit x synthesizer)."""

from __future__ import annotations

import pytest

from tabgan import Synthesizer, canary_audit

from .conftest import make_mixed

DP_TINY = dict(epochs=3, batch_size=100, embedding_dim=16, generator_dim=(32,),
               discriminator_dim=(32,), device="cpu")


@pytest.mark.filterwarnings("ignore")
def test_private_tabgan_stays_below_its_claim():
    train = make_mixed(n=600, seed=4)
    meta = {"color": {"kind": "discrete", "categories": ["red", "green", "blue"]},
            "x": {"kind": "continuous", "lower": -10, "upper": 30},
            "count": {"kind": "integer", "lower": 0, "upper": 60}}

    class Declared:  # a synthesizer whose fit gets the public metadata
        def fit(self, df):
            self.model = Synthesizer(epsilon=1.0, random_state=0, **DP_TINY).fit(df, metadata=meta)
            self.epsilon_ = self.model.epsilon_
            self.delta_ = self.model.delta_
            return self

        def sample(self, n):
            return self.model.sample(n)

    result = canary_audit(
        Declared,
        train,
        n_canaries=100,
        delta=1e-5,
        metadata=meta,
        random_state=0,
    )
    assert result.claimed_epsilon is not None and result.claimed_epsilon <= 1.0 + 1e-9
    assert result.epsilon_lower_bound <= result.claimed_epsilon
    assert not result.contradicts_claim


@pytest.mark.filterwarnings("ignore")
def test_memorising_generator_is_caught_on_the_same_setup():
    class Copier:
        def fit(self, df):
            self.rows_ = df.copy()
            return self

        def sample(self, n):
            return self.rows_.sample(n, replace=True, random_state=0)

    train = make_mixed(n=600, seed=4)
    result = canary_audit(lambda: Copier(), train, n_canaries=100, random_state=0,
                          n_synthetic=3000)
    assert result.epsilon_lower_bound > 1.0
