"""Speed side by side: tabgan against the ctgan package on UCI Adult.

Each measure is reported as wall seconds (``_s``) and CPU seconds of the process
(``_cpu``). On a shared machine, CPU time with ``--threads 1`` is the steadier
measure of the work done (no thread spin-waiting, no time lost to other jobs).

Measures, for each library in its own subprocess (so peak memory is its own):
transformer fit time, training time per epoch at batch 500 (difference of a
1-epoch and a (1+E)-epoch fit, so set-up costs cancel), and the time to sample
as many rows as the table has (the median of ``--sample-calls`` calls on the fitted
model, ``sample_*``, and the first of them alone, ``sample_first_*``; for tabgan also
without calibrated sampling, ``sample_uncalibrated_s``). Runs
alternate between the libraries, repeated ``--repeats`` times, and the ratios use
the medians: the machine is noisy.

    python benchmarks/speed.py                     # CPU, 2 extra epochs, 3 repeats
    python benchmarks/speed.py --device cuda       # both libraries on the GPU
    python benchmarks/speed.py --precision bfloat16,float32   # two tabgan runs per repeat
    python benchmarks/speed.py --worker tabgan     # one measurement, JSON on stdout
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "shared", "datasets", "adult_train.csv")

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=DEFAULT_DATA)
parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
parser.add_argument("--epochs", type=int, default=2, help="extra epochs timed per fit")
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--threads", type=int, default=None)
parser.add_argument("--only", choices=["tabgan", "ctgan"], default=None)
parser.add_argument("--worker", choices=["tabgan", "ctgan"], default=None)
parser.add_argument("--sample-calls", type=int, default=3,
                    help="sample() calls timed per fitted model (median reported)")
parser.add_argument("--json", default=None, help="also write the results here")
parser.add_argument("--precision", default="auto",
                    help="tabgan precision(s), comma-separated: auto, float32, bfloat16")
args = parser.parse_args()
if args.sample_calls < 1:
    parser.error("--sample-calls must be at least 1")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Clock:
    """Wall and CPU (process) seconds since creation."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def sync() -> None:
    if args.device == "cuda":
        import torch

        torch.cuda.synchronize()


def timed_calls(call) -> list[tuple[float, float]]:
    """(wall, cpu) seconds of ``call(i)`` for i = 0 … --sample-calls - 1."""
    out = []
    for i in range(args.sample_calls):
        c = Clock()
        call(i)
        sync()
        out.append(c.read())
    return out


def work_tabgan(df) -> dict:
    import numpy as np

    import tabgan
    from tabgan.transformer import DataTransformer

    c = Clock()
    DataTransformer().fit(df, rng=np.random.default_rng(0))
    transformer = c.read()

    def fit(epochs):
        c = Clock()
        model = tabgan.Synthesizer(
            epochs=epochs, device=args.device, random_state=0, precision=args.precision
        ).fit(df)
        sync()
        return model, c.read()

    fit(1)  # warm-up: first-call costs (allocator, kernels) are not per-epoch costs
    _, t1 = fit(1)
    model, t2 = fit(1 + args.epochs)
    calls = timed_calls(lambda seed: model.sample(len(df), random_state=seed))
    out = {**report(transformer, t1, t2, calls), "precision": model.precision_}
    model.calibration_ = None  # the generator's rows as they come (calibrate=None)
    raw = timed_calls(lambda seed: model.sample(len(df), random_state=seed))
    out["sample_uncalibrated_s"] = statistics.median(call[0] for call in raw)
    return out


def work_ctgan(df) -> dict:
    import pandas as pd
    from ctgan import CTGAN
    from ctgan.data_transformer import DataTransformer

    discrete = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    c = Clock()
    DataTransformer().fit(df, discrete)
    transformer = c.read()

    def fit(epochs):
        c = Clock()
        model = CTGAN(epochs=epochs, cuda=args.device == "cuda")
        model.set_random_state(0)
        model.fit(df, discrete_columns=discrete)
        sync()
        return model, c.read()

    fit(1)  # warm-up, as for tabgan
    _, t1 = fit(1)
    model, t2 = fit(1 + args.epochs)
    calls = timed_calls(lambda seed: model.sample(len(df)))
    return report(transformer, t1, t2, calls)


def report(transformer, fit1, fit2, calls) -> dict:
    """Wall seconds (``*_s``) and CPU seconds (``*_cpu``) of each measure; ``calls``:
    the (wall, cpu) of each timed sample() call."""
    out = {}
    for i, suffix in enumerate(("_s", "_cpu")):
        out["transformer_fit" + suffix] = transformer[i]
        out["epoch" + suffix] = (fit2[i] - fit1[i]) / args.epochs
        out["sample" + suffix] = statistics.median(call[i] for call in calls)
        out["sample_first" + suffix] = calls[0][i]
    return out


if args.worker:
    import pandas as pd
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    frame = pd.read_csv(args.data)
    result = (work_tabgan if args.worker == "tabgan" else work_ctgan)(frame)
    result["peak_rss_mib"] = peak_rss_mib()
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result))
    sys.exit(0)

precisions = [p.strip() for p in args.precision.split(",")]
runs_of: list[tuple[str, str, str]] = []  # (label, worker, precision)
if args.only != "ctgan":
    for p in precisions:
        runs_of.append(("tabgan" if len(precisions) == 1 else f"tabgan/{p}", "tabgan", p))
if args.only != "tabgan":
    runs_of.append(("ctgan", "ctgan", "float32"))
libs = [label for label, _, _ in runs_of]
runs: dict[str, list[dict]] = {lib: [] for lib in libs}
for rep in range(args.repeats):
    for label, worker, precision in runs_of:
        cmd = [sys.executable, __file__, "--worker", worker, "--data", args.data,
               "--device", args.device, "--epochs", str(args.epochs), "--precision", precision,
               "--sample-calls", str(args.sample_calls)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            sys.exit(f"{label} worker failed")
        runs[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"repeat {rep + 1} {label}: {runs[label][-1]}", flush=True)

keys = ["transformer_fit_s", "epoch_s", "sample_s", "sample_first_s",
        "transformer_fit_cpu", "epoch_cpu", "sample_cpu", "sample_first_cpu", "peak_rss_mib"]
med = {lib: {k: statistics.median(r[k] for r in runs[lib]) for k in keys} for lib in libs}
print(f"\nAdult ({args.data}), device {args.device}, median of {args.repeats} runs")
for lib in libs:
    if lib != "ctgan":
        raw = statistics.median(r["sample_uncalibrated_s"] for r in runs[lib])
        print(f"{lib}: precision {runs[lib][0]['precision']}; sample_s without calibration "
              f"(calibrate=None): {raw:.3f}")
ours = [lib for lib in libs if lib != "ctgan"]
both = "ctgan" in libs and ours
header = f"{'measure':<20}" + "".join(f"{lib:>16}" for lib in libs)
if both:
    header += "".join(f"{'ctgan/' + lib:>22}" for lib in ours)
print(header)
for k in keys:
    line = f"{k:<20}" + "".join(f"{med[lib][k]:>16.3f}" for lib in libs)
    if both:
        line += "".join(f"{med['ctgan'][k] / med[lib][k]:>21.1f}x" for lib in ours)
    print(line)
if args.json:
    with open(args.json, "w") as fh:
        json.dump({"device": args.device, "runs": runs, "median": med}, fh, indent=2)
