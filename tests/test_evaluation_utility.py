"""Machine-learning utility (tabgan/evaluation/utility.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score, roc_auc_score

from tabgan.errors import InvalidDataError, InvalidParameterError
from tabgan.evaluation import EvaluationWarning, UtilityResult, evaluate, ml_utility
from tabgan.evaluation.utility import positive_class


def make_classification(n: int, seed: int, *, signal: float = 3.0, classes=("no", "yes")):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], n)
    logit = signal * x + (color == "red") * 1.5
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), classes[1], classes[0])
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n), "color": color, "label": label})


@pytest.fixture(scope="module")
def data():
    return make_classification(300, 0), make_classification(200, 1)


def test_identical_training_tables_give_ratio_one(data):
    real, holdout = data
    result = ml_utility(real, real.copy(), target="label", holdout=holdout, random_state=0)
    assert isinstance(result, UtilityResult)
    assert result.task == "classification" and result.holdout == "given"
    assert result.real == result.synthetic
    assert result.ratio == pytest.approx({"accuracy": 1.0, "f1_macro": 1.0, "roc_auc": 1.0})
    assert result.score == pytest.approx(1.0)
    assert (result.n_train_real, result.n_train_synthetic, result.n_holdout) == (300, 300, 200)


def test_labels_unrelated_to_features_lose_utility(data):
    real, holdout = data
    rng = np.random.default_rng(5)
    synth = real.assign(label=rng.permutation(real["label"].to_numpy()))
    result = ml_utility(real, synth, target="label", holdout=holdout, random_state=0)
    assert result.real["roc_auc"] > 0.8
    assert result.synthetic["roc_auc"] < 0.65
    assert result.ratio["roc_auc"] < 0.8
    assert result.score < 0.9


def _reference_proba(train: pd.DataFrame, test: pd.DataFrame, target: str) -> np.ndarray:
    """The same model by hand: categories and classes coded in order of first appearance
    (small data: no early stopping, so the model's seed does not matter)."""
    names = [c for c in train.columns if c != target]
    cat = [not pd.api.types.is_numeric_dtype(train[c]) for c in names]
    columns = []
    for name, is_cat in zip(names, cat):
        if is_cat:
            codes = {v: i for i, v in enumerate(pd.unique(train[name]))}
            columns.append((train[name].map(codes), test[name].map(codes)))
        else:
            columns.append((train[name], test[name]))
    model = HistGradientBoostingClassifier(categorical_features=cat or None, random_state=0)
    model.fit(np.c_[tuple(a for a, _ in columns)], pd.factorize(train[target])[0])
    return model.predict_proba(np.c_[tuple(b for _, b in columns)])


def test_binary_metrics_match_a_reference_model(data):
    real, holdout = data
    result = ml_utility(real, real, target="label", holdout=holdout, random_state=0)
    assert list(pd.unique(real["label"])) == ["yes", "no"]  # so "yes" is class 0
    p_yes = _reference_proba(real, holdout, "label")[:, 0]
    truth = holdout["label"] == "yes"  # "yes" sorts after "no": the positive class
    assert result.real["roc_auc"] == pytest.approx(roc_auc_score(truth, p_yes), rel=1e-12)
    assert result.real["accuracy"] == pytest.approx(np.mean((p_yes > 0.5) == truth))
    pred = np.where(p_yes > 0.5, "yes", "no")
    assert result.real["f1_macro"] == pytest.approx(
        f1_score(holdout["label"], pred, average="macro")
    )


def test_positive_class_is_the_one_sorting_last():
    assert positive_class(("yes", "no"), np.array([0, 1])) == 0
    assert positive_class((False, True), np.array([0, 1])) == 1
    assert positive_class(("<=50K", ">50K"), np.array([0, 1])) == 1
    assert positive_class((1, "a"), np.array([0, 1])) == 1  # unorderable: compared as text


def test_multiclass_auc_is_one_vs_rest_macro():
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=n)
    label = np.select([x < -0.5, x < 0.5], ["a", "b"], "c")
    real = pd.DataFrame({"x": x + rng.normal(scale=0.3, size=n), "label": label})
    train, test = real.iloc[:300], real.iloc[300:]
    result = ml_utility(train, train, target="label", holdout=test, random_state=0)
    proba = _reference_proba(train, test, "label")
    classes = list(pd.unique(train["label"]))
    expected = roc_auc_score(
        test["label"], proba[:, np.argsort(classes)], multi_class="ovr", average="macro"
    )
    assert result.real["roc_auc"] == pytest.approx(expected, rel=1e-12)
    assert 0.8 < result.real["roc_auc"] <= 1.0


