r"""The grid loop: $s(\alpha, \beta)$ and optionally $g(\alpha, \beta)$ at every point, resumable.

Points are visited row by row (`alpha` outer, `beta` inner); only points
not yet done in the [`LandscapeData`][cellnas_edu.landscape.store.LandscapeData] are
computed, so a rerun after an interruption continues where the last snapshot
stopped. The data is saved through `save` after every completed row's worth
of points or every `save_every_s` seconds, at the end, and also when the
loop is interrupted (the values already in memory are complete points).

With the gradient variance asked, a point costs one `vmap` pass over the
samples and its loss is the mean of the per-sample losses of that same pass
(one forward instead of two); otherwise the loss is one plain evaluation pass
([`mean_loss`][cellnas_edu.landscape.surface.mean_loss]). The weights are restored
to $w^*$ when the loop ends, however it ends."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

import torch
from torch import nn
from tqdm import tqdm

from .distributed import DistContext, all_gather_rows, single_process
from .gradvar import gradient_variance
from .store import LandscapeData
from .surface import PerturbedWeights, mean_loss


def pending_points(data: LandscapeData, gradvar: bool) -> list[int]:
    """Flat indices `i * steps + j` of the points that still need a value."""
    todo = ~data.loss_done
    if gradvar:
        todo = todo | ~data.grad_var_done
    return [int(k) for k in todo.ravel().nonzero()[0]]


def compute_grid(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    directions: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    data: LandscapeData,
    *,
    gradvar: bool = False,
    batch_size: int = 256,
    chunk: int = 32,
    save: Callable[[LandscapeData], None] | None = None,
    save_every_s: float = 10.0,
    progress: bool = True,
    on_point: Callable[[int], None] | None = None,
    context: DistContext | None = None,
    recalibrate: Callable[[], object] | None = None,
) -> LandscapeData:
    """Fill `data` in place (all ranks compute, rank 0 stores and saves) and return it.

    `on_point(n)` is called after this process finished its `n`-th point
    (tests use it to simulate an interruption). `recalibrate()`, if given, runs after the weights are
    moved to each point (re-estimating BatchNorm's statistics for them); the statistics of `w*` are put
    back when the loop ends."""
    if model.training:
        raise ValueError("the landscape is measured in evaluation mode; call model.eval() first")
    context = context or single_process(inputs.device)
    todo = pending_points(data, gradvar)
    steps_beta = data.beta.size
    rounds = math.ceil(len(todo) / context.world_size)
    bar = tqdm(total=len(todo), desc="landscape", unit="pt", file=sys.stderr,
               disable=not (progress and context.is_main), dynamic_ncols=True)
    unsaved, last_save, finished = 0, time.monotonic(), 0

    def store(row: torch.Tensor) -> int:
        flat, loss, grad_var, has_loss, has_grad_var = row.tolist()
        if flat < 0:
            return 0
        i, j = divmod(int(flat), steps_beta)
        if has_loss:
            data.loss[i, j], data.loss_done[i, j] = loss, True
        if has_grad_var:
            data.grad_var[i, j], data.grad_var_done[i, j] = grad_var, True
        return 1

    statistics = _batchnorm_buffers(model) if recalibrate is not None else None
    try:
        with PerturbedWeights(params, *directions) as weights:
            for r in range(rounds):
                position = r * context.world_size + context.rank
                row = torch.tensor([-1.0, math.nan, math.nan, 0.0, 0.0], dtype=torch.float64)
                if position < len(todo):
                    flat = todo[position]
                    i, j = divmod(flat, steps_beta)
                    need_loss = not data.loss_done[i, j]
                    need_grad_var = gradvar and not data.grad_var_done[i, j]
                    weights.set(float(data.alpha[i]), float(data.beta[j]))
                    if recalibrate is not None:
                        recalibrate()
                    loss = grad_var = math.nan
                    if need_grad_var:
                        result = gradient_variance(model, params, inputs, targets, chunk=chunk)
                        grad_var, loss = result.trace, result.mean_loss
                    elif need_loss:
                        loss = float(mean_loss(model, inputs, targets, batch_size))
                    row = torch.tensor([flat, loss, grad_var, float(need_loss), float(need_grad_var)],
                                       dtype=torch.float64)
                    finished += 1
                    if on_point is not None:
                        on_point(finished)
                gathered = all_gather_rows(row.to(context.device), context)
                if not context.is_main:
                    continue
                added = sum(store(g.cpu()) for g in gathered)
                unsaved += added
                bar.update(added)
                if save is not None and (unsaved >= steps_beta or time.monotonic() - last_save >= save_every_s):
                    save(data)
                    unsaved, last_save = 0, time.monotonic()
    finally:
        bar.close()
        if statistics is not None:
            with torch.no_grad():
                for buffer, saved in statistics:
                    buffer.copy_(saved)
        if save is not None and context.is_main and unsaved:
            save(data)
    return data


def _batchnorm_buffers(model: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Every BatchNorm buffer of `model` with a copy of its value (to put back after per-point recalibration)."""
    return [(b, b.detach().clone()) for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
            for b in m.buffers()]
