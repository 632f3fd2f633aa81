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
from .auxiliary import TargetModel, TargetSpec
from .calibration import Calibration
from .checkpoint import Checkpoint
from .critic import Discriminator
from .errors import InvalidDataError, InvalidParameterError
from .generation import generate
from .layout import Layout
from .metadata import UNMODELLED_KINDS, Metadata, declared_roles
from .networks import Generator, init_weights, materialize
from .parallel import DataParallel
from .privacy.ledger import LedgerEntry, PrivacyLedger
from .sampler import ConditionalSampler
from .selection import BestSnapshot, FidelityCheck, split_holdout
from .training import TrainConfig, Trainer
from .transformer import DataTransformer, DiscreteInfo

__all__ = ["CTGAN_RECIPE", "MAX_HOLDOUT_ROWS", "RECIPE_KEYS", "FitMode", "FitResult", "PlainFit", "build_generator",
           "build_networks", "check_target_column", "fit", "target_model", "train_config", "transformer_settings"]

#: The settings the library chooses where the user leaves ``None`` (see :func:`recipe`).
RECIPE_KEYS = ("epochs", "batch_size", "discriminator_dim", "generator_lr", "discriminator_lr")
#: Without epsilon: the published CTGAN recipe.
CTGAN_RECIPE = {"epochs": 300, "batch_size": 500, "discriminator_dim": (256, 256),
                "generator_lr": 2e-4, "discriminator_lr": 2e-4}
#: With epsilon: about this many critic steps per unit of epsilon, whatever the table's
#: size, and between these bounds (measured on Adult: docs/privacy.md).
PRIVATE_STEPS_PER_EPSILON = 2000
PRIVATE_STEPS = (500, 3000)


def private_steps(epsilon: float) -> int:
    """The critic steps of the private recipe at ``epsilon``: ``2000 * epsilon`` between
    500 and 3,000. More steps mean more noise in each; a small budget is best spent in
    few steps, a large one in more."""
    lo, hi = PRIVATE_STEPS
    return int(min(hi, max(lo, round(PRIVATE_STEPS_PER_EPSILON * float(epsilon)))))


