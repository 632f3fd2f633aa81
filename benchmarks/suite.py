"""The benchmark suite of issue 13: tabgan, ctgan and TVAE on every shared table.

    python benchmarks/suite.py                                # all tables, default settings
    python benchmarks/suite.py --tables adult crashes --epochs 50
    python benchmarks/suite.py --generators tabgan --seeds 0 1 2
    python benchmarks/suite.py --report                       # table from saved JSON only
    python benchmarks/suite.py --generators tabgan --set joint_columns=False --tag nojoint

Each run (one table, one generator, one seed) is a child process of its own, so that
its peak memory is its own and a generator that cannot fit a table (ctgan and TVAE
refuse missing values in numeric columns) is recorded as such, not fatal. A run fits
on ``NAME_train.csv``, samples as many rows as the training table, scores them with
tabgan's own evaluator against ``NAME_test.csv`` and writes
``benchmarks/results/suite/NAME__GENERATOR__seedS__eEPOCHS.json``. The table printed
at the end has one row per table and generator (tabgan: mean over its seeds, ± half
the spread max - min), with the figures of the issue's goal:

- ``utility``: train-on-synthetic / train-on-real, macro-F1 (classification) or R²
  (regression), HistGradientBoosting, scored on the test rows;
- ``detect``: detection ROC AUC, real against synthetic rows (0.5 = indistinguishable);
- ``shape`` / ``trend``: column shape and pair trend;
- ``miss pt``: the largest gap, over columns, between the synthetic and the real
  share of missing values, in percentage points;
- ``bad %``: share of synthetic rows holding a value of another kind or outside the
  real range (a category never seen, a number below the real minimum or above the
  real maximum, a fraction in an integer-valued column);
- ``rel %``: share of synthetic rows that keep every exact relation found in the
  real rows (a column that is a function of a discrete column), 100 if none;
- ``dcr``: share of synthetic rows closer to the training rows than to the test rows
  (``tabgan.audit``; 0.5 = no closer than fresh real rows);
- ``fit s`` / ``RSS MiB``: wall-clock fit time and the run's peak resident memory.

Table-specific relation figures (Adult's capital-gain segment, crashes'
``injSeverity`` → ``dead``) are in each run's JSON under ``relations``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time
import traceback
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "datasets")
RESULTS = os.path.join(HERE, "results", "suite")
TABLES = {  # table: (target, task)
    "adult": ("income", "classification"),
    "crashes": ("dead", "classification"),
    "lending_club": ("Class", "classification"),
    "cps_earnings": ("earnings", "regression"),
    "budget_food": ("wfood", "regression"),
}
GENERATORS = ("tabgan", "ctgan", "tvae")
#: more generators to ask for by name: tabgan with target conditioning on the table's
#: target (classification tables; regression targets are not supported)
EXTRA = ("tabgan-target",)
MAX_RELATION_VALUES = 200  # columns with more distinct values are not checked for relations
MIN_ROWS_PER_VALUE = 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    p.add_argument("--generators", nargs="+", default=list(GENERATORS),
                   choices=GENERATORS + EXTRA)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1],
                   help="tabgan's seeds (the others run the first seed only)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs for every generator (default: each one's default, 300)")
    p.add_argument("--threads", type=int, default=None, help="torch threads per run")
    p.add_argument("--data", default=DATA)
    p.add_argument("--results", default=RESULTS)
    p.add_argument("--keep-synthetic", metavar="DIR", help="also write each synthetic table here")
    p.add_argument("--report", action="store_true", help="print the table of saved runs only")
    p.add_argument("--rerun", action="store_true", help="run again runs whose JSON exists")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="another tabgan Synthesizer parameter (a Python literal or a string), "
                        "e.g. --set joint_columns=False; repeatable; use with --tag")
    p.add_argument("--tag", default="",
                   help="label of runs with --set: tabgan's runs are named tabgan+TAG")
    p.add_argument("--run", nargs=3, metavar=("TABLE", "GENERATOR", "SEED"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def run_name(table: str, generator: str, seed: int, epochs: int | None) -> str:
    return f"{table}__{generator}__seed{seed}__e{epochs if epochs else 'default'}"


# --------------------------------------------------------------------------- one run


def settings(items: list[str]) -> dict:
    """``--set NAME=VALUE`` items as Synthesizer keywords (Python literals, else strings)."""
    import ast

    out = {}
    for item in items:
        name, _, text = item.partition("=")
        try:
            out[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[name] = text
    return out


def fit_and_sample(generator: str, train: pd.DataFrame, seed: int, epochs: int | None,
                   target: str, extra: dict | None = None) -> tuple[pd.DataFrame, float, float]:
    kw = {} if epochs is None else {"epochs": epochs}
    t0 = time.perf_counter()
    if generator.startswith("tabgan"):
        import tabgan

        if generator.startswith("tabgan-target"):
            kw["target"] = target
        model = tabgan.Synthesizer(random_state=seed, **kw, **(extra or {})).fit(train)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synthetic = model.sample(len(train), random_state=seed)
    else:
        import ctgan

        discrete = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
        cls = ctgan.CTGAN if generator == "ctgan" else ctgan.TVAE
        model = cls(**kw)
        model.set_random_state(seed)
        model.fit(train, discrete_columns=discrete)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synthetic = model.sample(len(train))
    return synthetic, fit_s, time.perf_counter() - t0


def exact_relations(train: pd.DataFrame) -> list[tuple[str, str, dict]]:
    """(parent, child, mapping) for every column that is a function of a discrete
    column in the real rows; checked independently of tabgan's own discovery."""
    n = len(train)
    codes = {}
    for c in train.columns:
        k = train[c].nunique(dropna=False)
        if 2 <= k <= MAX_RELATION_VALUES:
            codes[c] = pd.factorize(train[c], use_na_sentinel=False)
    found = []
    for parent, (pc, pu) in codes.items():
        if pd.api.types.is_numeric_dtype(train[parent]) and len(pu) > 50:
            continue  # a parent is a category or a short code
        if n < MIN_ROWS_PER_VALUE * len(pu):
            continue
        for child, (cc, cu) in codes.items():
            if child == parent or len(cu) > len(pu):
                continue
            pairs = np.unique(pc.astype(np.int64) * len(cu) + cc)
            if len(pairs) == len(pu):
                mapping = dict(zip(train[parent].astype(str), train[child].astype(str)))
                found.append((parent, child, mapping))
    return found


