"""The user-facing estimator: ``Synthesizer().fit(df).sample(n)``."""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import _validation as v
from .calibration import POOL, Calibration
from .checkpoint import Checkpoint, restarted
from .columns import check_dataframe
from .errors import (
    ConditionError,
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
)
from .fitting import (
    CTGAN_RECIPE,
    RECIPE_KEYS,
    FitResult,
    PlainFit,
    build_generator,
    check_target_column,
    fit,
)
from .generation import condition_targets, generate
from .metadata import (
    UNMODELLED_KINDS,
    Metadata,
    declared_columns,
    omitted_columns,
    without_omitted,
)
from .persistence import read_model, write_model
from .transformer import DataTransformer

__all__ = ["Synthesizer", "load"]

def _positive_or_none() -> v.Constraint:
    return v.Constraint(lambda x: x is None or (v._is_real(x) and x > 0), "None or a float > 0")


def _open_unit_or_none() -> v.Constraint:
    return v.Constraint(
        lambda x: x is None or (v._is_real(x) and 0 < x < 1), "None or a float in (0, 1)"
    )

_CONSTRAINTS: dict[str, v.Constraint] = {
    "epochs": v.or_none(v.int_at_least(1)),
    "batch_size": v.or_none(v.int_at_least(2)),
    "pac": v.int_at_least(1),
    "embedding_dim": v.int_at_least(1),
    "generator_dim": v.int_tuple(),
    "discriminator_dim": v.or_none(v.int_tuple()),
    "generator_lr": v.or_none(v.real_in(0, 1, lo_open=True)),
    "discriminator_lr": v.or_none(v.real_in(0, 1, lo_open=True)),
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
    # the transformer's settings, checked by the transformer's own rules
    **{k: DataTransformer._constraints[k] for k in (
        "n_modes", "weight_threshold", "max_gmm_samples", "max_categories", "min_category_rows",
        "point_share", "derive_columns", "joint_columns",
    )},
    "check_every": v.int_or_none_at_least(1),
    "validation_size": v.real_in(0, 1, lo_open=True, hi_open=True),
    "patience": v.int_or_none_at_least(1),
    "target": v.Constraint(lambda x: x is None or isinstance(x, str), "None or a column name"),
    "target_weight": v.real_in(0, 1e6),
    "calibrate": v.Constraint(lambda x: x in (None, "marginals", "pairs"),
                              "None, 'marginals' or 'pairs'"),
    "device": v.device(),
    "precision": v.one_of("auto", "float32", "bfloat16"),
    "verbose": v.boolean(),
    "random_state": v.random_state(),
    "epsilon": _positive_or_none(),
    "delta": _open_unit_or_none(),
    "max_grad_norm": v.real_in(0, 1e6, lo_open=True),
    "preprocessing_share": v.real_in(0, 1, lo_open=True, hi_open=True),
    "accountant": v.one_of("rdp", "prv"),
    "secure_mode": v.boolean(),
}


#: Rows generated and written at a time by :meth:`Synthesizer.sample_to`.
DEFAULT_CHUNK_ROWS = 100_000


