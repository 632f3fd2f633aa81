"""The ``tabgan evaluate`` subcommand.

``tabgan.cli`` calls :func:`add_parser` to register the subcommand and
:func:`run` to execute it::

    tabgan evaluate real.csv synthetic.csv --target income --holdout test.csv \\
        --html report.html --json report.json --seed 0

Tables are read with :func:`tabgan.io.read_table`: Parquet for ``.parquet`` and
``.pq``, CSV otherwise.
"""

from __future__ import annotations

import argparse
import os
import warnings
from typing import Any

from ..errors import InvalidDataError, InvalidParameterError
from ..io import read_table
from ..metadata import Metadata
from ._prepare import EvaluationWarning
from .evaluator import DEFAULT_MAX_PAIRS, evaluate

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``evaluate`` subcommand on an argparse ``subparsers`` object."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score a synthetic table against the real one",
        description=(
            "Compare a synthetic table with the real one: per-column and pairwise "
            "fidelity, machine-learning utility (with --target) and a real-vs-synthetic "
            "detection test. Prints a summary; --html and --json write full reports."
        ),
    )
    parser.add_argument("real", help="the real table (.csv or .parquet)")
    parser.add_argument("synthetic", help="the synthetic table, same columns")
    parser.add_argument("--target", help="column to predict for the utility test")
    parser.add_argument(
        "--holdout",
        help="real rows the synthesizer never saw, to test the utility models on "
        "(default: a seeded 20%% of the real table)",
    )
    parser.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    parser.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    parser.add_argument("--metadata", metavar="PATH", help="JSON file of column kinds")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--max-pairs",
        type=int,
        default=DEFAULT_MAX_PAIRS,
        help=f"evaluate at most this many column pairs (default: {DEFAULT_MAX_PAIRS})",
    )
    parser.add_argument(
        "--no-detection", action="store_true", help="skip the real-vs-synthetic classifier"
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="OpenMP threads for the utility and detection models (default: all cores; "
        "1 is faster when the cores are busy with other work)",
    )
    parser.add_argument(
        "--fail-under",
        type=float,
        metavar="SCORE",
        help="exit with status 1 if the overall score is below SCORE",
    )
    parser.set_defaults(func=run)


def _check_output(path: str | None, option: str) -> None:
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidParameterError(
            f"Cannot write {option} {path!r}: the folder {folder!r} does not exist."
        )


def run(args: argparse.Namespace) -> int:
    """Run ``tabgan evaluate``; returns the exit status (1 if below ``--fail-under``)."""
    _check_output(args.html, "--html")
    _check_output(args.json, "--json")
    real = read_table(args.real)
    synthetic = read_table(args.synthetic)
    holdout = read_table(args.holdout) if args.holdout else None
    metadata = None
    if args.metadata:
        if not os.path.isfile(args.metadata):
            raise InvalidDataError(f"No such metadata file: {args.metadata!r}.")
        metadata = Metadata.from_json(args.metadata)
    if args.max_pairs < 0:
        raise InvalidParameterError(f"--max-pairs must be >= 0. Got {args.max_pairs}.")
    if args.seed < 0:
        raise InvalidParameterError(f"--seed must be >= 0. Got {args.seed}.")
    if args.threads is not None and args.threads < 1:
        raise InvalidParameterError(f"--threads must be >= 1. Got {args.threads}.")

    with warnings.catch_warnings():
        # the same messages are in report.notes, printed below
        warnings.simplefilter("ignore", EvaluationWarning)
        report = evaluate(
            real,
            synthetic,
            target=args.target,
            holdout=holdout,
            metadata=metadata,
            random_state=args.seed,
            max_pairs=args.max_pairs,
            detection=not args.no_detection,
            n_threads=args.threads,
        )
    print(
        f"{args.real} ({report.n_rows_real:,} rows) vs {args.synthetic} "
        f"({report.n_rows_synthetic:,} rows), {len(report.columns)} columns"
    )
    print(report.summary())
    for note in report.notes:
        print(f"note: {note}")
    if args.json:
        report.to_json(args.json)
        print(f"wrote {args.json}")
    if args.html:
        report.to_html(args.html)
        print(f"wrote {args.html}")
    if args.fail_under is not None and not report.score >= args.fail_under:
        print(f"overall score {report.score:.3f} is below --fail-under {args.fail_under}")
        return 1
    return 0
