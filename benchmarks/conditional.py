"""Conditional sampling on UCI Adult: do rows generated with a condition keep what the
model learned for it?

Samples the table stratified by the target: ``income = >50K`` and ``income = <=50K``
rows through ``sample(..., conditions=...)``, in the real table's shares. Prints, per
income class, a few conditional statistics (married share, mean age, mean hours) for
the real table, for the model's unconditional rows filtered by income, and for the
conditioned rows; then the macro-F1 and ROC AUC of a classifier trained on the
stratified table and tested on ``adult_test.csv`` (as in ``quality.py``).

    python benchmarks/conditional.py --model adult.tabgan      # a fitted, saved model
    python benchmarks/conditional.py --epochs 300 --seed 0     # fit one first (≈ 5 min)
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

import tabgan
from tabgan.evaluation.utility import ml_utility

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "datasets")

parser = argparse.ArgumentParser()
parser.add_argument("--model", default=None, help="a saved tabgan model (else fit one)")
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--train", default=os.path.join(DATA, "adult_train.csv"))
parser.add_argument("--test", default=os.path.join(DATA, "adult_test.csv"))
args = parser.parse_args()

train, test = pd.read_csv(args.train), pd.read_csv(args.test)
if args.model:
    model = tabgan.load(args.model)
else:
    model = tabgan.Synthesizer(epochs=args.epochs, random_state=args.seed).fit(train)


def stats(rows: pd.DataFrame) -> str:
    married = (rows["marital-status"] == "Married-civ-spouse").mean()
    return (f"married {married:.3f}  age {rows['age'].mean():5.1f}  "
            f"hours {rows['hours-per-week'].mean():5.1f}  ({len(rows)} rows)")


n = len(train)
high = int(round((train["income"] == ">50K").mean() * n))
free = model.sample(n, random_state=args.seed + 1)
clock = time.perf_counter()
rich = model.sample(high, random_state=args.seed, conditions={"income": ">50K"})
rest = model.sample(n - high, random_state=args.seed + 2, conditions={"income": "<=50K"})
seconds = time.perf_counter() - clock
for label, value in ((">50K", lambda d: d["income"] == ">50K"),
                     ("<=50K", lambda d: d["income"] != ">50K")):
    print(f"income {label}")
    print(f"  real                     {stats(train[value(train)])}")
    print(f"  model, filtered          {stats(free[value(free)])}")
    print(f"  model, conditioned       {stats(rich if label == '>50K' else rest)}")
table = pd.concat([rich, rest]).sample(frac=1, random_state=args.seed).reset_index(drop=True)
score = ml_utility(train, table, target="income", holdout=test, random_state=0)
plain = ml_utility(train, free, target="income", holdout=test, random_state=0)
print(f"classifier trained on the conditioned (stratified) rows: macro-F1 "
      f"{score.synthetic['f1_macro']:.3f}, ROC AUC {score.synthetic['roc_auc']:.3f}")
print(f"classifier trained on unconditional rows:               macro-F1 "
      f"{plain.synthetic['f1_macro']:.3f}, ROC AUC {plain.synthetic['roc_auc']:.3f}")
print(f"conditional sampling of {n} rows took {seconds:.2f} s")
