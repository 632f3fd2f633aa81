"""Data-parallel training: one process against several (torchrun), on the CPU.

Fits UCI Adult (``../shared/datasets/adult_train.csv``) for ``--epochs`` epochs with the
same seed and settings, once in one process and once under
``torchrun --nproc-per-node=N``, and prints, per run: the fit's wall time (read, prepare
and train), the peak resident memory of each process, the last epoch's losses, and how
far the N-process fit's loss history and samples are from the one-process fit's. Then
the evaluator's scores against the test split. A third run, one process with twice the
threads, sums in yet another order: how far it drifts from the first is the drift that
float rounding alone makes over a fit (a GAN's steps magnify it).

On a two-core machine two processes are not faster (they share the cores, and every
process prepares the table); the point here is that the N-process fit is the
one-process fit. Products are float32 (bfloat16 sums in another order differ by more).

    python benchmarks/parallel.py --epochs 5 --procs 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "..", "..", "shared", "datasets", "adult_train.csv")
TEST = os.path.join(HERE, "..", "..", "shared", "datasets", "adult_test.csv")


def worker(args) -> None:
    """One process of a run (every rank runs this); rank 0 writes the result."""
    import torch
    import torch.distributed as dist

    from tabgan import Synthesizer

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    df = pd.read_csv(TRAIN)
    synth = Synthesizer(epochs=args.epochs, random_state=0, precision="float32")
    synth.fit(df)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    peaks = [peak]
    if world > 1:  # every process's peak, gathered on rank 0
        dist.init_process_group("gloo")
        everyone = [torch.zeros(1, dtype=torch.float64) for _ in range(world)]
        dist.all_gather(everyone, torch.tensor([peak], dtype=torch.float64))
        peaks = [float(t) for t in everyone]
        dist.destroy_process_group()
    if rank == 0:
        synth.save(args.out + ".tabgan")
        with open(args.out, "w") as f:
            json.dump({"seconds": seconds, "peaks_mb": peaks, "processes": world,
                       "history": synth.loss_history_.to_dict("list")}, f)


def run(procs: int, args, threads: int) -> dict:
    out = os.path.join(args.results, f"procs{procs}_threads{threads}.json")
    me = [os.path.abspath(__file__), "--worker", "--epochs", str(args.epochs),
          "--threads", str(threads), "--out", out]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    if procs == 1:
        cmd = [sys.executable, *me]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={procs}",
               "--standalone", *me]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    result = json.load(open(out))
    result["model"] = out + ".tabgan"
    result["threads"] = threads
    result["wall_seconds"] = time.perf_counter() - t0  # with torchrun's and Python's start
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    p.add_argument("--results", default=os.path.join(HERE, "results", "parallel_s10"))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    os.makedirs(args.results, exist_ok=True)
    one, many = run(1, args, args.threads), run(args.procs, args, args.threads)
    other = run(1, args, 2 * args.threads)

    from tabgan import evaluate, load

    cols = ["discriminator", "generator"]
    h1 = pd.DataFrame(one["history"])[cols]
    scale = float(h1.abs().max().max())

    def drift(res):  # per epoch: the largest loss difference from the first run
        return (pd.DataFrame(res["history"])[cols] - h1).abs().max(axis=1).round(4).tolist()
    test = pd.read_csv(TEST)
    real = pd.read_csv(TRAIN)
    rows = []
    samples = {}
    runs = ((one, f"1 process, {args.threads} thread(s)"),
            (many, f"{args.procs} processes, {args.threads} thread(s) each"),
            (other, f"1 process, {2 * args.threads} threads"))
    for res, name in runs:
        model = load(res["model"])
        samples[name] = model.sample(len(test), random_state=0)
        report = evaluate(real, samples[name], target="income", holdout=test, random_state=0,
                          n_threads=args.threads)
        u = report.utility["synthetic"]
        rows.append({
            "run": name, "fit_s": round(res["seconds"], 1), "wall_s": round(res["wall_seconds"], 1),
            "peak_mb_per_process": [round(x) for x in res["peaks_mb"]],
            "last_d": round(res["history"]["discriminator"][-1], 4),
            "last_g": round(res["history"]["generator"][-1], 4),
            "loss_drift_per_epoch": drift(res),
            "overall": round(report.score, 4), "shape": round(report.column_shape, 4),
            "trend": round(report.pair_trend, 4), "detection_auc": round(report.detection_auc, 4),
            "tstr_f1": round(u["f1_macro"], 4),
        })
    first = list(samples.values())[0]
    numeric = first.select_dtypes("number").columns
    for row, b in zip(rows, samples.values()):  # cells of seed 0's sample equal to the first's
        row["same_cells"] = round(float(
            (first.drop(columns=numeric) == b.drop(columns=numeric)).to_numpy().mean()), 3)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        print(table.to_string(index=False))
    print(f"losses up to {scale:.2f}; loss_drift_per_epoch: the largest difference of each "
          "epoch's mean losses from the first run's")
    with open(os.path.join(args.results, "summary.json"), "w") as f:
        json.dump({"epochs": args.epochs, "procs": args.procs, "threads": args.threads,
                   "runs": rows}, f, indent=1)


if __name__ == "__main__":
    main()
