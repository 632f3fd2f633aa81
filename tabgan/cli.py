"""The ``tabgan`` command: fit, sample, evaluate, audit, demo.

Each subcommand mirrors the Python API; errors tabgan raises on purpose are
printed as one line (exit code 2) instead of a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import pandas as pd

from .errors import TabganError
from .io import read_table, write_table

__all__ = ["main"]


# ----------------------------------------------------------------- fit
def _add_fit(sub) -> None:
    p = sub.add_parser(
        "fit", help="fit a synthesizer on a CSV/Parquet table",
        epilog="Data-parallel: 'torchrun --nproc-per-node=N -m tabgan fit ...' trains over N "
        "processes (every process reads the table; rank 0 writes the model); see "
        "docs/scale.md.",
    )
    p.add_argument("data", help="training table (.csv or .parquet)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.tabgan)")
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the table (default: 300, or the private recipe with --epsilon)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="rows per step (default: 500, or the private recipe with --epsilon)")
    p.add_argument("--pac", type=int, default=10,
                   help="rows the critic judges together (PacGAN); batch size must be a multiple")
    p.add_argument("--loss", choices=["wgan-gp", "gan"], default="wgan-gp",
                   help="Wasserstein loss with gradient penalty, or the classic GAN loss")
    p.add_argument("--device", default="auto",
                   help="'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N'")
    p.add_argument(
        "--precision", choices=["auto", "float32", "bfloat16"], default="auto",
        help="number format of the networks' matrix products (see docs/model.md)",
    )
    p.add_argument(
        "--ema-decay", type=_decay, default=0.999, metavar="DECAY",
        help="sample from a moving average of the generator's weights with this decay per "
        "step; 'none' samples the last weights, as CTGAN (docs/model.md)",
    )
    p.add_argument("--seed", type=int, default=None, help="random_state")
    p.add_argument(
        "--metadata",
        help="JSON file with column kinds: tabgan's metadata or SDV's metadata JSON "
        "(docs/metadata.md)",
    )
    p.add_argument(
        "--discrete", default="", help="comma-separated columns to treat as discrete"
    )
    p.add_argument(
        "--id", default="", metavar="COLUMNS",
        help="comma-separated key columns: not modelled, generated as new unique values of "
        "their shape",
    )
    p.add_argument(
        "--omit", default="", metavar="COLUMNS",
        help="comma-separated columns to leave out: never read, not in the samples",
    )
    p.add_argument(
        "--no-derive", action="store_true",
        help="model every column itself, also those the data show to be a function of another",
    )
    p.add_argument(
        "--min-category-rows", type=int, default=10, metavar="K",
        help="never generate a value of a discrete column held by fewer than K training rows "
        "(pooled as '(other)'; 1 keeps every value)",
    )
    p.add_argument(
        "--no-joint", action="store_true",
        help="model strongly dependent pairs of columns separately, not as one column of "
        "their value pairs",
    )
    p.add_argument(
        "--target", default=None,
        help="column that models trained on the synthetic rows will predict: the generator "
        "is held to its relation with the other columns (target conditioning)",
    )
    p.add_argument(
        "--check-every", type=int, default=None, metavar="N",
        help="model selection: hold out 10%% of the rows (at most 5,000), score the "
        "generated rows on them every N epochs, keep the best weights",
    )
    p.add_argument(
        "--patience", type=int, default=None, metavar="K",
        help="with --check-every: stop after K checks without improvement",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="save the fit's state here every --checkpoint-every epochs")
    p.add_argument("--checkpoint-every", type=int, default=1, metavar="K",
                   help="epochs between checkpoints (default 1)")
    p.add_argument("--resume", action="store_true",
                   help="continue the fit saved in --checkpoint (same table and options)")
    p.add_argument(
        "--epsilon",
        type=float,
        default=None,
        help="fit with (epsilon, delta)-differential privacy (see docs/privacy.md); "
        "the privacy ledger is printed after fitting",
    )
    p.add_argument(
        "--delta", type=float, default=None,
        help="delta of the guarantee (default min(1e-5, 0.1/n), n the noisy row count)"
    )
    p.add_argument(
        "--max-grad-norm", type=float, default=1.0, help="per-row gradient clipping bound (private fits)"
    )
    p.add_argument(
        "--secure-mode", action="store_true",
        help="for a release: refuse --seed, so the privacy noise comes from the operating "
        "system's entropy (private fits; docs/privacy.md, 'Randomness')",
    )
    p.set_defaults(func=_run_fit)


def _decay(text: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number in [0, 1) or 'none', got {text!r}"
        ) from None


def _run_fit(args) -> int:
    from .metadata import Metadata
    from .synthesizer import Synthesizer

    df = read_table(args.data)
    overrides: dict = {}
    if args.metadata:
        overrides.update(Metadata.from_json(args.metadata).columns)
    for flag, kind in ((args.discrete, "discrete"), (args.id, "id"), (args.omit, "omit")):
        for col in filter(None, (c.strip() for c in flag.split(","))):
            overrides[col] = kind
    synth = Synthesizer(
        epochs=args.epochs,
        batch_size=args.batch_size,
        pac=args.pac,
        loss=args.loss,
        device=args.device,
        precision=args.precision,
        ema_decay=args.ema_decay,
        random_state=args.seed,
        verbose=not args.quiet,
        epsilon=args.epsilon,
        delta=args.delta,
        max_grad_norm=args.max_grad_norm,
        secure_mode=args.secure_mode,
        derive_columns=not args.no_derive,
        joint_columns=not args.no_joint,
        min_category_rows=args.min_category_rows,
        target=args.target,
        check_every=args.check_every,
        patience=args.patience,
    )
    if args.epsilon is not None:
        inferred = [c for c in df.columns if c not in overrides]
        if inferred and os.path.splitext(args.data)[1].lower() not in (".parquet", ".pq"):
            print(
                f"note: the kinds of {len(inferred)} column(s) come from dtypes that the CSV "
                "reader inferred from the values; declare them with --metadata or --discrete "
                "for a guarantee that covers the schema too (docs/privacy.md)",
                file=sys.stderr,
            )
    if args.epsilon is not None and args.checkpoint:
        print(
            f"note: the checkpoint {args.checkpoint} holds the private fit's noise stream; "
            "keep it as private as the data and delete it after the fit",
            file=sys.stderr,
        )
    t0 = time.perf_counter()
    synth.fit(df, metadata=overrides or None, checkpoint=args.checkpoint,
              checkpoint_every=args.checkpoint_every, resume=args.resume)
    if int(os.environ.get("RANK", "0") or 0) != 0:
        return 0  # a data-parallel fit under torchrun: every rank holds the model; rank 0 writes
    synth.save(args.output)
    # a private fit reports its noisy row count: the true one is not released
    rows = f"about {synth.n_rows_} rows (noisy count)" if synth.epsilon is not None else (
        f"{len(df)} rows")
    print(
        f"fitted on {rows} x {df.shape[1]} columns in {time.perf_counter() - t0:.1f} s "
        f"({synth.precision_} products); model written to {args.output}"
    )
    if synth.selection_ is not None:
        sel = synth.selection_
        print(
            f"model selection: best fidelity {sel['best_score']:.4f} at epoch "
            f"{sel['best_epoch']} of {sel['epochs_trained']} trained "
            f"({sel['held_out_rows']} rows held out)"
        )
    if synth.privacy_ledger_ is not None:
        print(synth.privacy_ledger_)
    return 0


# --------------------------------------------------------------- sample
def _add_sample(sub) -> None:
    p = sub.add_parser("sample", help="sample rows from a fitted model")
    p.add_argument("model", help="model file written by 'tabgan fit'")
    p.add_argument("-n", "--rows", type=int, required=True, help="number of rows")
    p.add_argument("-o", "--output", required=True,
                   help="output table: .parquet, .csv (.csv.gz, ...), or a directory (ending "
                   "in '/') for Parquet shards; written a chunk at a time")
    p.add_argument("--chunk-rows", type=int, default=None,
                   help="rows generated and written at a time (default 100000); memory does "
                   "not grow with -n")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="COL=VALUE",
        help="only rows with this value (repeatable)",
    )
    p.add_argument("--seed", type=int, default=None,
                   help="seed of this sample: the same seed gives the same rows")
    p.add_argument("--device", default="auto",
                   help="where to sample: 'auto', 'cpu', 'cuda' or 'cuda:N'")
    p.set_defaults(func=_run_sample)


def parse_conditions(items: Sequence[str], synth) -> dict:
    """Turn ``["col=value", ...]`` into typed conditions using the model's categories."""
    from .columns import MISSING
    from .errors import ConditionError
    from .transformer import DiscreteInfo

    infos = {i.name: i for i in synth.transformer_.infos_}
    derived = {d.name: d for d in synth.transformer_.derived_}
    out = {}
    for item in items:
        if "=" not in item:
            raise ConditionError(f"--condition expects COL=VALUE, got {item!r}.")
        col, text = item.split("=", 1)
        info = infos.get(col)
        if col in derived:
            match = [x for x in derived[col].values if x is not None and str(x) == text]
            out[col] = match[0] if match else (None if text in ("", "NaN", "nan") else text)
            continue
        if not isinstance(info, DiscreteInfo):
            out[col] = text  # let Synthesizer.sample explain the problem
            continue
        match = [c for c in info.categories if c != MISSING and str(c) == text]
        out[col] = match[0] if match else (None if text in ("", "NaN", "nan") else text)
    return out