class Synthesizer:
    """A conditional Wasserstein GAN (CTGAN family) for mixed-type tables.

    All parameters are keyword-only; defaults follow the published CTGAN
    recipe, so quality compares with the ``ctgan`` package like for like.
    Five settings default to ``None``, the library's choice at fit time
    (:func:`tabgan.fitting.recipe`): without ``epsilon``, CTGAN's (300 epochs,
    batch 500, critic (256, 256), learning rates 2e-4); with ``epsilon``, a private
    recipe from the noisy row count (``docs/privacy.md``). A value you pass is always
    used. ``settings_`` holds the values a fit used.

    Parameters
    ----------
    epochs:
        Passes over the table; each has ``len(df) // batch_size`` steps.
        ``None``: see above.
    batch_size:
        Rows per step; must be a multiple of ``pac``. ``None``: see above.
    pac:
        PacGAN group size: the critic judges ``pac`` rows at once.
    embedding_dim:
        Size of the generator's noise input.
    generator_dim:
        Hidden layer widths of the generator (residual blocks).
    discriminator_dim:
        Hidden layer widths of the critic. ``None``: see above.
    generator_lr:
        The generator's Adam learning rate. ``None``: see above.
    discriminator_lr:
        The critic's Adam learning rate. ``None``: see above.
    generator_decay:
        The generator's Adam weight decay.
    discriminator_decay:
        The critic's Adam weight decay.
    betas:
        Adam's ``(beta1, beta2)``, for both networks.
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
        from the last weights, as CTGAN does. One of the additions to CTGAN's
        recipe among the defaults; when it was added (session 5), on UCI Adult it
        raised the column shape score from 0.94 to 0.97 and the pair trend score
        from 0.90 to 0.94 (``docs/changelog.md``). It costs one pass over the generator's
        weights per step and, under ``epsilon``, no privacy: the generator's
        weights are already private.
    n_modes:
        Transformer setting: the most mixture modes per numeric column (see
        :class:`tabgan.transformer.DataTransformer`).
    weight_threshold:
        Transformer setting: mixture modes with a smaller weight are dropped.
    max_gmm_samples:
        Transformer setting: the mixtures of numeric columns are fitted on a random
        subsample of at most this many values (``None``: never subsample).
    max_categories:
        Transformer setting: a discrete column with more distinct values keeps the
        most frequent ``max_categories - 1``; the rest share one bucket, drawn back by
        their observed frequencies.
    min_category_rows:
        Privacy by default: a value of a discrete column held by fewer training rows
        (10 by default) is never generated. Such values are pooled into one category,
        written back as ``"(other)"`` in a column of strings and as a missing value
        otherwise. Declared categories (metadata) and booleans are exempt; ``1``
        keeps every value.
    point_share:
        A numeric value held by at least this share of the rows (and by at least 20
        rows) is a point mass, encoded and generated exactly. ``None`` turns it off.
    derive_columns:
        Model a column that the training rows show to be a function of a discrete
        column (a category and its numeric code, a code and its label) through that
        column alone, and write it from the parent's value: the relation then holds in
        every generated row (``tabgan.relations``). Not used under ``epsilon``
        (finding relations reads the table).
    joint_columns:
        Model a pair of strongly dependent columns (a discrete column and a discrete
        or few-valued numeric one, such as a loan grade and its interest rate, or an
        injury severity and a death indicator) as one categorical column of their
        value pairs held by at least 20 rows, so that generated rows pair them as
        the real rows do (``tabgan.relations.find_joint``). Rarer pairs are not
        generated. Not used under ``epsilon``.
    check_every:
        Model selection (``tabgan.selection``). With ``check_every`` set, a share
        ``validation_size`` of the training rows (at most 5,000) is held out and never
        trained on; after every ``check_every``-th epoch and the last, rows generated
        from the averaged weights are scored against them (binned column marginals and
        column pairs, ``1 - TVD``), the progress bar shows the score, and the fit keeps
        the weights of the best check instead of the last ones. The record is in
        ``selection_``. ``None`` (the default): no check, every row trains, the last
        averaged weights are kept. Not used under ``epsilon`` (the check reads real
        rows outside the guarantee).
    validation_size:
        With ``check_every``: the share of the training rows held out for the checks
        (at most 5,000 rows).
    patience:
        With ``check_every``: stop training after this many checks in a row without
        improvement (``None``: train every epoch).
    target:
        Target conditioning (``tabgan.auxiliary``): name the discrete column that
        models trained on the synthetic rows will predict (``target="income"``). A
        small network learns on the real rows to predict it from the other columns,
        and the generator's distribution for the target is pulled, with weight
        ``target_weight``, towards that prediction from the columns it wrote
        (Kullback-Leibler divergence): every row's target is then drawn as the real
        rows would give it. Not available under ``epsilon`` (the predictor trains on
        real rows outside the guarantee).
    target_weight:
        With ``target``: the weight of the pull towards the predictor's distribution.
    calibrate:
        Calibrated sampling (``tabgan.calibration``). ``"pairs"`` (the default):
        :meth:`sample` draws twice the rows asked for from the generator and keeps the
        asked number, by weights that bring the binned histograms of every column and
        of column pairs (at most 200 pairs) to those of the training rows; no row is
        kept twice, and every kept row is generated. ``"marginals"``: columns only.
        ``None``: the generator's rows as they come. Histogram cells of fewer than
        20 training rows are neither corrected nor saved. Not used with
        ``conditions``. Under ``epsilon`` the histograms are the released (private)
        marginals, and only columns are calibrated, not pairs.
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
        the noisy row count ``n`` (the true count is never used). Must be below
        ``1 / n``.
    max_grad_norm:
        Per-row clipping bound of the private critic's gradients.
    preprocessing_share:
        Share of ``epsilon`` (and ``delta``) spent on preprocessing: category
        lists and frequencies, missing rates, numeric histograms and, for
        numeric columns without declared bounds, their ranges. The rest trains
        the critic. Declared metadata costs nothing.
    accountant:
        ``"rdp"`` or ``"prv"``: Opacus's accountant for the training steps.
    secure_mode:
        For a release: refuse a ``random_state`` (so the noise cannot come from a
        seed someone may know or guess); with ``epsilon`` only. See
        ``docs/privacy.md``, "Randomness".

    Notes
    -----
    With ``epsilon``, a ``random_state`` that others know lets them recompute
    the privacy noise: seed for reproducible experiments, but release models
    fitted with ``random_state=None`` (or a secret seed). Without a seed, the
    noise comes from the operating system's entropy and the sampling stream saved
    with the model is seeded afresh, never from the noise's stream.

    Attributes
    ----------
    metadata_, transformer_, generator_, loss_history_, device_, precision_, n_rows_
        Set by :meth:`fit`; ``precision_`` is ``"float32"`` or ``"bfloat16"``.
    settings_
        The values of ``epochs``, ``batch_size``, ``discriminator_dim``,
        ``generator_lr`` and ``discriminator_lr`` the fit used (yours, or the
        library's choice where you left ``None``).
    omitted_columns_
        The columns declared ``"omit"`` in the metadata: never read, absent from
        the samples.
    calibration_
        The training histograms of calibrated sampling (``None`` without it).
    selection_
        With ``check_every``: ``best_epoch``, ``best_score``, ``scores`` (``[epoch,
        score]`` per check), ``held_out_rows`` and ``epochs_trained``; else ``None``.
    epsilon_, delta_, privacy_ledger_
        The guarantee obtained (``epsilon_ <= epsilon``) and a
        :class:`tabgan.privacy.PrivacyLedger` of every use of the real data.
        Without ``epsilon``: ``inf``, ``1.0`` and ``None``.
    """

    def __init__(
        self,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        pac: int = 10,
        embedding_dim: int = 128,
        generator_dim: tuple[int, ...] = (256, 256),
        discriminator_dim: tuple[int, ...] | None = None,
        generator_lr: float | None = None,
        discriminator_lr: float | None = None,
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
        min_category_rows: int = 10,
        point_share: float | None = 0.005,
        derive_columns: bool = True,
        joint_columns: bool = True,
        check_every: int | None = None,
        validation_size: float = 0.1,
        patience: int | None = None,
        target: str | None = None,
        target_weight: float = 1.0,
        calibrate: str | None = "pairs",
        device: str | torch.device = "auto",
        precision: str = "auto",
        verbose: bool = False,
        random_state: int | np.random.Generator | None = None,
        epsilon: float | None = None,
        delta: float | None = None,
        max_grad_norm: float = 1.0,
        preprocessing_share: float = 0.2,
        accountant: str = "rdp",
        secure_mode: bool = False,
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
        self.min_category_rows = min_category_rows
        self.point_share = point_share
        self.derive_columns = derive_columns
        self.joint_columns = joint_columns
        self.check_every = check_every
        self.validation_size = validation_size
        self.patience = patience
        self.target = target
        self.target_weight = target_weight
        self.calibrate = calibrate
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.preprocessing_share = preprocessing_share
        self.accountant = accountant
        self.secure_mode = secure_mode

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
        batch = CTGAN_RECIPE["batch_size"] if self.batch_size is None else self.batch_size
        if self.epsilon is None and batch % self.pac != 0:
            raise InvalidParameterError(
                f"The 'batch_size' parameter of Synthesizer must be a multiple of 'pac' "
                f"({self.pac}). Got {batch}"
                + (" (the default)" if self.batch_size is None else "") + " instead."
            )
        if self.check_every is not None and self.epsilon is not None:
            raise InvalidParameterError(
                "model selection (check_every) is not available with epsilon: its check "
                "reads held-out real rows outside the privacy guarantee. Drop check_every=."
            )
        if self.patience is not None and self.check_every is None:
            raise InvalidParameterError(
                "patience stops training after checks without improvement, and there are "
                "no checks: set check_every= as well (for example check_every=10)."
            )
        if self.secure_mode and (self.epsilon is None or self.random_state is not None):
            raise InvalidParameterError(
                "secure_mode draws a private fit's noise from the operating system's entropy: "
                "it needs epsilon= and random_state=None (a seed would make the noise "
                "predictable to whoever knows it)."
            )
        if self.target is not None and self.epsilon is not None:
            raise InvalidParameterError(
                "target conditioning is not available with epsilon: its predictor trains on "
                "the real rows outside the privacy guarantee. Drop target=, or epsilon=."
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
        self,
        data: pd.DataFrame,
        metadata: Metadata | Mapping[str, Any] | None = None,
        *,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
        resume: bool = False,
        distributed: bool | None = None,
    ) -> "Synthesizer":
        """Learn the joint distribution of ``data``. Returns ``self``.

        ``metadata`` overrides the detected column kinds: a
        :class:`tabgan.Metadata`, ``{"column": "discrete", ...}`` or SDV's metadata
        (a dict as in SDV's JSON; see :meth:`tabgan.Metadata.from_sdv`). Kinds that
        declare a role: ``"id"`` (a key, generated anew as unique values of its
        shape), ``"identifier"`` (new values of its shape), ``"omit"`` (left out:
        never read, not in the samples), and ``{"kind": "datetime", "format":
        "%d/%m/%Y"}`` for date strings, generated in that format.

        ``checkpoint``: a file that receives the fit's whole state every
        ``checkpoint_every`` epochs and at the end (safetensors + JSON, replaced
        atomically; see ``tabgan.checkpoint``). After an interruption (Ctrl-C prints
        how), ``fit(data, checkpoint=path, resume=True)`` with the same table and
        parameters continues from it, to the same result as an uninterrupted fit (bit
        for bit on the CPU); a private fit resumes within its epsilon. A private fit's
        checkpoint holds its noise stream's state: keep it as private as the table.

        ``distributed``: under ``torchrun --nproc-per-node=N`` (or in a started
        ``torch.distributed`` process group), the fit trains data-parallel over the N
        processes, each given the same table and parameters, and takes the steps of the
        one-process fit (``tabgan.parallel``, docs/scale.md). ``None`` (the default) does
        so whenever there are several processes, ``False`` never, ``True`` insists. Every
        process ends with the same model; save it from one (rank 0). With a checkpoint,
        a job that ``torchrun`` restarts after a failure resumes from it.
        """
        self._validate_params()
        if checkpoint is None and resume:
            raise InvalidParameterError("resume=True needs checkpoint= (the file to resume from).")
        if checkpoint is not None and self.secure_mode:
            raise InvalidParameterError(
                "secure_mode fits cannot be checkpointed: a checkpoint holds the state of "
                "the noise stream, which secure_mode keeps unreproducible. Drop checkpoint=."
            )
        if checkpoint is not None:
            resume = resume or restarted(checkpoint)
        saver = None if checkpoint is None else Checkpoint(checkpoint, checkpoint_every, resume)
        omitted = omitted_columns(metadata)  # never read: not checked either
        check_dataframe(without_omitted(data, omitted) if isinstance(data, pd.DataFrame)
                        else data)
        if self.target is not None:
            check_target_column(self.target, data.columns)
            role = declared_columns(metadata).get(self.target)
            if role is not None and role.kind in UNMODELLED_KINDS:
                raise InvalidParameterError(
                    f"The target {self.target!r} is declared {role.kind!r} in the metadata, "
                    "so it is not modelled; name a modelled column, or declare its kind."
                )
        params = self.get_params()
        if self.epsilon is None:
            mode = PlainFit(params)
        else:
            from .privacy.fitting import PrivateFit

            mode = PrivateFit(params)
        if distributed not in (None, True, False):
            raise InvalidParameterError(
                f"distributed must be None, True or False. Got {distributed!r} instead."
            )
        self._set_fitted(fit(mode, data, metadata, checkpoint=saver, distributed=distributed))
        return self

    def _set_fitted(self, result: FitResult) -> None:
        self.metadata_ = result.metadata
        self.transformer_ = result.transformer
        self.generator_ = result.generator
        self.discriminator_ = result.discriminator
        self.loss_history_ = result.history
        self.device_ = result.device
        self.precision_ = result.precision
        self.n_rows_ = result.n_rows
        self.settings_ = dict(result.settings)
        if result.ledger is not None and self.random_state is None:
            # A private fit without a seed: the saved sampling stream is seeded afresh from
            # the operating system, never from the stream that drew the privacy noise.
            self.sample_rng_ = v.torch_generator(np.random.default_rng(), result.device)
        else:
            self.sample_rng_ = v.torch_generator(result.rng, result.device)
        self.epsilon_, self.delta_ = result.epsilon, result.delta
        self.privacy_ledger_ = result.ledger
        self.selection_ = result.selection
        self.calibration_ = result.calibration
        self.omitted_columns_ = list(result.omitted)

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
        left_out = [c for c in (conditions or {}) if c in getattr(self, "omitted_columns_", [])]
        if left_out:
            raise ConditionError(
                f"Columns {left_out} were left out of the fit (declared 'omit'): the samples "
                "do not have them, so rows cannot be conditioned on them."
            )
        targets = condition_targets(self.transformer_, conditions)
        calibration = getattr(self, "calibration_", None) if not targets else None
        pool = n if calibration is None else math.ceil(POOL * n)
        codes, values = generate(
            self.generator_, self.transformer_, pool, gen, targets,
            batch=self.settings_["batch_size"],
        )
        rows = self.transformer_.decode(codes, values, rng=decode_rng)
        if calibration is None:
            return rows
        related = {d.name for d in self.transformer_.derived_} | {
            d.parent for d in self.transformer_.derived_}
        rows = calibration.repair(rows, fixed=frozenset(related))
        keep = calibration.select(rows, n, decode_rng)
        return rows.iloc[keep].reset_index(drop=True)

    def sample_to(
        self,
        path: str | os.PathLike,
        n: int,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        random_state: int | np.random.Generator | None = None,
        conditions: Mapping[str, Any] | None = None,
        progress: bool = False,
    ) -> int:
        """Generate ``n`` rows straight to ``path``, ``chunk_rows`` at a time, so that
        memory does not grow with ``n``; returns the number of rows written.

        Parameters
        ----------
        path:
            A ``.parquet`` file (one row group per chunk), a directory (existing, or
            a str ending in ``/``: pathlib drops a trailing slash) for Parquet shards
            ``part-00000.parquet``, ...,
            or else a CSV file (``.csv``, ``.csv.gz``, ...). A file appears under its
            name only once complete (it is written as ``.partial-<name>`` beside it
            and renamed).
        n:
            Number of rows.
        chunk_rows:
            Rows generated and written at a time. Each chunk is a :meth:`sample` of
            that many rows (calibrated on its own).
        random_state:
            Seed: the same seed and ``chunk_rows`` give the same file; with ``n <=
            chunk_rows`` the rows are those of ``sample(n, random_state=seed)``.
            ``None`` continues the model's sampling stream.
        conditions:
            As in :meth:`sample`.
        progress:
            Show a progress bar (rows written).
        """
        from .io import ChunkWriter

        self._check_fitted()
        if not v._is_int(n) or n <= 0:
            raise InvalidParameterError(f"n must be a positive int (rows to sample). Got {n!r}.")
        if not v._is_int(chunk_rows) or chunk_rows <= 0:
            raise InvalidParameterError(
                f"chunk_rows must be a positive int. Got {chunk_rows!r}.")
        # one numpy stream for every chunk: the first chunk's rows are sample(n, seed)'s
        rng = None if random_state is None else v.check_random_state(random_state)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc="tabgan sample", unit="row", unit_scale=True)
        try:
            with ChunkWriter(path) as writer:
                while writer.rows < n:
                    size = min(chunk_rows, n - writer.rows)
                    writer.write(self.sample(size, random_state=rng, conditions=conditions))
                    if bar is not None:
                        bar.update(size)
        finally:
            if bar is not None:
                bar.close()
        return writer.rows

    # ------------------------------------------------------------ persist
    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to ``path`` (safetensors weights + JSON, no pickle)."""
        self._check_fitted()
        params = self.get_params()
        params["random_state"] = None  # a Generator is not JSON; the fitted state is saved instead
        params["device"] = str(params["device"])
        for key in ("generator_dim", "discriminator_dim", "betas"):
            params[key] = None if params[key] is None else list(params[key])
        doc = {
            "class": type(self).__name__,
            "params": params,
            "metadata": self.metadata_.to_dict(),
            "transformer": self.transformer_.to_dict(),
            "n_rows": self.n_rows_,
            "settings": {k: list(x) if isinstance(x, tuple) else x
                         for k, x in self.settings_.items()},
            "precision": self.precision_,
            # NaN (epochs without a fidelity check) is not JSON: null
            "loss_history": {
                k: [None if isinstance(x, float) and math.isnan(x) else x for x in col]
                for k, col in self.loss_history_.to_dict(orient="list").items()
            },
            "extra": ({} if self.privacy_ledger_ is None
                      else {"privacy_ledger": self.privacy_ledger_.to_dict()}),
        }
        if getattr(self, "selection_", None) is not None:
            doc["extra"]["selection"] = self.selection_
        if getattr(self, "calibration_", None) is not None:
            doc["extra"]["calibration"] = self.calibration_.to_dict()
        if getattr(self, "omitted_columns_", None):
            doc["extra"]["omitted_columns"] = list(self.omitted_columns_)
        tensors = {f"generator.{k}": t for k, t in self.generator_.state_dict().items()}
        tensors["sample_rng_state"] = self.sample_rng_.get_state()
        write_model(path, doc, tensors)

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str | torch.device = "auto") -> "Synthesizer":
        """Load a model written by :meth:`save` (see :func:`tabgan.load`)."""
        doc, tensors = read_model(path)
        try:
            return cls._from_state(doc, tensors, device)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"{os.fspath(path)!r} is an incomplete or corrupt tabgan model: {exc}"
            ) from exc

    @classmethod
    def _from_state(
        cls, doc: Mapping[str, Any], tensors: Mapping[str, torch.Tensor], device: str | torch.device
    ) -> "Synthesizer":
        from .privacy.ledger import PrivacyLedger

        params = dict(doc["params"])
        for key in ("generator_dim", "discriminator_dim", "betas"):
            params[key] = None if params[key] is None else tuple(params[key])
        # files written before ema_decay existed hold the last weights, not an average:
        # say so rather than report the new default
        params.setdefault("ema_decay", None)
        # likewise for the point masses and calibration of files written before them
        params.setdefault("point_share", 0.05)
        params.setdefault("calibrate", None)
        params.setdefault("joint_columns", False)
        params.setdefault("min_category_rows", 1)
        synth = cls(**params)
        dev = v.resolve_device(device)
        synth.device = str(dev) if device != "auto" else params["device"]

        metadata = Metadata.from_dict(doc["metadata"])
        transformer = DataTransformer.from_dict(doc["transformer"], metadata=metadata)
        precision = doc.get("precision", "float32")
        if precision not in ("float32", "bfloat16"):
            raise ValueError(f"unknown precision {precision!r}")
        generator = build_generator(synth.get_params(), transformer.layout_, dev, precision)
        state = {k[len("generator.") :]: t for k, t in tensors.items() if k.startswith("generator.")}
        generator.load_state_dict(state, strict=True)

        synth.metadata_ = metadata
        synth.transformer_ = transformer
        synth.generator_ = generator.eval()
        synth.loss_history_ = pd.DataFrame(doc["loss_history"])
        synth.device_ = dev
        synth.precision_ = precision
        synth.n_rows_ = int(doc["n_rows"])
        # files written before the library chose settings: the parameters are the settings
        settings = doc.get("settings") or {k: params[k] for k in RECIPE_KEYS}
        synth.settings_ = {k: tuple(x) if isinstance(x, list) else x for k, x in settings.items()}
        gen = torch.Generator(device=dev)
        try:
            gen.set_state(tensors["sample_rng_state"])
        except RuntimeError:
            # state written on another device type: start a fresh, seeded stream
            gen.manual_seed(int(np.frombuffer(tensors["sample_rng_state"].numpy()[:8], np.int64)[0]))
        synth.sample_rng_ = gen
        extra = doc.get("extra", {})
        synth.selection_ = extra.get("selection")
        synth.omitted_columns_ = list(extra.get("omitted_columns", []))
        # files written before calibrated sampling existed hold no histograms: uncalibrated
        synth.calibration_ = (Calibration.from_dict(extra["calibration"])
                              if "calibration" in extra else None)
        if "privacy_ledger" in extra:
            ledger = PrivacyLedger.from_dict(extra["privacy_ledger"])
            synth.privacy_ledger_ = ledger
            synth.epsilon_, synth.delta_ = ledger.epsilon, ledger.delta
        else:
            synth.epsilon_, synth.delta_, synth.privacy_ledger_ = math.inf, 1.0, None
        return synth


def load(path: str | os.PathLike, *, device: str | torch.device = "auto") -> Synthesizer:
    """Load a model written by :meth:`Synthesizer.save`.

    Raises :class:`tabgan.ModelFileError` if the file is not a tabgan model, is
    corrupt, or was written by an incompatible format version.
    """
    return Synthesizer.load(path, device=device)
