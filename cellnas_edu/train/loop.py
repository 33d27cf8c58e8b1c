"""The training loop: SGD with cosine annealing, per-epoch metrics, checkpoints and resume (Appendix A.3).

One epoch `e` (numbered from 1) of `E`:

1. the data order is the permutation of a generator seeded with `seed + e`
   (`DistributedSampler`), so it does not depend on what ran before;
2. drop path is set to `drop_path_prob * (e - 1) / E` (Appendix A.4, NASNet);
3. every batch: cross-entropy of the logits (+ `auxiliary_weight` times that
   of the auxiliary tower, Appendix A.4), backward, optional gradient clipping,
   an SGD step with the epoch's learning rate;
4. the learning rate follows cosine annealing to zero, stepped once per epoch
   as in DARTS: `lr_e = lr / 2 * (1 + cos(pi * (e - 1) / E))`, and `0`
   after the last epoch;
5. with `bn_recalibration = N`, BatchNorm's statistics are re-estimated on the
   first `N` training images ([`cellnas_edu.train.batchnorm`][cellnas_edu.train.batchnorm]: weights and
   random states untouched, so the training itself is the same with or without it);
6. the test set is evaluated, a line is appended to `metrics.jsonl` and the
   checkpoint is rewritten atomically.

Loss sums and correct counts stay on the device and are read once per epoch,
which is also when divergence is detected: a non-finite training loss (as
with learning rate 0.25 for some cells in Figure 4) ends the run cleanly with
`"diverged": true` in the last metrics line and state `"diverged"`. That
epoch is not evaluated (its test values are `null`: the weights are no longer
numbers) and its checkpoint is not written, so `checkpoint.pt` keeps the last
finite epoch. `train_loss` is the cross-entropy of the main classifier,
averaged over the epoch's samples as the weights changed (the auxiliary term
is optimised but not recorded); `test_loss` and `test_acc` are exact
averages over the test set.

On CUDA the network runs in channels-last memory format under bf16 autocast
(optionally `torch.compile`-d) with pinned, non-blocking host-to-device
copies. On the CPU it runs in fp32, channels-last, with multi-tensor SGD and
clipping (the CPU fast path of [`cellnas_edu.train.cpu`][cellnas_edu.train.cpu], each choice
measured there)."""

from __future__ import annotations

import math
import sys
import time
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from ..errors import UserError
from . import cpu, distributed
from .batchnorm import recalibrate_batchnorm, unaugmented_batches
from .checkpoint import (
    CHECKPOINT_FORMAT,
    load_checkpoint,
    optimizer_state_mismatch,
    rng_state,
    seed_everything,
    set_rng_state,
    state_dict_mismatch,
)
from .config import TrainConfig
from .runfolder import RunFolder, plan_run


@dataclass
class RunSummary:
    """What [`train`][cellnas_edu.train.loop.train] returns (and `cellnas train --json` prints)."""

    out_dir: str
    epochs_done: int
    diverged: bool
    metrics: list[dict]
    final_test_loss: float | None
    final_test_acc: float | None
    seconds: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class _WithAuxiliary(nn.Module):
    """`forward` = the network's `forward_with_aux`, so that `DistributedDataParallel` and
    `torch.compile` see the training computation through the ordinary call."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, x):
        return self.network.forward_with_aux(x)


def _autocast(device: torch.device, amp: bool):
    if device.type == "cuda" and amp:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()


def _to_device(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    if device.type != "cuda":
        return x.to(device, memory_format=torch.channels_last) if channels_last and x.dim() == 4 else x.to(device)
    fmt = torch.channels_last if channels_last and x.dim() == 4 else torch.preserve_format
    return x.to(device, non_blocking=True, memory_format=fmt)


@torch.no_grad()
def evaluation_sums(model: nn.Module, loader, device, *, amp: bool = False,
                    channels_last: bool = False) -> torch.Tensor:
    """`[sum of losses, number correct, number of samples]` on `device` (no host sync)."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64, device=device)
    try:
        for x, y in loader:
            x = _to_device(x, device, channels_last)
            y = y.to(device, non_blocking=True)
            with _autocast(device, amp):
                logits = model(x)
            sums[0] += F.cross_entropy(logits.float(), y, reduction="sum")
            sums[1] += (logits.argmax(dim=1) == y).sum()
            sums[2] += y.shape[0]
    finally:
        model.train(was_training)
    return sums


