"""Saving and loading fitted synthesizers without pickle.

A ``.tabgan`` file is one safetensors file: the generator's weights (and the
sampling RNG state) as tensors, and everything else — configuration,
metadata, transformer parameters, layout, loss history, library version,
and for a private fit its privacy ledger — as a JSON document in the
safetensors header. Loading parses JSON and
tensors only, so an untrusted file cannot run code.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np
import pandas as pd
import torch

from .errors import ModelFileError
from .layout import Layout
from .metadata import Metadata

__all__ = ["save_model", "load", "FORMAT", "FORMAT_VERSION"]

FORMAT = "tabgan"
FORMAT_VERSION = 2  # 2: the generator reads its condition as a lookup (CondLinear)


def save_model(synth: Any, path: str | os.PathLike) -> None:
    from safetensors.torch import save_file

    from . import __version__

    tr = synth.transformer_
    params = synth.get_params()
    params["random_state"] = None  # a Generator is not JSON; the fitted state is saved instead
    params["device"] = str(params["device"])
    params["generator_dim"] = list(params["generator_dim"])
    params["discriminator_dim"] = list(params["discriminator_dim"])
    params["betas"] = list(params["betas"])
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tabgan_version": __version__,
        "class": type(synth).__name__,
        "params": params,
        "metadata": synth.metadata_.to_dict(),
        "transformer": {
            "settings": {
                "n_modes": tr.n_modes,
                "weight_threshold": tr.weight_threshold,
                "max_gmm_samples": tr.max_gmm_samples,
                "max_categories": tr.max_categories,
                "point_share": tr.point_share,
            },
            "columns": tr.columns_,
            "infos": [
                {"type": type(i).__name__, **dataclasses.asdict(i)} for i in tr.infos_
            ],
            "layout": tr.layout_.to_list(),
            "private": bool(getattr(tr, "private_", False)),
        },
        "n_rows": synth.n_rows_,
        "precision": synth.precision_,
        "loss_history": synth.loss_history_.to_dict(orient="list"),
        "extra": synth._extra_state() if hasattr(synth, "_extra_state") else {},
    }
    try:
        text = json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"The model holds a value that cannot be saved as JSON: {exc}") from exc
    tensors = {
        f"generator.{k}": t.detach().to("cpu").contiguous()
        for k, t in synth.generator_.state_dict().items()
    }
    tensors["sample_rng_state"] = synth.sample_rng_.get_state().to("cpu")
    save_file(tensors, os.fspath(path), metadata={"tabgan": text})


def load(path: str | os.PathLike, *, device: str | torch.device = "auto") -> Any:
    """Load a model written by :meth:`Synthesizer.save`.

    Raises :class:`tabgan.ModelFileError` if the file is not a tabgan model,
    is corrupt, or was written by an incompatible format version.
    """
    from safetensors import SafetensorError, safe_open

    from ._validation import resolve_device
    from .synthesizer import Synthesizer
    from .transformer import DataTransformer, DiscreteInfo, NumericInfo

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"No model file at {path!r}.")
    try:
        with safe_open(path, framework="pt", device="cpu") as fh:
            header = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(
            f"{path!r} is not a readable tabgan model (safetensors error: {exc})."
        ) from exc
    if "tabgan" not in header:
        raise ModelFileError(f"{path!r} is a safetensors file but not a tabgan model.")
    try:
        doc = json.loads(header["tabgan"])
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path!r} has a corrupt model description: {exc}") from exc
    if doc.get("format") != FORMAT:
        raise ModelFileError(f"{path!r} is not a tabgan model file.")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path!r} uses model format version {doc.get('format_version')}, but this "
            f"tabgan reads version {FORMAT_VERSION}. Re-fit or use the tabgan version "
            f"{doc.get('tabgan_version')} that wrote it."
        )
    try:
        params = dict(doc["params"])
        params["generator_dim"] = tuple(params["generator_dim"])
        params["discriminator_dim"] = tuple(params["discriminator_dim"])
        params["betas"] = tuple(params["betas"])
        # files written before ema_decay existed hold the last weights, not an average:
        # say so rather than report the new default
        params.setdefault("ema_decay", None)
        synth = Synthesizer(**params)
        dev = resolve_device(device)
        synth.device = str(dev) if device != "auto" else params["device"]

        tdoc = doc["transformer"]
        tr = DataTransformer(**tdoc["settings"])
        infos = []
        for item in tdoc["infos"]:
            item = dict(item)
            kind = item.pop("type")
            cls = {"NumericInfo": NumericInfo, "DiscreteInfo": DiscreteInfo}[kind]
            infos.append(cls(**item))
        tr.metadata_ = Metadata.from_dict(doc["metadata"])
        tr.columns_ = list(tdoc["columns"])
        tr.infos_ = infos
        tr.layout_ = Layout.from_list(tdoc["layout"])
        tr.private_ = bool(tdoc.get("private", False))

        precision = doc.get("precision", "float32")
        if precision not in ("float32", "bfloat16"):
            raise ValueError(f"unknown precision {precision!r}")
        generator = synth._build_generator(tr.layout_, dev, precision)
        state = {k[len("generator.") :]: t for k, t in tensors.items() if k.startswith("generator.")}
        generator.load_state_dict(state, strict=True)
        generator = generator.eval()

        synth.metadata_ = tr.metadata_
        synth.transformer_ = tr
        synth.generator_ = generator
        synth.loss_history_ = pd.DataFrame(doc["loss_history"])
        synth.device_ = dev
        synth.precision_ = precision
        synth.n_rows_ = int(doc["n_rows"])
        gen = torch.Generator(device=dev)
        try:
            gen.set_state(tensors["sample_rng_state"])
        except RuntimeError:
            # state written on another device type: start a fresh, seeded stream
            gen.manual_seed(int(np.frombuffer(tensors["sample_rng_state"].numpy()[:8], np.int64)[0]))
        synth.sample_rng_ = gen
        if hasattr(synth, "_load_extra_state"):
            synth._load_extra_state(doc.get("extra", {}))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path!r} is an incomplete or corrupt tabgan model: {exc}") from exc
    return synth
