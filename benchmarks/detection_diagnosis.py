"""Where does detection come from? Per column: the detection ROC AUC of that column alone,
and of every other column without it.

    python benchmarks/detection_diagnosis.py SYNTHETIC.csv [--real adult_train.csv]
    python benchmarks/detection_diagnosis.py SYN.csv --real lending_club_train.csv --seen sub_grade int_rate

10,000 real and 10,000 synthetic rows, HistGradientBoosting with categorical columns as
categories, 3-fold cross-validated ROC AUC (0.5: indistinguishable).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import cross_val_score

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "..", "shared", "datasets", "adult_train.csv")

parser = argparse.ArgumentParser()
parser.add_argument("synthetic")
parser.add_argument("--real", default=REAL)
parser.add_argument("--rows", type=int, default=10_000)
parser.add_argument("--seen", nargs="+", metavar="COLUMN",
                    help="only print the share of synthetic rows whose combination of these "
                         "columns occurs in a real row")
args = parser.parse_args()

if args.seen:
    real_rows = pd.read_csv(args.real)[args.seen]
    syn_rows = pd.read_csv(args.synthetic)[args.seen]
    known = set(map(tuple, real_rows.astype(str).to_numpy()))
    seen = [tuple(r) in known for r in syn_rows.astype(str).to_numpy()]
    print(f"{args.synthetic}: {np.mean(seen):.3f} of synthetic rows have a combination of "
          f"{args.seen} that a real row has")
    raise SystemExit(0)

real = pd.read_csv(args.real)
syn = pd.read_csv(args.synthetic)[real.columns]
n = min(args.rows, len(real), len(syn))
X = pd.concat([real.sample(n, random_state=0), syn.sample(n, random_state=0)], ignore_index=True)
y = np.r_[np.zeros(n), np.ones(n)]
for c in X.columns:
    if not pd.api.types.is_numeric_dtype(X[c]):
        X[c] = X[c].astype("category")


def auc(cols: list[str]) -> float:
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    return float(cross_val_score(model, X[cols], y, cv=3, scoring="roc_auc", n_jobs=1).mean())


cols = list(X.columns)
print(f"{args.synthetic}: all columns {auc(cols):.3f}")
for c in cols:
    print(f"{c:24s} alone {auc([c]):.3f}   without {auc([x for x in cols if x != c]):.3f}")