def evaluate(model: nn.Module, loader, device, *, amp: bool = False,
             channels_last: bool = False) -> tuple[float, float]:
    """Mean cross-entropy over the samples of `loader` and accuracy in percent (model in eval mode)."""
    loss_sum, correct, count = evaluation_sums(model, loader, device, amp=amp, channels_last=channels_last).tolist()
    if count == 0:
        raise ValueError("evaluate: the loader yielded no samples")
    return loss_sum / count, 100.0 * correct / count


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _say(ctx: distributed.DistContext, message: str) -> None:
    if ctx.is_main:
        tqdm.write(f"train: {message}", file=sys.stderr)


def build_optimizer(parameters, config: TrainConfig, device=None):
    """SGD with momentum and weight decay, and cosine annealing to zero stepped once per epoch (Appendix A.3).

    After `k` scheduler steps the learning rate is `lr / 2 * (1 + cos(pi * k / epochs))`:
    epoch `e` (from 1) trains with `k = e - 1` and the rate after the last epoch is 0.
    On the CPU (`device`) the update is multi-tensor (`foreach`, [`cellnas_edu.train.cpu`][cellnas_edu.train.cpu])."""
    foreach = cpu.foreach_for(device) if device is not None else None
    optimizer = torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay,
                                foreach=foreach)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs, eta_min=0.0)
    return optimizer, scheduler


def train(config: TrainConfig, out_dir, *, resume: bool = False, progress: bool = True,
          memory_limit: int | None = None) -> RunSummary:
    """Train `config` into `out_dir` (see the module docstring and
    [`cellnas_edu.train.runfolder`][cellnas_edu.train.runfolder]).

    `resume=True` continues the run in `out_dir` exactly where its
    checkpoint left it (or starts it if the folder is new); a finished or
    diverged run is returned as it is. Under `torchrun` every process calls
    this and rank 0 writes the files. A configuration whose memory lower bound
    ([`check_training_memory`][cellnas_edu.train.memory.check_training_memory]) exceeds the free memory, or
    `memory_limit` bytes where given, is refused before anything is allocated. Bad input raises `ValueError` or
    [`UserError`][cellnas_edu.errors.UserError] before anything is written."""
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    ctx = distributed.setup(config.device)
    try:
        with ExitStack() as held:  # the run folder's lock, taken by rank 0 in _plan_on_main
            return _train(config, Path(out_dir), resume, progress, ctx, held, memory_limit)
    finally:
        ctx.close()


