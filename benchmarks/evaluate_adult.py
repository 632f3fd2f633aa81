"""How fast is `tabgan.evaluation.evaluate` on the full UCI Adult table, and do its scores rank
stand-in "synthetic" tables sensibly?

real      = adult_train.csv (32,561 rows x 15 columns)
holdout   = a seeded half of adult_test.csv (8,140 rows)
stand-ins, each 32,561 rows:
  copy      the real table itself (the best possible synthetic table)
  resampled rows drawn with replacement from the *other* half of adult_test.csv: real
            rows from the same population, so a good synthesizer's ceiling
  shuffled  the real table with every column shuffled independently: perfect marginals,
            no relationships between columns (a bad synthesizer)

Every evaluation runs all metrics: columns, all 105 pairs, utility (HistGradientBoosting
predicting `income`) and 5-fold detection on 20,000-row subsamples.

Run from the repository root (data in ../shared/datasets, or give the folder):
    python benchmarks/evaluate_adult.py [--data DATA_DIR] [--threads N]
--threads caps the OpenMP threads of the utility and detection models (evaluate's
n_threads); by default scikit-learn uses every core.
"""

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tabgan.evaluation import evaluate

cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
cli.add_argument("--data", default=Path(__file__).resolve().parents[2] / "shared" / "datasets")
cli.add_argument("--threads", type=int, default=None)
args = cli.parse_args()
real = pd.read_csv(Path(args.data) / "adult_train.csv")
test = pd.read_csv(Path(args.data) / "adult_test.csv")

rng = np.random.default_rng(0)
order = rng.permutation(len(test))
holdout = test.iloc[order[: len(test) // 2]].reset_index(drop=True)
pool = test.iloc[order[len(test) // 2 :]].reset_index(drop=True)
stand_ins = {
    "copy": real.copy(),
    "resampled": pool.iloc[rng.integers(0, len(pool), len(real))].reset_index(drop=True),
    "shuffled": pd.DataFrame({c: rng.permutation(real[c].to_numpy()) for c in real.columns}),
}

print(
    f"python {platform.python_version()}, {len(os.sched_getaffinity(0))} usable CPUs, "
    f"n_threads={args.threads}, "
    f"load average {os.getloadavg()[0]:.1f}"
)
print(f"real {real.shape}, holdout {holdout.shape}")
print()
header = (
    f"{'stand-in':<10} {'evaluate s':>10} {'cpu s':>6} {'html s':>7} {'score':>6} {'shape':>6} "
    f"{'trend':>6} {'det AUC':>7} {'util':>6} {'acc r/s':>13} {'AUC r/s':>13}"
)
print(header)
print("-" * len(header))
reports = {}
for name, synthetic in stand_ins.items():
    t0, c0 = time.perf_counter(), time.process_time()
    report = evaluate(
        real, synthetic, target="income", holdout=holdout, random_state=0, n_threads=args.threads
    )
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    report.to_html(os.devnull)
    html_seconds = time.perf_counter() - t0
    reports[name] = report
    u = report.utility
    print(
        f"{name:<10} {seconds:>10.1f} {cpu_seconds:>6.1f} {html_seconds:>7.1f} {report.score:>6.3f} "
        f"{report.column_shape:>6.3f} {report.pair_trend:>6.3f} {report.detection_auc:>7.3f} "
        f"{report.utility_score:>6.3f} "
        f"{u['real']['accuracy']:>6.3f}/{u['synthetic']['accuracy']:.3f} "
        f"{u['real']['roc_auc']:>6.3f}/{u['synthetic']['roc_auc']:.3f}"
    )

peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print()
print(f"peak RSS {peak_mb:.0f} MiB")
print()
print("worst pairs of the shuffled stand-in:")
worst = reports["shuffled"].worst_pairs(5)
print(worst[["column_a", "column_b", "kind", "score"]].to_string(index=False))