def relation_share(synthetic: pd.DataFrame, relations: list[tuple[str, str, dict]]) -> float:
    if not relations:
        return 1.0
    ok = np.ones(len(synthetic), dtype=bool)
    for parent, child, mapping in relations:
        expected = synthetic[parent].astype(str).map(mapping)
        ok &= (expected == synthetic[child].astype(str)).to_numpy()
    return float(ok.mean())


def row_bad_share(train: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[float, dict[str, float]]:
    per_column: dict[str, float] = {}
    any_bad = np.zeros(len(synthetic), dtype=bool)
    for c in train.columns:
        real, syn = train[c], synthetic[c]
        present = syn.notna().to_numpy()
        if pd.api.types.is_numeric_dtype(real) and not pd.api.types.is_bool_dtype(real):
            values = pd.to_numeric(syn, errors="coerce").to_numpy(dtype=float)
            bad = present & np.isnan(values)
            with np.errstate(invalid="ignore"):
                bad |= present & ((values < real.min()) | (values > real.max()))
                r = real.dropna().to_numpy(dtype=float)
                if len(r) and np.all(np.mod(r, 1) == 0):
                    bad |= present & ~np.isnan(values) & (np.mod(values, 1) != 0)
        else:
            seen = set(real.dropna().astype(str))
            bad = present & ~syn.astype(str).isin(seen).to_numpy()
        per_column[c] = float(bad.mean())
        any_bad |= bad
    return float(any_bad.mean()), per_column


def table_relations(table: str, real: pd.DataFrame, synthetic: pd.DataFrame) -> dict:
    """The issue's named relation figures, real and synthetic."""
    out = {}

    def figures(df: pd.DataFrame) -> dict:
        if table == "adult":
            gain = df[pd.to_numeric(df["capital-gain"], errors="coerce") >= 5000]
            return {"rich_share_gain_ge_5000": float((gain["income"].astype(str).str.strip()
                                                      == ">50K").mean())}
        if table == "crashes":
            sev4 = pd.to_numeric(df["injSeverity"], errors="coerce") == 4
            dead = df["dead"].astype(str) == "dead"
            return {"dead_share_injSeverity_4": float(dead[sev4].mean()),
                    "dead_share_injSeverity_other": float(dead[~sev4].mean())}
        return {}

    for role, df in (("real", real), ("synthetic", synthetic)):
        for k, v in figures(df).items():
            out[f"{k}_{role}"] = v
    return out


def one_run(args: argparse.Namespace, table: str, generator: str, seed: int) -> dict:
    warnings.filterwarnings("ignore")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    target, task = TABLES[table]
    train = pd.read_csv(os.path.join(args.data, f"{table}_train.csv"))
    test = pd.read_csv(os.path.join(args.data, f"{table}_test.csv"))
    record: dict = {"table": table, "generator": generator, "seed": seed,
                    "epochs": args.epochs, "task": task, "rows": len(train)}
    try:
        if generator.startswith("tabgan-target") and task != "classification":
            raise ValueError("target conditioning needs a discrete target")
        synthetic, fit_s, sample_s = fit_and_sample(generator, train, seed, args.epochs, target,
                                                    settings(args.set))
    except Exception as exc:  # a generator that cannot fit the table at all
        record["error"] = f"{type(exc).__name__}: {exc}".strip()[:500]
        record["traceback"] = traceback.format_exc()[-2000:]
        return record
    record.update(fit_s=fit_s, sample_s=sample_s)
    if args.keep_synthetic:
        os.makedirs(args.keep_synthetic, exist_ok=True)
        synthetic.to_csv(os.path.join(args.keep_synthetic,
                                      run_name(table, generator, seed, args.epochs) + ".csv"),
                         index=False)
    # the evaluator reads both tables the same way: through CSV, as a user would
    synthetic = synthetic[train.columns]

    import tabgan
    from tabgan.audit import distance_to_closest_record

    report = tabgan.evaluate(train, synthetic, target=target, holdout=test, random_state=seed,
                             n_threads=args.threads)
    metric = "f1_macro" if task == "classification" else "r2"
    u = report.utility
    tstr, trtr = u["synthetic"][metric], u["real"][metric]
    cols = report.columns
    missing_gap = (cols["missing_synthetic"] - cols["missing_real"]).abs()
    bad_rows, bad_cols = row_bad_share(train, synthetic)
    relations = exact_relations(train)  # found once, used for the share and the list
    dcr = distance_to_closest_record(train, test, synthetic, random_state=seed,
                                     max_rows=5000)
    record.update(
        metric=metric, tstr=tstr, trtr=trtr, utility_ratio=tstr / trtr,
        tstr_roc_auc=u["synthetic"].get("roc_auc"), trtr_roc_auc=u["real"].get("roc_auc"),
        detection_auc=report.detection_auc, column_shape=report.column_shape,
        pair_trend=report.pair_trend,
        missing_gap_pts=float(100 * missing_gap.max()),
        missing_gap_column=str(cols.loc[missing_gap.idxmax(), "column"]) if "column" in cols
        else str(missing_gap.idxmax()),
        bad_rows_pct=100 * bad_rows,
        bad_columns_pct={k: 100 * v for k, v in bad_cols.items() if v > 0},
        relations_pct=100 * relation_share(synthetic, relations),
        relations_checked=[f"{c} <- {p}" for p, c, _ in relations],
        relations=table_relations(table, train, synthetic),
        dcr_share=dcr.share_closer_to_train,
        exact_copy_rate=dcr.exact_copy_rate,
        holdout_exact_copy_rate=dcr.holdout_exact_copy_rate,
    )
    return record


# --------------------------------------------------------------------------- driver


COLUMNS = [("utility", "utility_ratio", 3), ("detect", "detection_auc", 3),
           ("shape", "column_shape", 3), ("trend", "pair_trend", 3),
           ("miss pt", "missing_gap_pts", 1), ("bad %", "bad_rows_pct", 2),
           ("rel %", "relations_pct", 1), ("dcr", "dcr_share", 3),
           ("fit s", "fit_s", 0), ("RSS MiB", "peak_rss_mib", 0)]


def summary(records: list[dict]) -> str:
    lines = []
    head = f"{'table':13s} {'generator':13s} {'n':>2s} " + " ".join(f"{h:>13s}" for h, _, _ in COLUMNS)
    lines += [head, "-" * len(head)]
    frame = pd.DataFrame(records)
    tagged = sorted({r["generator"] for r in records} - {*GENERATORS, *EXTRA})  # --tag runs
    for table in TABLES:
        for gen in [*GENERATORS, *EXTRA, *tagged]:
            runs = frame[(frame.table == table) & (frame.generator == gen)] if len(frame) else frame
            if not len(runs):
                continue
            ok = runs[runs["error"].isna()] if "error" in runs else runs
            if not len(ok):
                err = str(runs["error"].iloc[0])[:90]
                lines.append(f"{table:13s} {gen:13s} {0:2d}  cannot fit: {err}")
                continue
            cells = []
            for _, key, digits in COLUMNS:
                v = ok[key].astype(float)
                cell = f"{v.mean():.{digits}f}"
                if len(v) > 1:
                    cell += f"±{(v.max() - v.min()) / 2:.{digits}f}"
                cells.append(f"{cell:>13s}")
            lines.append(f"{table:13s} {gen:13s} {len(ok):2d} " + " ".join(cells))
    return "\n".join(lines)


def load(results: str, epochs: int | None) -> list[dict]:
    tag = f"__e{epochs if epochs else 'default'}.json"
    out = []
    for path in sorted(glob.glob(os.path.join(results, "*.json"))):
        if path.endswith(tag):
            with open(path) as fh:
                out.append(json.load(fh))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.run:
        table, generator, seed = args.run[0], args.run[1], int(args.run[2])
        record = one_run(args, table, generator, seed)
        record["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        os.makedirs(args.results, exist_ok=True)
        path = os.path.join(args.results, run_name(table, generator, seed, args.epochs) + ".json")
        with open(path, "w") as fh:
            json.dump(record, fh, indent=1, default=float)
        return 0
    if not args.report:
        tag = f"+{args.tag}" if args.tag else ""
        plan = [(t, g + tag if g.startswith("tabgan") else g, s)
                for t in args.tables for g in args.generators
                for s in (args.seeds if g == "tabgan" else args.seeds[:1])]
        for i, (table, gen, seed) in enumerate(plan, 1):
            path = os.path.join(args.results, run_name(table, gen, seed, args.epochs) + ".json")
            if os.path.exists(path) and not args.rerun:
                print(f"[{i}/{len(plan)}] {table} {gen} seed {seed}: saved, skipped", flush=True)
                continue
            t0 = time.perf_counter()
            cmd = [sys.executable, os.path.abspath(__file__), "--run", table, gen, str(seed),
                   "--data", args.data, "--results", args.results]
            for flag, value in (("--epochs", args.epochs), ("--threads", args.threads),
                                ("--keep-synthetic", args.keep_synthetic)):
                if value is not None:
                    cmd += [flag, str(value)]
            if gen.startswith("tabgan"):
                cmd += [arg for item in args.set for arg in ("--set", item)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
            if done.returncode != 0:  # a crashed or killed run is recorded, not dropped
                print(done.stderr[-2000:], file=sys.stderr)
                os.makedirs(args.results, exist_ok=True)
                with open(path, "w") as fh:
                    json.dump({"table": table, "generator": gen, "seed": seed,
                               "epochs": args.epochs, "error": f"run {status}: "
                               + done.stderr.strip().splitlines()[-1][:300]
                               if done.stderr.strip() else f"run {status}"}, fh, indent=1)
            else:
                with open(path) as fh:
                    status = json.load(fh).get("error", "ok")[:80]
            print(f"[{i}/{len(plan)}] {table} {gen} seed {seed}: {status} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    records = [r for r in load(args.results, args.epochs) if r["table"] in args.tables
               and r["generator"].split("+")[0] in args.generators]
    print(f"\nepochs: {args.epochs or 'each generator default'}; results in {args.results}")
    print(summary(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
