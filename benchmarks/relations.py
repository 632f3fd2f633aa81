"""Relations between columns: which ones tabgan derives, and whether synthetic rows keep them.

    python benchmarks/relations.py                          # relations found per shared table
    python benchmarks/relations.py --synthetic A.csv B.csv  # Adult checks on synthetic tables

For every table of ../shared/datasets/: the columns the transformer derives (and from
which parent) and its fit time with and without derived columns (best of 3). For each
synthetic Adult table given: the share of rows whose education-num is the one the real
rows give their education, and the share of >50K among rows with capital-gain >= 5000
(real: 0.908), the two relation figures of issue 13.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

from tabgan.transformer import DataTransformer

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "datasets")
TABLES = ["adult", "crashes", "lending_club", "cps_earnings", "budget_food"]

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=DATA)
parser.add_argument("--synthetic", nargs="*", default=[], help="synthetic Adult tables (CSV)")
args = parser.parse_args()
warnings.filterwarnings("ignore")


def best_fit_seconds(df: pd.DataFrame, derive: bool) -> tuple[float, DataTransformer]:
    best, tr = np.inf, None
    for _ in range(3):
        t0 = time.perf_counter()
        tr = DataTransformer(derive_columns=derive).fit(df, rng=np.random.default_rng(0))
        best = min(best, time.perf_counter() - t0)
    return best, tr


if not args.synthetic:
    print(f"{'table':14s} {'rows':>7s}  fit s (derived / not)  derived columns (child <- parent)")
    for name in TABLES:
        df = pd.read_csv(os.path.join(args.data, f"{name}_train.csv"))
        with_s, tr = best_fit_seconds(df, True)
        without_s, _ = best_fit_seconds(df, False)
        found = ", ".join(f"{d.name} <- {d.parent}" for d in tr.derived_) or "none"
        print(f"{name:14s} {len(df):7d}  {with_s:6.2f} / {without_s:6.2f}         {found}")

real = pd.read_csv(os.path.join(args.data, "adult_train.csv"))
number_of = real.groupby("education")["education-num"].first()


def relation_figures(table: pd.DataFrame) -> tuple[float, float, int]:
    consistent = float((table["education-num"] == table["education"].map(number_of)).mean())
    gain = table[table["capital-gain"] >= 5000]
    rich = float((gain["income"].astype(str).str.strip() == ">50K").mean())
    return consistent, rich, len(gain)


if args.synthetic:
    print(f"{'table':50s} education consistent  >50K | gain >= 5000  (rows)")
    for path in ["(real adult_train.csv)", *args.synthetic]:
        table = real if path.startswith("(") else pd.read_csv(path)
        consistent, rich, rows = relation_figures(table)
        print(f"{path[-50:]:50s} {consistent:20.4f}  {rich:19.3f}  ({rows})")