def _train(config: TrainConfig, out_dir: Path, resume: bool, progress: bool,
           ctx: distributed.DistContext, held: ExitStack, memory_limit: int | None = None) -> RunSummary:
    from ..data import load_dataset

    started = time.perf_counter()
    genotype = config.build_genotype()
    if config.batch_size % ctx.world_size:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by the {ctx.world_size} processes")
    from .memory import check_training_memory

    check_training_memory(config, genotype, ctx.device, ctx.world_size, memory_limit)  # before anything is allocated
    plan = _plan_on_main(ctx, out_dir, config, genotype, resume, held)
    for note in plan.notes:
        _say(ctx, note)
    if plan.state in ("finished", "diverged"):
        if ctx.is_main:
            _finish_files(out_dir, plan.state, plan.epochs_done, plan.metrics, plan.rewrite_metrics)
        return _summary(out_dir, plan.metrics, plan.state == "diverged", time.perf_counter() - started)

    train_set = load_dataset(config.dataset, root=config.data_root, train=True, augment=config.augment,
                             cutout=config.cutout, subset=config.train_subset, seed=config.seed)
    test_set = load_dataset(config.dataset, root=config.data_root, train=False, augment=False, cutout=0,
                            subset=config.test_subset, seed=config.seed)
    folder = RunFolder(out_dir)
    run = _Run.build(config, genotype, ctx)
    if plan.state == "resume":
        run.restore(folder.checkpoint_path)
        _say(ctx, f"resuming after epoch {plan.epochs_done} of {config.epochs}")
    elif ctx.rank > 0:
        seed_everything(config.seed + 1_000_003 * ctx.rank)  # its own augmentation and drop-path draws
    metrics = list(plan.metrics)
    if ctx.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        if plan.state == "fresh":
            folder.write_config(config)
        if plan.rewrite_metrics or plan.state == "fresh":
            folder.write_metrics(metrics)
        folder.write_status("running", plan.epochs_done)
    ctx.barrier()

    train_sampler, train_loader, test_loader = _loaders(train_set, test_set, config, ctx)
    show = progress and ctx.is_main
    epochs_bar = tqdm(total=config.epochs, initial=plan.epochs_done, unit="epoch", disable=not show,
                      desc=f"{genotype.name or config.arch} {config.dataset}", file=sys.stderr, dynamic_ncols=True)
    diverged = False
    with epochs_bar:
        for epoch in range(plan.epochs_done + 1, config.epochs + 1):
            train_sampler.set_epoch(epoch)
            images_bar = tqdm(total=len(train_sampler) * ctx.world_size, unit="img", unit_scale=True, leave=False,
                              disable=not show, desc=f"epoch {epoch}/{config.epochs}", file=sys.stderr,
                              dynamic_ncols=True)
            with images_bar:
                record = run.epoch(epoch, train_loader, test_loader, images_bar)
            diverged = bool(record.get("diverged"))
            metrics.append(record)
            states = None if diverged else ctx.gather_objects(rng_state(ctx.device))
            if ctx.is_main:
                folder.append_metrics(record)  # metrics first: a crash before the checkpoint is undone
                if diverged:
                    folder.write_status("diverged", epoch)
                else:
                    folder.save_checkpoint(run.checkpoint(epoch, states, metrics))
                    folder.write_status("running", epoch)
            epochs_bar.update(1)
            if record["test_acc"] is not None:
                epochs_bar.set_postfix(train_loss=f"{record['train_loss']:.3f}", test_acc=f"{record['test_acc']:.2f}%")
            if diverged:
                _say(ctx, f"diverged at epoch {epoch}: the training loss is not finite (lr {config.lr:g}); "
                          "recorded as diverged, stopping")
                break
    if ctx.is_main and not diverged:
        _finish_files(out_dir, "finished", config.epochs, metrics, False, payload=run.final_weights())
    ctx.barrier()
    return _summary(out_dir, metrics, diverged, time.perf_counter() - started)


def _plan_on_main(ctx: distributed.DistContext, out_dir: Path, config: TrainConfig, genotype, resume: bool,
                  held: ExitStack):
    """On rank 0: lock the run folder for the life of the run (`held`), remove the temporaries a killed
    write left, and [`plan_run`][cellnas_edu.train.runfolder.plan_run] (reading only); the other processes receive its
    plan or its error."""

    def plan():
        folder = RunFolder(out_dir)
        held.enter_context(folder.lock("train"))
        for stale in folder.remove_stale_temporaries():
            _say(ctx, f"removed {stale.name}, left by a write that was killed")
        return plan_run(out_dir, config, genotype, resume)

    if not ctx.distributed:
        return plan()
    verdict = None
    if ctx.is_main:
        try:
            verdict = plan()
        except Exception as exc:  # noqa: BLE001 - raised on every process below
            verdict = exc
    verdict = ctx.broadcast_from_main(verdict)
    if isinstance(verdict, Exception):
        raise verdict
    return verdict


