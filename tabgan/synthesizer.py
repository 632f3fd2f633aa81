"""The user-facing estimator: ``Synthesizer().fit(df).sample(n)``."""

from __future__ import annotations

import inspect
import math
import queue
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import _validation as v
from ._threads import sampling_pool
from .columns import MISSING, OTHER, check_dataframe, py_scalar
from .errors import (
    ConditionError,
    InvalidDataError,
    InvalidParameterError,
    NotFittedError,
    PrivacyError,
)
from .layout import Layout
from .metadata import Metadata
from .networks import Discriminator, Generator, init_weights, materialize
from .sampler import ConditionalSampler, SpanSampler
from .training import TrainConfig, Trainer
from .transformer import DataTransformer, DiscreteInfo

__all__ = ["Synthesizer"]

# Rows per generator pass when sampling (several training-sized batches, each normalised
# on its own). On CUDA a pass of training-sized batches is launch-bound, so passes are
# large; on the CPU a few thousand rows keep the products in cache (Adult, 32k rows,
# bfloat16: 0.19 s at 500 rows per pass, 0.13 s at 4,000, 0.17 s at 16,000).
_SAMPLE_ROWS_PER_PASS_CUDA = 16_384
_SAMPLE_ROWS_PER_PASS_CPU = 4_096
# Passes planned at once (run side by side on the CPU's worker threads; see _threads.py).
_PASSES_PER_ROUND = 16
# Batches of conditional sampling's first round, which measures the rate rows are kept.
_PROBE_BATCHES = 4
# Rounds of at least this many full passes run on the worker threads (CPU).
_POOL_MIN_PASSES = 4


def _positive_or_none() -> v.Constraint:
    return v.Constraint(lambda x: x is None or (v._is_real(x) and x > 0), "None or a float > 0")


