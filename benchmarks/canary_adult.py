"""The canary audit at Adult scale: private tabgan at epsilon 1 against a generator that
memorises its training rows, on the same canaries.

    python benchmarks/canary_adult.py [--canaries 500] [--epsilon 1] [--threads 2]

Both audits add the same canaries (outlier rows made by ``tabgan.audit.make_canaries``)
to adult_train.csv, each with probability 1/2, train once, sample as many rows as were
trained on, and turn membership guesses into an empirical lower bound on epsilon at
delta 1e-5 (95 % confidence; Steinke, Nasr & Jagielski, 2023). tabgan runs with its
private defaults (``Synthesizer(epsilon=...)``: the library's settings). A bound above the
claimed epsilon would show the claim false; the memorising generator shows the audit can
find leakage. Prints the bound, the guesses behind it and the time each audit took.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import pandas as pd

import tabgan
from tabgan.audit import canary_audit

HERE = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("--canaries", type=int, default=500)
parser.add_argument("--epsilon", type=float, default=1.0)
parser.add_argument("--threads", type=int, default=None)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "datasets"))
args = parser.parse_args()
if args.threads:
    import torch

    torch.set_num_threads(args.threads)
warnings.filterwarnings("ignore")
train = pd.read_csv(os.path.join(args.data, "adult_train.csv"))


class Memoriser:
    """Returns its training rows: the worst generator, claiming the same epsilon."""

    def fit(self, df: pd.DataFrame) -> "Memoriser":
        self.rows_ = df.reset_index(drop=True)
        self.epsilon_, self.delta_ = args.epsilon, 1e-5
        return self

    def sample(self, n: int) -> pd.DataFrame:
        return self.rows_.sample(n, replace=n > len(self.rows_), random_state=0)


factories = {
    f"tabgan, epsilon {args.epsilon:g}, library settings":
        lambda: tabgan.Synthesizer(epsilon=args.epsilon, random_state=args.seed),
    "memorising generator": Memoriser,
}
for name, factory in factories.items():
    t0 = time.perf_counter()
    res = canary_audit(factory, train, n_canaries=args.canaries, delta=1e-5,
                       random_state=args.seed)
    seconds = time.perf_counter() - t0
    print(f"=== {name}: {seconds:.0f} s")
    print(f"claimed epsilon {res.claimed_epsilon}, delta {res.claimed_delta}; "
          f"lower bound {res.epsilon_lower_bound:.3f} at delta {res.delta:g}; "
          f"{res.n_correct} of {res.n_guesses} guesses right on {res.n_canaries} canaries "
          f"({res.n_included} included); contradicts claim: {res.contradicts_claim}")
    print(res.verdict, flush=True)
