"""Grid points shared out across processes with `torch.distributed` (`torchrun`).

Every grid point is independent, so `W` processes split the list of points
still to compute: rank `r` takes points `r, r + W, r + 2W, ...` of it.
After each round (one point per rank) the values are all-gathered and rank 0,
the only writer, stores them in `landscape.npz`. A value does not depend on
which rank computed it (same weights, directions and samples on every rank),
so the grid equals the single-process grid.

`torchrun --nproc_per_node 2 -m cellnas_edu.cli landscape RUN ...` sets
`RANK`/`WORLD_SIZE`/`LOCAL_RANK`; the process group is the trainer's
([`cellnas_edu.train.distributed.setup`][cellnas_edu.train.distributed.setup]: NCCL on CUDA with one GPU per
process, Gloo on the CPU). Without those variables everything runs in one
process and every collective is the identity."""

from __future__ import annotations

import torch
import torch.distributed as dist

from ..train.distributed import DistContext, setup

__all__ = ["DistContext", "all_gather_rows", "setup", "single_process"]


def single_process(device: torch.device | str = "cpu") -> DistContext:
    """The context of a lone process on `device`."""
    return DistContext(rank=0, world_size=1, device=torch.device(device))


def all_gather_rows(row: torch.Tensor, context: DistContext) -> list[torch.Tensor]:
    """`row` (a small tensor on the context's device) of every rank, in rank order."""
    if context.world_size == 1:
        return [row]
    gathered = [torch.empty_like(row) for _ in range(context.world_size)]
    dist.all_gather(gathered, row)
    return gathered
