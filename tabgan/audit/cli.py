"""The ``tabgan audit`` subcommand.

``tabgan/cli.py`` registers it with :func:`add_parser`; :func:`run` executes it::

    tabgan audit train.csv holdout.csv synthetic.csv --html audit.html --json audit.json \\
        [--quasi-identifiers age,sex,zip] [--sensitive income] [--seed 0]

Tables are read as CSV, or as Parquet when the file name ends in ``.parquet``
or ``.pq``. The verdict and key numbers are printed; the exit status is 0 when
the audit ran (whatever the risk), 2 when the input could not be used.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import TabganError
from ..io import read_table

__all__ = ["add_parser", "run", "read_table"]


def add_parser(subparsers: Any) -> None:
    """Register the ``audit`` subcommand on an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "audit",
        help="measure how much a synthetic table exposes its training data",
        description=(
            "Attack a synthetic table with distance-to-closest-record, membership-inference "
            "and attribute-inference audits, using the training table and holdout rows that "
            "were never used for training. Prints a verdict; writes HTML/JSON reports."
        ),
    )
    p.add_argument("train", help="training table (.csv, .parquet)")
    p.add_argument("holdout", help="real rows NOT used for training, same columns")
    p.add_argument("synthetic", help="synthetic table to audit, same columns")
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML report here")
    p.add_argument("--json", metavar="PATH", help="write the numbers as JSON here")
    p.add_argument(
        "--quasi-identifiers",
        metavar="COLS",
        help="comma-separated columns an attacker knows (default: all but the secret)",
    )
    p.add_argument(
        "--sensitive",
        metavar="COLS",
        help="comma-separated secret column(s) (default: every column in turn)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=run)


def _columns(value: str | None) -> list[str] | None:
    if value is None:
        return None
    cols = [c.strip() for c in value.split(",") if c.strip()]
    return cols or None


def run(args: argparse.Namespace) -> int:
    """Run the audit described by parsed ``args``; print the verdict. Returns the exit status."""
    from . import audit

    try:
        train = read_table(args.train)
        holdout = read_table(args.holdout)
        synthetic = read_table(args.synthetic)
        report = audit(
            train,
            holdout,
            synthetic,
            quasi_identifiers=_columns(args.quasi_identifiers),
            sensitive=_columns(args.sensitive),
            random_state=args.seed,
        )
    except TabganError as exc:
        print(f"tabgan audit: error: {exc}", file=sys.stderr)
        return 2

    print(report.summary)
    print()
    d, m = report.dcr, report.mia
    print("Key numbers")
    print(
        f"  exact copies of training rows: {d.exact_copy_rate:.2%} "
        f"(holdout baseline {d.holdout_exact_copy_rate:.2%})"
    )
    print(
        f"  median distance to closest training row: synthetic {d.median_synthetic:.4f}, "
        f"holdout {d.median_holdout:.4f}"
    )
    print(
        f"  share of synthetic rows closer to train than holdout: "
        f"{d.share_closer_to_train:.3f} [{d.share_closer_to_train_ci[0]:.3f}, "
        f"{d.share_closer_to_train_ci[1]:.3f}] (0.5 = no overfitting)"
    )
    for name, a in m.attacks.items():
        print(
            f"  membership attack {name}: AUC {a.auc:.3f} [{a.auc_ci[0]:.3f}, {a.auc_ci[1]:.3f}], "
            f"TPR@FPR=1% {a.tpr_at_fpr[0.01]:.3f}, TPR@FPR=0.1% {a.tpr_at_fpr[0.001]:.3f}"
        )
    w = report.attribute_inference.worst
    if w is not None:
        print(
            f"  attribute inference, worst secret {w.sensitive!r}: residual risk "
            f"{w.residual_risk:.3f} [{w.residual_risk_ci[0]:.3f}, {w.residual_risk_ci[1]:.3f}]"
        )
    try:
        if args.html:
            report.to_html(args.html)
            print(f"HTML report written to {args.html}")
        if args.json:
            report.to_json(args.json)
            print(f"JSON report written to {args.json}")
    except OSError as exc:
        print(f"tabgan audit: error: cannot write the report: {exc}", file=sys.stderr)
        return 2
    return 0
