"""Scale: peak memory and time of reading, fitting and writing samples of a large table.

The NYC flights table of the issue is not on these machines (no network); the stand-in
is UCI Adult resampled with replacement to ``--rows`` rows (seeded), with a
``--codes``-valued column added to play flights' 4,043 tail numbers: a high-cardinality
category drawn from a Zipf-like law, so that its one-hot block dominates the dense
encoding's width. The table is written to CSV first and read back from it, as a user's
table would be.

Each run is one process, so its peak resident memory (``ru_maxrss``) is the run's own:
after reading, after fitting ``--epochs`` epochs, and after writing ``--sample`` rows to
Parquet. Library versions without ``Synthesizer.sample_to`` (before issue 15) sample in
one call and write the frame.

    python benchmarks/scale.py --rows 269000 --codes 4000 --epochs 1 --sample 1000000
    python benchmarks/scale.py --rows 10000000 --codes 4000 --epochs 1 --sample 0
    python benchmarks/scale.py --sample-only MODEL --sample 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "datasets", "adult_train.csv")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def make_table(rows: int, codes: int, seed: int, path: str) -> None:
    """Adult resampled to ``rows`` rows, plus a ``codes``-valued column, written as CSV in
    pieces (so the writer's memory is not the benchmark's)."""
    base = pd.read_csv(DATA)
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, codes + 1) ** 0.8
    weights /= weights.sum()
    names = np.array([f"N{i:05d}" for i in range(codes)])
    step = 1_000_000
    for start in range(0, rows, step):
        m = min(step, rows - start)
        part = base.iloc[rng.integers(0, len(base), m)].reset_index(drop=True)
        if codes:
            part["tail"] = names[rng.choice(codes, m, p=weights)]
        part.to_csv(path, mode="a" if start else "w", header=not start, index=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=269_000)
    ap.add_argument("--codes", type=int, default=4000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--sample", type=int, default=1_000_000)
    ap.add_argument("--chunk-rows", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--table", default=None, help="an existing CSV instead of the stand-in")
    ap.add_argument("--sample-only", default=None, help="a saved model: only write samples")
    ap.add_argument("--keep-model", default=None, help="save the fitted model here")
    ap.add_argument("--json", default=None, help="append the result as a JSON line here")
    ap.add_argument("--make", default=None, help=argparse.SUPPRESS)  # the table, in a child
    args = ap.parse_args()
    if args.make:
        make_table(args.rows, args.codes, args.seed, args.make)
        return

    import torch

    import tabgan

    torch.set_num_threads(args.threads)
    tmp = tempfile.mkdtemp(prefix="tabgan_scale_")
    result = {"library": os.path.dirname(tabgan.__file__), "rows": args.rows,
              "codes": args.codes, "epochs": args.epochs, "sample": args.sample,
              "chunk_rows": args.chunk_rows, "threads": args.threads}
    t0 = time.perf_counter()
    if args.sample_only:
        synth = tabgan.load(args.sample_only)
        for key in ("rows", "codes", "epochs"):  # the model's, not these arguments'
            result.pop(key)
        result.update(model=args.sample_only, width=synth.transformer_.layout_.width,
                      start_mb=peak_mb())
    else:
        path = args.table
        if path is None:
            path = os.path.join(tmp, "table.csv")
            # in another process, so that its memory is not counted in this one's peak
            subprocess.run([sys.executable, __file__, "--make", path, "--rows", str(args.rows),
                            "--codes", str(args.codes), "--seed", str(args.seed)], check=True)
            result["make_s"] = time.perf_counter() - t0
        result["start_mb"] = peak_mb()
        t0 = time.perf_counter()
        df = pd.read_csv(path)
        result.update(read_s=time.perf_counter() - t0, read_mb=peak_mb(),
                      table_mb=df.memory_usage(deep=True).sum() / 2**20, shape=list(df.shape))
        t0 = time.perf_counter()
        synth = tabgan.Synthesizer(epochs=args.epochs, random_state=args.seed)
        synth.fit(df)
        result.update(fit_s=time.perf_counter() - t0, fit_mb=peak_mb(),
                      width=synth.transformer_.layout_.width)
        if args.keep_model:
            synth.save(args.keep_model)
        del df
    if args.sample:
        out = os.path.join(tmp, "out.parquet")
        t0 = time.perf_counter()
        if hasattr(synth, "sample_to"):
            synth.sample_to(out, args.sample, chunk_rows=args.chunk_rows, random_state=1)
        else:
            synth.sample(args.sample, random_state=1).to_parquet(out, index=False)
        result.update(sample_s=time.perf_counter() - t0, sample_mb=peak_mb(),
                      rows_per_s=args.sample / (time.perf_counter() - t0),
                      parquet_mb=os.path.getsize(out) / 2**20)
    result["peak_mb"] = peak_mb()
    line = json.dumps(result)
    print(line, flush=True)
    if args.json:
        with open(args.json, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
