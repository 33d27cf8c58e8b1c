r"""Measure a trained run: loss surface, gradient variance, sharpness (Section 4.2), into `landscape.npz`.

[`measure_landscape`][cellnas_edu.landscape.measure.measure_landscape] is what `cellnas landscape RUN_DIR` does:

1. read the run ([`cellnas_edu.train.load_run`][cellnas_edu.train.load_run]: eval mode, trained
   BatchNorm statistics) and a fixed, seeded, class-balanced sample of `M`
   test images ([`cellnas_edu.data.subset_indices`][cellnas_edu.data.subset_indices]), preloaded on the
   device once;
2. open `RUN_DIR/landscape.npz` for resuming (same settings) or start a
   fresh grid; nothing is written before the first grid row is done, so a run
   that fails early never touches an existing file;
3. compute `eval_loss`, the plain evaluation loss at $w^*$ on the same
   `M` images ([`cellnas_edu.train.evaluate`][cellnas_edu.train.evaluate]), independently of the
   grid; the grid's centre `s(0, 0)` must equal it;
4. fill the grid ([`compute_grid`][cellnas_edu.landscape.grid.compute_grid]), shared
   among `torchrun` processes; optionally the top Hessian eigenvalue
   ([`hessian`][cellnas_edu.landscape.hessian]) and the plots."""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..cells.topology import cell_depth, cell_width
from ..data import load_dataset
from ..errors import UserError, refuse_if_too_big
from ..io import exclusive_lock, remove_stale_temporaries
from ..train.batchnorm import recalibrate_batchnorm, unaugmented_batches
from ..train.cpu import auto_chunk, channels_last_for
from .directions import DirectionSpec, random_direction_pair
from .distributed import DistContext, setup
from .gradvar import GRADVAR_STATS
from .grid import compute_grid
from .hessian import top_hessian_eigenvalue
from .store import FILENAME, LandscapeData, open_for_resume, validate_grid
from .surface import landscape_parameters


@dataclass(frozen=True)
class LandscapeOptions:
    """Settings of one measurement (the `cellnas landscape` flags)."""

    steps: int = 21
    span: float = 1.0
    samples: int = 1000
    seed: int = 0
    ignore_bias_bn: bool = True
    gradvar: bool = False
    gradvar_stat: str = "trace"
    hessian: bool = False
    chunk: int | None = None  # per-sample gradients per vmap call; None: from the memory available
    batch_size: int = 256
    device: str = "auto"
    hessian_tol: float = 1e-3
    hessian_max_iter: int = 100
    weights: str = "best available"
    overwrite: bool = False
    plots: bool = False
    progress: bool = True
    channels_last: bool = True  # network and images in channels-last format (CPU and CUDA; values unchanged)
    bn_recalibration: int = 0  # >0: BatchNorm re-estimated on this many training images at every grid point

    def validate(self) -> None:
        validate_grid(self.steps, self.span)
        if self.gradvar_stat not in GRADVAR_STATS:
            raise ValueError(f"--gradvar-stat must be one of {', '.join(GRADVAR_STATS)}, got {self.gradvar_stat!r}")
        if isinstance(self.bn_recalibration, bool) or not isinstance(self.bn_recalibration, int) \
                or self.bn_recalibration < 0:
            raise ValueError(f"--bn-recalibration must be a non-negative integer, got {self.bn_recalibration}")
        for name in ("samples", "chunk", "batch_size", "hessian_max_iter"):
            value = getattr(self, name)
            if name == "chunk" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"--seed must be a non-negative integer, got {self.seed}")
        if not (math.isfinite(self.hessian_tol) and self.hessian_tol > 0):
            raise ValueError(f"--hessian-tol must be a positive number, got {self.hessian_tol}")


GRID_BYTES_PER_POINT = 2 * (8 + 1 + 8 + 1)
"""bytes per grid point: loss and grad_var (float64), their done flags (bool), twice (the array and its saved
copy)"""


def check_grid_memory(steps: int) -> None:
    """Refuse a grid whose arrays alone exceed the memory available (`--steps 100001`: 180 GiB), before
    anything is allocated or read."""
    refuse_if_too_big(GRID_BYTES_PER_POINT * steps * steps, f"a {steps}x{steps} grid")


