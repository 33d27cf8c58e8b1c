"""Running a convergence experiment: every (learning rate, cell, seed), serially or in a worker pool."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..cells.genotypes import genotype_from_dict, resolve_genotype
from ..errors import UserError
from ..io import atomic_write_json, read_bounded_text
from ..train.cpu import torch_threads
from ..train.determinism import NUMERICS_KEY, numerics, resume_threads
from ..train.runfolder import RunFolder
from .plots import figure_path, plot_curves
from .pool import run_in_parallel
from .spec import ConvergenceSpec, ExperimentCell, experiment_cells, lr_key, run_dir
from .summary import summarize


def read_manifest(manifest: Path, protocol: dict, resume: bool, what: str) -> dict:
    """The `experiment.json` of an experiment folder that is being resumed, checked against `protocol`.

    Every refusal is a one-line [`UserError`][cellnas_edu.errors.UserError]: the folder already holds `what`
    and `resume` is off; the file is not valid JSON or not a manifest; or a field of the protocol differs
    (named in the message). Used by the convergence runner and by the early-selection search."""
    out_dir = manifest.parent
    if not resume:
        raise UserError(f"{out_dir} already holds {what}; pass --resume to continue it "
                        "(finished runs are skipped) or choose another --out")
    try:
        old = json.loads(read_bounded_text(manifest, what="manifest"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{manifest} is not valid JSON; remove the folder or choose another --out") from None
    if not isinstance(old, dict) or not isinstance(old.get("protocol"), dict):
        raise UserError(f"{manifest} is not an experiment manifest; choose another --out")
    new = json.loads(json.dumps(protocol))
    changed = [k for k in new if old["protocol"].get(k) != new[k]]
    if changed:
        raise UserError(f"{out_dir} holds an experiment with another protocol ({', '.join(changed)} differ); "
                        "choose another --out")
    return old


def _prepare(out_dir: Path, spec: ConvergenceSpec, cells: list[ExperimentCell], resume: bool, threads: int) -> None:
    """Write `experiment.json` (the protocol and every cell's genotype); refuse a different protocol."""
    manifest = out_dir / "experiment.json"
    if manifest.exists():
        old = read_manifest(manifest, spec.protocol(), resume, "a convergence experiment")
        resume_threads(old.get(NUMERICS_KEY), threads, f"experiment folder {out_dir}")
        old_cells = {c["label"]: c["genotype"] for c in old.get("cells", [])}
        for cell in cells:
            if cell.label in old_cells and genotype_from_dict(old_cells[cell.label]) != cell.genotype:
                raise UserError(f"{out_dir}: cell {cell.label} differs from the one trained before; choose another "
                                "--out")
    elif any(out_dir.glob("*/*/seed*")) and not resume:
        raise UserError(f"{out_dir} already holds run folders; pass --resume or choose another --out")
    atomic_write_json(manifest, {
        "protocol": spec.protocol(),
        NUMERICS_KEY: numerics(threads=threads),
        "lrs": list(spec.lrs),
        "seeds": spec.seeds,
        "cells": [{"label": c.label, "original": c.original, "width": float(c.width), "depth": c.depth,
                   "genotype": c.genotype.to_dict()} for c in cells],
    })


def _config_for(spec: ConvergenceSpec, cell: ExperimentCell, lr: float, seed: int):
    """The trainer's config of one run: `arch` is the cell's label, the genotype travels as data."""
    from ..train import make_config

    overrides = dict(spec.overrides, dataset=spec.dataset)
    if spec.epochs is not None:
        overrides["epochs"] = spec.epochs
    return make_config(spec.preset, arch=cell.label, genotype=cell.genotype, lr=float(lr), seed=seed, **overrides)


def parameter_counts(cells: list[ExperimentCell], config) -> dict[str, int]:
    """Parameters of each cell's network under the protocol (Table 3 of Appendix B.2 for operation variants)."""
    from ..nets.model import count_parameters, network_for_dataset

    return {
        c.label: count_parameters(network_for_dataset(c.genotype, config.dataset, C=config.init_channels,
                                                      layers=config.layers, auxiliary=config.auxiliary))
        for c in cells
    }


def run_convergence(spec: ConvergenceSpec, out_dir, *, resume: bool = False, progress: bool = True,
                    n_boot: int = 2000, jobs: int = 1, threads_per_job: int = 1, plot: bool = True) -> dict:
    """Train every (learning rate, cell, seed) of `spec` not yet done; return (and write) the summary.

    Runs that are finished or diverged are skipped; an interrupted run
    resumes from its checkpoint. `summary.json` and the figure of the run's
    learning rate are rewritten atomically after every run.

    `jobs > 1` trains that many runs at once in worker processes, each with
    `threads_per_job` torch threads (CPU only: small networks use one core
    poorly, and independent runs fill a multi-core machine better than
    intra-op threads do). Results do not depend on `jobs`.

    `plot=False` draws no figures (a study that draws its own from its
    `results/` file); `summary.json` is the same either way."""
    from tqdm import tqdm

    out_dir = Path(out_dir)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    genotype = resolve_genotype(spec.arch)
    cells = experiment_cells(genotype, spec.kind, spec.count, spec.variant_seed, spec.family)
    _prepare(out_dir, spec, cells, resume, threads_per_job)
    first = _config_for(spec, cells[0], spec.lrs[0], 0)
    epochs = first.epochs
    params = parameter_counts(cells, first)

    def write_summary() -> dict:
        summary = summarize(out_dir, spec, cells, epochs, params, n_boot=n_boot)
        atomic_write_json(out_dir / "summary.json", summary)
        return summary

    def after_run(lr: float) -> None:
        write_summary()
        if plot:
            plot_curves(out_dir, lr, cells, spec.seeds, epochs, figure_path(out_dir, lr))

    runs = [(lr, cell, seed) for lr in spec.lrs for cell in cells for seed in range(spec.seeds)]
    todo = [(lr, cell, seed) for lr, cell, seed in runs
            if not RunFolder(run_dir(out_dir, lr, cell.label, seed)).record(epochs).done]
    bar = tqdm(total=len(runs), initial=len(runs) - len(todo), desc="convergence runs", unit="run",
               disable=not progress, file=sys.stderr, dynamic_ncols=True, position=0)
    try:
        if jobs == 1:
            with torch_threads(threads_per_job):  # the workers' count: the same numbers as --jobs N
                _run_serially(spec, out_dir, todo, progress, bar, after_run)
        else:
            work = [(lr, _config_for(spec, cell, lr, seed), run_dir(out_dir, lr, cell.label, seed))
                    for lr, cell, seed in todo]
            run_in_parallel(work, jobs, threads_per_job, bar, after_run)
    finally:
        bar.close()
    for lr in spec.lrs if plot else ():
        plot_curves(out_dir, lr, cells, spec.seeds, epochs, figure_path(out_dir, lr))
    return write_summary()


def _run_serially(spec, out_dir, todo, progress, bar, after_run) -> None:
    from ..train import train

    for lr, cell, seed in todo:
        bar.set_postfix_str(f"lr {lr_key(lr)} {cell.label} seed{seed}")
        config = _config_for(spec, cell, lr, seed)
        train(config, run_dir(out_dir, lr, cell.label, seed), resume=True, progress=progress)
        after_run(lr)
        bar.update(1)
