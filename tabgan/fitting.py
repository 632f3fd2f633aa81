"""One fit path for every mode: prepare → encode → train → finish.

:func:`fit` is the whole procedure behind :meth:`tabgan.Synthesizer.fit`. What differs
between a plain and a private fit is supplied by a :class:`FitMode`:

* :meth:`FitMode.metadata`: the column kinds (plain: detected from the values; private:
  declared or from dtypes, and the budget planned before any value is read);
* :meth:`FitMode.transformer`: the fitted transformer (plain: fitted on the table;
  private: fitted on noisy releases) and the ledger entries of its reads;
* :meth:`FitMode.trainer`: the trainer (plain: :class:`tabgan.training.Trainer`;
  private: :class:`tabgan.privacy.dp_training.PrivateTrainer`);
* :meth:`FitMode.finish`: the guarantee obtained (plain: none).

The private mode lives in :mod:`tabgan.privacy.fitting`; nothing here knows of it.
The networks are built here too (:func:`build_generator`, :func:`build_networks`),
and loading a saved model builds its generator the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import _validation as v
from .critic import Discriminator
from .errors import InvalidDataError
from .layout import Layout
from .metadata import Metadata
from .networks import Generator, init_weights, materialize
from .privacy.ledger import LedgerEntry, PrivacyLedger
from .sampler import ConditionalSampler
from .training import TrainConfig, Trainer
from .transformer import DataTransformer

__all__ = ["FitMode", "FitResult", "PlainFit", "build_generator", "build_networks", "fit",
           "train_config", "transformer_settings"]


@dataclass(frozen=True)
class FitResult:
    """Everything a fit learns (the estimator's fitted attributes)."""

    metadata: Metadata
    transformer: DataTransformer
    generator: Generator
    discriminator: Discriminator
    history: pd.DataFrame
    device: torch.device
    precision: str
    n_rows: int
    rng: np.random.Generator  # the fit's stream, continued by sampling
    epsilon: float
    delta: float
    ledger: PrivacyLedger | None


class FitMode:
    """The steps of a fit that depend on its mode. ``params``: the estimator's parameters
    (:meth:`tabgan.Synthesizer.get_params`)."""

    #: whether "auto" precision should keep float32 (see ``resolve_precision``)
    private = False

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params

    @property
    def pac(self) -> int:
        return int(self.params["pac"])

    def metadata(self, data: pd.DataFrame, declared: Metadata | Mapping[str, Any] | None) -> Metadata:
        raise NotImplementedError

    def transformer(
        self, data: pd.DataFrame, meta: Metadata, rng: np.random.Generator
    ) -> tuple[DataTransformer, list[LedgerEntry]]:
        raise NotImplementedError

    def trainer(self, **parts: Any) -> Trainer:
        raise NotImplementedError

    def finish(
        self, trainer: Trainer, entries: list[LedgerEntry]
    ) -> tuple[float, float, PrivacyLedger | None]:
        """``(epsilon, delta, ledger)`` of the finished fit."""
        raise NotImplementedError


class PlainFit(FitMode):
    """A fit without a privacy guarantee."""

    def metadata(self, data, declared):
        return Metadata.detect(data, declared)

    def transformer(self, data, meta, rng):
        transformer = DataTransformer(**transformer_settings(self.params)).fit(data, meta, rng=rng)
        return transformer, []

    def trainer(self, **parts):
        parts["sampler"].attach_rows(parts["data"])
        return Trainer(**parts)

    def finish(self, trainer, entries):
        return math.inf, 1.0, None


def fit(
    mode: FitMode, data: pd.DataFrame, metadata: Metadata | Mapping[str, Any] | None
) -> FitResult:
    """Learn ``data``'s distribution in ``mode``: prepare, encode, train, finish."""
    p = mode.params
    meta = mode.metadata(data, metadata)  # before anything else reads the data
    rng = v.check_random_state(p["random_state"])
    device = v.resolve_device(p["device"])
    precision = v.resolve_precision(p["precision"], device, private=mode.private)

    transformer, entries = mode.transformer(data, meta, rng)
    encoded = torch.from_numpy(transformer.transform(data, rng=rng)).to(device)
    layout = transformer.layout_
    torch_rng = v.torch_generator(rng, device)
    generator, discriminator = build_networks(
        p, layout, device, precision, pac=mode.pac, rng=torch_rng,
    )
    sampler = ConditionalSampler(
        layout, transformer.condition_counts(), device=device, log_frequency=p["log_frequency"]
    )
    trainer = mode.trainer(
        config=train_config(p), layout=layout, generator_net=generator,
        discriminator=discriminator, sampler=sampler, data=encoded, rng=torch_rng,
    )
    history = trainer.run(p["epochs"], verbose=p["verbose"])
    epsilon, delta, ledger = mode.finish(trainer, entries)
    return FitResult(
        metadata=meta, transformer=transformer, generator=generator.eval(),
        discriminator=discriminator.eval(), history=pd.DataFrame(history), device=device,
        precision=precision, n_rows=len(data), rng=rng, epsilon=epsilon, delta=delta,
        ledger=ledger,
    )


def train_config(p: Mapping[str, Any]) -> TrainConfig:
    return TrainConfig(
        epochs=p["epochs"],
        batch_size=p["batch_size"],
        embedding_dim=p["embedding_dim"],
        generator_lr=p["generator_lr"],
        discriminator_lr=p["discriminator_lr"],
        generator_decay=p["generator_decay"],
        discriminator_decay=p["discriminator_decay"],
        betas=tuple(p["betas"]),
        discriminator_steps=p["discriminator_steps"],
        loss=p["loss"],
        gp_weight=float(p["gp_weight"]),
        label_smoothing=float(p["label_smoothing"]),
        tau=float(p["tau"]),
        ema_decay=None if p["ema_decay"] is None else float(p["ema_decay"]),
    )


def transformer_settings(p: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("n_modes", "weight_threshold", "max_gmm_samples", "max_categories", "derive_columns")
    return {k: p[k] for k in keys}


def build_generator(
    p: Mapping[str, Any], layout: Layout, device: torch.device, precision: str
) -> Generator:
    """The generator for ``layout``, uninitialised, its products in ``precision``."""
    generator = materialize(
        lambda: Generator(p["embedding_dim"], layout.condition_width, p["generator_dim"],
                          layout.width),
        device,
    )
    generator.compute_dtype = v.compute_dtype(precision)
    return generator


def build_networks(
    p: Mapping[str, Any], layout: Layout, device: torch.device, precision: str, *, pac: int,
    rng: torch.Generator,
) -> tuple[Generator, Discriminator]:
    """Both networks, their products in ``precision``, initialised from ``rng``."""
    if layout.width == 0:
        raise InvalidDataError(
            "Every column of the table is constant or entirely missing, so there is "
            "nothing for the generator to learn. Repeat the rows directly, or fit on a "
            "table with at least one column that varies."
        )
    generator = build_generator(p, layout, device, precision)
    discriminator = materialize(
        lambda: Discriminator(
            layout.width + layout.condition_width, p["discriminator_dim"], pac=pac,
            dropout=p["dropout"], spectral_norm=p["spectral_norm"],
        ),
        device,
    )
    discriminator.compute_dtype = v.compute_dtype(precision)
    init_weights(generator, rng)
    init_weights(discriminator, rng)
    return generator, discriminator