def check_chunk_memory(chunk: int, num_parameters: int, device: torch.device) -> None:
    """Per-sample gradients of `chunk` samples hold `chunk` copies of the gradient (float32, and as much again
    for the differences): refuse a chunk that cannot fit on `device`."""
    available = None
    if device.type == "cuda":
        try:
            available = torch.cuda.mem_get_info(device)[0]
        except (RuntimeError, AssertionError):
            available = None
    refuse_if_too_big(2 * 4 * chunk * num_parameters, f"--chunk {chunk} per-sample gradients of "
                      f"{num_parameters:,} parameters", available=available)


LOCK = ".landscape.lock"
"""the lock file of `landscape.npz` in a run folder, held by the measuring process (rank 0)"""


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 of the state dict (parameters, BatchNorm statistics): does a landscape file belong to these weights?"""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


def test_sample(dataset: str, data_root: str | None, samples: int, seed: int, device: torch.device):
    """`(indices, images, labels)`: `samples` seeded, class-balanced test images, normalised, on `device`."""
    from ..data import load_dataset, subset_indices

    test_set = load_dataset(dataset, root=data_root, train=False)
    if samples > len(test_set):
        raise ValueError(f"--samples {samples} exceeds the {len(test_set)} test images of {dataset}")
    indices = subset_indices(test_set.labels, samples, seed)
    images, labels = test_set.batch(indices, device)
    return indices.numpy().astype(np.int64), images.contiguous(), labels


def evaluation_loss(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                    device: torch.device) -> tuple[float, float]:
    """The trainer's [`evaluate`][cellnas_edu.train.evaluate] on the sample: `(mean loss, accuracy %)`."""
    from ..train import evaluate

    batches = [(images[s:s + batch_size], labels[s:s + batch_size]) for s in range(0, len(labels), batch_size)]
    return evaluate(model, batches, device)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summarize(data: LandscapeData, gradvar_stat: str = "trace") -> dict:
    """The numbers of a landscape file (`cellnas landscape --json`); non-finite values become `None`.

    The gradient variance is reported both as the trace `g` and per parameter `g / P` with `P`;
    `grad_var_selected_center` is the one `gradvar_stat` (`--gradvar-stat`) selects, the one the plots show."""
    stat = gradvar_stat
    done = data.loss[data.loss_done]
    finite = done[np.isfinite(done)]
    c = data.center
    summary = {
        "arch": data.info.get("arch"),
        "dataset": data.settings.get("dataset"),
        "eval_loss": data.info.get("eval_loss"),
        "eval_acc": data.info.get("eval_acc"),
        "center_loss": float(data.loss[c]) if data.loss_done[c] else None,
        "min_loss": float(finite.min()) if finite.size else None,
        "max_loss": float(finite.max()) if finite.size else None,
        "grid": [int(data.alpha.size), int(data.beta.size)],
        "points_done": int(data.loss_done.sum()),
        "points": int(data.loss_done.size),
        "span": data.settings["span"],
        "samples": data.settings["samples"],
        "seed": data.settings["seed"],
        "ignore_bias_bn": data.settings["ignore_bias_bn"],
        "cell_width": data.info.get("normal_width"),
        "cell_depth": data.info.get("normal_depth"),
    }
    if data.grad_var_done.any():
        g = float(data.grad_var[c]) if data.grad_var_done[c] else None
        p = data.info.get("grad_var_num_parameters")
        summary.update({
            "grad_var_definition": "trace of the per-sample gradient covariance, (1/M) sum_i ||g_i - g_mean||^2",
            "grad_var_center": g,
            "grad_var_std_center": None if g is None else math.sqrt(g),
            "grad_var_per_parameter_center": None if g is None or not p else g / p,
            "grad_var_num_parameters": p,
            "grad_var_stat": stat,
            "grad_var_selected_center": None if g is None else (g if stat == "trace" else (g / p if p else None)),
            "grad_var_points_done": int(data.grad_var_done.sum()),
        })
    if "top_hessian_eigenvalue" in data.info:
        summary.update({key: data.info[key] for key in (
            "top_hessian_eigenvalue", "hessian_iterations", "hessian_converged", "hessian_residual")})
    return {key: _finite(value) for key, value in summary.items()}


