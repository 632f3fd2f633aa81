"""Real-versus-synthetic detection (tabgan/evaluation/detection.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tabgan.errors import InvalidParameterError
from tabgan.evaluation import DetectionResult, EvaluationWarning, detect, detection_score
from tabgan.evaluation.detection import group_folds


def table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1, n),
            "k": rng.integers(0, 20, n),
            "c": rng.choice(
                ["a", "b", "c"], n, p=[0.6, 0.3, 0.1] if shift == 0 else [0.1, 0.3, 0.6]
            ),
        }
    )


def test_identical_tables_give_auc_one_half():
    real = table(200, 0)
    result = detect(real, real.sample(frac=1, random_state=1), n_folds=3, random_state=0)
    assert isinstance(result, DetectionResult)
    assert result.auc == pytest.approx(0.5)
    assert result.score == 1.0
    assert len(result.fold_aucs) == result.n_folds == 3


def test_copied_rows_do_not_push_the_auc_below_one_half():
    # without keeping copies in one fold, the classifier learns each test row's
    # label from its twin in the training folds, with the opposite label
    real = table(200, 0)
    synth = real.sample(n=200, replace=True, random_state=3)
    assert detect(real, synth, n_folds=3, random_state=0).auc > 0.4


def test_same_distribution_is_hard_to_detect():
    result = detect(table(300, 0), table(300, 1), n_folds=3, random_state=0)
    assert 0.35 < result.auc < 0.65


def test_different_distributions_are_detected():
    result = detect(table(300, 0), table(300, 1, shift=2.0), n_folds=3, random_state=0)
    assert result.auc > 0.9
    assert result.score < 0.2


def test_large_tables_are_subsampled_and_say_so():
    result = detect(table(300, 0), table(500, 1), max_rows=120, n_folds=2, random_state=0)
    assert result.subsampled
    assert (result.n_real, result.n_synthetic) == (120, 120)
    assert not detect(table(50, 0), table(60, 1), n_folds=2, random_state=0).subsampled


def test_seed_makes_it_reproducible():
    a = detect(table(150, 0), table(150, 1), n_folds=2, random_state=4)
    b = detect(table(150, 0), table(150, 1), n_folds=2, random_state=np.random.default_rng(4))
    assert a == b


def test_group_folds_keep_identical_rows_together_and_stratify():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 3))
    base[::7, 1] = np.nan  # missing values hash consistently
    X = np.repeat(base, 2, axis=0)  # every row twice
    y = np.tile([0, 1], 50)  # ... once real, once synthetic
    X = np.r_[X, rng.normal(size=(40, 3))]
    y = np.r_[y, np.zeros(20, dtype=int), np.ones(20, dtype=int)]
    fold = group_folds(X, y, 4, np.random.default_rng(1))
    assert np.all(fold[0:100:2] == fold[1:100:2])
    assert set(fold) == {0, 1, 2, 3}
    for f in range(4):  # every fold gets both kinds of rows
        assert set(y[fold == f]) == {0, 1}


def test_detection_score():
    assert detection_score(0.5) == 1.0
    assert detection_score(0.4) == 1.0
    assert detection_score(0.75) == pytest.approx(0.5)
    assert detection_score(1.0) == 0.0
    assert math.isnan(detection_score(float("nan")))


def test_too_few_rows_warn():
    with pytest.warns(EvaluationWarning, match="at least 2 rows") as record:
        result = detect(table(1, 0), table(5, 1), random_state=0)
    assert record[0].filename == __file__
    assert math.isnan(result.auc) and math.isnan(result.score)
    with pytest.warns(EvaluationWarning, match="3 folds are used"):
        result = detect(table(3, 0), table(30, 1), n_folds=5, random_state=0)
    assert result.n_folds == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_folds=1), "n_folds"),
        (dict(max_rows=0), "max_rows"),
        (dict(random_state="x"), "random_state"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        detect(table(10, 0), table(10, 1), **kwargs)
