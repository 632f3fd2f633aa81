"""The private fit's steps, plugged into the one fit path (:func:`tabgan.fitting.fit`).

Every read of the table is one entry of the privacy ledger: the column kinds come from
declared metadata and dtypes (never from values), the transformer is fitted on noisy
releases alone, and the critic is trained by DP-SGD. The budget is planned, and an
impossible one refused, before any value is read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..calibration import Calibration
from ..errors import PrivacyError
from ..fitting import FitMode, recipe, transformer_settings
from ..metadata import Metadata
from ..training import Trainer
from ..transformer import DataTransformer
from . import accountant as acc
from .dp_training import (
    MarginalMatching,
    PrivacyConfig,
    PrivateTrainer,
    marginal_targets,
    training_entry,
)
from .ledger import LedgerEntry, PrivacyLedger
from .preprocessing import (
    needs_ranges,
    private_metadata,
    public_entry,
    release_marginals,
    release_ranges,
    rows_entry,
)

__all__ = ["PrivateFit"]


class PrivateFit(FitMode):
    """An ``(epsilon, delta)``-differentially private fit (see ``docs/privacy.md``)."""

    private = True

    @property
    def pac(self) -> int:
        return 1  # PacGAN would let one row reach a group of rows

    def metadata(self, data: pd.DataFrame, declared, rng: np.random.Generator) -> Metadata:
        p = self.params
        # The row count is released once, with noise, and everything that depends on the
        # table's size is computed from the noisy count (docs/privacy.md, "Row count").
        eps_rows = float(p["epsilon"]) * acc.row_count_share(p["preprocessing_share"])
        n = acc.noisy_count(len(data), eps_rows, rng)
        self.released_rows = n
        self.rows_entry = rows_entry(n, eps_rows)
        # settings left None: the private recipe, from the noisy count
        self.params = p = recipe(p, rows=n)
        delta = p["delta"] if p["delta"] is not None else acc.default_delta(n)
        if delta >= 1.0 / n:
            raise PrivacyError(
                f"delta={delta:.3g} is not below 1/n = {1.0 / n:.3g} for about {n} rows (a "
                "noisy count): a mechanism that publishes a random row outright meets such a "
                f"delta. Leave delta=None (min(1e-5, 0.1/n) = {acc.default_delta(n):.3g}) or "
                "pass a smaller one."
            )
        meta = private_metadata(data, declared)
        self.delta = delta
        self.plan = acc.plan_budget(
            float(p["epsilon"]), delta, preprocessing_share=p["preprocessing_share"],
            need_ranges=needs_ranges(meta),
        )
        # training noise first: an impossible budget is refused before any value is read
        self.sample_rate = min(1.0, p["batch_size"] / n)
        self.steps = p["epochs"] * max(n // p["batch_size"], 1) * p["discriminator_steps"]
        self.sigma = acc.noise_multiplier(
            epsilon=self.plan.training[0], delta=self.plan.training[1],
            sample_rate=self.sample_rate, steps=self.steps, accountant=p["accountant"],
        )
        return meta

    def transformer(
        self, data: pd.DataFrame, meta: Metadata, rng: np.random.Generator
    ) -> tuple[DataTransformer, list[LedgerEntry]]:
        """Preprocessing inside the budget: releases, then a transformer fitted on them alone."""
        plan = self.plan
        entries = [public_entry(), self.rows_entry]
        ranges: dict = {}
        if plan.ranges is not None:
            ranges, entry = release_ranges(
                data, meta, epsilon=plan.ranges[0], delta=plan.ranges[1], rng=rng
            )
            entries.append(entry)
        keys = meta.of_kind("id")  # generated anew without reading them: no budget
        releases, entry = release_marginals(
            data.drop(columns=keys) if keys else data, meta, ranges, epsilon=plan.marginals[0], delta=plan.marginals[1],
            max_categories=self.params["max_categories"], rows=self.released_rows, rng=rng,
        )
        entries.append(entry)
        transformer = DataTransformer(**transformer_settings(self.params)).fit_released(
            releases, meta, rng=rng, keys={k: str(data[k].dtype) for k in keys}
        )
        self.released = transformer
        self.releases = releases
        return transformer, entries

    def calibration(self, data, meta, seed):
        """Calibrated sampling to the released marginals (post-processing: no budget);
        column pairs were not released, so ``"pairs"`` calibrates the marginals too."""
        if self.params.get("calibrate") is None:
            return None
        return Calibration.from_releases(self.releases, formats=meta.formats)

    def trainer(self, **parts: Any) -> Trainer:
        # the sampler keeps the noisy counts; real rows are never indexed by category
        privacy = PrivacyConfig(
            sample_rate=self.sample_rate, noise_multiplier=self.sigma,
            max_grad_norm=float(self.params["max_grad_norm"]), steps=self.steps,
            rows=self.released_rows,
        )
        trainer = PrivateTrainer(privacy=privacy, **parts)
        if trainer.seg.soft_cols.numel():
            targets = marginal_targets(self.released, trainer.layout).to(trainer.device)
            trainer.regularizer = MarginalMatching(targets, trainer.sampler, trainer.seg)
        return trainer

    def finish(
        self, trainer: Trainer, entries: list[LedgerEntry]
    ) -> tuple[float, float, PrivacyLedger]:
        p = self.params
        eps_train = acc.training_epsilon(
            noise_multiplier=self.sigma, sample_rate=self.sample_rate,
            steps=trainer.steps_taken, delta=self.plan.training[1], accountant=p["accountant"],
        )
        entries = [*entries, training_entry(
            trainer, epsilon=eps_train, delta=self.plan.training[1], accountant=p["accountant"]
        )]
        ledger = PrivacyLedger(
            entries=tuple(entries), target_epsilon=float(p["epsilon"]), target_delta=self.delta
        )
        return ledger.epsilon, ledger.delta, ledger

