"""One scenario of a data-parallel fit, for tests/test_parallel.py.

Run under ``torchrun`` (every rank runs it) or alone (the one-process reference):
``python _parallel_worker.py SCENARIO OUT [ARGS...]``. Rank 0 writes what the test compares
to OUT (JSON). Scenarios:

* ``plain`` / ``private``: a tiny seeded fit; the loss of every step, the first step's
  gradients, the loss history, epsilon and a few sampled rows;
* ``variants``: ``plain`` with a spectrally normalised critic, two critic steps a round,
  target conditioning and model selection;
* ``private_small``: ``private`` with a batch of 3 (steps with fewer rows than processes);
* ``different``: every rank is given another table (the fit must refuse);
* ``mismatch``: rank 1 is given other settings (the fit must refuse);
* ``crash``: rank 1 fails in its third step (the job must end, not hang);
* ``cli``: ``tabgan`` with the arguments after OUT; with ``TABGAN_TEST_CRASH_STEP`` set,
  rank 1 fails at that step of the first attempt (a restart by torchrun does not fail).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pandas as pd
import torch

torch.set_num_threads(1)

from tabgan import Synthesizer, training  # noqa: E402

RANK = int(os.environ.get("RANK", "0"))
FIRST_ATTEMPT = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0) == 0
METADATA = {
    "a": {"kind": "continuous", "lower": -4, "upper": 4},
    "d": {"kind": "continuous", "lower": 0, "upper": 8},
    "b": {"kind": "discrete", "categories": ["x", "y", "z"]},
    "c": {"kind": "discrete", "categories": ["0", "1", "2", "3", "4"]},
}


def table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    b = rng.choice(["x", "y", "z"], n)
    return pd.DataFrame({
        "a": rng.normal(size=n) + (b == "y"), "b": b,
        "c": rng.integers(0, 5, n).astype(str), "d": rng.exponential(size=n),
    })


steps: list[list[float]] = []
first: dict[str, list[list[float]]] = {}
_step = training.Trainer.train_step


def recorded_step(self):
    """The whole batch's losses of every step, and the first step's gradients."""
    crash = os.environ.get("TABGAN_TEST_CRASH_STEP")
    if crash and RANK == 1 and FIRST_ATTEMPT and len(steps) + 1 == int(crash):
        raise RuntimeError("injected failure of rank 1")
    d, g = _step(self)
    both = torch.stack([d, g]).detach().clone()
    if self.parallel is not None:
        self.parallel.sum_([both], mean=True)
    steps.append(both.tolist())
    if not first:
        first["critic"] = [p.grad.reshape(-1).tolist() for p in self.critic_pass.parameters]
        first["generator"] = [p.grad.reshape(-1).tolist() for p in self.G.parameters()
                              if p.grad is not None]
    return d, g


training.Trainer.train_step = recorded_step


def fit(scenario: str, data: pd.DataFrame) -> Synthesizer:
    settings = dict(epochs=2, batch_size=50, pac=10, random_state=1, precision="float32")
    private = scenario.startswith("private")
    if private:
        settings.update(epsilon=1.0, pac=1, batch_size=30)
    if scenario == "private_small":
        settings.update(batch_size=3, dropout=0.3, epochs=1)
    if scenario == "variants":
        settings.update(spectral_norm=True, discriminator_steps=2, target="b", check_every=1,
                        patience=1)
    if scenario == "mismatch" and RANK == 1:
        settings.update(epochs=3)
    return Synthesizer(**settings).fit(data, metadata=METADATA if private else None)


def main() -> None:
    scenario, out = sys.argv[1], sys.argv[2]
    if scenario == "cli":
        from tabgan.cli import main as cli

        code = cli(sys.argv[3:])
        if RANK == 0:
            with open(out, "w") as f:
                json.dump({"code": code, "steps": steps}, f)
        sys.exit(code)
    if scenario == "crash":
        os.environ["TABGAN_TEST_CRASH_STEP"] = "3"
    data = table(seed=RANK if scenario == "different" else 0)
    synth = fit(scenario, data)
    if RANK == 0:
        with open(out, "w") as f:
            json.dump({
                "steps": steps, "first": first,
                "history": synth.loss_history_.drop(columns="epoch").values.tolist(),
                "epsilon": synth.epsilon_,
                "sample": synth.sample(20, random_state=0)[["a", "d"]].values.tolist(),
            }, f)


if __name__ == "__main__":
    main()
