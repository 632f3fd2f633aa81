"""The user-facing estimator: ``Synthesizer().fit(df).sample(n)``."""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import _validation as v
from .errors import ConditionError, InvalidParameterError, NotFittedError
from .layout import Layout
from .metadata import Metadata
from .networks import Discriminator, Generator, init_weights, materialize
from .sampler import ConditionalSampler
from .training import Trainer, TrainConfig, activate
from .transformer import _MISSING, _OTHER, DataTransformer, DiscreteInfo, _py, check_dataframe

__all__ = ["Synthesizer"]

_CONSTRAINTS: dict[str, v.Constraint] = {
    "epochs": v.int_at_least(1),
    "batch_size": v.int_at_least(2),
    "pac": v.int_at_least(1),
    "embedding_dim": v.int_at_least(1),
    "generator_dim": v.int_tuple(),
    "discriminator_dim": v.int_tuple(),
    "generator_lr": v.real_in(0, 1, lo_open=True),
    "discriminator_lr": v.real_in(0, 1, lo_open=True),
    "generator_decay": v.real_in(0, 1),
    "discriminator_decay": v.real_in(0, 1),
    "betas": v.betas(),
    "discriminator_steps": v.int_at_least(1),
    "loss": v.one_of("wgan-gp", "gan"),
    "gp_weight": v.real_in(0, 1e6),
    "spectral_norm": v.boolean(),
    "label_smoothing": v.real_in(0, 0.5),
    "dropout": v.real_in(0, 1, hi_open=True),
    "tau": v.real_in(0, 100, lo_open=True),
    "log_frequency": v.boolean(),
    "n_modes": v.int_at_least(1),
    "weight_threshold": v.real_in(0, 1, hi_open=True),
    "max_gmm_samples": v.int_or_none_at_least(10),
    "max_categories": v.int_at_least(2),
    "device": v.device(),
    "verbose": v.boolean(),
    "random_state": v.random_state(),
}


