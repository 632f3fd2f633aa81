"""The model file format: one safetensors file, tensors plus one JSON document.

A ``.tabgan`` file holds the tensors an object saves (the generator's weights, the
sampling RNG state) and, in the safetensors header, one JSON document with
everything else (configuration, metadata, transformer, layout, loss history,
library version, a private fit's ledger). Reading parses JSON and tensors only, so
an untrusted file cannot run code.

This module knows the format and nothing of what is inside: each object writes and
reads its own part (:meth:`tabgan.Synthesizer.save`, :func:`tabgan.load`,
:meth:`tabgan.transformer.DataTransformer.to_dict`).
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch

from .errors import ModelFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "read_model", "write_model"]

FORMAT = "tabgan"
FORMAT_VERSION = 2  # 2: the generator reads its condition as a lookup (CondLinear)


def write_model(path: str | os.PathLike, doc: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Write ``doc`` (JSON-able, without NaN or infinities) and ``tensors`` to ``path``,
    stamped with the format, its version and the library's version."""
    from safetensors.torch import save_file

    from . import __version__

    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "tabgan_version": __version__,
           **doc}
    try:
        text = json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"The model holds a value that cannot be saved as JSON: {exc}") from exc
    tensors = {k: t.detach().to("cpu").contiguous() for k, t in tensors.items()}
    save_file(tensors, os.fspath(path), metadata={"tabgan": text})


def read_model(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The JSON document and the tensors (on the CPU) of a model file.

    Raises :class:`tabgan.ModelFileError` if the file is not a tabgan model, is
    corrupt, or was written in another format version.
    """
    from safetensors import SafetensorError, safe_open

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
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{path!r} is not a tabgan model file.")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path!r} uses model format version {doc.get('format_version')}, but this "
            f"tabgan reads version {FORMAT_VERSION}. Re-fit or use the tabgan version "
            f"{doc.get('tabgan_version')} that wrote it."
        )
    return doc, tensors
