"""Checkpoints of a fit in progress, and resuming from one.

``Synthesizer.fit(df, checkpoint=path, checkpoint_every=5)`` writes, every
``checkpoint_every`` epochs, one file (the model file's container: safetensors plus one
JSON document, never pickle; written under another name and renamed, so the file is
always a whole checkpoint) holding everything the remaining epochs depend on:

* the generator and critic weights and buffers, both optimisers' states, the
  generator's weight average and its update count (:meth:`tabgan.training.Trainer.state`);
* the torch random generator's state (noise, conditions, dropout, DP-SGD's Poisson
  draws and noise) and the NumPy stream's state, both at the end of the epoch, and the
  NumPy stream's state at the start of the fit;
* model selection's best snapshot and scores, the loss history, the epochs done;
* a private fit's steps taken (the accountant's input);
* what the fit ran on: a SHA-256 digest of the encoded rows, the device type, the
  precision and the tabgan version, all checked on resume.

``fit(df, checkpoint=path, resume=True)`` prepares the fit again from the saved
starting state of the NumPy stream, which redoes the same draws: the same metadata, the
same transformer (for a private fit, the same releases, with the same noise, so that
nothing new is released), the same encoding and the same initial networks. It refuses a
checkpoint whose settings or prepared transformer differ from this fit's (another table,
other parameters), then loads the saved state and trains the remaining epochs. On the
CPU the result is bit for bit that of the uninterrupted fit with the same seed.

A private fit's checkpoint holds the noise stream's state: keep it as private as the
table and delete it after the fit. ``secure_mode`` fits refuse checkpoints.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .encoded import EncodedTable
from .errors import InvalidParameterError
from .persistence import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, read_model, write_model

__all__ = ["Checkpoint", "load_optimizer", "optimizer_state", "restarted"]

#: Parameters that may differ between a fit and its resumption (they change nothing saved).
_FREE = ("verbose",)


def optimizer_state(opt: Any, prefix: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """An optimiser's ``state_dict`` split into a JSON-able part and tensors named
    ``prefix.<param>.<name>``."""
    sd = opt.state_dict()
    doc: dict[str, Any] = {"param_groups": sd["param_groups"], "state": {}}
    tensors: dict[str, torch.Tensor] = {}
    for index, entry in sd["state"].items():
        kept = {}
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{index}.{name}"] = value
                kept[name] = "tensor"
            else:
                kept[name] = value
        doc["state"][str(index)] = kept
    return doc, tensors


def load_optimizer(opt: Any, doc: Mapping[str, Any], tensors: Mapping[str, torch.Tensor],
                   prefix: str) -> None:
    """Give ``opt`` the state that :func:`optimizer_state` split."""
    state = {}
    for index, entry in doc["state"].items():
        state[int(index)] = {
            name: tensors[f"{prefix}.{index}.{name}"] if value == "tensor" else value
            for name, value in entry.items()
        }
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else dict(g)
              for g in doc["param_groups"]]
    opt.load_state_dict({"state": state, "param_groups": groups})


def restarted(path: str | os.PathLike) -> bool:
    """Whether this process is a restart by ``torchrun`` (after a failure, with
    ``--max-restarts``) of a job whose checkpoint ``path`` exists: it then resumes from it
    rather than starting again."""
    if int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0) < 1:
        return False
    if not os.path.isfile(path):
        return False
    print(f"tabgan: restarted by torchrun; resuming from the checkpoint {os.fspath(path)}",
          file=sys.stderr)
    return True


def _settings(params: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in sorted(params.items()) if k not in _FREE}, default=repr)


class Checkpoint:
    """One fit's checkpoint file: where, how often, and whether to resume from it."""

    def __init__(self, path: str | os.PathLike, every: int = 1, resume: bool = False) -> None:
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise InvalidParameterError(
                f"checkpoint_every must be an int >= 1 (epochs between checkpoints). Got "
                f"{every!r}."
            )
        self.path = os.fspath(path)
        self.every = every
        self.resume = bool(resume)
        # refused now, not after the first epochs of training
        folder = os.path.dirname(os.path.abspath(self.path))
        if os.path.isdir(self.path) or not os.path.isdir(folder):
            raise InvalidParameterError(
                f"checkpoint={self.path!r} must be a file path in an existing directory "
                + ("(it is a directory)." if os.path.isdir(self.path) else
                   f"({folder!r} does not exist): create the directory first.")
            )
        self.saved: dict[str, Any] | None = None
        self.tensors: dict[str, torch.Tensor] = {}
        self.last_epoch: int | None = None

    # -------------------------------------------------------------- start
    def start(self, rng: np.random.Generator, params: Mapping[str, Any]) -> None:
        """Before anything else draws from ``rng``: note its state (a new fit), or give it
        the saved starting state (resuming), after checking the settings match."""
        if isinstance(params.get("random_state"), np.random.Generator):
            raise InvalidParameterError(
                "A checkpointed fit needs random_state=None or an int seed (a Generator's "
                "state cannot be matched on resume); pass the seed that made it."
            )
        self.settings = _settings(params)
        if not self.resume:
            self.initial = rng.bit_generator.state
            return
        doc, tensors = read_model(self.path, fmt=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION)
        if doc["settings"] != self.settings:
            raise InvalidParameterError(
                f"The checkpoint {self.path!r} was written by a fit with other settings; "
                "resume with the same Synthesizer parameters (and seed), or start afresh "
                "without resume=True."
            )
        self.saved, self.tensors = doc, tensors
        self.initial = doc["initial_rng"]
        rng.bit_generator.state = self.initial
        self.last_epoch = int(doc["epoch"])

    # ------------------------------------------------------------ restore
    def restore(
        self, trainer: Any, transformer: Any, best: Any, rng: np.random.Generator, *,
        encoded: EncodedTable, device: torch.device, precision: str,
    ) -> tuple[int, list[dict[str, float]], bool]:
        """Note what this fit runs on, and, resuming, check it is what the checkpoint ran
        on and load the saved state into the freshly prepared fit; returns the epochs
        done, their loss history and whether training had stopped (model selection's
        patience)."""
        from . import __version__

        self.context = {
            "table": encoded.digest(), "device": device.type, "precision": precision,
            "tabgan_version": __version__,
        }
        doc = self.saved
        if doc is None:
            return 0, [], False
        saved = doc["context"]
        if saved["table"] != self.context["table"] or doc["transformer"] != json.loads(
                json.dumps(transformer.to_dict())):
            raise InvalidParameterError(
                f"The checkpoint {self.path!r} was written while fitting another table (its "
                "encoded rows differ from this one's); resume with the same table, or start "
                "afresh without resume=True."
            )
        for key, what in (("device", "a device of type"), ("precision", "precision"),
                          ("tabgan_version", "tabgan")):
            if saved[key] != self.context[key]:
                raise InvalidParameterError(
                    f"The checkpoint {self.path!r} was written with {what} {saved[key]!r}, "
                    f"and this fit runs with {self.context[key]!r}: the rest of the fit "
                    "would not be the one that was interrupted. Resume where it ran (pass "
                    "device= and precision= explicitly), or start afresh."
                )
        trainer.load_state(doc["trainer"], self.tensors)
        rng.bit_generator.state = doc["rng"]
        if best is not None:
            best.load_state(doc["best"], {k[len("best."):]: t for k, t in self.tensors.items()
                                          if k.startswith("best.")})
        return int(doc["epoch"]), list(doc["history"]), bool(doc["stopped"])

    # --------------------------------------------------------------- save
    def save(self, epoch: int, *, trainer: Any, transformer: Any, best: Any,
             rng: np.random.Generator, history: list[dict[str, float]], stopped: bool) -> None:
        """Write the checkpoint of the end of ``epoch``."""
        state, tensors = trainer.state()
        best_doc = None
        if best is not None:
            best_doc, more = best.state_dict()
            tensors.update({f"best.{k}": t for k, t in more.items()})
        doc = {
            "epoch": int(epoch), "settings": self.settings, "initial_rng": self.initial,
            "rng": rng.bit_generator.state, "trainer": state, "history": history,
            "stopped": bool(stopped), "best": best_doc, "context": self.context,
            "transformer": transformer.to_dict(),
        }
        write_model(self.path, doc, tensors, fmt=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION)
        self.last_epoch = int(epoch)

    def interrupted(self) -> None:
        """Say where the last checkpoint is and how to resume (after Ctrl-C)."""
        if self.last_epoch is None:
            print(f"\ntabgan: fit interrupted before its first checkpoint ({self.path}).",
                  file=sys.stderr)
            return
        print(
            f"\ntabgan: fit interrupted; the checkpoint of epoch {self.last_epoch} is at "
            f"{self.path}. Resume with fit(df, checkpoint={self.path!r}, resume=True), or "
            f"'tabgan fit ... --checkpoint {self.path} --resume', with the same table and "
            "settings.",
            file=sys.stderr,
        )
