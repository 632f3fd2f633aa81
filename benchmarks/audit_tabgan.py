"""Audit a synthetic Adult table made by tabgan (or any generator) against its training data.

    python benchmarks/audit_tabgan.py benchmarks/results/adult_tabgan_300.csv

train = adult_train.csv (what the generator saw), holdout = a seeded 8,000-row sample of
adult_test.csv (rows it never saw). Prints the verdict, the key numbers and the timing.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pandas as pd

from tabgan import audit

cli = argparse.ArgumentParser()
cli.add_argument("synthetic", nargs="+", help="synthetic table(s) to audit (.csv)")
cli.add_argument("--data", default=Path(__file__).resolve().parents[2] / "shared" / "datasets")
cli.add_argument("--html", default=None, help="write the report of the first table here")
args = cli.parse_args()

train = pd.read_csv(Path(args.data) / "adult_train.csv")
holdout = pd.read_csv(Path(args.data) / "adult_test.csv").sample(8000, random_state=0)
for i, path in enumerate(args.synthetic):
    synthetic = pd.read_csv(path)
    t0 = time.perf_counter()
    report = audit(train, holdout, synthetic, random_state=0)
    seconds = time.perf_counter() - t0
    d = report.to_dict()
    print(f"=== {path}: {len(synthetic)} rows, audit {seconds:.1f} s")
    print(d["summary"]["verdict"])
    print("risk levels:", d["summary"]["risk_levels"])
    dcr = d["dcr"]
    print(
        f"DCR share closer to train {dcr['share_closer_to_train']:.3f}, "
        f"exact copies {100 * dcr['exact_copy_rate']:.2f}% "
        f"(holdout baseline {100 * dcr['holdout_exact_copy_rate']:.2f}%)"
    )
    for name, attack in d["mia"].items():
        print(
            f"MIA {name:<14} AUC {attack['auc']:.3f} {attack['auc_ci']}  "
            f"TPR@1% {attack['tpr_at_fpr_0.01']:.3f}"
        )
    if args.html and i == 0:
        report.to_html(args.html)
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