def measure_landscape(run_dir, options: LandscapeOptions = LandscapeOptions(), *,
                      on_point: Callable[[int], None] | None = None, context: DistContext | None = None) -> dict:
    """Measure `run_dir` (see the module docstring); returns [`summarize`][cellnas_edu.landscape.measure.summarize]
    plus timing and files.

    Under `torchrun` every process calls this; only rank 0 writes and its
    return value is the full summary (the others return `{}`)."""
    from ..train import load_run

    started = time.perf_counter()
    options.validate()
    check_grid_memory(options.steps)
    run_dir = Path(run_dir)
    own_context = context is None
    context = setup(options.device) if own_context else context
    held = ExitStack()  # rank 0's lock on RUN_DIR/landscape.npz, for the whole measurement
    try:
        run = load_run(run_dir, map_location=context.device, weights=options.weights)
        model = run.model.eval()
        indices, images, labels = test_sample(run.config.dataset, run.config.data_root, options.samples,
                                              options.seed, context.device)
        if channels_last_for(context.device, options.channels_last):
            # The CPU fast path of training, measured for these passes too (benchmarks/README.md): the same
            # values up to float reassociation, the loss surface about 2.5x and gradient variance 1.1x faster.
            # Directions are drawn by shape, not by memory layout, so they do not change.
            model = model.to(memory_format=torch.channels_last)
            images = images.contiguous(memory_format=torch.channels_last)
        params = landscape_parameters(model, images[:2])
        if options.gradvar and options.chunk is not None:  # a chosen chunk (None) fits by construction
            check_chunk_memory(min(options.chunk, options.samples), sum(p.numel() for p in params.values()),
                               context.device)
        spec = DirectionSpec(seed=options.seed, ignore_bias_bn=options.ignore_bias_bn)
        settings = {"steps": options.steps, "span": float(options.span), "samples": options.samples,
                    "seed": options.seed, "ignore_bias_bn": options.ignore_bias_bn,
                    "normalization": spec.normalization, "dataset": run.config.dataset,
                    "weights_fingerprint": weights_fingerprint(model)}
        if options.bn_recalibration:  # (absent at 0, so files measured before the option still match)
            settings["bn_recalibration"] = options.bn_recalibration
        path = run_dir / FILENAME
        opened = None
        if context.is_main:
            try:
                held.enter_context(exclusive_lock(run_dir, LOCK, "landscape",
                                                  hint=f"; wait for it to finish before measuring {FILENAME}"))
                remove_stale_temporaries(run_dir, prefix="landscape")
                opened = open_for_resume(path, settings, indices, options.overwrite)
            except UserError as exc:
                opened = exc
        opened = context.broadcast_from_main(opened)
        if isinstance(opened, UserError):
            raise opened
        data: LandscapeData = opened
        data.info.update(_run_info(run, len(params), sum(p.numel() for p in params.values())))
        chunk, chunk_info = _gradvar_chunk(options, model, images, params, context)
        data.info.update({**chunk_info, "batch_size": options.batch_size,
                          "memory_format": "channels_last" if channels_last_for(context.device, options.channels_last)
                          else "contiguous",
                          "direction_spec": json.dumps(spec.to_dict())})
        recalibrate = _recalibration(run, model, options, context.device)
        data.info["batchnorm"] = batchnorm_mode(run.config.bn_recalibration, options.bn_recalibration)
        if context.is_main:
            if recalibrate is not None:
                recalibrate()
            data.info["eval_loss"], data.info["eval_acc"] = evaluation_loss(
                model, images, labels, options.batch_size, context.device)
        save = (lambda d: d.save(path)) if context.is_main else None
        before = int(data.loss_done.sum())
        directions = random_direction_pair(params, spec)
        compute_grid(model, params, directions, images, labels, data, gradvar=options.gradvar,
                     batch_size=options.batch_size, chunk=chunk, save=save, progress=options.progress,
                     on_point=on_point, context=context, recalibrate=recalibrate)
        if not context.is_main:
            return {}
        if options.hessian and not _hessian_is_current(data.info, options):
            result = top_hessian_eigenvalue(model, params, images, labels, tol=options.hessian_tol,
                                            max_iter=options.hessian_max_iter, seed=options.seed,
                                            batch_size=options.batch_size)
            data.info.update({"top_hessian_eigenvalue": result.eigenvalue, "hessian_iterations": result.iterations,
                              "hessian_converged": result.converged, "hessian_residual": result.residual,
                              "hessian_tol": options.hessian_tol, "hessian_max_iter": options.hessian_max_iter})
        data.save(path)
        files = [str(path)]
        if options.plots:
            from .plots import write_landscape_plots

            files += [str(p) for p in write_landscape_plots(data, run_dir, gradvar_stat=options.gradvar_stat)]
        summary = summarize(data, options.gradvar_stat)
        if not options.hessian:
            for key in ("top_hessian_eigenvalue", "hessian_iterations", "hessian_converged", "hessian_residual"):
                summary.pop(key, None)
        summary.update({"run_dir": str(run_dir), "weights": run.weights, "epoch": run.epoch,
                        "batchnorm": data.info["batchnorm"],
                        "points_computed_now": int(data.loss_done.sum()) - before,
                        "seconds": time.perf_counter() - started, "files": files})
        return summary
    finally:
        held.close()
        if own_context:
            context.close()


