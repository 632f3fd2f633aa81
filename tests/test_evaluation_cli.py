"""The ``evaluate`` subcommand (tabgan/evaluation/cli.py), on a parser of our own."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError, InvalidParameterError, TabganError
from tabgan.evaluation.cli import add_parser, run


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tabgan")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    real = load_adult_sample().iloc[:200]
    rng = np.random.default_rng(0)
    synth = pd.DataFrame({c: rng.permutation(real[c].to_numpy()) for c in real.columns})
    holdout = load_adult_sample(holdout=True).iloc[:100]
    paths = {
        "real": folder / "real.csv",
        "synth": folder / "synth.parquet",
        "holdout": folder / "holdout.csv",
        "folder": folder,
    }
    real.to_csv(paths["real"], index=False)
    synth.to_parquet(paths["synth"], index=False)
    holdout.to_csv(paths["holdout"], index=False)
    return {k: str(v) for k, v in paths.items()}


def test_parser_registers_the_subcommand_and_defaults(files):
    args = parse(["evaluate", files["real"], files["synth"]])
    assert args.command == "evaluate" and args.func is run
    assert args.seed == 0 and args.target is None and not args.no_detection


def test_run_prints_a_summary_and_writes_reports(files, capsys):
    html = f"{files['folder']}/report.html"
    out_json = f"{files['folder']}/report.json"
    args = parse(
        [
            "evaluate",
            files["real"],
            files["synth"],
            "--target",
            "income",
            "--holdout",
            files["holdout"],
            "--html",
            html,
            "--json",
            out_json,
            "--seed",
            "3",
            "--threads",
            "1",
        ]
    )
    assert run(args) == 0
    printed = capsys.readouterr().out
    for needle in (
        "200 rows",
        "overall score",
        "column shape",
        "pair trend",
        "detection AUC",
        "utility",
        "roc_auc",
        "worst columns",
        f"wrote {html}",
    ):
        assert needle in printed
    worst = printed.split("worst columns:")[1].splitlines()[1:6]
    assert len(worst) == 5 and all("score" in line for line in worst)
    data = json.loads(open(out_json, encoding="utf-8").read())
    assert data["utility"]["holdout"] == "given" and data["utility"]["target"] == "income"
    assert open(html, encoding="utf-8").read().startswith("<!DOCTYPE html>")


def test_fail_under_and_no_detection(files, capsys):
    args = parse(
        ["evaluate", files["real"], files["real"], "--no-detection", "--fail-under", "0.99"]
    )
    assert run(args) == 0
    assert "detection AUC" not in capsys.readouterr().out
    args = parse(
        ["evaluate", files["real"], files["synth"], "--no-detection", "--fail-under", "0.99"]
    )
    assert run(args) == 1
    assert "below --fail-under" in capsys.readouterr().out


def test_metadata_file_is_used(files, capsys, tmp_path):
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"columns": {"education-num": {"kind": "discrete"}}}))
    args = parse(
        [
            "evaluate",
            files["real"],
            files["synth"],
            "--no-detection",
            "--metadata",
            str(meta),
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert run(args) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    kinds = {c["column"]: c["kind"] for c in data["columns"]}
    assert kinds["education-num"] == "discrete"


@pytest.mark.parametrize(
    "argv, error, match",
    [
        (["missing.csv", "{synth}"], InvalidDataError, "No such file"),
        (
            ["{real}", "{synth}", "--html", "/no/such/folder/r.html"],
            InvalidParameterError,
            "does not exist",
        ),
        (["{real}", "{synth}", "--metadata", "nope.json"], InvalidDataError, "metadata"),
        (["{real}", "{bad}"], InvalidDataError, "Could not read"),
        (["{real}", "{real}", "--target", "nope"], InvalidParameterError, "'target'"),
        (["{real}", "{real}", "--max-pairs", "-1"], InvalidParameterError, "max-pairs"),
        (["{real}", "{real}", "--threads", "0"], InvalidParameterError, "threads"),
    ],
)
def test_bad_input_raises_tabgan_errors(files, tmp_path, argv, error, match):
    bad = tmp_path / "bad.parquet"
    bad.write_text("this is not parquet")
    argv = [a.format(real=files["real"], synth=files["synth"], bad=bad) for a in argv]
    with pytest.raises(error, match=match) as info:
        run(parse(["evaluate", *argv]))
    assert isinstance(info.value, TabganError)
