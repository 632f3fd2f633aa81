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
