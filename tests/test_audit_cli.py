"""Tests for tabgan/audit/cli.py: the ``audit`` subcommand, registered on our own parser."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from tabgan.audit.cli import add_parser, read_table, run
from tabgan.datasets import load_adult_sample
from tabgan.errors import InvalidDataError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tabgan")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    return parser


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("audit_cli")
    adult = load_adult_sample()
    paths = {
        "train": str(d / "train.csv"),
        "holdout": str(d / "holdout.csv"),
        "synthetic": str(d / "synthetic.csv"),
    }
    adult.iloc[:300].to_csv(paths["train"], index=False)
    adult.iloc[300:600].to_csv(paths["holdout"], index=False)
    adult.iloc[:300].to_csv(paths["synthetic"], index=False)  # a copy: high risk
    paths["dir"] = str(d)
    return paths


def test_parser_registers_audit_with_options(files):
    args = _parser().parse_args(
        [
            "audit",
            files["train"],
            files["holdout"],
            files["synthetic"],
            "--html",
            "a.html",
            "--json",
            "a.json",
            "--quasi-identifiers",
            "age,sex",
            "--sensitive",
            "income",
            "--seed",
            "3",
        ]
    )
    assert args.command == "audit"
    assert args.quasi_identifiers == "age,sex" and args.sensitive == "income"
    assert args.seed == 3 and args.html == "a.html" and args.json == "a.json"
    assert args.func is run


def test_run_prints_verdict_and_writes_reports(files, capsys):
    html, js = files["dir"] + "/r.html", files["dir"] + "/r.json"
    args = _parser().parse_args(
        [
            "audit",
            files["train"],
            files["holdout"],
            files["synthetic"],
            "--html",
            html,
            "--json",
            js,
            "--quasi-identifiers",
            "age,fnlwgt,sex",
            "--sensitive",
            "income",
        ]
    )
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "HIGH RISK" in out
    assert "membership attack distance: AUC" in out
    data = json.loads(open(js, encoding="utf-8").read())
    assert data["summary"]["risk_levels"]["overall"] == "high"
    assert list(data["attribute_inference"]["secrets"]) == ["income"]
    assert open(html, encoding="utf-8").read().startswith("<!DOCTYPE html>")


def test_parquet_input(files, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    pq = str(tmp_path / "holdout.parquet")
    pd.read_csv(files["holdout"]).to_parquet(pq)
    assert read_table(pq).shape == pd.read_csv(files["holdout"]).shape
    args = _parser().parse_args(["audit", files["train"], pq, files["synthetic"]])
    assert run(args) == 0
    assert "Key numbers" in capsys.readouterr().out


def test_bad_input_returns_error_status(files, tmp_path, capsys):
    bad = str(tmp_path / "table.xlsx")
    open(bad, "w").close()
    args = _parser().parse_args(["audit", files["train"], bad, files["synthetic"]])
    assert run(args) == 2
    assert "use a .csv or .parquet file" in capsys.readouterr().err
    with pytest.raises(InvalidDataError, match="No such file"):
        read_table(str(tmp_path / "missing.csv"))
    other = str(tmp_path / "other.csv")
    pd.read_csv(files["train"]).drop(columns=["age"]).to_csv(other, index=False)
    args = _parser().parse_args(["audit", files["train"], files["holdout"], other])
    assert run(args) == 2
    assert "columns do not match" in capsys.readouterr().err
