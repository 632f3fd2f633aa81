"""The scripts in examples/ run end to end at their ``--quick`` size and write what they say.

Each script runs in a subprocess from a temporary folder, as a user would run it, with
this checkout first on the import path and one thread per library (the fits are tiny).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIMEOUT_S = 180


def run_example(name: str, tmp_path: Path) -> tuple[str, Path]:
    """Run ``examples/<name> --quick --out <tmp>/out``; return its stdout and the folder."""
    out = tmp_path / "out"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--quick", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout, out


def assert_html(path: Path) -> None:
    assert path.is_file(), f"{path.name} was not written"
    text = path.read_text(encoding="utf-8")
    assert len(text) > 1_000
    assert "<html" in text.lower() and text.rstrip().lower().endswith("</html>")


def test_fit_sample_evaluate(tmp_path: Path) -> None:
    stdout, out = run_example("fit_sample_evaluate.py", tmp_path)
    assert re.search(r"^overall score\s+0\.\d{3}$", stdout, re.MULTILINE), stdout
    assert "classification of 'income', holdout given" in stdout
    assert_html(out / "evaluation.html")
    synthetic = pd.read_csv(out / "synthetic.csv")
    assert synthetic.shape == (600, 15)
    assert synthetic["income"].isin(["<=50K", ">50K"]).all()


def test_private_fit_and_audit(tmp_path: Path) -> None:
    stdout, out = run_example("private_fit_and_audit.py", tmp_path)
    spent = re.search(r"^epsilon_ = ([0-9.]+) \(asked 1\.0\)", stdout, re.MULTILINE)
    assert spent is not None, stdout
    assert 0 < float(spent.group(1)) <= 1.0
    assert "privacy ledger: epsilon =" in stdout
    assert re.search(r"public inputs\s+eps\s+0\.0000", stdout)  # the codebook is free
    assert "training" in stdout and "DP-SGD" in stdout
    assert re.search(r"^audit verdict: (LOW|MEDIUM|HIGH) RISK", stdout, re.MULTILINE), stdout
    assert_html(out / "audit.html")
    assert len(pd.read_csv(out / "synthetic_private.csv")) == 3_000


def test_rebalance_rare_class(tmp_path: Path) -> None:
    stdout, out = run_example("rebalance_rare_class.py", tmp_path)
    counts = re.search(r"^training rows of '>50K': real (\d+), real \+ synthetic (\d+)$",
                       stdout, re.MULTILINE)
    assert counts is not None, stdout
    before, after = int(counts.group(1)), int(counts.group(2))
    assert after > before
    assert "(all of that class: True)" in stdout

    table = pd.read_csv(out / "rebalanced_train.csv")
    assert table["synthetic"].sum() == after - before
    assert (table.loc[table["synthetic"], "income"] == ">50K").all()
    real_counts = table.loc[~table["synthetic"], "income"].value_counts()
    assert after == real_counts["<=50K"]  # balanced: the rare class caught up

    scores = pd.read_csv(out / "rebalance.csv", index_col=0)
    assert list(scores.index) == ["real", "real, balanced class weights", "real + synthetic"]
    assert scores.notna().all().all() and ((scores >= 0) & (scores <= 1)).all().all()
