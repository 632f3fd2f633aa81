"""Data-parallel training through ``torch.distributed``.

Run under ``torchrun --nproc-per-node=N`` (or after ``torch.distributed.init_process_group``
with a world of more than one process), a fit trains data-parallel: every step's global
batch is split among the processes ("ranks"), each computes the networks on its part,
and the gradients are averaged across ranks before each update, as
``DistributedDataParallel`` does. The critic's gradients are computed by hand
(:mod:`tabgan.critic`), outside autograd, so the average is taken here, one
``all_reduce`` of a flat buffer per update, rather than by the DDP wrapper's hooks.

The global batch is the one a single process would draw: every rank runs the same random
stream (same seed) and makes every random draw at the global batch's size (conditions,
noise, real rows, dropout masks, penalty weights, Gumbel noise, DP-SGD's Poisson draws
and noise), then keeps its own rows (:class:`Shard`). The generator's batch
normalisation uses the global batch's statistics (:meth:`DataParallel.batch_norm`). So a
fit on N processes takes the steps of the one-process fit with the same settings, up to
the order of float additions; ``tests/test_parallel.py`` checks the losses and the
privacy spent against a one-process fit.

Every rank prepares the table itself from the same seed (metadata, the transformer, the
encoding; a private fit's releases, with the same noise, so nothing is released twice)
and holds the compact encoded table (:mod:`tabgan.encoded`); :meth:`DataParallel.agree`
checks that the ranks hold the same one. Rank 0 writes checkpoints and, in the
command-line interface, the model.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

import torch

from .errors import InvalidDataError, InvalidParameterError, TrainingError

__all__ = ["DataParallel", "Shard", "TIMEOUT_SECONDS"]

#: How long a collective waits for the other ranks before failing (a rank that crashed
#: or hangs ends the job with an error, not a hang), for groups tabgan starts itself.
TIMEOUT_SECONDS = 600
#: process groups this process has started under torchrun (each meets under its own name)
_STARTED = 0


@dataclass(frozen=True)
class Shard:
    """One rank's part ``[lo, hi)`` of ``total`` samples split among ``world`` ranks."""

    lo: int
    hi: int
    total: int
    world: int

    @property
    def size(self) -> int:
        return self.hi - self.lo

    @property
    def weight(self) -> float:
        """This part's share of the total, times the world size: a mean over the part times
        this, averaged over the ranks, is the mean over the total."""
        return self.size * self.world / self.total if self.total else 0.0

    def take(self, t: torch.Tensor, parts: int = 1) -> torch.Tensor:
        """This rank's rows of ``t``: ``t`` is ``parts`` blocks of ``total`` rows, one after
        the other, and the result the same blocks of this rank's rows."""
        if parts == 1:
            return t[self.lo : self.hi]
        rest = t.shape[1:]
        return t.reshape(parts, self.total, *rest)[:, self.lo : self.hi].reshape(-1, *rest)

    def in_units(self, unit: int) -> "Shard":
        """The same part counted in groups of ``unit`` rows (bounds multiples of ``unit``)."""
        return Shard(self.lo // unit, self.hi // unit, self.total // unit, self.world)


def _start_group(backend: str, world: int) -> None:
    """Start the default process group from torchrun's environment.

    Under torchrun every group (each fit of each attempt of a job: the first, and each
    restart after a failure) meets under a name of its own in torchrun's store: a new
    group's processes must not find the addresses that an earlier group's processes left
    there (they would try to connect to processes that are gone)."""
    import torch.distributed as dist

    timeout = timedelta(seconds=TIMEOUT_SECONDS)
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    if attempt is None:
        dist.init_process_group(backend, timeout=timeout)
        return
    rank = int(os.environ["RANK"])
    agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"  # torchrun hosts it
    store = dist.TCPStore(
        os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world,
        is_master=not agent and rank == 0, timeout=timeout, multi_tenant=not agent,
    )
    global _STARTED
    _STARTED += 1  # every rank starts its groups in the same order: one name per group
    dist.init_process_group(
        backend, store=dist.PrefixStore(f"tabgan/attempt_{attempt}/group_{_STARTED}", store),
        rank=rank, world_size=world, timeout=timeout,
    )


class _Total(torch.autograd.Function):
    """Sum over the ranks. Every rank's loss depends on the sum, so the gradient of the
    summed losses with respect to one rank's part is the sum of the ranks' gradients."""

    @staticmethod
    def forward(ctx, t: torch.Tensor) -> torch.Tensor:  # noqa: D102
        import torch.distributed as dist

        out = t.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        import torch.distributed as dist

        out = grad.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(out)
        return out


class DataParallel:
    """The processes of a data-parallel fit (see the module's notes). Build with
    :meth:`join`."""

    def __init__(self, rank: int, world: int, local_rank: int, *, owned: bool,
                 comm_device: torch.device | None = None) -> None:
        self.rank, self.world, self.local_rank = rank, world, local_rank
        #: whether tabgan started the process group (and so ends it after the fit)
        self.owned = owned
        #: where the tensors of the group's own messages live (NCCL: this rank's GPU)
        self.comm_device = comm_device or torch.device("cpu")

    # ------------------------------------------------------------ joining
    @classmethod
    def join(cls, distributed: bool | None, device_type: str) -> "DataParallel | None":
        """The data-parallel group of this fit, or None for a one-process fit.

        ``distributed``: ``None`` trains data-parallel when run by ``torchrun`` (its
        ``WORLD_SIZE`` above 1) and no process group is started yet (a script that
        started its own group may fit one model per process: it passes ``True`` to
        train one model over its group); ``False`` never; ``True`` insists (and fails
        when there is no group to join). A group that is not started yet is started
        here: NCCL for CUDA, gloo on the CPU, with ``torchrun``'s environment and a
        timeout of :data:`TIMEOUT_SECONDS`."""
        import torch.distributed as dist

        if distributed is False:
            return None
        started = dist.is_available() and dist.is_initialized()
        if started and distributed is None:
            return None  # the script's own group: one model per process unless asked
        env_world = int(os.environ.get("WORLD_SIZE", "1") or 1)
        if not started and env_world <= 1:
            if distributed:
                raise InvalidParameterError(
                    "distributed=True, but this process is not one of several: launch it "
                    "with torchrun --nproc-per-node=N (or start a torch.distributed process "
                    "group first), or drop distributed=True."
                )
            return None
        owned = False
        if not started:
            if not dist.is_available():
                raise InvalidParameterError(
                    "torch.distributed is not available in this PyTorch build, so the fit "
                    "cannot run on several processes; run one process."
                )
            backend = "nccl" if device_type == "cuda" else "gloo"
            try:
                _start_group(backend, env_world)
            except (RuntimeError, ValueError, KeyError) as exc:
                raise TrainingError(
                    f"Could not join the {env_world} processes of this job ({exc}). Launch "
                    "every process with torchrun (it sets RANK, WORLD_SIZE, MASTER_ADDR and "
                    "MASTER_PORT)."
                ) from exc
            owned = True
        world = dist.get_world_size()
        if world <= 1:
            if owned:
                dist.destroy_process_group()
            return None
        local = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
        comm = None
        if dist.get_backend() == "nccl":  # this rank's GPU, before any collective
            comm = torch.device("cuda", local)
            torch.cuda.set_device(comm)
        return cls(dist.get_rank(), world, local, owned=owned, comm_device=comm)

    def device(self, device: torch.device) -> torch.device:
        """This rank's device: its own GPU (``LOCAL_RANK``) where ``device`` is CUDA."""
        if device.type != "cuda":
            return device
        if device.index is not None and device.index != self.local_rank:
            raise InvalidParameterError(
                f"device={str(device)!r} puts every process of this data-parallel fit on "
                "one GPU; pass device='cuda' (or 'auto'): each process takes the GPU of its "
                "LOCAL_RANK."
            )
        return torch.device("cuda", self.local_rank)

    def close(self, *, wait: bool = False) -> None:
        """End the process group if tabgan started it. ``wait`` (after a fit that every
        rank finished): all ranks reach this point before any tears the group down, so
        that none closes connections another still reads in its background threads
        (seen once as an abort of a rank in a restarted job)."""
        import torch.distributed as dist

        if self.owned and dist.is_initialized():
            if wait:
                self._collective("wait for the other processes to finish", dist.barrier)
            dist.destroy_process_group()

    # ----------------------------------------------------------- splitting
    def shard(self, total: int, unit: int = 1) -> Shard:
        """This rank's contiguous part of ``total`` rows, split in whole groups of ``unit``
        rows as evenly as they go (parts differ by at most one group)."""
        groups = total // unit
        base, extra = divmod(groups, self.world)
        lo = self.rank * base + min(self.rank, extra)
        hi = lo + base + (1 if self.rank < extra else 0)
        return Shard(lo * unit, hi * unit, total, self.world)

    # --------------------------------------------------------- collectives
    def _collective(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RuntimeError as exc:  # a rank that died or timed out
            raise TrainingError(
                f"Rank {self.rank} of {self.world} could not {what}: another process of the "
                f"job failed, hangs or was stopped ({exc}). See the other ranks' output."
            ) from exc

    def sum_(self, tensors: list[torch.Tensor], *, mean: bool = False) -> None:
        """Replace each tensor by its sum (``mean``: its average) over the ranks, in
        place, with one collective over a flat buffer."""
        import torch.distributed as dist

        if not tensors:
            return
        flat = torch.cat([t.reshape(-1).float() for t in tensors])
        self._collective("add up the gradients", dist.all_reduce, flat)
        if mean:
            flat /= self.world
        at = 0
        for t in tensors:
            n = t.numel()
            t.copy_(flat[at : at + n].view_as(t))
            at += n

    def total(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` summed over the ranks, differentiable: the backward pass sums the
        gradients over the ranks too."""
        return self._collective("add up a batch statistic", _Total.apply, t)

    def batch_norm(self, h: torch.Tensor, rows: int, weight: torch.Tensor, bias: torch.Tensor,
                   eps: float) -> torch.Tensor:
        """Batch normalisation of this rank's rows ``h`` with the statistics of the global
        batch of ``rows`` rows (the biased variance, as training-mode batch norm uses)."""
        mean = self.total(h.sum(0)) / rows
        centred = h - mean
        var = self.total((centred * centred).sum(0)) / rows
        return centred * torch.rsqrt(var + eps) * weight + bias

    def broadcast_seed(self) -> int:
        """A 252-bit seed drawn by rank 0 from the operating system's entropy, the same on
        every rank (``random_state=None``)."""
        import torch.distributed as dist

        words = [int.from_bytes(os.urandom(8), "little") >> 1 for _ in range(4)]  # 63 bits
        seed = torch.tensor(words, dtype=torch.int64, device=self.comm_device)
        self._collective("agree on a seed", dist.broadcast, seed, 0)
        return sum(int(w) << (63 * i) for i, w in enumerate(seed.tolist()))

    def decide(self, flag: bool) -> bool:
        """Rank 0's ``flag``, on every rank (a decision that must be the same everywhere,
        such as stopping early)."""
        import torch.distributed as dist

        t = torch.tensor([int(flag)], dtype=torch.int64, device=self.comm_device)
        self._collective("agree on a decision", dist.broadcast, t, 0)
        return bool(t.item())

    def agree(self, digest: str, what: str) -> None:
        """Raise on every rank unless every rank passes the same ``digest`` of ``what``."""
        import torch.distributed as dist

        mine = torch.tensor(list(hashlib.sha256(digest.encode()).digest()[:16]), dtype=torch.uint8,
                            device=self.comm_device)
        everyone = [torch.empty_like(mine) for _ in range(self.world)]
        self._collective(f"compare {what}", dist.all_gather, everyone, mine)
        differ = [r for r, d in enumerate(everyone) if not torch.equal(d, everyone[0])]
        if differ:
            raise InvalidDataError(
                f"The processes of this data-parallel fit do not hold the same {what}: ranks "
                f"{differ} differ from rank 0. Give every rank the same table and the same "
                "parameters (every rank reads the whole table and prepares it from the same "
                "seed)."
            )
