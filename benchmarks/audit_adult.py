"""How fast are the privacy audits on the full UCI Adult table, and do they separate a
table that copies its training rows from one that never saw them?

train     = adult_train.csv (32,561 rows x 15 columns)
holdout   = a seeded sample of 8,000 rows of adult_test.csv (real rows never trained on)
synthetic stand-ins:
  (a) copy   the training rows themselves, shuffled (32,561 rows): the worst case
  (b) fresh  the other 8,281 rows of adult_test.csv: real rows from the same population
             that were never used for training, i.e. an ideal synthesizer's output

For each: `tabgan.audit.audit` with default settings (DCR on up to 20,000 synthetic rows,
membership inference on 4,000 members vs 4,000 non-members with 500 bootstrap resamples,
attribute inference on every column in turn with 1,000 targets and 1,000 controls).
Then `canary_audit` with 500 canaries on a generator that returns its training rows and
on one that ignores them.

Run from the repository root (data in ../shared/datasets, or give the folder):
    python benchmarks/audit_adult.py [DATA_DIR]
"""

import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tabgan.audit import audit, canary_audit

data_dir = (
    Path(sys.argv[1])
    if len(sys.argv) > 1
    else Path(__file__).resolve().parents[2] / "shared" / "datasets"
)
train = pd.read_csv(data_dir / "adult_train.csv")
test = pd.read_csv(data_dir / "adult_test.csv")

rng = np.random.default_rng(0)
order = rng.permutation(len(test))
holdout = test.iloc[order[:8000]].reset_index(drop=True)
fresh = test.iloc[order[8000:]].reset_index(drop=True)
copy = train.iloc[rng.permutation(len(train))].reset_index(drop=True)

print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
print(f"train {train.shape}, holdout {holdout.shape}")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


for name, synthetic in [("(a) copy of train", copy), ("(b) fresh real rows", fresh)]:
    start = time.perf_counter()
    report = audit(train, holdout, synthetic, random_state=0)
    seconds = time.perf_counter() - start
    d, m = report.dcr, report.mia
    print()
    print(f"=== {name}: {len(synthetic):,} synthetic rows ===")
    print(f"audit time {seconds:.1f} s, peak RSS so far {peak_rss_mib():.0f} MiB")
    print(f"verdict: {report.summary.verdict}")
    print(f"risk levels: {report.summary.risk_levels}")
    print(
        f"DCR median synthetic {d.median_synthetic:.4f} vs holdout {d.median_holdout:.4f}; "
        f"5th pct {d.p5_synthetic:.4f} vs {d.p5_holdout:.4f}"
    )
    print(
        f"exact copies {d.exact_copy_rate:.2%} (holdout baseline {d.holdout_exact_copy_rate:.2%}); "
        f"share closer to train {d.share_closer_to_train:.3f} "
        f"[{d.share_closer_to_train_ci[0]:.3f}, {d.share_closer_to_train_ci[1]:.3f}] "
        f"on {d.n_subset:,}-row subsets; median NNDR {d.median_nndr_synthetic:.3f} "
        f"vs {d.median_nndr_holdout:.3f}"
    )
    for attack_name, a in m.attacks.items():
        print(
            f"MIA {attack_name:<14} AUC {a.auc:.3f} [{a.auc_ci[0]:.3f}, {a.auc_ci[1]:.3f}]  "
            f"TPR@1% {a.tpr_at_fpr[0.01]:.3f} [{a.tpr_at_fpr_ci[0.01][0]:.3f}, "
            f"{a.tpr_at_fpr_ci[0.01][1]:.3f}]  TPR@0.1% {a.tpr_at_fpr[0.001]:.3f}"
        )
    worst = report.attribute_inference.worst
    print(
        f"attribute inference, worst of {len(report.attribute_inference.secrets)} secrets: "
        f"{worst.sensitive!r} residual risk {worst.residual_risk:.3f} "
        f"[{worst.residual_risk_ci[0]:.3f}, {worst.residual_risk_ci[1]:.3f}] "
        f"(attack {worst.attack_rate:.1%} vs control {worst.control_rate:.1%})"
    )


class Memoriser:
    """Returns its training rows (the least private generator)."""

    def fit(self, df):
        self.rows_ = df.reset_index(drop=True)
        self.epsilon_ = 1.0  # a (false) claim, to show the contradiction being caught
        return self

    def sample(self, n):
        return self.rows_.sample(n, replace=True, random_state=0).reset_index(drop=True)


class Independent:
    """Ignores its input and returns fresh real rows (perfectly private)."""

    def fit(self, df):
        self.epsilon_ = 1.0
        return self

    def sample(self, n):
        return fresh.sample(n, replace=True, random_state=0).reset_index(drop=True)


print()
for name, factory in [("memoriser", Memoriser), ("independent", Independent)]:
    start = time.perf_counter()
    result = canary_audit(factory, train, n_canaries=500, delta=1e-5, random_state=0)
    seconds = time.perf_counter() - start
    print(
        f"canary audit, {name}: {seconds:.1f} s, epsilon lower bound "
        f"{result.epsilon_lower_bound:.3f} vs claimed {result.claimed_epsilon} "
        f"({result.n_correct}/{result.n_guesses} guesses right, k+={result.k_plus}, "
        f"k-={result.k_minus}), contradicts claim: {result.contradicts_claim}"
    )
print(f"peak RSS {peak_rss_mib():.0f} MiB")
