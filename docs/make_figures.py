"""Regenerate the report pictures of the documentation site.

    python docs/make_figures.py

Fits tabgan on the bundled 3,000-row UCI Adult sample (small and seeded, about a
minute on two CPU cores), then writes the real outputs of ``tabgan.evaluate`` and
``tabgan.audit``:

- ``docs/reports/evaluation.html`` and ``docs/reports/audit.html``: the reports as
  ``report.to_html(path)`` writes them, unchanged;
- ``docs/img/evaluation_report.png`` and ``docs/img/audit_report.png``: screenshots of
  the top of those two pages, taken by a headless Chromium (``chromium-headless-shell``,
  ``chromium`` or ``google-chrome``, whichever is on the PATH; Debian:
  ``apt-get install chromium-headless-shell``). Without one, the screenshots are left as
  they are and a note says so.

Only the public API is used. Nothing here runs in CI; the files are committed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tabgan import Synthesizer, audit, evaluate
from tabgan.datasets import load_adult_sample

DOCS = Path(__file__).resolve().parent
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def screenshot(html: Path, png: Path, *, width: int, height: int) -> bool:
    """Write the top ``width`` x ``height`` pixels of ``html`` to ``png``."""
    browser = next((b for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        print(f"note: no headless Chromium on the PATH; {png.name} not updated", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={png}", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    print(f"wrote {png.relative_to(DOCS.parent)}")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train = load_adult_sample()
    holdout = load_adult_sample(holdout=True)
    synth = Synthesizer(epochs=args.epochs, random_state=args.seed).fit(train)
    synthetic = synth.sample(len(train), random_state=args.seed)

    reports = DOCS / "reports"
    reports.mkdir(exist_ok=True)
    img = DOCS / "img"

    evaluation = evaluate(train, synthetic, target="income", holdout=holdout,
                          random_state=args.seed, n_threads=1)
    evaluation.to_html(reports / "evaluation.html", max_plots=12)
    print(f"wrote docs/reports/evaluation.html (score {evaluation.score:.3f})")

    risks = audit(train, holdout, synthetic, random_state=args.seed)
    risks.to_html(reports / "audit.html")
    print("wrote docs/reports/audit.html")

    screenshot(reports / "evaluation.html", img / "evaluation_report.png", width=1100, height=1500)
    screenshot(reports / "audit.html", img / "audit_report.png", width=1100, height=1500)


if __name__ == "__main__":
    main()
