"""The training loop of the conditional GAN: one discriminator step, one generator step.

A step reads top to bottom (:meth:`Trainer.train_step`): generate a batch, update the
critic on it (:meth:`Trainer.discriminator_step`), update the generator against the
updated critic (:meth:`Trainer.generator_step`), move the weight average. The critic's
gradients come from :mod:`tabgan.critic` (by hand, or by autograd for a spectrally
normalised critic: one interface); the private trainer
(:mod:`tabgan.privacy.dp_training`) replaces the critic's step and nothing else.

Everything a step needs lives on the training device: the encoded table,
the sampler's index tensors, the networks. Losses are accumulated as device
tensors and read once per epoch, so a step never waits for the host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from .auxiliary import TargetModel
from .checkpoint import load_optimizer, optimizer_state
from .critic import Discriminator, critic_gradients
from .errors import TrainingError
from .layout import Layout, SegmentIndex
from .networks import Generator, compute_in
from .parallel import DataParallel, Shard
from .sampler import ConditionalSampler

__all__ = ["Fakes", "TrainConfig", "Trainer", "activate"]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int  # passes over the table (steps per epoch = rows // batch_size)
    batch_size: int  # rows per step, a multiple of pac
    embedding_dim: int  # noise dimension
    generator_lr: float
    discriminator_lr: float
    generator_decay: float  # Adam weight decay
    discriminator_decay: float
    betas: tuple[float, float]  # Adam betas
    discriminator_steps: int  # critic updates per generator update
    loss: str  # "wgan-gp" or "gan"
    gp_weight: float  # gradient-penalty weight (0 disables it)
    label_smoothing: float  # one-sided, for loss="gan"
    tau: float  # Gumbel-softmax temperature
    #: decay of the moving average of the generator's weights (None: no average)
    ema_decay: float | None = None


def activate(
    raw: torch.Tensor, seg: SegmentIndex, tau: float, generator: torch.Generator | None,
    shard: Shard | None = None,
) -> torch.Tensor:
    """tanh on value columns, Gumbel-softmax (soft) on every softmax span at once.

    The spans are handled together: a per-span max (for stability, detached:
    softmax does not depend on it) by ``scatter_reduce``, per-span sums by a
    matrix product with the span-membership matrix. ``shard``: ``raw`` is this
    process's part of a batch of ``shard.total`` rows; the Gumbel noise is drawn for
    the whole batch and this part's rows kept.
    """
    with torch.autocast(raw.device.type, enabled=False):  # float32 even in a mixed step
        return _activate(raw, seg, tau, generator, shard)


def _activate(raw, seg, tau, generator, shard=None):
    # index_select / index_copy rather than advanced indexing: no host sync on CUDA
    out = raw
    if seg.tanh_cols.numel():
        out = out.index_copy(1, seg.tanh_cols, torch.tanh(raw.index_select(1, seg.tanh_cols)))
    if seg.soft_cols.numel():
        logits = raw.index_select(1, seg.soft_cols)
        if generator is not None:
            rows = logits.shape[0] if shard is None else shard.total
            u = torch.rand((rows, logits.shape[1]), generator=generator, device=raw.device)
            if shard is not None:
                u = shard.take(u)
            logits = logits - torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
        logits = logits / tau
        idx = seg.soft_segment.expand(logits.shape[0], -1)
        mx = torch.full(
            (logits.shape[0], seg.n_segments), -torch.inf, device=raw.device
        ).scatter_reduce(1, idx, logits.detach(), "amax", include_self=True)
        e = torch.exp(logits - mx.gather(1, idx))
        sums = e @ seg.membership
        out = out.index_copy(1, seg.soft_cols, e / (sums @ seg.membership.T))
    return out


def condition_loss(raw: torch.Tensor, seg: SegmentIndex, flat: torch.Tensor, layout_cols) -> torch.Tensor:
    """Mean cross-entropy of each row's conditioned span against its category."""
    with torch.autocast(raw.device.type, enabled=False):  # float32 even in a mixed step
        return _condition_loss(raw, seg, flat, layout_cols)