def _loaders(train_set, test_set, config: TrainConfig, ctx: distributed.DistContext):
    """The training sampler and loader (permutation seeded by `seed + epoch`, one shard per process) and the
    test loader (every `world_size`-th image from `rank`, so the shards cover the test set exactly once)."""
    cuda = ctx.device.type == "cuda"
    per_process_batch = config.batch_size // ctx.world_size
    train_sampler = DistributedSampler(train_set, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True,
                                       seed=config.seed, drop_last=False)
    train_loader = DataLoader(train_set, batch_size=per_process_batch, sampler=train_sampler,
                              num_workers=config.num_workers, pin_memory=cuda, drop_last=False,
                              persistent_workers=config.num_workers > 0)
    test_shard = torch.utils.data.Subset(test_set, range(ctx.rank, len(test_set), ctx.world_size))
    test_loader = DataLoader(test_shard, batch_size=per_process_batch, shuffle=False,
                             num_workers=config.num_workers, pin_memory=cuda)
    return train_sampler, train_loader, test_loader


@dataclass
class _Run:
    """The network, its training wrapper, optimiser and scheduler of one process, and one epoch of training."""

    config: TrainConfig
    genotype: object
    ctx: distributed.DistContext
    net: nn.Module
    step_model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    channels_last: bool

    @classmethod
    def build(cls, config: TrainConfig, genotype, ctx: distributed.DistContext) -> _Run:
        from ..nets.model import network_for_dataset

        device = ctx.device
        cuda = device.type == "cuda"
        if not cuda:
            cpu.keep_freed_memory()
        seed_everything(config.seed)  # the same initial weights in every process and on every resume
        net = network_for_dataset(genotype, config.dataset, C=config.init_channels, layers=config.layers,
                                  auxiliary=config.auxiliary, drop_path_prob=0.0)
        channels_last = cpu.channels_last_for(device, config.channels_last)
        net = net.to(device, memory_format=torch.channels_last) if channels_last else net.to(device)
        optimizer, scheduler = build_optimizer(net.parameters(), config, device)
        step_model: nn.Module = _WithAuxiliary(net)
        if ctx.distributed:
            dead = genotype.normal.dead_nodes() or genotype.reduce.dead_nodes()  # their weights get no gradient
            step_model = nn.parallel.DistributedDataParallel(
                step_model, device_ids=[device.index] if cuda else None, find_unused_parameters=bool(dead))
        if config.compile:
            step_model = torch.compile(step_model)
        return cls(config, genotype, ctx, net, step_model, optimizer, scheduler, channels_last)

    def restore(self, path: Path) -> None:
        """Load weights, optimiser, scheduler and this process's RNG states from a checkpoint."""
        checkpoint = load_checkpoint(path, map_location=self.ctx.device)
        states = checkpoint["rng"]
        problem = (state_dict_mismatch("optimizer", self.optimizer.state_dict(), checkpoint["optimizer"])
                   or state_dict_mismatch("scheduler", self.scheduler.state_dict(), checkpoint["scheduler"])
                   or optimizer_state_mismatch(self.optimizer, checkpoint["optimizer"]))
        if problem:
            raise UserError(f"{path}: the checkpoint does not fit this run ({problem})")
        try:
            self.net.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            self.scheduler.load_state_dict(checkpoint["scheduler"])
            set_rng_state(states[self.ctx.rank % len(states)], self.ctx.device)
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            raise UserError(f"{path}: the checkpoint does not fit this run ({reason})") from None
        if len(states) != self.ctx.world_size:
            _say(self.ctx, f"the checkpoint holds the RNG states of {len(states)} process(es), this run has "
                           f"{self.ctx.world_size}: it continues, but not bitwise as the original would")

    def epoch(self, epoch: int, train_loader, test_loader, bar) -> dict:
        """Train epoch `epoch` (from 1), evaluate, and return its metrics record."""
        config, ctx, device = self.config, self.ctx, self.ctx.device
        started = time.perf_counter()
        lr = self.optimizer.param_groups[0]["lr"]
        self.net.drop_path_prob = config.drop_path_prob * (epoch - 1) / config.epochs
        sums = _train_one_epoch(self.step_model, self.net, train_loader, self.optimizer, config, device,
                                self.channels_last, bar, ctx.world_size)
        self.scheduler.step()
        ctx.broadcast_buffers(self.net)
        loss_sum, correct, count = ctx.all_reduce_sum(sums).tolist()  # the epoch's one host synchronisation
        train_loss = loss_sum / count
        diverged = not math.isfinite(train_loss)
        test_loss = test_acc = None
        if not diverged and (epoch % config.eval_every == 0 or epoch == config.epochs):
            if config.bn_recalibration:
                recalibrate_batchnorm(self.net, unaugmented_batches(
                    train_loader.dataset, config.bn_recalibration, train_loader.batch_size, device,
                    channels_last=self.channels_last), images=config.bn_recalibration)
            test_sums = evaluation_sums(self.net, test_loader, device, amp=config.amp and device.type == "cuda",
                                        channels_last=self.channels_last)
            test_loss_sum, test_correct, test_count = ctx.all_reduce_sum(test_sums).tolist()
            test_loss, test_acc = _finite_or_none(test_loss_sum / test_count), 100.0 * test_correct / test_count
        record = {"epoch": epoch, "lr": lr, "train_loss": _finite_or_none(train_loss),
                  "train_acc": 100.0 * correct / count, "test_loss": test_loss, "test_acc": test_acc,
                  "seconds": round(time.perf_counter() - started, 3)}
        if diverged:
            record["diverged"] = True
        return record

    def checkpoint(self, epoch: int, rng_states: list, metrics: list[dict]) -> dict:
        return {"format": CHECKPOINT_FORMAT, "epoch": epoch, "model": self.net.state_dict(),
                "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "rng": rng_states, "config": self.config.to_dict(), "genotype": self.genotype.to_dict(),
                "metrics": metrics}

    def final_weights(self) -> dict:
        return {"state_dict": self.net.state_dict(), "genotype": self.genotype.to_dict(),
                "config": self.config.to_dict()}


