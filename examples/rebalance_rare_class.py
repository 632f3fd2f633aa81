"""Rebalance a rare class with conditional sampling, and measure what it changes.

What it shows: in the bundled sample of UCI Adult about a quarter of the rows have
``income == ">50K"``. The example fits a ``Synthesizer`` on the training rows, draws
synthetic rows of the rare class only with ``sample(n, conditions={"income": ">50K"})``
until both classes have as many training rows, and trains the same scikit-learn
classifier three ways:

* on the real rows as they are;
* on the real rows with balanced class weights (rebalancing without new rows);
* on the real rows plus the synthetic rare-class rows.

Each model is scored on holdout rows that neither the synthesizer nor the classifiers
saw: the recall of the rare class and the balanced accuracy (the mean of both classes'
recalls). The numbers are printed as measured, for one seed and one small table; run
several ``--seed`` values before drawing a conclusion from them.

Run it from the repository root:

    python examples/rebalance_rare_class.py            # 300 epochs: 7 to 14 minutes*
    python examples/rebalance_rare_class.py --quick    # tiny fit for CI: 5 to 10 seconds

``--quick`` trains 2 epochs of small networks on 600 rows (the synthetic rows are then
poor). (*) The fit is the one of ``fit_sample_evaluate.py``: 364 s and 806 s in two runs
on a 2-core CPU machine shared with other jobs.

Outputs go to ``--out`` (default ``example_output/``): ``rebalanced_train.csv`` (the real
rows plus the synthetic ones, with a ``synthetic`` flag) and ``rebalance.csv`` (the
scores).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from tabgan import Synthesizer
from tabgan.datasets import load_adult_sample

TARGET = "income"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny fit for CI (seconds)")
    parser.add_argument("--out", type=Path, default=Path("example_output"),
                        help="folder for the rebalanced table and the scores")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random step")
    return parser.parse_args()


def subsample(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` rows of ``df`` drawn without replacement by ``rng``, in their original order."""
    if n >= len(df):
        return df
    rows = np.sort(rng.choice(len(df), size=n, replace=False))
    return df.iloc[rows].reset_index(drop=True)


def make_synthesizer(*, quick: bool, seed: int) -> Synthesizer:
    if quick:
        return Synthesizer(epochs=2, batch_size=100, embedding_dim=32, generator_dim=(64,),
                           discriminator_dim=(64,), random_state=seed)
    return Synthesizer(epochs=300, random_state=seed)


def make_classifier(*, balanced: bool = False) -> Pipeline:
    """One-hot categories, standardised numbers, logistic regression."""
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    features = ColumnTransformer([
        ("categorical", categorical, make_column_selector(dtype_include=object)),
        ("numeric", StandardScaler(), make_column_selector(dtype_include=np.number)),
    ])
    weights = "balanced" if balanced else None
    return make_pipeline(features, LogisticRegression(max_iter=2000, class_weight=weights))


def score(model: Pipeline, train: pd.DataFrame, test: pd.DataFrame, rare: str) -> dict[str, float]:
    """Fit ``model`` on ``train`` and score it on ``test``."""
    model.fit(train.drop(columns=TARGET), train[TARGET])
    predicted = model.predict(test.drop(columns=TARGET))
    return {
        f"recall of '{rare}'": float(recall_score(test[TARGET], predicted, pos_label=rare)),
        "balanced accuracy": float(balanced_accuracy_score(test[TARGET], predicted)),
    }


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)  # an explicit generator: no global seeding

    train = load_adult_sample()
    holdout = load_adult_sample(holdout=True)  # scored only: no model is fitted on it
    if args.quick:
        train, holdout = subsample(train, 600, rng), subsample(holdout, 300, rng)

    counts = train[TARGET].value_counts()
    rare, common = str(counts.idxmin()), str(counts.idxmax())
    n_extra = int(counts[common] - counts[rare])
    print(f"training rows {len(train):,}, holdout rows {len(holdout):,}")
    print(f"class counts, real: {counts.to_dict()}")

    synth = make_synthesizer(quick=args.quick, seed=args.seed)
    start = time.perf_counter()
    synth.fit(train)
    print(f"fit: {synth.settings_['epochs']} epochs in {time.perf_counter() - start:.1f} s")

    extra = synth.sample(n_extra, conditions={TARGET: rare})
    balanced = pd.concat(
        [train.assign(synthetic=False), extra.assign(synthetic=True)], ignore_index=True
    )
    balanced.to_csv(args.out / "rebalanced_train.csv", index=False)
    balanced = balanced.drop(columns="synthetic")
    print(f"synthetic rows drawn with income == '{rare}': {len(extra):,} "
          f"(all of that class: {bool((extra[TARGET] == rare).all())})")
    print(f"class counts, real + synthetic: {balanced[TARGET].value_counts().to_dict()}")
    print(f"training rows of '{rare}': real {counts[rare]}, "
          f"real + synthetic {int((balanced[TARGET] == rare).sum())}")

    results = pd.DataFrame({
        "real": score(make_classifier(), train, holdout, rare),
        "real, balanced class weights": score(make_classifier(balanced=True), train,
                                              holdout, rare),
        "real + synthetic": score(make_classifier(), balanced, holdout, rare),
    }).T
    results.index.name = "classifier trained on"
    print()
    print(f"logistic regression, scored on {len(holdout):,} holdout rows:")
    print(results.to_string(float_format=lambda x: f"{x:.3f}"))
    results.to_csv(args.out / "rebalance.csv")
    print()
    print(f"wrote {args.out / 'rebalanced_train.csv'} and {args.out / 'rebalance.csv'}")


if __name__ == "__main__":
    main()
