"""Model selection: the held-out split, the fidelity check, the best snapshot, and a fit
that keeps the weights of its best check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgan import Synthesizer, fitting
from tabgan.selection import MAX_PAIRS, BestSnapshot, FidelityCheck, split_holdout

KINDS = {"x": "continuous", "n": "integer", "c": "discrete"}


def table(n: int, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    x = r.normal(size=n)
    c = np.where(x > 0, "hi", "lo")  # a relation between x and c
    return pd.DataFrame({"x": x, "n": r.integers(0, 5, n), "c": c})


def test_split_holdout_is_a_partition_within_bounds():
    keep, held = split_holdout(1000, 0.1, 5000, np.random.default_rng(0))
    assert len(held) == 100 and len(keep) == 900
    assert np.array_equal(np.sort(np.concatenate([keep, held])), np.arange(1000))
    assert len(split_holdout(100_000, 0.1, 5000, np.random.default_rng(0))[1]) == 5000
    keep, held = split_holdout(2, 0.9, 5000, np.random.default_rng(0))
    assert len(held) == 1 and len(keep) == 1  # never every row


def test_fidelity_of_the_reference_itself_is_one():
    df = table(2000)
    check = FidelityCheck(df, KINDS, rng=np.random.default_rng(0))
    assert check.score(df) == pytest.approx(1.0)
    assert check.score(df.sample(frac=1, random_state=1)) == pytest.approx(1.0)  # order-free


def test_fidelity_sees_broken_pairs_not_only_columns():
    df = table(4000)
    check = FidelityCheck(df, KINDS, rng=np.random.default_rng(0))
    shuffled = df.copy()
    shuffled["c"] = np.random.default_rng(2).permutation(df["c"].to_numpy())  # same marginals
    fresh = table(4000, seed=5)  # same distribution, other rows
    assert check.score(shuffled) < check.score(fresh) - 0.05
    shifted = fresh.assign(x=fresh["x"] + 1.0)
    assert check.score(shifted) < check.score(fresh) - 0.05


def test_fidelity_bins_missing_and_unseen_values():
    df = table(1000).assign(x=lambda d: d["x"].where(d.index % 10 != 0))
    check = FidelityCheck(df, KINDS, rng=np.random.default_rng(0))
    no_missing = df.assign(x=df["x"].fillna(0.0))
    unseen = df.assign(c="never seen")
    assert check.score(no_missing) < 1.0 - 0.01
    assert check.score(unseen) < 1.0 - 0.2


def test_fidelity_samples_pairs_of_wide_tables():
    r = np.random.default_rng(0)
    wide = pd.DataFrame(r.normal(size=(50, 30)), columns=[f"v{i}" for i in range(30)])
    check = FidelityCheck(wide, {c: "continuous" for c in wide}, rng=r)
    assert len(check.pairs) == MAX_PAIRS < 30 * 29 // 2


def test_best_snapshot_keeps_the_best_of_a_constructed_curve():
    curve = [0.50, 0.70, 0.60, 0.80, 0.75, 0.79, 0.78]
    best, taken = BestSnapshot(), []
    for epoch, score in enumerate(curve, 1):
        assert not best.offer(epoch, score, lambda e=epoch: taken.append(e) or f"state {e}")
    assert (best.best_epoch, best.best_score, best.state) == (4, 0.80, "state 4")
    assert taken == [1, 2, 4]  # a snapshot is copied only when it is the best so far
    assert [s for _, s in best.scores] == curve


def test_best_snapshot_stops_after_patience_checks_without_improvement():
    best = BestSnapshot(patience=2, min_delta=0.01)
    stops = [best.offer(e, s, lambda: None) for e, s in enumerate([0.5, 0.7, 0.705, 0.69], 1)]
    assert stops == [False, False, False, True]  # 0.705 is no improvement beyond min_delta
    assert best.best_epoch == 2


def test_fit_keeps_the_weights_of_its_best_check(monkeypatch):
    """With a constructed score curve, the fitted generator holds exactly the averaged
    weights the check saw at the best epoch, and the progress bar shows the check."""
    curve = iter([0.1, 0.9, 0.2, 0.3])
    seen: list[dict] = []
    real_generate = fitting.generate

    def spy(generator, *args, **kwargs):
        seen.append({k: t.clone() for k, t in generator.state_dict().items()})
        return real_generate(generator, *args, **kwargs)

    monkeypatch.setattr(fitting, "generate", spy)
    monkeypatch.setattr(FidelityCheck, "score", lambda self, rows: next(curve))
    synth = Synthesizer(epochs=4, batch_size=50, pac=5, check_every=1, random_state=0,
                        generator_dim=(16,), discriminator_dim=(16,), embedding_dim=8)
    synth.fit(table(300))
    assert synth.selection_["best_epoch"] == 2
    assert synth.selection_["held_out_rows"] == 30 and synth.n_rows_ == 300
    assert [e for e, _ in synth.selection_["scores"]] == [1, 2, 3, 4]
    final = synth.generator_.state_dict()
    assert all(np.array_equal(final[k].numpy(), seen[1][k].numpy()) for k in final)
    assert not all(np.array_equal(final[k].numpy(), seen[3][k].numpy()) for k in final)
    assert synth.loss_history_["fidelity"].tolist() == [0.1, 0.9, 0.2, 0.3]


def test_fit_stops_early_and_shows_the_check(monkeypatch, capsys):
    curve = iter([0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    monkeypatch.setattr(FidelityCheck, "score", lambda self, rows: next(curve))
    synth = Synthesizer(epochs=6, batch_size=50, pac=5, check_every=1, patience=2,
                        random_state=0, verbose=True, generator_dim=(16,),
                        discriminator_dim=(16,), embedding_dim=8)
    synth.fit(table(300))
    assert synth.selection_["epochs_trained"] == 3 and synth.selection_["best_epoch"] == 1
    assert len(synth.loss_history_) == 3
    assert "fidelity=0.3000" in capsys.readouterr().err


def test_checks_run_every_k_epochs_and_after_the_last():
    synth = Synthesizer(epochs=5, batch_size=50, pac=5, check_every=2, random_state=0,
                        generator_dim=(16,), discriminator_dim=(16,), embedding_dim=8)
    synth.fit(table(300))
    assert [e for e, _ in synth.selection_["scores"]] == [2, 4, 5]
    assert 0 < synth.selection_["best_score"] <= 1
    assert len(synth.sample(20, random_state=0)) == 20


def test_no_selection_by_default_and_every_row_trains():
    synth = Synthesizer(epochs=1, batch_size=50, pac=5, random_state=0,
                        generator_dim=(16,), discriminator_dim=(16,), embedding_dim=8)
    synth.fit(table(300))
    assert synth.selection_ is None and "fidelity" not in synth.loss_history_


def test_selection_settings_that_would_be_ignored_are_refused():
    from tabgan.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="no checks"):
        Synthesizer(patience=3).fit(table(100))
    with pytest.raises(InvalidParameterError, match="epsilon"):
        Synthesizer(check_every=5, epsilon=1.0).fit(table(100))
