"""Private synthesis of UCI Adult: quality and cost at several epsilons, and without privacy.

Fits ``tabgan.Synthesizer(epsilon=...)`` on adult_train.csv (optionally a seeded
subsample), samples as many rows, and scores them against the real training rows
with ``tabgan.evaluate`` (column shapes, pair trends, train-on-synthetic /
test-on-real ROC AUC on adult_test.csv). Prints epsilon spent, fit time, seconds
per epoch and its ratio to the non-private fit with the same settings, and each
fit's privacy ledger.

Settings for private fits (docs/privacy.md): few epochs, a larger expected batch, a
small critic (the noise grows with the square root of its parameter count) and a
higher learning rate. The non-private fit uses the same settings (critic with
PacGAN, pac=10), so quality and cost compare like for like.

Public metadata (costs no budget): the category lists of the UCI codebook
(adult.names) and the bounds that follow from how the table was extracted
(age 17-90 top-coded, hours 1-99, education-num 1-16, capital-gain 0-99999
top-coded). fnlwgt and capital-loss get private ranges. ``--undeclared`` declares
nothing: categories, bounds and frequencies are all estimated privately.

    python benchmarks/privacy.py                                   # 1, 3, 10 and non-private
    python benchmarks/privacy.py --epochs 10 --rows 10000 --epsilons 1 --threads 2
    python benchmarks/privacy.py --library-settings --undeclared --epsilons 1 --skip-nonprivate

``--library-settings`` passes none of epochs, batch size, critic and learning rates: the
library chooses (a new user's fit: ``Synthesizer(epsilon=1.0)``).
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

import tabgan

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "datasets")

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=30, help="epochs of every fit")
parser.add_argument("--epsilons", default="1,3,10", help="comma-separated; 'none' adds nothing")
parser.add_argument("--rows", type=int, default=None, help="seeded subsample of the training rows")
parser.add_argument("--batch-size", type=int, default=1000, help="(expected) batch size")
parser.add_argument("--critic", default="64,64", help="discriminator_dim")
parser.add_argument("--lr", type=float, default=1e-3, help="generator and discriminator lr")
parser.add_argument("--skip-nonprivate", action="store_true")
parser.add_argument("--library-settings", action="store_true",
                    help="leave epochs, batch size, critic and learning rates to the library")
parser.add_argument("--undeclared", action="store_true", help="declare no metadata at all")
parser.add_argument("--threads", type=int, default=None, help="torch threads")
parser.add_argument("--device", default="auto")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--data", default=DATA)
parser.add_argument("--ema-decay", default="0.999",
                    help="ema_decay of every fit ('none': sample the last weights)")
parser.add_argument("--save-dir", default=None, help="also write each synthetic table here")
args = parser.parse_args()

if args.threads:
    import torch

    torch.set_num_threads(args.threads)

train = pd.read_csv(os.path.join(args.data, "adult_train.csv"))
test = pd.read_csv(os.path.join(args.data, "adult_test.csv"))
if args.rows and args.rows < len(train):
    train = train.sample(n=args.rows, random_state=args.seed).reset_index(drop=True)

CODEBOOK = {  # UCI adult.names; "?" (unknown) is read as missing
    "workclass": ["Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov", "Local-gov",
                  "State-gov", "Without-pay", "Never-worked"],
    "education": ["Bachelors", "Some-college", "11th", "HS-grad", "Prof-school", "Assoc-acdm",
                  "Assoc-voc", "9th", "7th-8th", "12th", "Masters", "1st-4th", "10th",
                  "Doctorate", "5th-6th", "Preschool"],
    "marital-status": ["Married-civ-spouse", "Divorced", "Never-married", "Separated",
                       "Widowed", "Married-spouse-absent", "Married-AF-spouse"],
    "occupation": ["Tech-support", "Craft-repair", "Other-service", "Sales", "Exec-managerial",
                   "Prof-specialty", "Handlers-cleaners", "Machine-op-inspct", "Adm-clerical",
                   "Farming-fishing", "Transport-moving", "Priv-house-serv", "Protective-serv",
                   "Armed-Forces"],
    "relationship": ["Wife", "Own-child", "Husband", "Not-in-family", "Other-relative",
                     "Unmarried"],
    "race": ["White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"],
    "sex": ["Female", "Male"],
    "native-country": ["United-States", "Cambodia", "England", "Puerto-Rico", "Canada",
                       "Germany", "Outlying-US(Guam-USVI-etc)", "India", "Japan", "Greece",
                       "South", "China", "Cuba", "Iran", "Honduras", "Philippines", "Italy",
                       "Poland", "Jamaica", "Vietnam", "Mexico", "Portugal", "Ireland",
                       "France", "Dominican-Republic", "Laos", "Ecuador", "Taiwan", "Haiti",
                       "Columbia", "Hungary", "Guatemala", "Nicaragua", "Scotland", "Thailand",
                       "Yugoslavia", "El-Salvador", "Trinadad&Tobago", "Peru", "Hong",
                       "Holand-Netherlands"],
    "income": [">50K", "<=50K"],
}
BOUNDS = {"age": (17, 90), "education-num": (1, 16), "capital-gain": (0, 99999),
          "hours-per-week": (1, 99)}
metadata = {c: {"kind": "discrete", "categories": cats} for c, cats in CODEBOOK.items()}
metadata.update({c: {"kind": "integer", "lower": lo, "upper": hi} for c, (lo, hi) in BOUNDS.items()})
if args.undeclared:
    metadata = None

runs = [] if args.epsilons.strip().lower() == "none" else [float(e) for e in args.epsilons.split(",")]
if not args.skip_nonprivate:
    runs.append(None)

print(f"train {train.shape}, test {test.shape}, "
      + ("settings: the library's, " if args.library_settings else
         f"epochs {args.epochs}, batch {args.batch_size}, critic {args.critic}, lr {args.lr}, ")
      + f"threads {args.threads or 'default'}, "
      f"metadata {'none' if args.undeclared else 'public codebook'}")
rows, ledgers = [], {}
for eps in runs:
    chosen = {} if args.library_settings else dict(
        epochs=args.epochs, batch_size=args.batch_size,
        discriminator_dim=tuple(int(w) for w in args.critic.split(",")),
        generator_lr=args.lr, discriminator_lr=args.lr)
    synth = tabgan.Synthesizer(
        epsilon=eps, device=args.device, random_state=args.seed, **chosen,
        ema_decay=None if args.ema_decay.lower() == "none" else float(args.ema_decay),
    )
    t0 = time.perf_counter()
    synth.fit(train, metadata=metadata if eps is not None else None)
    fit_s = time.perf_counter() - t0
    synthetic = synth.sample(len(train), random_state=args.seed)
    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)
        synthetic.to_csv(os.path.join(args.save_dir, f"adult_tabgan_eps{eps}.csv"), index=False)
    report = tabgan.evaluate(train, synthetic, target="income", holdout=test,
                             random_state=args.seed, detection=False, n_threads=args.threads)
    rows.append({
        "epsilon asked": "none" if eps is None else eps,
        "epsilon spent": synth.epsilon_,
        "delta": synth.delta_,
        "shape": report.column_shape,
        "trend": report.pair_trend,
        "TSTR AUC": report.utility["synthetic"]["roc_auc"],
        "real AUC": report.utility["real"]["roc_auc"],
        "fit s": fit_s,
        "settings": ",".join(f"{k}={v}" for k, v in synth.settings_.items()),
        "s/epoch": fit_s / synth.settings_["epochs"],
    })
    if synth.privacy_ledger_ is not None:
        ledgers[eps] = synth.privacy_ledger_
    print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format=lambda x: f"{x:.4g}"),
          flush=True)

table = pd.DataFrame(rows)
base = table.loc[table["epsilon asked"] == "none", "s/epoch"]
if len(base):
    table["cost vs non-private"] = table["s/epoch"] / float(base.iloc[0])
print()
print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
for ledger in ledgers.values():
    print()
    print(ledger)
