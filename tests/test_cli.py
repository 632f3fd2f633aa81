from __future__ import annotations

import pandas as pd
import pytest

from tabgan.cli import main

from .conftest import make_mixed

TINY_ARGS = ["--epochs", "2", "--batch-size", "40", "--pac", "4", "--seed", "0", "--quiet", "--device", "cpu"]


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "data.csv"
    make_mixed().to_csv(path, index=False)
    return path


def test_fit_then_sample_csv_and_parquet(csv, tmp_path, capsys):
    model = tmp_path / "m.tabgan"
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--discrete", "count",
                 "--precision", "float32"]) == 0
    assert "(float32 products); model written" in capsys.readouterr().out
    out_csv = tmp_path / "out.csv"
    assert main(["sample", str(model), "-n", "60", "-o", str(out_csv), "--seed", "1",
                 "--condition", "color=red", "--condition", "flag=True"]) == 0
    out = pd.read_csv(out_csv)
    assert len(out) == 60 and (out["color"] == "red").all() and out["flag"].all()
    out_pq = tmp_path / "out.parquet"
    assert main(["sample", str(model), "-n", "10", "-o", str(out_pq), "--seed", "1"]) == 0
    assert len(pd.read_parquet(out_pq)) == 10
    shards = str(tmp_path / "shards") + "/"
    assert main(["sample", str(model), "-n", "250", "-o", shards, "--seed", "1",
                 "--chunk-rows", "100", "--quiet"]) == 0
    assert "wrote 250 rows" in capsys.readouterr().out
    assert len(pd.read_parquet(shards)) == 250 and len(list((tmp_path / "shards").iterdir())) == 3
    zipped = tmp_path / "out.csv.zip"  # an archive: written in one piece
    assert main(["sample", str(model), "-n", "20", "-o", str(zipped), "--seed", "1"]) == 0
    assert len(pd.read_csv(zipped)) == 20
    assert main(["sample", str(model), "-n", "20", "-o", str(out_pq), "--chunk-rows", "0"]) == 2
    assert "chunk_rows must be a positive int" in capsys.readouterr().err


def test_cli_errors_are_one_line(csv, tmp_path, capsys):
    assert main(["fit", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "m.tabgan")]) == 2
    err = capsys.readouterr().err
    assert "No such file" in err and "Traceback" not in err
    assert main(["fit", str(csv), "-o", str(tmp_path / "m.tabgan"), "--epochs", "0"]) == 2
    assert "'epochs' parameter" in capsys.readouterr().err
    model = tmp_path / "m.tabgan"
    main(["fit", str(csv), "-o", str(model), *TINY_ARGS])
    assert main(["sample", str(model), "-n", "5", "-o", str(tmp_path / "o.csv"),
                 "--condition", "color=purple"]) == 2
    assert "no category" in capsys.readouterr().err
    assert main(["sample", str(model), "-n", "5", "-o", str(tmp_path / "o.csv"),
                 "--condition", "color"]) == 2


def test_fit_with_metadata_file(csv, tmp_path):
    meta = tmp_path / "meta.json"
    meta.write_text('{"columns": {"count": {"kind": "discrete"}}}')
    model = tmp_path / "m.tabgan"
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--metadata", str(meta)]) == 0
    from tabgan import load

    assert load(str(model)).metadata_["count"].kind == "discrete"


def test_demo_runs(capsys, tmp_path):
    out = tmp_path / "demo.csv"
    assert main(["demo", "--epochs", "1", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "UCI Adult" in text and "real vs synthetic" in text
    assert len(pd.read_csv(out)) == 3000


def test_fit_no_derive_and_no_joint_options(tmp_path):
    from tabgan import load

    from .test_relations import severity

    path = tmp_path / "sev.csv"
    severity(3000).to_csv(path, index=False)
    model = tmp_path / "m.tabgan"
    assert main(["fit", str(path), "-o", str(model), *TINY_ARGS]) == 0
    assert [d.name for d in load(str(model)).transformer_.derived_ if d.joint] == ["sev"]
    assert main(["fit", str(path), "-o", str(model), *TINY_ARGS, "--no-joint"]) == 0
    synth = load(str(model))
    assert synth.joint_columns is False and synth.transformer_.derived_ == []


def test_fit_ema_decay_option(csv, tmp_path, capsys):
    from tabgan import load

    model = tmp_path / "m.tabgan"
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--ema-decay", "none"]) == 0
    assert load(str(model)).ema_decay is None
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--ema-decay", "0.5"]) == 0
    assert load(str(model)).ema_decay == 0.5
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--ema-decay", "1"]) == 2
    assert "'ema_decay' parameter" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: not a number
        main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--ema-decay", "half"])


def test_fit_with_target_and_model_selection(csv, tmp_path, capsys):
    from tabgan import load

    model = tmp_path / "m.tabgan"
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--target", "color",
                 "--check-every", "1", "--patience", "5"]) == 0
    assert "model selection: best fidelity" in capsys.readouterr().out
    fitted = load(str(model))
    assert fitted.target == "color" and fitted.check_every == 1 and fitted.patience == 5
    assert fitted.selection_["epochs_trained"] == 2
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--target", "nope"]) == 2
    assert "not a column" in capsys.readouterr().err