def recipe(params: Mapping[str, Any], *, rows: int | None = None) -> dict[str, Any]:
    """``params`` with every setting of :data:`RECIPE_KEYS` left ``None`` chosen.

    Without ``rows`` (a plain fit): CTGAN's recipe. With ``rows`` (a private fit: the
    noisy row count, never the true one): a batch of about a thirtieth of the rows
    (between 64 and 1,000), epochs for about :func:`private_steps` critic steps at the
    fit's epsilon, a critic of two 64-unit layers and learning rates 1e-3
    (docs/privacy.md, "Settings for private fits"; measured on Adult at epsilon 0.3 to
    10). The table's width does not change it yet. A value the user set is always kept."""
    out = dict(params)
    if rows is None:
        chosen: dict[str, Any] = dict(CTGAN_RECIPE)
    else:
        batch = params["batch_size"] or int(min(1000, max(64, rows // 30)))
        per_epoch = max(rows // batch, 1)
        steps = private_steps(params["epsilon"])
        chosen = {"epochs": int(min(300, max(1, round(steps / per_epoch)))),
                  "batch_size": batch, "discriminator_dim": (64, 64),
                  "generator_lr": 1e-3, "discriminator_lr": 1e-3}
    for key in RECIPE_KEYS:
        if out[key] is None:
            out[key] = chosen[key]
    return out


#: Most training rows held out for the fidelity check of model selection.
MAX_HOLDOUT_ROWS = 5_000
#: Hidden widths of target conditioning's predictor (see tabgan.auxiliary).
TARGET_HIDDEN = (128, 128)
#: Its learning rate.
TARGET_LR = 1e-3
#: Rows generated per check: this many times the held-out rows (fewer noisy histograms).
CHECK_ROWS_PER_HELD_OUT = 4


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
    #: model selection's record (None without ``check_every``): best epoch and score,
    #: every check's score, rows held out, epochs trained
    selection: dict[str, Any] | None = None
    #: sampling's calibration to the training histograms (None: off, or a private fit)
    calibration: Calibration | None = None
    #: the values of RECIPE_KEYS the fit used
    settings: Mapping[str, Any] | None = None
    #: the columns declared ``omit``: never read, absent from the samples
    omitted: tuple[str, ...] = ()


class FitMode:
    """The steps of a fit that depend on its mode. ``params``: the estimator's parameters
    (:meth:`tabgan.Synthesizer.get_params`)."""

    #: whether "auto" precision should keep float32 (see ``resolve_precision``)
    private = False
    #: the row count a fit may report (a private fit: its noisy count); None: the table's
    released_rows: int | None = None

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params

    @property
    def pac(self) -> int:
        return int(self.params["pac"])

    def metadata(
        self, data: pd.DataFrame, declared: Metadata | Mapping[str, Any] | None,
        rng: np.random.Generator,
    ) -> Metadata:
        raise NotImplementedError

    def transformer(
        self, data: pd.DataFrame, meta: Metadata, rng: np.random.Generator
    ) -> tuple[DataTransformer, list[LedgerEntry]]:
        raise NotImplementedError

    def trainer(self, **parts: Any) -> Trainer:
        raise NotImplementedError

    def calibration(self, data: pd.DataFrame, meta: Metadata, seed: int) -> Calibration | None:
        """Sampling's calibration (None: off): plain, to the training table's histograms;
        private, to the released ones."""
        raise NotImplementedError

    def finish(
        self, trainer: Trainer, entries: list[LedgerEntry]
    ) -> tuple[float, float, PrivacyLedger | None]:
        """``(epsilon, delta, ledger)`` of the finished fit."""
        raise NotImplementedError


class PlainFit(FitMode):
    """A fit without a privacy guarantee."""

    def metadata(self, data, declared, rng):
        self.params = recipe(self.params)
        return Metadata.detect(data, declared, find_identifiers=True)

    def transformer(self, data, meta, rng):
        transformer = DataTransformer(**transformer_settings(self.params)).fit(data, meta, rng=rng)
        return transformer, []

    def trainer(self, **parts):
        parts["sampler"].attach_rows(parts["data"])
        return Trainer(**parts)

    def calibration(self, data, meta, seed):
        if self.params.get("calibrate") is None:
            return None
        modelled = [c for c in data.columns if meta[c].kind not in UNMODELLED_KINDS]
        return Calibration.fit(
            data[modelled], {c: meta[c].kind for c in modelled}, mode=self.params["calibrate"],
            rng=np.random.default_rng(seed), formats=meta.formats,
        )

    def finish(self, trainer, entries):
        return math.inf, 1.0, None


def fit(
    mode: FitMode, data: pd.DataFrame, metadata: Metadata | Mapping[str, Any] | None,
    checkpoint: Checkpoint | None = None, distributed: bool | None = None,
) -> FitResult:
    """Learn ``data``'s distribution in ``mode``: prepare, encode, train, finish.
    ``checkpoint``: save the fit's state every few epochs, or resume from it
    (:mod:`tabgan.checkpoint`). ``distributed``: train data-parallel over the processes
    of a ``torchrun`` job (:mod:`tabgan.parallel`; None: when there is one)."""
    parallel = DataParallel.join(distributed, v.resolve_device(mode.params["device"]).type)
    finished = False
    try:
        result = _fit(mode, data, metadata, checkpoint, parallel)
        finished = True
        return result
    finally:
        if parallel is not None:
            parallel.close(wait=finished)


def _fit(
    mode: FitMode, data: pd.DataFrame, metadata: Metadata | Mapping[str, Any] | None,
    checkpoint: Checkpoint | None, parallel: DataParallel | None,
) -> FitResult:
    seed = mode.params["random_state"]
    if parallel is not None:
        if mode.params.get("secure_mode"):
            raise InvalidParameterError(
                "secure_mode fits cannot run data-parallel yet: each process would draw "
                "its own privacy noise from the operating system. Run one process."
            )
        if seed is None:  # one seed for every process: they draw one stream
            seed = parallel.broadcast_seed()
    rng = v.check_random_state(seed)
    if checkpoint is not None:  # before any draw: a resumed fit redoes the same ones
        checkpoint.start(rng, mode.params)
    data, metadata, omitted = declared_roles(data, metadata, private=mode.private)
    meta = mode.metadata(data, metadata, rng)  # before anything else reads the data
    p = mode.params  # now with the library's choice of every setting left None (recipe)
    device = v.resolve_device(p["device"])
    if parallel is not None:
        device = parallel.device(device)
        if p["batch_size"] // mode.pac < parallel.world:
            raise InvalidParameterError(
                f"batch_size={p['batch_size']} with pac={mode.pac} gives "
                f"{p['batch_size'] // mode.pac} critic samples a step, fewer than the "
                f"{parallel.world} processes that share them; raise batch_size or run fewer "
                "processes."
            )
    precision = v.resolve_precision(p["precision"], device, private=mode.private)

    selecting = p.get("check_every") is not None and not mode.private
    holdout = None
    if selecting:  # rows for the fidelity check, never trained on
        keep, held = split_holdout(len(data), p["validation_size"], MAX_HOLDOUT_ROWS, rng)
        data, holdout = data.iloc[keep], data.iloc[held]
    transformer, entries = mode.transformer(data, meta, rng)
    calibration_seed = int(rng.integers(2**62))  # drawn always: `calibrate` never changes training
    calibration = mode.calibration(data, meta, calibration_seed)
    encoded = transformer.transform_compact(data, rng=rng).to(device)
    if parallel is not None:  # before any collective that the settings shape
        parallel.agree(_settings_digest(p), "settings")
        parallel.agree(encoded.digest() + _transformer_digest(transformer), "prepared table")
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
        parallel=parallel,
    )
    if p.get("target") is not None and not mode.private:
        trainer.target_model = target_model(p["target"], transformer, device, torch_rng)
        trainer.target_weight = float(p["target_weight"])
    best = monitor = None
    if holdout is not None:
        best = BestSnapshot(patience=p["patience"])
        monitor = _fidelity_monitor(p, transformer, generator, meta, holdout, best, rng)
    start, done, stopped = 0, [], False
    on_epoch = None
    if checkpoint is not None:
        start, done, stopped = checkpoint.restore(
            trainer, transformer, best, rng, encoded=encoded, device=device,
            precision=precision,
        )

        writes = parallel is None or parallel.rank == 0  # one process writes

        def on_epoch(epoch: int, history: list[dict[str, float]], stop: bool) -> None:
            if writes and (epoch % checkpoint.every == 0 or epoch == p["epochs"] or stop):
                checkpoint.save(epoch, trainer=trainer, transformer=transformer, best=best,
                                rng=rng, history=done + history, stopped=stop)
    if parallel is not None:  # e.g. a checkpoint that only some processes could read
        parallel.agree(f"{checkpoint is not None} {start} {stopped}",
                       "checkpoint to resume from (epoch)")
    try:
        history = done + trainer.run(
            start if stopped else p["epochs"],
            verbose=p["verbose"] and (parallel is None or parallel.rank == 0), monitor=monitor,
            check_every=p["check_every"] if selecting else 1, start=start, on_epoch=on_epoch,
        )
    except KeyboardInterrupt:
        if checkpoint is not None:
            checkpoint.interrupted()
        raise
    selection = None
    if best is not None:
        generator.load_state_dict(best.state)  # the best check's averaged weights
        selection = {
            "best_epoch": best.best_epoch, "best_score": best.best_score,
            "scores": [list(t) for t in best.scores], "held_out_rows": len(holdout),
            "epochs_trained": len(history),
        }
    if parallel is not None:  # every process ends with the same model, or the job fails
        parallel.agree(_weights_digest(generator), "trained generator")
    epsilon, delta, ledger = mode.finish(trainer, entries)
    return FitResult(
        metadata=meta, transformer=transformer, generator=generator.eval(),
        discriminator=discriminator.eval(), history=pd.DataFrame(history), device=device,
        precision=precision,
        n_rows=mode.released_rows if mode.released_rows is not None
        else len(data) + (0 if holdout is None else len(holdout)),
        rng=rng, epsilon=epsilon, delta=delta, ledger=ledger, selection=selection,
        calibration=calibration, settings={k: p[k] for k in RECIPE_KEYS},
        omitted=tuple(omitted),
    )


def _transformer_digest(transformer: DataTransformer) -> str:
    import hashlib
    import json

    text = json.dumps(transformer.to_dict(), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _settings_digest(p: Mapping[str, Any]) -> str:
    import json

    kept = {k: val for k, val in sorted(p.items()) if k != "verbose"}
    return json.dumps(kept, default=repr)


def _weights_digest(module: torch.nn.Module) -> str:
    import hashlib

    out = hashlib.sha256()
    for t in module.state_dict().values():
        out.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return out.hexdigest()


def check_target_column(target: str, columns: Any) -> None:
    """Raise :class:`InvalidParameterError` unless ``target`` is one of ``columns``."""
    names = list(map(str, columns))
    if target not in list(columns):
        raise InvalidParameterError(
            f"The target {target!r} is not a column of the table; pass one of "
            f"{names[:10]}{' ...' if len(names) > 10 else ''}."
        )


def target_model(
    target: str, transformer: DataTransformer, device: torch.device, rng: torch.Generator
) -> TargetModel | None:
    """Target conditioning's predictor for the discrete column ``target`` (a derived
    column's parent stands in for it); ``None`` for a column with a single category."""
    check_target_column(target, transformer.columns_)
    parents = {d.name: d.parent for d in transformer.derived_}
    column = parents.get(target, target)
    info = next((i for i in transformer.infos_ if i.name == column), None)
    if info is None:  # an identifier-like column: not modelled
        raise InvalidParameterError(
            f"The target {target!r} looks like an identifier (nearly every value distinct) and "
            "is not modelled; name another column, or declare its kind in the metadata."
        )
    if not isinstance(info, DiscreteInfo):
        raise InvalidParameterError(
            f"target conditioning needs a discrete or boolean target; {target!r} is "
            f"{info.kind}. Drop target= (numeric targets are not supported yet), or "
            "declare the column discrete in the metadata if it holds a few codes."
        )
    if not any(s.column == column and s.role == "category" for s in transformer.layout_.spans):
        return None  # a single category: nothing to predict
    spec = TargetSpec(transformer.layout_, column)
    return TargetModel(spec, TARGET_HIDDEN, lr=TARGET_LR, device=device, rng=rng)


def _fidelity_monitor(
    p: Mapping[str, Any], transformer: DataTransformer, generator: Generator, meta: Metadata,
    holdout: pd.DataFrame, best: BestSnapshot, rng: np.random.Generator,
):
    """The trainer's monitor of model selection: generate rows (the same noise at every
    check), score them against the held-out rows, keep the best weights in ``best``."""
    check = FidelityCheck(holdout, {c: meta[c].kind for c in holdout.columns}, rng=rng,
                          formats=meta.formats)
    seed = int(rng.integers(2**62))
    n = CHECK_ROWS_PER_HELD_OUT * len(holdout)
    device = next(generator.parameters()).device

    def snapshot() -> dict[str, torch.Tensor]:
        return {k: t.detach().clone() for k, t in generator.state_dict().items()}

    def monitor(epoch: int) -> tuple[float, bool]:
        gen = torch.Generator(device=device)
        gen.manual_seed(seed)
        codes, values = generate(generator, transformer, n, gen, [], batch=p["batch_size"])
        rows = transformer.decode(codes, values, rng=np.random.default_rng(seed))
        score = check.score(rows)
        return score, best.offer(epoch, score, snapshot)

    return monitor


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
    keys = ("n_modes", "weight_threshold", "max_gmm_samples", "max_categories",
            "min_category_rows", "point_share", "derive_columns", "joint_columns")
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
