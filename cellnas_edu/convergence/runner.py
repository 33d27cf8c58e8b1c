"""Running a convergence experiment: every (learning rate, cell, seed), serially or in a worker pool."""

from __future__ import annotations

from pathlib import Path

from ..cells.genotypes import genotype_from_dict, resolve_genotype
from ..errors import UserError
from ..experiments.runner import PlannedRun, prepare, run_all
from ..io import atomic_write_json
from .plots import figure_path, plot_curves
from .spec import ConvergenceSpec, ExperimentCell, experiment_cells, lr_key, run_dir
from .summary import summarize


def _prepare(out_dir: Path, spec: ConvergenceSpec, cells: list[ExperimentCell], resume: bool, threads: int) -> None:
    """Write `experiment.json` (the protocol and every cell's genotype); refuse a different protocol."""

    def check_trained(old: dict) -> None:
        old_cells = {c["label"]: c["genotype"] for c in old.get("cells", [])}
        for cell in cells:
            if cell.label in old_cells and genotype_from_dict(old_cells[cell.label]) != cell.genotype:
                raise UserError(f"{out_dir}: cell {cell.label} differs from the one trained before; choose another "
                                "--out")

    prepare(out_dir, spec.protocol(), {
        "lrs": list(spec.lrs),
        "seeds": spec.seeds,
        "cells": [{"label": c.label, "original": c.original, "width": float(c.width), "depth": c.depth,
                   "genotype": c.genotype.to_dict()} for c in cells],
    }, resume=resume, threads=threads, what="a convergence experiment", runs_glob="*/*/seed*",
        check_trained=check_trained)


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

    runs = [PlannedRun(lr, _config_for(spec, cell, lr, seed), run_dir(out_dir, lr, cell.label, seed),
                       f"lr {lr_key(lr)} {cell.label} seed{seed}")
            for lr in spec.lrs for cell in cells for seed in range(spec.seeds)]
    run_all(runs, epochs, after_run, desc="convergence runs", jobs=jobs, threads_per_job=threads_per_job,
            progress=progress, train_progress=progress, position=0)
    for lr in spec.lrs if plot else ():
        plot_curves(out_dir, lr, cells, spec.seeds, epochs, figure_path(out_dir, lr))
    return write_summary()