def test_fit_privacy_by_default_and_secure_mode_options(csv, tmp_path, capsys):
    from tabgan import load

    model = tmp_path / "m.tabgan"
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--min-category-rows", "1"]) == 0
    assert load(str(model)).min_category_rows == 1
    # secure mode refuses a seed, with a one-line error
    assert main(["fit", str(csv), "-o", str(model), *TINY_ARGS, "--epsilon", "1",
                 "--secure-mode"]) == 2
    assert "random_state=None" in capsys.readouterr().err


def test_fit_reads_sdv_metadata_and_role_flags(tmp_path, capsys):
    """``--metadata`` takes SDV's JSON as well as tabgan's; ``--id`` and ``--omit``
    declare keys and left-out columns."""
    import json

    import numpy as np

    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({
        "booking": [f"B{i:04d}" for i in rng.permutation(n)],
        "day": (pd.Timestamp("2021-03-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"))
        .strftime("%d.%m.%Y"),
        "room": rng.choice(["single", "double"], n),
        "rate": rng.normal(100, 10, n).round(2),
        "memo": [f"free text {i}" for i in range(n)],
    })
    data = tmp_path / "bookings.csv"
    df.to_csv(data, index=False)
    sdv = {"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "primary_key": "booking", "columns": {
        "booking": {"sdtype": "id"}, "day": {"sdtype": "datetime", "datetime_format": "%d.%m.%Y"},
        "room": {"sdtype": "categorical"}, "rate": {"sdtype": "numerical"},
        "memo": {"sdtype": "categorical"}}}
    meta = tmp_path / "metadata.json"
    meta.write_text(json.dumps(sdv))
    model, out = tmp_path / "m.tabgan", tmp_path / "out.csv"
    assert main(["fit", str(data), "-o", str(model), *TINY_ARGS, "--metadata", str(meta),
                 "--omit", "memo"]) == 0
    assert main(["sample", str(model), "-n", "150", "-o", str(out), "--seed", "1"]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["booking", "day", "room", "rate"]
    assert got["booking"].is_unique and got["booking"].str.fullmatch(r"B\d{4}").all()
    assert pd.to_datetime(got["day"], format="%d.%m.%Y").notna().all()
    assert main(["fit", str(data), "-o", str(model), *TINY_ARGS, "--id", "booking,memo"]) == 0
    got = pd.read_csv(tmp_path / "again.csv") if main(
        ["sample", str(model), "-n", "50", "-o", str(tmp_path / "again.csv")]) == 0 else None
    assert got is not None and got["memo"].is_unique
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"columns": {"room": {"sdtype": "hotel_room"}}}))
    capsys.readouterr()
    assert main(["fit", str(data), "-o", str(model), *TINY_ARGS, "--metadata", str(bad)]) == 2
    assert "SDV sdtype 'hotel_room'" in capsys.readouterr().err


def test_every_subcommand_and_flag_is_documented():
    """docs/cli.md names every subcommand and every option of the parser (a flag added
    without its line in the reference fails here)."""
    import argparse
    from pathlib import Path

    from tabgan.cli import build_parser

    doc = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, sub in subparsers.choices.items():
        if f"tabgan {name}" not in doc:
            missing.append(f"tabgan {name}")
        for action in sub._actions:
            missing += [f"{name} {o}" for o in action.option_strings
                        if o.startswith("--") and o != "--help" and f"`{o}" not in doc]
    assert not missing, f"not in docs/cli.md: {missing}"