def _condition_loss(raw, seg, flat, layout_cols):
    target_col = seg.cond_to_output[flat]  # encoded column of the wanted category
    span_of = layout_cols[target_col]  # (B,) softmax segment of that column
    logits = raw.index_select(1, seg.soft_cols)
    idx = seg.soft_segment.expand(logits.shape[0], -1)
    mx = torch.full((logits.shape[0], seg.n_segments), -torch.inf, device=raw.device)
    mx = mx.scatter_reduce(1, idx, logits.detach(), "amax", include_self=True)
    lse = torch.log(torch.exp(logits - mx.gather(1, idx)) @ seg.membership) + mx
    picked = lse.gather(1, span_of[:, None]) - raw.gather(1, target_col[:, None])
    return picked.mean()


class Fakes(NamedTuple):
    """A generated batch: this process's rows (all of them outside a data-parallel fit)
    and the conditions of the whole batch."""

    rows: torch.Tensor  # activated rows
    raw: torch.Tensor  # the generator's raw output
    cond: torch.Tensor  # one-hot conditions of these rows
    flat: torch.Tensor  # their flat conditional indices
    all_cond: torch.Tensor  # the whole batch's (the same tensors outside data parallelism)
    all_flat: torch.Tensor


class Trainer:
    """Runs the GAN updates for a fitted transformer layout."""

    #: name of the critic's loss in the history (the private trainer records another one)
    d_loss_name = "discriminator"

    def __init__(
        self,
        *,
        config: TrainConfig,
        layout: Layout,
        generator_net: Generator,
        discriminator: Discriminator,
        sampler: ConditionalSampler,
        data: torch.Tensor,
        rng: torch.Generator,
        regularizer: Callable[..., torch.Tensor] | None = None,
        target_model: TargetModel | None = None,
        target_weight: float = 1.0,
        parallel: DataParallel | None = None,
    ) -> None:
        """``regularizer(raw, flat, total)``: an extra term of the generator's loss, from
        its raw output and the conditions' flat indices (the private fit's marginal
        matching); ``total(t)`` sums a tensor over the processes of a data-parallel fit
        (the identity otherwise), for a term of the whole batch.
        ``target_model``: target conditioning (:mod:`tabgan.auxiliary`): it learns from a
        batch of real rows every step, and its penalty, times ``target_weight``, joins
        the generator's loss. ``parallel``: the processes of a data-parallel fit
        (:mod:`tabgan.parallel`); this process computes its part of every batch."""
        self.cfg = config
        self.layout = layout
        self.G = generator_net
        self.D = discriminator
        self.sampler = sampler
        self.data = data
        self.rng = rng
        self.device = data.device
        self.seg = layout.segment_tensors(self.device)
        # map an encoded column to its softmax segment (for the conditional loss)
        col_seg = torch.full((layout.width,), -1, dtype=torch.long, device=self.device)
        if self.seg.soft_cols.numel():
            col_seg[self.seg.soft_cols] = self.seg.soft_segment
        self.col_segment = col_seg
        fused = self.device.type in ("cuda", "cpu")
        self.opt_g = torch.optim.Adam(
            self.G.parameters(),
            lr=config.generator_lr,
            betas=config.betas,
            weight_decay=config.generator_decay,
            fused=fused,
        )
        self.opt_d = torch.optim.Adam(
            self.D.parameters(),
            lr=config.discriminator_lr,
            betas=config.betas,
            weight_decay=config.discriminator_decay,
            fused=fused,
        )
        self.D.generator = rng
        #: how the critic is differentiated: by hand, or by autograd (spectral norm)
        self.critic_pass = critic_gradients(self.D)
        self.regularizer = regularizer
        self.target_model = target_model
        self.target_weight = target_weight
        self.parallel = parallel
        #: this process's part of every generated batch (None: all of it)
        self.shard = None
        if parallel is not None:
            self.shard = parallel.shard(config.batch_size, discriminator.pac)
            self.critic_pass.shard = self.shard.in_units(discriminator.pac)
        #: the generator's weights (detached views) and their exponential moving average
        #: (see average_step); the trained weights are set aside while the generator
        #: holds the average, between run() calls
        self._g_params = [p.detach() for p in self.G.parameters()]
        self.average = (
            [p.clone() for p in self._g_params] if config.ema_decay is not None else None
        )
        self.average_updates = 0
        self._trained: list[torch.Tensor] | None = None

    # -------------------------------------------------------------- pieces
    def _noise(self, batch: int) -> torch.Tensor:
        return torch.randn(batch, self.cfg.embedding_dim, generator=self.rng, device=self.device)

    def _fake(self, batch: int, *, original: bool = False, shared: bool = True) -> Fakes:
        """A generated batch of ``batch`` rows. In a data-parallel fit with ``shared``
        (``batch`` is then the batch size), this process generates its part only, batch
        normalised with the whole batch's statistics; without ``shared`` every process
        generates the whole batch."""
        cond, flat = self.sampler.sample_condition(batch, self.rng, original=original)
        noise = self._noise(batch)
        conditioned = self.sampler.n_columns
        shard = self.shard if shared else None
        if shard is None:
            raw = self.G(noise, flat if conditioned else None)
            return Fakes(activate(raw, self.seg, self.cfg.tau, self.rng), raw, cond, flat,
                         cond, flat)
        mine = shard.take(flat)
        raw = self.G(shard.take(noise), mine if conditioned else None, stats=self._batch_stats)
        return Fakes(activate(raw, self.seg, self.cfg.tau, self.rng, shard), raw,
                     shard.take(cond), mine, cond, flat)

    def _batch_stats(self, h, weight, bias, eps):
        return self.parallel.batch_norm(h, self.shard.total, weight, bias, eps)

    def _share(self) -> float:
        """The factor of a mean over this process's rows (1 outside data parallelism):
        averaged over the processes, the weighted means make the whole batch's mean."""
        return 1.0 if self.shard is None else self.shard.weight

    def steps_per_epoch(self) -> int:
        """Training steps per epoch: the table's rows over the batch size (at least 1)."""
        return max(self.data.shape[0] // self.cfg.batch_size, 1)

    # --------------------------------------------------------------- steps
    #: generate one batch per step and use it for both updates (see train_step)
    reuse_fakes = True

    def train_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One round: ``discriminator_steps`` critic updates, then one generator update.

        With one critic update per round (the default), the generated batch of
        the critic's update is also the generator's: it is generated once with
        its graph kept, scored detached by the critic, then scored again by the
        updated critic for the generator's loss (as PyTorch's DCGAN example
        does). This saves a generator forward pass per step.
        """
        if self.reuse_fakes and self.cfg.discriminator_steps == 1:
            with self._mixed(self.G):
                batch = self._fake(self.cfg.batch_size)
            with self._mixed(self.D):
                loss_d = self.discriminator_step(batch)
            self.target_step()
            with self._mixed(self.G):
                return loss_d, self.generator_step(batch)
        loss_d = torch.zeros((), device=self.device)
        for _ in range(self.cfg.discriminator_steps):
            with self._mixed(self.D):
                loss_d += self.discriminator_step()
        self.target_step()
        with self._mixed(self.G):
            return loss_d / self.cfg.discriminator_steps, self.generator_step()

    def _mixed(self, net):
        """One mixed-precision region per update, so each weight is cast once per update
        (autocast caches casts until its outermost region ends; a region never spans an
        optimiser step, which would leave a stale cast). Losses and activations opt out."""
        return compute_in(net.compute_dtype, self.device)

    def discriminator_step(self, batch=None) -> torch.Tensor:
        b = self.cfg.batch_size
        with torch.no_grad():
            fakes = self._fake(b) if batch is None else batch
            perm = torch.randperm(b, generator=self.rng, device=self.device)
            rows = self.sampler.sample_rows(fakes.all_flat[perm], self.rng)
            cond = fakes.all_cond[perm]
            if self.shard is not None:  # drawn for the whole batch; this process's part
                rows, cond = self.shard.take(rows), self.shard.take(cond)
            real_in = torch.cat([self.data[rows], cond], dim=1)
            fake_in = torch.cat([fakes.rows.detach(), fakes.cond], dim=1)
        cfg = self.cfg
        self.D.power_iteration()  # spectral norm: u, v move on once per update
        alpha = None  # drawn only with a penalty
        if cfg.gp_weight > 0:
            alpha = torch.rand(b // self.D.pac, 1, generator=self.rng, device=self.device)
            if self.critic_pass.shard is not None:
                alpha = self.critic_pass.shard.take(alpha)
        grads, loss = self.critic_pass.update_gradients(
            real_in, fake_in, alpha, self.rng,
            loss=cfg.loss, smooth=1.0 - cfg.label_smoothing, gp_weight=cfg.gp_weight,
        )
        if self.parallel is not None:  # the whole batch's mean gradient on every process
            share = self._share()
            grads = [g * share for g in grads]
            self.parallel.sum_(grads, mean=True)
            loss = loss * share
        for p, g in zip(self.critic_pass.parameters, grads):
            p.grad = g
        self.opt_d.step()
        return loss

    def target_step(self) -> None:
        """One update of the target model on a uniform batch of real rows."""
        if self.target_model is None:
            return
        rows = torch.randint(
            self.data.shape[0], (self.cfg.batch_size,), generator=self.rng, device=self.device
        )
        self.target_model.update(self.data[rows])

    def _adversarial_loss(self, fake: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """The critic's verdict on the generated rows, differentiable in ``fake``: the
        critic's input gradient (its weights need none here) carried into ``fake``."""
        value, grad = self.critic_pass.input_gradient(
            torch.cat([fake.detach(), cond], dim=1), self.rng, loss=self.cfg.loss
        )
        # the value of `value`, with gradient `grad` with respect to `fake`
        linear = (fake * grad[:, : fake.shape[1]]).sum()
        return value + (linear - linear.detach())

    def generator_step(self, batch=None) -> torch.Tensor:
        fake, raw, cond, flat, _, _ = self._fake(self.cfg.batch_size) if batch is None else batch
        loss = self._adversarial_loss(fake, cond)
        if self.sampler.n_columns:
            loss = loss + condition_loss(raw, self.seg, flat, self.col_segment)
        if self.target_model is not None:
            # rows conditioned on the target keep their asked category (condition_loss)
            c = self.target_model.spec.category
            asked = self.seg.cond_to_output[flat] if self.sampler.n_columns else None
            free = None if asked is None else (asked < c.start) | (asked >= c.end)
            loss = loss + self.target_weight * self.target_model.penalty(fake, raw, free)
        if self.parallel is not None:
            loss = loss * self._share()  # means over this process's rows, weighted
        if self.regularizer is not None:  # a whole-batch term: the same on every process
            loss = loss + self.regularizer(raw, flat, self._total)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        if self.parallel is not None:
            self.parallel.sum_([p.grad for p in self.G.parameters() if p.grad is not None],
                               mean=True)
        self.opt_g.step()
        self.average_step()
        return loss.detach()

    def _total(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` summed over the processes of a data-parallel fit (differentiably)."""
        return t if self.parallel is None else self.parallel.total(t)

    @torch.no_grad()
    def average_step(self) -> None:
        """Move the average of the generator's weights towards the current weights.

        After update ``t`` the average keeps ``min(ema_decay, (1 + t) / (10 + t))`` of
        itself: a short memory while training starts (so the random initial weights are
        soon forgotten), the full ``ema_decay`` later. The decay is a host number, so
        the update never waits for the device.
        """
        if self.average is None:
            return
        self.average_updates += 1
        t = self.average_updates
        decay = min(self.cfg.ema_decay, (1.0 + t) / (10.0 + t))
        torch._foreach_lerp_(self.average, self._g_params, 1.0 - decay)

    @contextmanager
    def averaged_weights(self) -> Iterator[None]:
        """Inside, the generator holds the average of its weights (what sampling uses);
        the weights being trained are back afterwards. Without an average, the weights
        being trained throughout."""
        if self.average is None:
            yield
            return
        with torch.no_grad():
            trained = [p.clone() for p in self._g_params]
            for p, a in zip(self._g_params, self.average):
                p.copy_(a)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, w in zip(self._g_params, trained):
                    p.copy_(w)

    # ---------------------------------------------------------- checkpoints
    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """What the next steps depend on, as a JSON-able part and tensors (for
        :mod:`tabgan.checkpoint`): weights and buffers of both networks, both optimisers,
        the weight average, the random generator. Taken between epochs, while the
        generator holds the weights being trained."""
        tensors = {f"G.{k}": t for k, t in self.G.state_dict().items()}
        tensors.update({f"D.{k}": t for k, t in self.D.state_dict().items()})
        doc: dict[str, Any] = {"average_updates": self.average_updates}
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            doc[name], more = optimizer_state(opt, name)
            tensors.update(more)
        if self.average is not None:
            tensors.update({f"average.{i}": a for i, a in enumerate(self.average)})
        if self.target_model is not None:
            tm = self.target_model
            tensors.update({f"target.{k}": t for k, t in tm.net.state_dict().items()})
            doc["opt_target"], more = optimizer_state(tm.opt, "opt_target")
            tensors.update(more)
        tensors["rng"] = self.rng.get_state()
        return doc, tensors

    def load_state(self, doc: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        """Continue from :meth:`state`'s output."""
        def part(prefix: str) -> dict[str, torch.Tensor]:
            n = len(prefix) + 1
            return {k[n:]: t for k, t in tensors.items() if k.startswith(prefix + ".")}

        self.G.load_state_dict(part("G"))
        self.D.load_state_dict(part("D"))
        load_optimizer(self.opt_g, doc["opt_g"], tensors, "opt_g")
        load_optimizer(self.opt_d, doc["opt_d"], tensors, "opt_d")
        self.average_updates = int(doc["average_updates"])
        if self.average is not None:
            with torch.no_grad():
                for i, a in enumerate(self.average):
                    a.copy_(tensors[f"average.{i}"])
        if self.target_model is not None:
            self.target_model.net.load_state_dict(part("target"))
            load_optimizer(self.target_model.opt, doc["opt_target"], tensors, "opt_target")
        self.rng.set_state(tensors["rng"].to(torch.uint8))
        self._trained = None

    # --------------------------------------------------------------- epochs
    def run(
        self,
        epochs: int,
        *,
        verbose: bool = False,
        monitor: Callable[[int], tuple[float, bool]] | None = None,
        check_every: int = 1,
        start: int = 0,
        on_epoch: Callable[[int, list[dict[str, float]], bool], None] | None = None,
    ) -> list[dict[str, float]]:
        """Train for ``epochs`` epochs; returns the per-epoch mean losses. With
        ``ema_decay``, the generator ends with the average of its weights (the losses
        are those of the weights being trained); another ``run`` continues from the
        trained weights, not the average.

        ``monitor(epoch)``, called after every ``check_every``-th epoch and after the
        last one with the generator holding its averaged weights, returns a score (put
        in the history as ``"fidelity"`` and shown on the progress bar) and whether to
        stop training now (see :mod:`tabgan.selection`).

        ``start``: epochs already done (a resumed fit: epochs ``start + 1 .. epochs`` are
        run, and their history returned). ``on_epoch(epoch, history, stop)`` is called at
        the end of every epoch, with the weights being trained in the generator (the
        checkpoints of :mod:`tabgan.checkpoint`)."""
        steps = self.steps_per_epoch()
        history: list[dict[str, float]] = []
        bar = None
        if verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=epochs, initial=start, desc="tabgan", unit="epoch")
        if self._trained is not None:  # continue from the trained weights, not the average
            with torch.no_grad():
                for p, w in zip(self._g_params, self._trained):
                    p.copy_(w)
            self._trained = None
        self.G.train()
        self.D.train()
        try:
            for epoch in range(start, epochs):
                loss_d = torch.zeros((), device=self.device)
                loss_g = torch.zeros((), device=self.device)
                for _ in range(steps):
                    step_d, step_g = self.train_step()
                    loss_d += step_d
                    loss_g += step_g
                if self.parallel is not None:  # the whole batches' losses
                    both = torch.stack([loss_d, loss_g])
                    self.parallel.sum_([both], mean=True)
                    loss_d, loss_g = both[0], both[1]
                d = float(loss_d) / steps  # one sync per epoch
                g = float(loss_g) / steps
                if not (torch.isfinite(torch.tensor([d, g])).all()):
                    raise TrainingError(
                        f"Training diverged at epoch {epoch + 1}: discriminator loss {d}, "
                        f"generator loss {g}. Try lower learning rates, loss='wgan-gp' with "
                        "gp_weight=10, or check the data for extreme values."
                    )
                history.append({"epoch": epoch + 1, self.d_loss_name: d, "generator": g})
                stop = False
                if monitor is not None and ((epoch + 1) % check_every == 0 or epoch + 1 == epochs):
                    with self.averaged_weights():
                        score, stop = monitor(epoch + 1)
                    if self.parallel is not None:  # every process stops with rank 0
                        stop = self.parallel.decide(stop)
                    history[-1]["fidelity"] = score
                if bar is not None:
                    shown = {"loss_d": f"{d:.3f}", "loss_g": f"{g:.3f}"}
                    last = [h["fidelity"] for h in history if "fidelity" in h]
                    if last:
                        shown["fidelity"] = f"{last[-1]:.4f}"
                    bar.set_postfix(shown)
                    bar.update(1)
                if on_epoch is not None:
                    on_epoch(epoch + 1, history, stop)
                if stop:
                    break
        finally:
            if bar is not None:
                bar.close()
        if self.average is not None:
            # the generator leaves training with its averaged weights (what sampling uses)
            with torch.no_grad():
                self._trained = [p.clone() for p in self._g_params]
                for p, a in zip(self._g_params, self.average):
                    p.copy_(a)
        return history