def _train_one_epoch(step_model, net, loader, optimizer, config: TrainConfig, device, channels_last: bool, bar,
                     world_size: int) -> torch.Tensor:
    """One pass over this process's shard; returns `[loss sum, correct, count]` on the device."""
    step_model.train()
    sums = torch.zeros(3, dtype=torch.float64, device=device)
    parameters = [p for p in net.parameters() if p.requires_grad]
    foreach = cpu.foreach_for(device)
    for x, y in loader:
        x = _to_device(x, device, channels_last)
        y = y.to(device, non_blocking=True)
        with _autocast(device, config.amp):
            logits, aux_logits = step_model(x)
            loss = F.cross_entropy(logits.float(), y)
            objective = loss
            if aux_logits is not None:
                objective = loss + config.auxiliary_weight * F.cross_entropy(aux_logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        if config.grad_clip is not None:
            nn.utils.clip_grad_norm_(parameters, config.grad_clip, foreach=foreach)
        optimizer.step()
        batch = y.shape[0]
        sums[0] += loss.detach() * batch
        sums[1] += (logits.detach().argmax(dim=1) == y).sum()
        sums[2] += batch
        bar.update(batch * world_size)
    return sums


def _finish_files(out_dir: Path, state: str, epochs_done: int, metrics: list[dict], rewrite_metrics: bool, *,
                  payload: dict | None = None) -> None:
    """Final writes of a finished or diverged run: `model.pt` (if missing) and `status.json`."""
    folder = RunFolder(out_dir)
    if rewrite_metrics:
        folder.write_metrics(metrics)
    if state == "finished" and not folder.model_path.exists():
        if payload is None:  # finished, but a crash came before model.pt: take the last checkpoint
            checkpoint = load_checkpoint(folder.checkpoint_path)
            payload = {"state_dict": checkpoint["model"], "genotype": checkpoint["genotype"],
                       "config": checkpoint["config"]}
        folder.save_model(payload)
    folder.write_status(state, epochs_done)


def _summary(out_dir: Path, metrics: list[dict], diverged: bool, seconds: float) -> RunSummary:
    evaluated = [m for m in metrics if m.get("test_acc") is not None]
    last = evaluated[-1] if evaluated else {}
    return RunSummary(out_dir=str(out_dir), epochs_done=len(metrics), diverged=diverged, metrics=metrics,
                      final_test_loss=last.get("test_loss"), final_test_acc=last.get("test_acc"), seconds=seconds)


__all__ = ["RunSummary", "build_optimizer", "evaluate", "evaluation_sums", "train"]