def _open_unit_or_none() -> v.Constraint:
    return v.Constraint(
        lambda x: x is None or (v._is_real(x) and 0 < x < 1), "None or a float in (0, 1)"
    )

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
    "ema_decay": v.Constraint(
        lambda x: x is None or (v._is_real(x) and 0 <= x < 1), "None or a float in [0, 1)"
    ),
    "n_modes": v.int_at_least(1),
    "weight_threshold": v.real_in(0, 1, hi_open=True),
    "max_gmm_samples": v.int_or_none_at_least(10),
    "max_categories": v.int_at_least(2),
    "device": v.device(),
    "precision": v.one_of("auto", "float32", "bfloat16"),
    "verbose": v.boolean(),
    "random_state": v.random_state(),
    "epsilon": _positive_or_none(),
    "delta": _open_unit_or_none(),
    "max_grad_norm": v.real_in(0, 1e6, lo_open=True),
    "preprocessing_share": v.real_in(0, 1, lo_open=True, hi_open=True),
    "accountant": v.one_of("rdp", "prv"),
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
    ema_decay:
        Sample from an exponential moving average of the generator's weights
        over training steps, with this decay per step (0.999: about the last
        1,000 steps; a shorter memory while training starts). ``None``: sample
        from the last weights, as CTGAN does. The average is the one addition
        to CTGAN's recipe among the defaults; on UCI Adult it raised the column
        shape score from 0.94 to 0.97 and the pair trend score from 0.90 to 0.94
        (``docs/benchmarks.md``). It costs one pass over the generator's
        weights per step and, under ``epsilon``, no privacy: the generator's
        weights are already private.
    n_modes, weight_threshold, max_gmm_samples, max_categories:
        Transformer settings (see :class:`tabgan.transformer.DataTransformer`).
    device:
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
    precision:
        Number format of the networks' matrix products. ``"float32"``, or
        ``"bfloat16"``: mixed precision, with weights, optimiser state, batch
        norm, losses and the output activations in float32 (about 1.5x faster
        training and 2x faster generation on CPUs with AVX-512 BF16 or AMX; slow
        where bfloat16 is emulated). ``"auto"`` picks bfloat16 on such CPUs and
        float32 elsewhere (on GPUs the step is launch-bound, so ask for
        ``"bfloat16"`` explicitly); private fits (``epsilon``) use float32 unless
        ``"bfloat16"`` is asked for.
    verbose:
        Show a progress bar with the losses.
    random_state:
        Seed or ``numpy.random.Generator``; the same seed on the same device
        gives the same model and samples. Global RNG state is never touched.
    epsilon:
        ``None`` (default): no privacy guarantee. A float: the fit is
        ``(epsilon, delta)``-differentially private with respect to adding or
        removing one row — preprocessing, conditional frequencies and training
        all included (see ``docs/privacy.md``). In this mode ``batch_size`` is
        the *expected* size of Poisson-sampled batches, the critic scores one
        row at a time (``pac`` is not used: PacGAN would let one row reach a
        group of rows), ``log_frequency`` shapes only the generator's own
        step (the critic compares real and generated rows under the noisy
        category frequencies), and the generator is also pulled towards the
        released marginals (free: post-processing). Private fits want other
        settings than the defaults: see ``docs/privacy.md``.
    delta:
        The delta of the guarantee; ``None`` gives ``min(1e-5, 0.1 / n)`` for
        ``n`` rows. Must be below ``1 / n``.
    max_grad_norm:
        Per-row clipping bound of the private critic's gradients.
    preprocessing_share:
        Share of ``epsilon`` (and ``delta``) spent on preprocessing: category
        lists and frequencies, missing rates, numeric histograms and, for
        numeric columns without declared bounds, their ranges. The rest trains
        the critic. Declared metadata costs nothing.
    accountant:
        ``"rdp"`` or ``"prv"``: Opacus's accountant for the training steps.

    With ``epsilon``, a ``random_state`` that others know lets them recompute
    the privacy noise: seed for reproducible experiments, but release models
    fitted with ``random_state=None`` (or a secret seed).

    Attributes
    ----------
    metadata_, transformer_, generator_, loss_history_, device_, precision_, n_rows_
        Set by :meth:`fit`; ``precision_`` is ``"float32"`` or ``"bfloat16"``.
    epsilon_, delta_, privacy_ledger_
        The guarantee obtained (``epsilon_ <= epsilon``) and a
        :class:`tabgan.privacy.PrivacyLedger` of every use of the real data.
        Without ``epsilon``: ``inf``, ``1.0`` and ``None``.
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
        ema_decay: float | None = 0.999,
        n_modes: int = 10,
        weight_threshold: float = 0.005,
        max_gmm_samples: int | None = 10_000,
        max_categories: int = 1000,
        device: str | torch.device = "auto",
        precision: str = "auto",
        verbose: bool = False,
        random_state: int | np.random.Generator | None = None,
        epsilon: float | None = None,
        delta: float | None = None,
        max_grad_norm: float = 1.0,
        preprocessing_share: float = 0.2,
        accountant: str = "rdp",
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
        self.ema_decay = ema_decay
        self.n_modes = n_modes
        self.weight_threshold = weight_threshold
        self.max_gmm_samples = max_gmm_samples
        self.max_categories = max_categories
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.preprocessing_share = preprocessing_share
        self.accountant = accountant

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
        if self.epsilon is None and self.batch_size % self.pac != 0:
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
        if self.epsilon is not None:
            return self._fit_private(data, metadata)
        meta = Metadata.detect(data, metadata)
        rng = v.check_random_state(self.random_state)
        device = v.resolve_device(self.device)
        precision = v.resolve_precision(self.precision, device)

        transformer = DataTransformer(
            n_modes=self.n_modes,
            weight_threshold=self.weight_threshold,
            max_gmm_samples=self.max_gmm_samples,
            max_categories=self.max_categories,
        ).fit(data, meta, rng=rng)
        encoded = torch.from_numpy(transformer.transform(data, rng=rng)).to(device)
        layout = transformer.layout_
        torch_rng = v.torch_generator(rng, device)

        generator, discriminator = self._networks(layout, device, precision, self.pac, torch_rng)
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

        self._set_fitted(meta, transformer, generator, discriminator, history, device,
                         precision, len(data), rng)
        self.epsilon_, self.delta_, self.privacy_ledger_ = math.inf, 1.0, None
        return self

    # ------------------------------------------------------- private fit
    def _fit_private(
        self, data: pd.DataFrame, metadata: Metadata | Mapping[str, Any] | None
    ) -> "Synthesizer":
        """The ``epsilon`` fit: every read of ``data`` is one entry of the privacy ledger."""
        from .privacy import accountant as acc
        from .privacy.dp_training import (
            PrivacyConfig,
            PrivateTrainer,
            marginal_targets,
            training_entry,
        )
        from .privacy.ledger import PrivacyLedger
        from .privacy.preprocessing import needs_ranges, private_metadata

        if self.epochs == 300 and self.batch_size == 500:
            warnings.warn(
                "epsilon is set but epochs and batch_size are the non-private CTGAN defaults "
                "(300, 500): the budget is shared by about 300 x rows/500 noisy critic steps, "
                "so each gets very little and quality suffers. docs/privacy.md recommends "
                "epochs=30, batch_size=1000, "
                "discriminator_dim=(64, 64), generator_lr=discriminator_lr=1e-3.",
                UserWarning,
                stacklevel=3,
            )

        n = len(data)
        delta = self.delta if self.delta is not None else acc.default_delta(n)
        if delta >= 1.0 / n:
            raise PrivacyError(
                f"delta={delta:.3g} is not below 1/n = {1.0 / n:.3g} for {n} rows: a mechanism "
                "that publishes a random row outright meets such a delta. Leave delta=None "
                f"(min(1e-5, 0.1/n) = {acc.default_delta(n):.3g}) or pass a smaller one."
            )
        meta = private_metadata(data, metadata)
        plan = acc.plan_budget(
            float(self.epsilon), delta, preprocessing_share=self.preprocessing_share,
            need_ranges=needs_ranges(meta),
        )
        # training noise first: an impossible budget is refused before any data is read
        q = min(1.0, self.batch_size / n)
        steps = self.epochs * max(n // self.batch_size, 1) * self.discriminator_steps
        sigma = acc.noise_multiplier(
            epsilon=plan.training[0], delta=plan.training[1], sample_rate=q, steps=steps,
            accountant=self.accountant,
        )
        rng = v.check_random_state(self.random_state)
        device = v.resolve_device(self.device)
        precision = v.resolve_precision(self.precision, device, private=True)
        transformer, entries = self._private_transformer(data, meta, plan, rng)
        encoded = torch.from_numpy(transformer.transform(data, rng=rng)).to(device)
        layout = transformer.layout_
        torch_rng = v.torch_generator(rng, device)
        generator, discriminator = self._networks(layout, device, precision, 1, torch_rng)
        sampler = ConditionalSampler(  # noisy counts; real rows are never indexed by category
            layout, _condition_counts(transformer), device=device, log_frequency=self.log_frequency
        )
        privacy = PrivacyConfig(
            sample_rate=q, noise_multiplier=sigma, max_grad_norm=float(self.max_grad_norm),
            steps=steps,
        )
        trainer = PrivateTrainer(
            privacy=privacy, marginals=marginal_targets(transformer, layout).to(device),
            config=self._train_config(), layout=layout, generator_net=generator,
            discriminator=discriminator, sampler=sampler, data=encoded, rng=torch_rng,
        )
        history = trainer.run(self.epochs, verbose=self.verbose)
        eps_train = acc.training_epsilon(
            noise_multiplier=sigma, sample_rate=q, steps=trainer.steps_taken,
            delta=plan.training[1], accountant=self.accountant,
        )
        entries.append(
            training_entry(
                trainer, epsilon=eps_train, delta=plan.training[1], accountant=self.accountant
            )
        )
        ledger = PrivacyLedger(
            entries=tuple(entries), target_epsilon=float(self.epsilon), target_delta=delta
        )
        self._set_fitted(meta, transformer, generator, discriminator, history, device,
                         precision, n, rng)
        self.privacy_ledger_ = ledger
        self.epsilon_, self.delta_ = ledger.epsilon, ledger.delta
        return self

    def _private_transformer(self, data, meta, plan, rng) -> tuple[DataTransformer, list]:
        """Preprocessing inside the budget: releases, then a transformer fitted on them alone."""
        from .privacy.preprocessing import (
            public_entry,
            release_marginals,
            release_ranges,
        )

        entries = [public_entry()]
        ranges: dict = {}
        if plan.ranges is not None:
            ranges, entry = release_ranges(
                data, meta, epsilon=plan.ranges[0], delta=plan.ranges[1], rng=rng
            )
            entries.append(entry)
        releases, entry = release_marginals(
            data, meta, ranges, epsilon=plan.marginals[0], delta=plan.marginals[1],
            max_categories=self.max_categories, rng=rng,
        )
        entries.append(entry)
        transformer = DataTransformer(
            n_modes=self.n_modes,
            weight_threshold=self.weight_threshold,
            max_gmm_samples=self.max_gmm_samples,
            max_categories=self.max_categories,
        ).fit_released(releases, meta, rng=rng)
        return transformer, entries

    def _networks(
        self, layout: Layout, device: torch.device, precision: str, pac: int,
        torch_rng: torch.Generator,
    ) -> tuple[Generator, Discriminator]:
        """Both networks, in ``precision``, initialised from ``torch_rng``."""
        if layout.width == 0:
            raise InvalidDataError(
                "Every column of the table is constant or entirely missing, so there is "
                "nothing for the generator to learn. Repeat the rows directly, or fit on a "
                "table with at least one column that varies."
            )
        generator = self._build_generator(layout, device, precision)
        discriminator = self._build_discriminator(layout, device, pac=pac)
        discriminator.compute_dtype = v.compute_dtype(precision)
        init_weights(generator, torch_rng)
        init_weights(discriminator, torch_rng)
        return generator, discriminator

    def _set_fitted(
        self, meta, transformer, generator, discriminator, history, device, precision, n, rng
    ) -> None:
        """The fitted attributes common to the plain and the private fit."""
        self.metadata_ = meta
        self.transformer_ = transformer
        self.generator_ = generator.eval()
        self.discriminator_ = discriminator.eval()
        self.loss_history_ = pd.DataFrame(history)
        self.device_ = device
        self.precision_ = precision
        self.n_rows_ = n
        self.sample_rng_ = v.torch_generator(rng, device)

    def _build_discriminator(self, layout: Layout, device: torch.device, *, pac: int):
        return materialize(
            lambda: Discriminator(
                layout.width + layout.condition_width,
                self.discriminator_dim,
                pac=pac,
                dropout=self.dropout,
                spectral_norm=self.spectral_norm,
            ),
            device,
        )

    def _extra_state(self) -> dict[str, Any]:
        """Saved with the model: the privacy ledger of a private fit."""
        if self.privacy_ledger_ is None:
            return {}
        return {"privacy_ledger": self.privacy_ledger_.to_dict()}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        from .privacy.ledger import PrivacyLedger

        if "privacy_ledger" in state:
            ledger = PrivacyLedger.from_dict(state["privacy_ledger"])
            self.privacy_ledger_ = ledger
            self.epsilon_, self.delta_ = ledger.epsilon, ledger.delta
        else:
            self.epsilon_, self.delta_, self.privacy_ledger_ = math.inf, 1.0, None

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
            ema_decay=None if self.ema_decay is None else float(self.ema_decay),
        )

    def _build_generator(self, layout: Layout, device: torch.device, precision: str) -> Generator:
        generator = materialize(
            lambda: Generator(
                self.embedding_dim, layout.condition_width, self.generator_dim, layout.width
            ),
            device,
        )
        generator.compute_dtype = v.compute_dtype(precision)
        return generator

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
        codes, values = self._generate(n, gen, targets)
        return self.transformer_.decode(codes, values, rng=decode_rng)

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
            key = MISSING if _is_missing(value) else py_scalar(value)
            if key not in info.categories:
                if info.other_values and key in info.other_values:
                    raise ConditionError(
                        f"Value {value!r} of column {column!r} is too rare to condition on "
                        f"(it is pooled with other rare values; raise max_categories)."
                    )
                shown = [c for c in info.categories if c not in (MISSING, OTHER)][:10]
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
    def _generate(
        self, n: int, gen: torch.Generator, targets: list[tuple[Any, int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` generated rows as (softmax-span choices, value scalars); see
        :meth:`DataTransformer.decode`.

        Every softmax span is drawn from the categorical distribution of its
        logits, the distribution of the entry that training's Gumbel-softmax
        weighs most (at any temperature), without computing the soft outputs.
        """
        layout = self.transformer_.layout_
        dev = self.device_
        sampler = ConditionalSampler(layout, _condition_counts(self.transformer_), device=dev)
        soft_spans = layout.softmax_spans
        pick = SpanSampler(layout, dev)
        tanh_cols = pick.index.tanh_cols
        batch = self.batch_size  # batch-norm statistics are taken over runs of this size
        # Several such batches go through the generator at once (each normalised on its
        # own), so that sampling runs large matrix products instead of many small ones.
        most = max(1, _rows_per_pass(dev, batch) // batch)
        # The rarest conditioned category goes into the conditional vector of a share of
        # the rows; the other rows draw their conditions as in unconditional sampling, and
        # only rows meeting every condition are kept. Not every row: batch norm removes
        # whatever all rows of a run share, so a condition given to a whole run would
        # reach only the output layer (see docs/model.md, "Sampling").
        native, share = None, 1.0
        checks = [(soft_spans.index(s), i) for s, i in targets if s is not None]
        if checks:
            span, index = min(
                ((s, i) for s, i in targets if s is not None), key=lambda t: self._count(*t)
            )
            cond_spans = list(layout.condition_spans)  # category spans are among them
            native = sum(s.width for s in cond_spans[: cond_spans.index(span)]) + index
            share = _native_share(len(cond_spans))
        budget = max(100 * n, 50 * batch) / share  # bounded effort for conditional sampling
        per_pass = batch * (most if checks else min(most, -(-n // batch)))
        # The output of a pass, transposed and with the softmax columns first: every span
        # is then a contiguous block of rows (see SpanSampler.draw).
        plan = self.generator_.plan(outputs=torch.cat([pick.cols, tanh_cols]))
        n_soft = len(pick.cols)
        pool, workers = sampling_pool(dev)  # CPU: whole passes on single-threaded workers
        buffers: queue.SimpleQueue = queue.SimpleQueue()  # one set per pass in flight
        for _ in range(workers):
            buffers.put((
                self.generator_.workspace(per_pass, dev),  # [h..., noise], reused by passes
                torch.empty(per_pass, self.embedding_dim, device=dev),  # noise
                torch.empty(layout.width, per_pass, device=dev),  # transposed output
            ))

        def one_pass(rows: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
            """``rows`` generated rows, drawn from their own seed: ``(spans, kept rows)``
            choices and ``(values, kept rows)`` scalars."""
            workspace, noise, columns = buffers.get()
            try:
                with torch.no_grad():  # grad mode is per thread
                    g = torch.Generator(device=dev)
                    g.manual_seed(seed)
                    flat = sampler.sample_index(rows, g, original=True, fixed=native, share=share)
                    z = torch.randn(rows, self.embedding_dim, generator=g, device=dev,
                                    out=noise[:rows])
                    raw = self.generator_.infer(
                        z, flat if sampler.n_columns else None, group=batch,
                        workspace=workspace, plan=plan,
                    )
                    out = columns[:, :rows]
                    out.copy_(raw.t())
                    values = torch.tanh(out[n_soft:])
                    codes = pick.draw(out[:n_soft], g)
                    if checks:
                        ok = torch.ones(rows, dtype=torch.bool, device=dev)
                        for k, i in checks:
                            ok &= codes[k] == i
                        codes, values = codes[:, ok], values[:, ok]
                    return codes, values
            finally:
                buffers.put((workspace, noise, columns))

        kept_codes: list[torch.Tensor] = []  # (spans, rows) and (values, rows): transposed
        kept_values: list[torch.Tensor] = []
        have, made = 0, 0
        # the passes' seeds come from a host generator: no device sync per round on CUDA
        seeder = torch.Generator()
        seeder.manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen, device=dev)))
        while have < n:
            if made >= budget:
                raise ConditionError(
                    f"Only {have} of {n} rows meeting the conditions were generated in "
                    f"{made} tries; the combination is too rare in what the model learned. "
                    "Relax the conditions or sample fewer rows."
                )
            # A round of passes: enough rows for what is missing at the rate rows are kept
            # so far (the first conditional round is a small probe of that rate), within
            # the effort bound, each pass with its own seed (see _plan_passes).
            rate = share if made == 0 else max(have, 1) / made
            wanted = batch * math.ceil((n - have) / max(rate * batch, 1.0))
            if checks and made == 0:
                wanted = min(wanted, _PROBE_BATCHES * batch)
            wanted = min(wanted, batch * max(1, -(-int(budget - made) // batch)))
            # Large rounds are split evenly and, on the CPU, run on the worker threads with
            # one thread per pass (their rows are then the same for any thread count).
            # Small ones run in the calling thread in passes as large as possible: split
            # over workers, their passes would cost more in fixed overhead than they gain.
            large = wanted >= _POOL_MIN_PASSES * per_pass
            if large:
                passes = _plan_passes(wanted // batch, per_pass // batch)[:_PASSES_PER_ROUND]
                passes = [batch * b for b in passes]
            else:
                passes = [per_pass] * (wanted // per_pass) + [wanted % per_pass] * bool(
                    wanted % per_pass
                )
            seeds = torch.randint(0, 2**62, (len(passes),), generator=seeder).tolist()
            if pool is not None and large:
                results = list(pool.map(one_pass, passes, seeds))
            else:
                results = [one_pass(r, sd) for r, sd in zip(passes, seeds)]
            for rows, (codes, values) in zip(passes, results):
                kept_codes.append(codes)
                kept_values.append(values)
                have += codes.shape[1]
                made += rows
        # back to one row per generated row (Fortran-ordered arrays: one column each)
        codes = torch.cat(kept_codes, 1)[:, :n].cpu().numpy().T
        values = torch.cat(kept_values, 1)[:, :n].cpu().numpy().T
        return codes, values

    def _count(self, span, index: int) -> int:
        info = next(i for i in self.transformer_.infos_ if i.name == span.column)
        return info.counts[index] if span.role == "category" else info.missing_counts[index]

    # ------------------------------------------------------------ persist
    def save(self, path: str) -> None:
        """Write the fitted model to ``path`` (safetensors weights + JSON, no pickle)."""
        from .persistence import save_model

        self._check_fitted()
        save_model(self, path)


def _plan_passes(batches: int, most: int) -> list[int]:
    """Split ``batches`` training-sized batches into passes of at most ``most`` batches,
    as even as possible, in a number of passes that is a multiple of 4 where there are
    enough batches (so that 2 or 4 workers share them evenly). The split depends on the
    work alone, never on the thread count, so neither do the rows."""
    count = max(-(-batches // most), min(4, batches))
    count = min(batches, -(-count // 4) * 4)
    base, extra = divmod(batches, count)
    return [base + 1] * extra + [base] * (count - extra)


def _native_share(n_condition_columns: int) -> float:
    """The share of generated rows given the conditioned category in conditional sampling:
    the rate at which training's sampler picks one column (one over their number), kept
    between 10 % (effort) and 50 % (a run of rows must not share one condition)."""
    return min(0.5, max(0.1, 1.0 / max(n_condition_columns, 1)))


def _rows_per_pass(device: torch.device, batch: int) -> int:
    return _SAMPLE_ROWS_PER_PASS_CUDA if device.type == "cuda" else _SAMPLE_ROWS_PER_PASS_CPU


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

