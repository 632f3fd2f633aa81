"""Declared column roles: what a key column, a day-first date column and SDV metadata cost.

Fits UCI Adult (the shared 80 % split) with two columns added: ``person_id``, a key
of the shape ``P-`` and seven digits, and ``visit``, a day-first date string. The
metadata comes from an SDV 1.x metadata file (written here, as ``save_to_json`` would)
that declares the key, the date format and the other columns' sdtypes. Then it samples
``--rows`` rows with and without the key column (two models, same seed), and reports
the sampling time of each, the share of distinct keys, and the dates' fit to the real
range. One process, one run; the two samplings alternate ``--repeats`` times and the
medians are printed.

    python benchmarks/roles.py --epochs 5 --rows 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "datasets", "adult_train.csv")


def sdv_metadata(df: pd.DataFrame) -> dict:
    """SDV's single-table metadata of the table, with the key and the date declared."""
    columns = {}
    for name in df.columns:
        if name == "person_id":
            columns[name] = {"sdtype": "id", "regex_format": "P-[0-9]{7}"}
        elif name == "visit":
            columns[name] = {"sdtype": "datetime", "datetime_format": "%d/%m/%Y"}
        elif pd.api.types.is_integer_dtype(df[name]):
            columns[name] = {"sdtype": "numerical", "computer_representation": "Int64"}
        elif pd.api.types.is_numeric_dtype(df[name]):
            columns[name] = {"sdtype": "numerical", "computer_representation": "Float"}
        else:
            columns[name] = {"sdtype": "categorical"}
    return {"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "primary_key": "person_id",
            "columns": columns}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "roles_s11.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from tabgan import Metadata, Synthesizer

    rng = np.random.default_rng(0)
    df = pd.read_csv(DATA)
    df.insert(0, "person_id", [f"P-{i:07d}" for i in rng.permutation(len(df))])
    days = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 730, len(df)), unit="D")
    df["visit"] = days.strftime("%d/%m/%Y")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "metadata.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(sdv_metadata(df), fh)
        t0 = time.perf_counter()
        meta = Metadata.from_sdv(path)
        read_s = time.perf_counter() - t0
    plain = {k: v for k, v in meta.columns.items() if k != "person_id"}
    fits = {}
    for label, table, m in (("with key", df, meta),
                            ("without key", df.drop(columns="person_id"), plain)):
        t0 = time.perf_counter()
        fits[label] = Synthesizer(epochs=args.epochs, random_state=0).fit(table, metadata=m)
        print(f"fit {label}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    times: dict[str, list[float]] = {k: [] for k in fits}
    out = None
    for r in range(args.repeats):
        for label, synth in fits.items():
            t0 = time.perf_counter()
            rows = synth.sample(args.rows, random_state=r)
            times[label].append(time.perf_counter() - t0)
            if label == "with key":
                out = rows
    visits = pd.to_datetime(out["visit"], format="%d/%m/%Y")
    real = pd.to_datetime(df["visit"], format="%d/%m/%Y")
    result = {
        "rows": args.rows, "epochs": args.epochs, "threads": args.threads,
        "read_sdv_metadata_s": read_s,
        "sample_s": {k: statistics.median(v) for k, v in times.items()},
        "sample_s_all": times,
        "distinct_keys": float(out["person_id"].nunique() / len(out)),
        "keys_of_shape": float(out["person_id"].str.fullmatch(r"P-\d{7}").mean()),
        "keys_equal_to_a_real_one": float(out["person_id"].isin(set(df["person_id"])).mean()),
        "keys_equal_by_chance": len(df) / 10**7,  # real keys among the shape's 10^7 values
        "visits_in_format": float(visits.notna().mean()),
        "visits_in_range": float(visits.between(real.min(), real.max()).mean()),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2)
    k, nk = result["sample_s"]["with key"], result["sample_s"]["without key"]
    print(f"| sampling {args.rows:,} rows | with key | without key | ratio |")
    print("|---|---|---|---|")
    print(f"| median of {args.repeats} (s) | {k:.2f} | {nk:.2f} | {k / nk:.2f} |")
    print(f"distinct keys {result['distinct_keys']:.4f}, of the shape "
          f"{result['keys_of_shape']:.4f}, equal to a real key {result['keys_equal_to_a_real_one']:.4f}"
          f" (chance {result['keys_equal_by_chance']:.4f}); visits in "
          f"format {result['visits_in_format']:.4f}, in range {result['visits_in_range']:.4f}; "
          f"SDV metadata read in {read_s * 1000:.1f} ms")


if __name__ == "__main__":
    main()