class Synthesizer:
    """A conditional Wasserstein GAN (CTGAN family) for mixed-type tables.

    All parameters are keyword-only; defaults follow the published CTGAN
    recipe, so quality compares with the ``ctgan`` package like for like.

    Parameters
    ----------
    epochs:
        Passes over the table; each has ``len(df) // batch_size`` steps.
    batch_size:
        Rows per step; must be a multiple of ``pac``.
    pac:
        PacGAN group size: the critic judges ``pac`` rows at once.
    embedding_dim:
        Size of the generator's noise input.
    generator_dim, discriminator_dim:
        Hidden layer widths (residual blocks in the generator).
    generator_lr, discriminator_lr, generator_decay, discriminator_decay, betas:
        Adam settings.
    discriminator_steps:
        Critic updates per generator update.
    loss:
        ``"wgan-gp"`` (Wasserstein loss) or ``"gan"`` (non-saturating logistic loss).
    gp_weight:
        Weight of the gradient penalty on real/fake interpolates (0 turns it off).
    spectral_norm:
        Spectral normalisation of the critic's layers.
    label_smoothing:
        One-sided label smoothing of real targets, used with ``loss="gan"``.
    dropout:
        Dropout rate in the critic.
    tau:
        Gumbel-softmax temperature of the generator's discrete outputs.
    log_frequency:
        Draw training conditions by log-frequency of categories (CTGAN) rather
        than frequency.
    n_modes, weight_threshold, max_gmm_samples, max_categories:
        Transformer settings (see :class:`tabgan.transformer.DataTransformer`).
    device:
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
    verbose:
        Show a progress bar with the losses.
    random_state:
        Seed or ``numpy.random.Generator``; the same seed on the same device
        gives the same model and samples. Global RNG state is never touched.

    Attributes
    ----------
    metadata_, transformer_, generator_, loss_history_, device_, n_rows_
        Set by :meth:`fit`.
    """

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        pac: int = 10,
        embedding_dim: int = 128,
        generator_dim: tuple[int, ...] = (256, 256),
        discriminator_dim: tuple[int, ...] = (256, 256),
        generator_lr: float = 2e-4,
        discriminator_lr: float = 2e-4,
        generator_decay: float = 1e-6,
        discriminator_decay: float = 1e-6,
        betas: tuple[float, float] = (0.5, 0.9),
        discriminator_steps: int = 1,
        loss: str = "wgan-gp",
        gp_weight: float = 10.0,
        spectral_norm: bool = False,
        label_smoothing: float = 0.0,
        dropout: float = 0.5,
        tau: float = 0.2,
        log_frequency: bool = True,
        n_modes: int = 10,
        weight_threshold: float = 0.005,
        max_gmm_samples: int | None = 10_000,
        max_categories: int = 1000,
        device: str | torch.device = "auto",
        verbose: bool = False,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.pac = pac
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.generator_decay = generator_decay
        self.discriminator_decay = discriminator_decay
        self.betas = betas
        self.discriminator_steps = discriminator_steps
        self.loss = loss
        self.gp_weight = gp_weight
        self.spectral_norm = spectral_norm
        self.label_smoothing = label_smoothing
        self.dropout = dropout
        self.tau = tau
        self.log_frequency = log_frequency
        self.n_modes = n_modes
        self.weight_threshold = weight_threshold
        self.max_gmm_samples = max_gmm_samples
        self.max_categories = max_categories
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    # ---------------------------------------------------------- parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "Synthesizer":
        names = set(self._param_names())
        for key, value in params.items():
            if key not in names:
                raise InvalidParameterError(
                    f"Synthesizer has no parameter {key!r}. Valid: {sorted(names)}."
                )
            setattr(self, key, value)
        return self

    def _validate_params(self) -> None:
        v.validate_params("Synthesizer", self.get_params(), _CONSTRAINTS)
        if self.batch_size % self.pac != 0:
            raise InvalidParameterError(
                f"The 'batch_size' parameter of Synthesizer must be a multiple of 'pac' "
                f"({self.pac}). Got {self.batch_size} instead."
            )
        if self.label_smoothing > 0 and self.loss != "gan":
            raise InvalidParameterError(
                "label_smoothing only applies to loss='gan'; with the Wasserstein loss there "
                "are no labels. Set loss='gan' or label_smoothing=0."
            )

    def __repr__(self) -> str:
        defaults = Synthesizer().get_params()
        changed = {k: val for k, val in self.get_params().items() if val != defaults[k]}
        return "Synthesizer(" + ", ".join(f"{k}={val!r}" for k, val in changed.items()) + ")"

    # ---------------------------------------------------------------- fit
    def fit(
        self, data: pd.DataFrame, metadata: Metadata | Mapping[str, Any] | None = None
    ) -> "Synthesizer":
        """Learn the joint distribution of ``data``. Returns ``self``.

        ``metadata`` overrides the detected column kinds: a
        :class:`tabgan.Metadata` or ``{"column": "discrete", ...}``.
        """
        self._validate_params()
        check_dataframe(data)
        meta = Metadata.detect(data, metadata)
        rng = v.check_random_state(self.random_state)
        device = v.resolve_device(self.device)

        transformer = DataTransformer(
            n_modes=self.n_modes,
            weight_threshold=self.weight_threshold,
            max_gmm_samples=self.max_gmm_samples,
            max_categories=self.max_categories,
        ).fit(data, meta, rng=rng)
        encoded = torch.from_numpy(transformer.transform(data, rng=rng)).to(device)
        layout = transformer.layout_
        torch_rng = v.torch_generator(rng, device)

        generator = self._build_generator(layout, device)
        discriminator = materialize(
            lambda: Discriminator(
                layout.width + layout.condition_width,
                self.discriminator_dim,
                pac=self.pac,
                dropout=self.dropout,
                spectral_norm=self.spectral_norm,
            ),
            device,
        )
        init_weights(generator, torch_rng)
        init_weights(discriminator, torch_rng)
        sampler = ConditionalSampler(
            layout, _condition_counts(transformer), device=device, log_frequency=self.log_frequency
        ).attach_rows(encoded)
        trainer = Trainer(
            config=self._train_config(),
            layout=layout,
            generator_net=generator,
            discriminator=discriminator,
            sampler=sampler,
            data=encoded,
            rng=torch_rng,
        )
        history = trainer.run(self.epochs, verbose=self.verbose)

        self.metadata_ = meta
        self.transformer_ = transformer
        self.generator_ = generator.eval()
        self.discriminator_ = discriminator.eval()
        self.loss_history_ = pd.DataFrame(history)
        self.device_ = device
        self.n_rows_ = len(data)
        self.sample_rng_ = v.torch_generator(rng, device)
        return self

    def _train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            embedding_dim=self.embedding_dim,
            generator_lr=self.generator_lr,
            discriminator_lr=self.discriminator_lr,
            generator_decay=self.generator_decay,
            discriminator_decay=self.discriminator_decay,
            betas=tuple(self.betas),
            discriminator_steps=self.discriminator_steps,
            loss=self.loss,
            gp_weight=float(self.gp_weight),
            label_smoothing=float(self.label_smoothing),
            tau=float(self.tau),
        )

    def _build_generator(self, layout: Layout, device: torch.device) -> Generator:
        return materialize(
            lambda: Generator(
                self.embedding_dim + layout.condition_width, self.generator_dim, layout.width
            ),
            device,
        )

    # -------------------------------------------------------------- sample
    def _check_fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise NotFittedError(
                "This Synthesizer is not fitted yet; call fit(df) first (or tabgan.load(path))."
            )

    def sample(
        self,
        n: int,
        *,
        random_state: int | np.random.Generator | None = None,
        conditions: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Generate ``n`` synthetic rows with the columns, order and dtypes of the training table.

        Parameters
        ----------
        n:
            Number of rows.
        random_state:
            Seed for this call alone: the same seed gives the same rows (also
            after save/load). ``None`` continues the model's own sampling stream.
        conditions:
            ``{column: value}`` on discrete or boolean columns; every returned
            row satisfies all of them.
        """
        self._check_fitted()
        if not v._is_int(n) or n <= 0:
            raise InvalidParameterError(f"n must be a positive int (rows to sample). Got {n!r}.")
        if random_state is None:
            gen = self.sample_rng_
        else:
            gen = v.torch_generator(v.check_random_state(random_state), self.device_)
        decode_rng = np.random.default_rng(
            int(torch.randint(0, 2**62, (1,), generator=gen, device=self.device_))
        )
        targets = self._parse_conditions(conditions)
        encoded = self._generate(n, gen, targets)
        return self.transformer_.inverse_transform(encoded, rng=decode_rng)

    def _parse_conditions(self, conditions: Mapping[str, Any] | None) -> list[tuple[Any, int]]:
        """``[(span or None, category index)]`` for each condition; raises ConditionError."""
        if not conditions:
            return []
        if not isinstance(conditions, Mapping):
            raise ConditionError(
                f"conditions must be a dict {{column: value}}; got {type(conditions).__name__}."
            )
        infos = {info.name: info for info in self.transformer_.infos_}
        spans = {s.column: s for s in self.transformer_.layout_.spans if s.role == "category"}
        out = []
        for column, value in conditions.items():
            if column not in infos:
                raise ConditionError(
                    f"Unknown column {column!r} in conditions. Columns: {list(infos)}."
                )
            info = infos[column]
            if not isinstance(info, DiscreteInfo):
                raise ConditionError(
                    f"Column {column!r} is {info.kind}; conditions apply to discrete and "
                    "boolean columns only."
                )
            key = _MISSING if _is_missing(value) else _py(value)
            if key not in info.categories:
                if info.other_values and key in info.other_values:
                    raise ConditionError(
                        f"Value {value!r} of column {column!r} is too rare to condition on "
                        f"(it is pooled with other rare values; raise max_categories)."
                    )
                shown = [c for c in info.categories if c not in (_MISSING, _OTHER)][:10]
                raise ConditionError(
                    f"Column {column!r} has no category {value!r}. Known values include: {shown}."
                )
            index = info.categories.index(key)
            if info.counts[index] == 0:
                raise ConditionError(
                    f"Category {value!r} of column {column!r} was declared but never seen in "
                    "training, so the model cannot generate it."
                )
            out.append((spans.get(column), index))
        return out

    @torch.no_grad()
    def _generate(self, n: int, gen: torch.Generator, targets: list[tuple[Any, int]]) -> np.ndarray:
        layout = self.transformer_.layout_
        seg = layout.segment_tensors(self.device_)
        sampler = ConditionalSampler(
            layout, _condition_counts(self.transformer_), device=self.device_
        )
        batch = self.batch_size
        native = None  # the rarest conditioned category goes into the conditional vector
        checks = [(s, i) for s, i in targets if s is not None]
        if checks:
            cond_spans = list(layout.condition_spans)  # category spans are among them
            span, index = min(checks, key=lambda t: self._count(t[0], t[1]))
            offset = sum(s.width for s in cond_spans[: cond_spans.index(span)])
            native = sampler.fixed_condition(offset + index, batch)
        kept: list[torch.Tensor] = []
        have, made = 0, 0
        budget = max(100 * n, 50 * batch)  # bounded effort for conditional sampling
        while have < n:
            if made >= budget:
                raise ConditionError(
                    f"Only {have} of {n} rows meeting the conditions were generated in "
                    f"{made} tries; the combination is too rare in what the model learned. "
                    "Relax the conditions or sample fewer rows."
                )
            if native is None:
                cond, _ = sampler.sample_condition(batch, gen, original=True)
            else:
                cond = native
            noise = torch.randn(batch, self.embedding_dim, generator=gen, device=self.device_)
            out = activate(self.generator_(torch.cat([noise, cond], 1)), seg, self.tau, gen)
            made += batch
            if checks:
                ok = torch.ones(batch, dtype=torch.bool, device=self.device_)
                for s, i in checks:
                    ok &= out[:, s.start : s.end].argmax(1) == i
                out = out[ok]
            kept.append(out)
            have += out.shape[0]
        return torch.cat(kept)[:n].float().cpu().numpy()

    def _count(self, span, index: int) -> int:
        info = next(i for i in self.transformer_.infos_ if i.name == span.column)
        return info.counts[index] if span.role == "category" else info.missing_counts[index]

    # ------------------------------------------------------------ persist
    def save(self, path: str) -> None:
        """Write the fitted model to ``path`` (safetensors weights + JSON, no pickle)."""
        from .persistence import save_model

        self._check_fitted()
        save_model(self, path)


def _condition_counts(transformer: DataTransformer) -> list[list[int]]:
    by_name = {info.name: info for info in transformer.infos_}
    return [
        list(by_name[s.column].counts if s.role == "category" else by_name[s.column].missing_counts)
        for s in transformer.layout_.condition_spans
    ]


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or value is pd.NA
    except TypeError:
        return False