def _run_sample(args) -> int:
    from .synthesizer import load

    synth = load(args.model, device=args.device)
    conditions = parse_conditions(args.condition, synth)
    from .io import ChunkWriter
    from .synthesizer import DEFAULT_CHUNK_ROWS

    if not ChunkWriter.streamable(args.output):  # an archive: in one piece, as before
        out = synth.sample(args.rows, random_state=args.seed, conditions=conditions or None)
        write_table(out, args.output)
        rows = len(out)
    else:
        rows = synth.sample_to(
            args.output, args.rows,
            chunk_rows=DEFAULT_CHUNK_ROWS if args.chunk_rows is None else args.chunk_rows,
            random_state=args.seed, conditions=conditions or None, progress=not args.quiet,
        )
    print(f"wrote {rows} rows to {args.output}")
    return 0


# ------------------------------------------------------------------ demo
def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="fit on bundled UCI Adult sample and compare")
    p.add_argument("--epochs", type=int, default=300, help="training epochs (default 300)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--output", default=None, help="also write the synthetic table here")
    p.set_defaults(func=_run_demo)


def _run_demo(args) -> int:
    from .datasets import load_adult_sample
    from .evaluation import evaluate
    from .synthesizer import Synthesizer

    real = load_adult_sample()
    holdout = load_adult_sample(holdout=True)
    print(
        f"tabgan demo: {len(real)} rows x {real.shape[1]} columns of UCI Adult "
        "(Becker & Kohavi 1996, CC BY 4.0), bundled with tabgan."
    )
    t0 = time.perf_counter()
    synth = Synthesizer(epochs=args.epochs, random_state=args.seed, verbose=True).fit(real)
    fit_s = time.perf_counter() - t0
    synthetic = synth.sample(len(real), random_state=args.seed)
    if args.output:
        write_table(synthetic, args.output)
    print(f"\nfitted {args.epochs} epochs in {fit_s:.1f} s; sampled {len(synthetic)} rows\n")
    print("first synthetic rows:")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(synthetic.head(5).to_string(index=False))
    report = evaluate(real, synthetic, target="income", holdout=holdout, random_state=args.seed)
    print("\nreal vs synthetic, per column:")
    print(_demo_column_table(real, synthetic, report.columns).to_string(index=False))
    print()
    print(report.summary())
    return 0


