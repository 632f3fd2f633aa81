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

__all__ = [
    "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "FORMAT", "FORMAT_VERSION", "read_model",
    "write_model",
]

FORMAT = "tabgan"
FORMAT_VERSION = 2  # 2: the generator reads its condition as a lookup (CondLinear)


#: A checkpoint of a fit in progress (:mod:`tabgan.checkpoint`): the same container.
CHECKPOINT_FORMAT = "tabgan-checkpoint"
CHECKPOINT_VERSION = 1
_WHAT = {FORMAT: "model", CHECKPOINT_FORMAT: "checkpoint"}


def write_model(
    path: str | os.PathLike, doc: dict[str, Any], tensors: dict[str, torch.Tensor], *,
    fmt: str = FORMAT, version: int = FORMAT_VERSION,
) -> None:
    """Write ``doc`` (JSON-able, without NaN or infinities) and ``tensors`` to ``path``,
    stamped with the format (``fmt``), its version and the library's version. The file
    is written beside ``path`` under another name and then renamed, so ``path`` holds
    the old file or the whole new one, never a part."""
    from safetensors.torch import save_file

    from . import __version__

    doc = {"format": fmt, "format_version": version, "tabgan_version": __version__, **doc}
    try:
        text = json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"The model holds a value that cannot be saved as JSON: {exc}") from exc
    tensors = {k: t.detach().to("cpu").contiguous() for k, t in tensors.items()}
    path = os.fspath(path)
    head, tail = os.path.split(path)
    tmp = os.path.join(head, f".partial-{os.getpid()}-{tail}")
    try:
        save_file(tensors, tmp, metadata={"tabgan": text})
        os.replace(tmp, path)
    except Exception as exc:  # a missing folder, a directory in the way, a full disk
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(
            f"Could not write {path!r} ({type(exc).__name__}: {exc}). Check that its "
            "directory exists and is writable, and that the path is not a directory."
        ) from exc
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_model(
    path: str | os.PathLike, *, fmt: str = FORMAT, version: int = FORMAT_VERSION,
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The JSON document and the tensors (on the CPU) of a model file (or, with
    ``fmt=CHECKPOINT_FORMAT``, of a checkpoint).

    Raises :class:`tabgan.ModelFileError` if the file is not a tabgan model, is
    corrupt, or was written in another format version.
    """
    from safetensors import SafetensorError, safe_open

    what = _WHAT[fmt]
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"No {what} file at {path!r}.")
    try:
        with safe_open(path, framework="pt", device="cpu") as fh:
            header = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(
            f"{path!r} is not a readable tabgan {what} (safetensors error: {exc})."
        ) from exc
    if "tabgan" not in header:
        raise ModelFileError(f"{path!r} is a safetensors file but not a tabgan {what}.")
    try:
        doc = json.loads(header["tabgan"])
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path!r} has a corrupt {what} description: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        other = _WHAT.get(doc.get("format")) if isinstance(doc, dict) else None
        raise ModelFileError(
            f"{path!r} is not a tabgan {what} file"
            + (f" (it is a tabgan {other})." if other else ".")
        )
    if doc.get("format_version") != version:
        raise ModelFileError(
            f"{path!r} uses {what} format version {doc.get('format_version')}, but this "
            f"tabgan reads version {version}. Re-fit or use the tabgan version "
            f"{doc.get('tabgan_version')} that wrote it."
        )
    return doc, tensors