def batchnorm_mode(trained_with: int, every_point: int) -> str:
    """Which BatchNorm statistics the surface and the gradient variance are measured with (one line)."""
    if every_point:
        return (f"evaluation mode; statistics re-estimated on {every_point} training images at every grid point "
                "(cellnas_edu.train.batchnorm)")
    if trained_with:
        return (f"evaluation mode; the statistics stored with the weights, re-estimated on {trained_with} training "
                "images at the trained weights, fixed across the grid")
    return ("evaluation mode; the running statistics of training (momentum average, which can lag the weights), "
            "fixed across the grid")


def _recalibration(run, model, options: LandscapeOptions, device) -> Callable[[], None] | None:
    """With `--bn-recalibration N`: a function re-estimating BatchNorm on the run's first N training images."""
    if not options.bn_recalibration:
        return None
    config = run.config
    train_set = load_dataset(config.dataset, root=config.data_root, train=True, subset=config.train_subset,
                             seed=config.seed)
    if options.bn_recalibration > len(train_set):
        raise UserError(f"--bn-recalibration {options.bn_recalibration} is more than the run's {len(train_set)} "
                        "training images")
    batches = list(unaugmented_batches(train_set, options.bn_recalibration, options.batch_size, device,
                                       channels_last=channels_last_for(device, options.channels_last)))
    return lambda: recalibrate_batchnorm(model, batches, images=options.bn_recalibration)


def _gradvar_chunk(options: LandscapeOptions, model, images, params, context) -> tuple[int, dict]:
    """`--chunk` as given, or (`None`) chosen from the memory available
    ([`cellnas_edu.train.cpu.auto_chunk`][cellnas_edu.train.cpu.auto_chunk]:
    at most half of it for the per-sample gradients, at most 16), said on stderr and kept in the file's info."""
    if options.chunk is not None:
        return options.chunk, {"chunk": options.chunk, "chunk_rule": "given (--chunk)"}
    if not options.gradvar:
        return 16, {"chunk": 16, "chunk_rule": "not used (no --gradvar)"}
    chunk, info = auto_chunk(model, images, sum(p.numel() for p in params.values()), context.device)
    if context.is_main:
        print(f"landscape: gradient-variance chunk {chunk} (~{info['chunk_bytes_per_sample'] / 2**20:.0f} MB per "
              f"sample, {info['chunk_available_bytes'] / 2**30:.1f} GB available ({info['chunk_memory_source']}); "
              "--chunk sets it)", file=sys.stderr)
    return chunk, info


def _hessian_is_current(info: dict, options: LandscapeOptions) -> bool:
    return ("top_hessian_eigenvalue" in info and info.get("hessian_tol") == options.hessian_tol
            and info.get("hessian_max_iter") == options.hessian_max_iter)


def _run_info(run, num_tensors: int, num_parameters: int) -> dict:
    genotype = run.genotype
    return {
        "arch": run.config.arch,
        "genotype_name": genotype.name,
        "genotype": json.dumps(genotype.to_dict()),
        "normal_width": float(cell_width(genotype.normal)),
        "normal_depth": cell_depth(genotype.normal),
        "reduce_width": float(cell_width(genotype.reduce)),
        "reduce_depth": cell_depth(genotype.reduce),
        "init_channels": run.config.init_channels,
        "layers": run.config.layers,
        "weights": run.weights,
        "epoch": run.epoch,
        "grad_var_num_parameters": num_parameters,
        "landscape_tensors": num_tensors,
        "run_config": json.dumps(asdict(run.config)),
    }
