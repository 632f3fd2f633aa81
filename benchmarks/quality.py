"""Quality side by side: tabgan and the ctgan package, 300 epochs each, on UCI Adult.

Fits both with the same CTGAN recipe on adult_train.csv, samples as many rows
as the training table, saves the synthetic tables under benchmarks/results/,
then scores each against adult_test.csv with tabgan.evaluate (column shapes,
pair trends, train-on-synthetic/test-on-real with HistGradientBoosting).

    python benchmarks/quality.py                      # fit both, then evaluate
    python benchmarks/quality.py --evaluate-only      # score saved tables again
    python benchmarks/quality.py --epochs 30 --skip-ctgan
    python benchmarks/quality.py --only tabgan --set target=income --tag _target
    python benchmarks/quality.py --only tabgan --calibrations none marginals pairs
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "datasets")
RESULTS = os.path.join(HERE, "results")

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--skip-ctgan", action="store_true")
parser.add_argument("--evaluate-only", action="store_true")
parser.add_argument("--data", default=DATA)
parser.add_argument("--only", choices=["tabgan", "ctgan"], help="fit one generator only")
parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
parser.add_argument("--results", default=RESULTS, help="where synthetic tables are written")
parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"],
                    help="tabgan's matrix-product precision")
parser.add_argument("--no-reuse", action="store_true",
                    help="ablation: a fresh generated batch for each generator update (CTGAN's "
                         "order) instead of reusing the critic's batch")
parser.add_argument("--no-evaluate", action="store_true", help="fit and save only")
parser.add_argument("--ema-decay", default="0.999",
                    help="tabgan's ema_decay ('none': sample the last weights, CTGAN's recipe)")
parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="another tabgan Synthesizer parameter (a Python literal or a string), "
                         "e.g. --set target=income --set check_every=10; repeatable")
parser.add_argument("--tag", default="", help="suffix of the saved table and JSON names")
parser.add_argument("--calibrations", nargs="+", choices=["none", "marginals", "pairs"],
                    help="also sample tabgan's fitted model with each of these calibrations "
                         "(saved as tabgan_cal-<name>; calibrated sampling, docs/model.md)")
args = parser.parse_args()


def _literal(text: str):
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


extra = dict((k, _literal(v)) for k, v in (item.split("=", 1) for item in args.set))
TAG = f"{args.epochs}{args.tag}"

train = pd.read_csv(os.path.join(args.data, "adult_train.csv"))
test = pd.read_csv(os.path.join(args.data, "adult_test.csv"))
discrete = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
RESULTS = args.results
os.makedirs(RESULTS, exist_ok=True)
timings: dict[str, float] = {}

if args.threads:
    import torch

    torch.set_num_threads(args.threads)
if args.only == "tabgan":
    args.skip_ctgan = True

if not args.evaluate_only and args.only != "ctgan":
    import tabgan
    from tabgan import training

    training.Trainer.reuse_fakes = not args.no_reuse

    t0 = time.perf_counter()
    synth = tabgan.Synthesizer(
        epochs=args.epochs, random_state=args.seed, device=args.device, verbose=True,
        precision=args.precision,
        ema_decay=None if args.ema_decay.lower() == "none" else float(args.ema_decay),
        **extra,
    )
    synth.fit(train)
    if getattr(synth, "selection_", None):
        sel = synth.selection_
        timings["tabgan_best_epoch"] = sel["best_epoch"]
        timings["tabgan_epochs_trained"] = sel["epochs_trained"]
    timings["tabgan_fit_s"] = time.perf_counter() - t0
    timings["tabgan_precision"] = synth.precision_
    synth.sample(len(train), random_state=args.seed).to_csv(
        os.path.join(RESULTS, f"adult_tabgan_{TAG}.csv"), index=False
    )
    for cal in args.calibrations or []:
        import numpy as np

        from tabgan.calibration import Calibration

        synth.calibration_ = None if cal == "none" else Calibration.fit(
            train, {c: synth.metadata_[c].kind for c in train.columns}, mode=cal,
            rng=np.random.default_rng(0),
        )
        synth.sample(len(train), random_state=args.seed).to_csv(
            os.path.join(RESULTS, f"adult_tabgan_cal-{cal}_{TAG}.csv"), index=False
        )
    print(f"tabgan: fit {timings['tabgan_fit_s']:.1f} s", flush=True)

if not args.evaluate_only and not args.skip_ctgan:
    from ctgan import CTGAN

    t0 = time.perf_counter()
    model = CTGAN(epochs=args.epochs, verbose=False, cuda=args.device == "cuda")
    model.set_random_state(args.seed)
    model.fit(train, discrete_columns=discrete)
    timings["ctgan_fit_s"] = time.perf_counter() - t0
    model.sample(len(train)).to_csv(
        os.path.join(RESULTS, f"adult_ctgan_{TAG}.csv"), index=False
    )
    print(f"ctgan: fit {timings['ctgan_fit_s']:.1f} s", flush=True)

if args.no_evaluate:
    print(json.dumps(timings))
    raise SystemExit(0)

from tabgan import evaluate  # noqa: E402

rows = []
names = ["tabgan", *(f"tabgan_cal-{c}" for c in args.calibrations or []), "ctgan"]
for name in names:
    path = os.path.join(RESULTS, f"adult_{name}_{TAG}.csv")
    if not os.path.exists(path):
        continue
    synthetic = pd.read_csv(path)
    report = evaluate(train, synthetic, target="income", holdout=test, random_state=args.seed)
    u = report.utility
    number_of = train.groupby("education")["education-num"].first()
    consistent = float((synthetic["education-num"] == synthetic["education"].map(number_of)).mean())
    gain = synthetic[synthetic["capital-gain"] >= 5000]
    rich = float((gain["income"].astype(str).str.strip() == ">50K").mean())
    from tabgan.audit import distance_to_closest_record

    dcr = distance_to_closest_record(train, test, synthetic, max_rows=5000, random_state=0)
    rows.append(
        {
            "generator": name,
            "dcr_share": dcr.share_closer_to_train,
            "exact_copy_rate": dcr.exact_copy_rate,
            "epochs": args.epochs,
            "column_shape": report.column_shape,
            "pair_trend": report.pair_trend,
            "overall": report.score,
            "tstr_macro_f1": u["synthetic"]["f1_macro"],
            "trtr_macro_f1": u["real"]["f1_macro"],
            "tstr_roc_auc": u["synthetic"]["roc_auc"],
            "detection_auc": report.detection_auc,
            "education_consistent": consistent,
            "rich_share_gain_ge_5000": rich,
            "fit_s": timings.get(f"{name.split('_')[0]}_fit_s", float("nan")),
            "precision": timings.get(f"{name.split('_')[0]}_precision", "float32"),
            "settings": extra if name.startswith("tabgan") else {},
            **({k[7:]: timings[k] for k in ("tabgan_best_epoch", "tabgan_epochs_trained")
                if k in timings} if name.startswith("tabgan") else {}),
        }
    )
table = pd.DataFrame(rows)
print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
with open(os.path.join(RESULTS, f"quality_{TAG}.json"), "w") as fh:
    json.dump(rows, fh, indent=2)
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