def test_regression_task_reports_r2_and_mae():
    rng = np.random.default_rng(4)
    n = 300
    x = rng.normal(size=n)
    real = pd.DataFrame({"x": x, "c": rng.choice(list("ab"), n), "y": 3 * x + rng.normal(size=n)})
    synth = real.assign(y=rng.normal(size=n))
    result = ml_utility(real, synth, target="y", random_state=0)
    assert result.task == "regression" and set(result.real) == {"r2", "mae"}
    assert result.holdout == "split" and result.n_holdout == 60
    assert result.real["r2"] > 0.7
    assert result.synthetic["r2"] < 0.1
    assert result.synthetic["mae"] > result.real["mae"]
    assert result.ratio["mae"] == pytest.approx(result.synthetic["mae"] / result.real["mae"])
    assert result.score < 0.6


def test_seeded_split_is_reproducible(data):
    real, _ = data
    a = ml_utility(real, real, target="label", random_state=3)
    b = ml_utility(real, real, target="label", random_state=3)
    assert a == b and a.holdout == "split" and a.n_train_real == 240


def test_single_class_in_the_synthetic_target_warns(data):
    real, holdout = data
    with pytest.warns(EvaluationWarning, match="single class in the synthetic") as record:
        result = ml_utility(
            real, real.assign(label="no"), target="label", holdout=holdout, random_state=0
        )
    assert record[0].filename == __file__
    assert result.synthetic["roc_auc"] == pytest.approx(0.5)  # a constant score


def test_unseen_holdout_categories_and_missing_targets(data):
    real, holdout = data
    holdout = holdout.copy()
    holdout.loc[:9, "color"] = "purple"  # unseen feature category: treated as missing
    holdout.loc[10:14, "label"] = "maybe"  # unseen target class: left out
    result = ml_utility(real, real, target="label", holdout=holdout, random_state=0)
    assert result.n_holdout == 195
    assert not math.isnan(result.real["roc_auc"])
    report = evaluate(real, real, target="label", holdout=holdout, detection=False)
    assert any("5 holdout row(s) whose target 'label' is missing or unseen" in n
               for n in report.notes)


def test_all_missing_feature_does_not_crash(data):
    real, holdout = data
    real = real.assign(noise=np.nan)
    result = ml_utility(real, real, target="label", holdout=holdout, random_state=0)
    assert result.real["roc_auc"] > 0.8


def test_bad_arguments_raise(data):
    real, holdout = data
    with pytest.raises(InvalidParameterError, match="'target'"):
        ml_utility(real, real, target="missing")
    with pytest.raises(InvalidDataError, match="holdout table lacks"):
        ml_utility(real, real, target="label", holdout=holdout[["x", "label"]])
    with pytest.raises(InvalidParameterError, match="random_state"):
        ml_utility(real, real, target="label", random_state=1.5)


def test_to_dict_has_metrics_and_ratios(data):
    real, holdout = data
    d = ml_utility(real, real, target="label", holdout=holdout, random_state=0).to_dict()
    assert set(d) >= {"target", "task", "holdout", "real", "synthetic", "ratio", "score"}
    assert set(d["ratio"]) == {"accuracy", "f1_macro", "roc_auc"}
