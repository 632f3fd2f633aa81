"""The private critic step: DP-SGD in which every real-data term is clipped per row and noised.

Each real row ``x`` in a step is paired with a generated row ``y`` (and a
uniform ``a``); the pair's critic loss is

    l(x, y) = f(D(x)) + f0(D(y)) + gp_weight * (|grad_z D(z)| - 1)^2,   z = a x + (1 - a) y,

where ``f`` is the real-row loss (``-s`` for the Wasserstein loss) and ``f0``
the generated-row loss (``+s``): the gradient penalty on the interpolate is
part of the row's own term. Each pair's gradient ``grad_theta l`` is clipped
to ``max_grad_norm``, the clipped gradients are summed, and Opacus adds
Gaussian noise and averages over the expected batch size. The generated row
needs no clipping for privacy, but clipping it with its real partner keeps the
two sides of the Wasserstein difference on one scale (an unclipped
generated-row gradient would swamp the clipped real one, and the critic would
learn only to push every score down).

Per-pair gradients are not materialised. The critic is a leaky-ReLU MLP, whose
second derivative is zero, so each layer's per-pair gradient is a sum of three
outer products — ``delta a^T`` for the real and for the generated row
(back-propagated error times layer input), and ``r q^T`` from the penalty
(back-propagated critic gradient at the interpolate times the forward
derivative of the layer input in the direction of the penalty's input
gradient). Norms of such sums, and their weighted sums over pairs, are a few
matrix products ("ghost clipping", Li et al., 2022, extended to the penalty);
:func:`per_sample_gradients` computes the same gradients the slow way
(``torch.func``), and the tests check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..critic import (
    Discriminator,
    critic_backward,
    critic_forward,
    fake_loss,
    fake_loss_derivative,
    real_loss,
    real_loss_derivative,
)
from ..encoded import EncodedTable
from ..errors import PrivacyError
from ..layout import Layout, SegmentIndex
from ..sampler import ConditionalSampler
from ..training import Trainer, activate
from .ledger import LedgerEntry

__all__ = [
    "MarginalMatching",
    "marginal_targets",
    "PrivacyConfig",
    "PrivateTrainer",
    "clipped_gradient_sum",
    "per_sample_gradients",
    "training_entry",
]

#: Per-row contributions are clipped to ``max_grad_norm * CLIP_MARGIN``: below the bound
#: the accountant assumes by more than float32 rounding of the summed gradient.
CLIP_MARGIN = 1.0 - 1e-5


@dataclass(frozen=True)
class PrivacyConfig:
    sample_rate: float  # Poisson rate q: each real row joins a critic step with probability q
    noise_multiplier: float  # noise std / max_grad_norm, from the accountant for `steps` steps
    max_grad_norm: float  # per-row clipping bound C
    steps: int  # critic steps planned (the accountant's T)
    rows: int  # the noisy row count: sets the expected batch and the steps per epoch


def _layer_terms(critic, real, fake, mixed, masks, *, loss, smooth, gp_weight):
    """Per layer: the per-pair gradient as outer-product pairs ``[(x_j, y_j)]`` and its bias.

    Also returns the generated rows' scores (for the loss history).
    """
    with torch.no_grad():
        weights = [tuple(t.detach() if t is not None else None for t in w) for w in critic.weights()]
    wb = [w[:2] for w in weights]
    masks_real, masks_fake, masks_mixed = masks
    a_r, g_r, s_r = critic_forward(real, wb, masks_real)
    a_f, g_f, s_f = critic_forward(fake, wb, masks_fake)
    d_r = critic_backward(real_loss_derivative(s_r, loss, smooth), wb, g_r)
    d_f = critic_backward(fake_loss_derivative(s_f, loss), wb, g_f)
    terms = [[(d_r[i], a_r[i]), (d_f[i], a_f[i])] for i in range(len(weights))]
    bias = [d_r[i] + d_f[i] for i in range(len(weights))]
    if gp_weight > 0:
        _, g_m, s_m = critic_forward(mixed, wb, masks_mixed)
        r = critic_backward(torch.ones_like(s_m), wb, g_m)
        v = r[0] @ weights[0][0]  # gradient of the score with respect to the interpolate
        vn = v.norm(dim=1, keepdim=True).clamp_min(1e-12)
        q = gp_weight * 2.0 * (vn - 1.0) * v / vn  # d penalty / d v
        for i in range(len(weights)):
            terms[i].append((r[i], q))
            if i < len(weights) - 1:  # forward derivative of the next layer's input along q
                q = (q @ weights[i][0].T) * g_m[i]
    for i, (w, _, sigma, u, v) in enumerate(weights):
        if sigma is not None:  # chain rule through W / sigma(W): one more rank-one term
            kappa = sum((x * (y @ w.T)).sum(1) for x, y in terms[i]) / sigma
            terms[i] = [(x / sigma, y) for x, y in terms[i]]
            terms[i].append((-kappa[:, None] * u[None, :], v[None, :].expand(len(kappa), -1)))
    return terms, bias, s_f


def clipped_gradient_sum(
    critic: Discriminator,
    real: torch.Tensor,
    fake: torch.Tensor,
    mixed: torch.Tensor,
    masks: tuple,
    *,
    loss: str,
    smooth: float,
    gp_weight: float,
    max_grad_norm: float,
) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """``sum_i clip(grad l(x_i, y_i))`` per critic parameter (in
    :meth:`Discriminator.weight_parameters` order; the critic scores one row at a time,
    pac = 1), the per-pair norms before clipping, and the generated rows' scores.

    ``masks`` holds the dropout masks of the real, generated and interpolated rows
    (each None, or one tensor per hidden layer). Pair ``i``'s term depends on its
    real row, its generated row, its interpolate and its masks only, so adding or
    removing one real row changes the sum by at most ``max_grad_norm`` in L2 norm.
    """
    with torch.no_grad():
        terms, bias, fake_score = _layer_terms(
            critic, real, fake, mixed, masks, loss=loss, smooth=smooth, gp_weight=gp_weight
        )
        sq = torch.zeros(real.shape[0], device=real.device, dtype=torch.float64)
        for i, pairs in enumerate(terms):
            for j, (xj, yj) in enumerate(pairs):
                for k in range(j, len(pairs)):
                    xk, yk = pairs[k]
                    cross = ((xj * xk).sum(1, dtype=torch.float64)
                             * (yj * yk).sum(1, dtype=torch.float64))
                    sq += cross if k == j else 2.0 * cross
            sq += (bias[i] * bias[i]).sum(1, dtype=torch.float64)
        norms = sq.clamp_min(0.0).sqrt()
        # the factor in float64 against a margin below C: the float32 products that make
        # the gradient carry rounding the norm cannot see (relative 1e-7 or so)
        clip = (max_grad_norm * CLIP_MARGIN / norms.clamp_min(1e-30)).clamp(max=1.0)
        clip = clip.to(real.dtype)[:, None]
        grads: list[torch.Tensor] = []
        for i, pairs in enumerate(terms):
            grads.append(sum((clip * x).T @ y for x, y in pairs))
            grads.append((clip * bias[i]).sum(0))
    return grads, norms.to(real.dtype), fake_score


def per_sample_gradients(
    critic: Discriminator,
    real: torch.Tensor,
    fake: torch.Tensor,
    mixed: torch.Tensor,
    masks: tuple,
    *,
    loss: str,
    smooth: float,
    gp_weight: float,
) -> list[torch.Tensor]:
    """Per-pair gradients of ``l(x_i, y_i)`` by ``torch.func`` (``vmap`` of ``grad``, an
    inner ``grad`` for the penalty), in :meth:`Discriminator.weight_parameters` order. The
    slow reference."""
    from torch.func import grad, vmap

    def one(m):
        return None if m is None else [t[None] for t in m]

    def score(x, weights, masks):
        return critic_forward(x, [w[:2] for w in weights], masks)[2]

    def pair_loss(params, x, y, z, mr, mf, mm):
        weights = critic.weights(params)
        out = real_loss(score(x[None], weights, one(mr)), loss, smooth).sum()
        out = out + fake_loss(score(y[None], weights, one(mf)), loss).sum()
        if gp_weight > 0:
            g = grad(lambda t: score(t[None], weights, one(mm)).sum())(z)
            out = out + gp_weight * (g.norm() - 1.0) ** 2
        return out

    params = [p.detach() for p in critic.weight_parameters()]
    dims = (None, 0, 0, 0, *(None if m is None else 0 for m in masks))
    return list(vmap(grad(pair_loss), in_dims=dims)(params, real, fake, mixed, *masks))


def marginal_targets(transformer, layout: Layout) -> torch.Tensor:
    """The released frequencies of every softmax span, concatenated in layout order."""
    infos = {info.name: info for info in transformer.infos_}
    parts = []
    for span in layout.softmax_spans:
        info = infos[span.column]
        values = {
            "category": lambda i: i.counts,
            "mode": lambda i: i.weights,
            "missing": lambda i: i.missing_counts,
        }[span.role](info)
        t = torch.tensor(values, dtype=torch.float32).clamp_min(0.0)
        parts.append(t / t.sum() if t.sum() > 0 else torch.full_like(t, 1.0 / len(t)))
    return torch.cat(parts) if parts else torch.zeros(0)


class MarginalMatching:
    """The private generator's extra loss term: the KL divergence from the released
    marginals to the generator's batch marginals.

    For every softmax span (categories, Gaussian-mixture modes, missing indicators)
    the batch's average category probabilities, reweighted from the training
    conditions to the noisy frequencies, are pulled towards the released (noisy)
    frequencies (:func:`marginal_targets`). Uses released statistics only:
    post-processing, no privacy cost. Plugs into :class:`tabgan.training.Trainer` as
    its ``regularizer``.
    """

    def __init__(self, targets: torch.Tensor, sampler: ConditionalSampler, seg: SegmentIndex) -> None:
        self.targets, self.sampler, self.seg = targets, sampler, seg
        self.cond_weight = self._condition_weights()

    def _condition_weights(self) -> torch.Tensor:
        """Per conditional slot: its probability under the noisy frequencies over its
        probability under the training distribution (log-frequency, by default)."""
        s = self.sampler
        if not s.n_columns:
            return torch.ones(1, device=s.device)

        def slot_probs(cdf):  # padded per-column CDFs -> probability of each flat slot
            cdf = torch.where(cdf > 1.5, 1.0, cdf)  # padding
            p = torch.diff(cdf, dim=1, prepend=torch.zeros_like(cdf[:, :1]))
            pos = torch.arange(len(s.column_of), device=s.device) - s.col_offset[s.column_of]
            return p[s.column_of, pos]

        p_train, p_orig = slot_probs(s.train_cdf), slot_probs(s.original_cdf)
        return torch.where(p_train > 0, p_orig / p_train.clamp_min(1e-12), 0.0)

    def __call__(self, raw: torch.Tensor, flat: torch.Tensor, total=None) -> torch.Tensor:
        """The term for the batch of raw rows ``raw`` and their conditions ``flat``.
        ``total(t)``: ``t`` summed over the processes of a data-parallel fit, each holding
        part of the batch (None: the batch is all here)."""
        total = total or (lambda t: t)
        probs = activate(raw, self.seg, 1.0, None).index_select(1, self.seg.soft_cols)
        w = self.cond_weight[flat] if self.sampler.n_columns else torch.ones_like(probs[:, 0])
        mean = total((w[:, None] * probs).sum(0)) / total(w.sum()).clamp_min(1e-12)
        t = self.targets
        return (t * (torch.log(t.clamp_min(1e-12)) - torch.log(mean.clamp_min(1e-12)))).sum()


class PrivateTrainer(Trainer):
    """:class:`tabgan.training.Trainer` with the critic's step replaced by DP-SGD.

    * real rows are Poisson-sampled: each joins a step independently with
      probability ``sample_rate`` (the batch size varies; its mean is ``batch_size``);
    * each real row is conditioned on its own category in a random condition
      column, and the generated rows the critic compares it with follow the
      noisy category frequencies, so both sides share one distribution and no
      row's conditioning depends on another row;
    * each real row is paired with one generated row; the pair's loss (both
      scores and the penalty on their interpolate) is clipped in float32 (a norm
      underestimated in bfloat16 would let a row weigh more than ``max_grad_norm``),
      the sum noised by Opacus, then Adam steps;
    * the generator step is the plain trainer's and never reads real data; the
      private fit gives it a :class:`MarginalMatching` term.

    Recorded losses are those of generated rows only (``discriminator_fake``):
    a loss on real rows would be an unaccounted release.
    """

    d_loss_name = "discriminator_fake"
    #: the critic's batch is Poisson-sampled, so the generator's update draws its own
    reuse_fakes = False

    def __init__(self, *, privacy: PrivacyConfig, **kwargs) -> None:
        from opacus.optimizers import DPOptimizerFastGradientClipping

        super().__init__(**kwargs)
        if self.D.pac != 1:
            raise ValueError("The private critic scores one row at a time (pac=1).")
        self.privacy = privacy
        self.opt_d = DPOptimizerFastGradientClipping(
            self.opt_d,
            noise_multiplier=privacy.noise_multiplier,
            max_grad_norm=privacy.max_grad_norm,
            expected_batch_size=privacy.sample_rate * privacy.rows,  # public: no true n
            loss_reduction="mean",
            generator=self.rng,
        )
        self.steps_taken = 0
        # the Poisson batch size of every critic step: for tests, never released (their
        # mean would reveal the row count to about one row)
        self.batch_sizes: list[int] = []
        self.own = self._own_categories(self.data)

    def state(self):
        doc, tensors = super().state()
        doc["steps_taken"] = self.steps_taken  # not the batch sizes: they tell the row count
        return doc, tensors

    def load_state(self, doc, tensors) -> None:
        if int(doc["steps_taken"]) > self.privacy.steps:
            raise PrivacyError(
                f"The checkpoint has taken {doc['steps_taken']} critic steps, more than the "
                f"{self.privacy.steps} that this fit's epsilon was planned for; it cannot be "
                "resumed within the budget."
            )
        super().load_state(doc, tensors)
        self.steps_taken = int(doc["steps_taken"])

    def steps_per_epoch(self) -> int:
        """From the noisy row count, never the table's (the number of steps is released)."""
        return max(self.privacy.rows // self.cfg.batch_size, 1)

    def _own_categories(self, data: EncodedTable) -> torch.Tensor:
        """(rows, condition columns): each row's flat conditional index in each column."""
        s = self.sampler
        if not s.n_columns:
            return torch.zeros(len(data), 0, dtype=torch.long, device=self.device)
        cols = [data.span_codes(sp) for sp in s.spans]
        return torch.stack(cols, 1) + s.col_offset[None, :]

    def poisson_rows(self) -> torch.Tensor:
        """Indices of this step's real rows: each row independently with probability q."""
        n = self.data.shape[0]
        # float64: float32 steps of 2^-24 would round q up
        u = torch.rand(n, generator=self.rng, device=self.device, dtype=torch.float64)
        keep = u < self.privacy.sample_rate
        return keep.nonzero().squeeze(1)  # the one host sync: the batch size is random

    def own_conditions(self, rows: torch.Tensor) -> torch.Tensor:
        m = rows.shape[0]
        cond = torch.zeros(m, self.sampler.width, device=self.device)
        if self.sampler.n_columns and m:
            col = torch.randint(self.sampler.n_columns, (m,), generator=self.rng, device=self.device)
            cond.scatter_(1, self.own[rows, col][:, None], 1.0)
        return cond

    def private_batch(self):
        """This step's pairs: real rows (own conditions), generated rows, interpolates, masks.

        In a data-parallel fit every process draws the whole step (the same Poisson
        sample, conditions, generated rows, weights and masks) and keeps its part of the
        pairs; the clipped sums are added up across the processes before the noise."""
        rows = self.poisson_rows()
        m = self._drawn = rows.shape[0]
        cond = self.own_conditions(rows)
        part = None if self.parallel is None else self.parallel.shard(m)
        # Generated in chunks of the fixed batch size, each batch-normalised on its own:
        # a generated row's distribution never depends on m, so one real row's presence
        # does not reach its partners through the generator's batch statistics.
        b = self.cfg.batch_size
        chunks = [self._fake(b, original=True, shared=False) for _ in range(max(-(-m // b), 1))]
        fake = torch.cat([torch.cat([f.rows, f.cond], dim=1) for f in chunks])
        self.recorded_fakes = fake[:b]  # the loss history's rows: a fixed number, not m
        fake = fake[:m]
        alpha = torch.rand(m, 1, generator=self.rng, device=self.device)
        masks = tuple(self.D.masks(m, self.rng) for _ in range(3))  # float32, as the norms
        if part is not None:
            rows, cond, fake, alpha = (part.take(t) for t in (rows, cond, fake, alpha))
            masks = tuple(None if ms is None else [part.take(t) for t in ms] for ms in masks)
        real = torch.cat([self.data[rows], cond], dim=1)
        mixed = alpha * real + (1.0 - alpha) * fake
        return real, fake, mixed, masks

    def discriminator_step(self, batch=None) -> torch.Tensor:
        """One DP-SGD step of the critic (its batch is its own: ``batch`` is unused), in
        float32 whatever the precision: a norm underestimated in bfloat16 would let a row
        weigh more than ``max_grad_norm``."""
        cfg = self.cfg
        self.D.power_iteration()
        with torch.autocast(self.device.type, enabled=False):
            with torch.no_grad():
                real, fake, mixed, masks = self.private_batch()
            self.batch_sizes.append(self._drawn)
            self._record()
            grads, _, fake_score = clipped_gradient_sum(
                self.D, real, fake, mixed, masks,
                loss=cfg.loss, smooth=1.0 - cfg.label_smoothing, gp_weight=cfg.gp_weight,
                max_grad_norm=self.privacy.max_grad_norm,
            )
            if self.parallel is not None:
                # the whole step's sum on every process; each then adds the same noise
                # (one stream) once, so the update is the one-process update
                self.parallel.sum_(grads)
        self.opt_d.zero_grad(set_to_none=True)
        for p, g in zip(self.D.weight_parameters(), grads):
            p.grad = g.view_as(p)
        self.opt_d.step()  # Opacus: + N(0, (noise_multiplier * C)^2), / expected batch size, Adam
        self.steps_taken += 1
        # The recorded loss: the critic's scores of a fixed batch of generated rows (not
        # of the m partners, whose number follows the true row count), before the update.
        del fake_score
        return self._recorded_loss

    @torch.no_grad()
    def _record(self) -> None:
        with torch.autocast(self.device.type, enabled=False):
            self._recorded_loss = fake_loss(self.D(self.recorded_fakes), self.cfg.loss).mean()


def training_entry(
    trainer: PrivateTrainer, *, epsilon: float, delta: float, accountant: str
) -> LedgerEntry:
    """The ledger entry of a finished private training run."""
    p = trainer.privacy
    return LedgerEntry(
        component="training",
        uses="real rows, encoded by the released transformer, in the critic's loss: the score "
        "of each real row and the gradient penalty on its interpolate with a generated row "
        "(the generator never reads real data)",
        epsilon=epsilon,
        delta=delta,
        mechanism=(
            f"DP-SGD (Opacus): Poisson sampling q={p.sample_rate:.4g} (expected batch "
            f"{trainer.cfg.batch_size}), per-row clipping C={p.max_grad_norm:g}, Gaussian noise "
            f"multiplier {p.noise_multiplier:.4g}, {trainer.steps_taken} critic steps; "
            f"{accountant.upper()} accountant"
        ),
        composition="sequential: adds to the other entries; the generator and all samples "
        "are post-processing of the private critic",
        details={
            "sample_rate": p.sample_rate,
            "noise_multiplier": p.noise_multiplier,
            "max_grad_norm": p.max_grad_norm,
            "steps": trainer.steps_taken,
            "planned_steps": p.steps,
            "expected_batch_size": float(p.sample_rate * p.rows),
            "accountant": accountant,
        },
    )