def _demo_column_table(real: pd.DataFrame, synthetic: pd.DataFrame, columns: pd.DataFrame):
    rows = []
    for name in real.columns:
        r, s = real[name], synthetic[name]
        if pd.api.types.is_numeric_dtype(r):
            desc_r, desc_s = f"mean {r.mean():.1f} sd {r.std():.1f}", f"mean {s.mean():.1f} sd {s.std():.1f}"
        else:
            top = r.value_counts(normalize=True).index[0]
            desc_r = f"{top}: {100 * (r == top).mean():.0f}%"
            desc_s = f"{top}: {100 * (s == top).mean():.0f}%"
        sim = float(columns.loc[name, "score"])
        rows.append({"column": name, "real": desc_r, "synthetic": desc_s, "similarity": f"{sim:.2f}"})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ main
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="tabgan", description="Privacy-preserving synthetic copies of tables."
    )
    parser.add_argument("--version", action="version", version=f"tabgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_fit(sub)
    _add_sample(sub)
    try:
        from .evaluation.cli import add_parser as add_evaluate
    except ImportError:  # pragma: no cover - evaluation always ships with tabgan
        add_evaluate = None
    if add_evaluate is not None:
        add_evaluate(sub)
    try:
        from .audit.cli import add_parser as add_audit
    except ImportError:  # pragma: no cover
        add_audit = None
    if add_audit is not None:
        add_audit(sub)
    _add_demo(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TabganError as exc:
        print(f"tabgan {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
