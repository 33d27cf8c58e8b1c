"""One process or many: data-parallel training under `torchrun`.

Started by `torchrun --nproc_per_node N -m cellnas_edu.cli train ...` each
process finds `RANK`, `LOCAL_RANK` and `WORLD_SIZE` in its environment;
[`setup`][cellnas_edu.train.distributed.setup] joins the process group (NCCL on CUDA, Gloo on CPU) and picks the
process's device. Training then wraps the network in
`DistributedDataParallel` (gradients averaged every step), each process
reads its own shard of every epoch's permutation, metrics are summed over
processes once per epoch, and only rank 0 writes files and draws progress
bars. A single process is the special case `world_size == 1` in which every
collective is the identity."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import UserError


@dataclass
class DistContext:
    """Where this process stands: its rank among `world_size` processes and its device."""

    rank: int
    world_size: int
    device: torch.device
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def gather_objects(self, obj) -> list:
        """Every process's `obj`, indexed by rank (pickled through the process group)."""
        if not self.distributed:
            return [obj]
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast_from_main(self, obj):
        """Rank 0's `obj` on every process."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def broadcast_buffers(self, module: torch.nn.Module) -> None:
        """Give every process rank 0's buffers (BatchNorm running statistics).

        `DistributedDataParallel` copies them at the start of each forward
        pass, so after an epoch each process holds the statistics of its own
        last batch; evaluation and the checkpoint must all see rank 0's."""
        if self.distributed:
            for buffer in module.buffers():
                dist.broadcast(buffer, src=0)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False


def resolve_device(choice: str, local_rank: int = 0) -> torch.device:
    """`auto` -> CUDA when available, else CPU; `cuda` without CUDA is a `UserError`."""
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda":
        if not torch.cuda.is_available():
            raise UserError("device 'cuda' requested but CUDA is not available (use --device cpu or auto)")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def setup(device_choice: str) -> DistContext:
    """Join the `torchrun` process group if there is one (or use an existing group), else run alone."""
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        device = resolve_device(device_choice, local_rank)
        if dist.get_backend() == "nccl" and device.type != "cuda":
            raise UserError("the process group uses NCCL but the device is the CPU")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        return DistContext(rank, world, device, owns_group=False)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(0, 1, resolve_device(device_choice))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    device = resolve_device(device_choice, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world)
    return DistContext(rank, world, device, owns_group=True)
