"""Convergence of a cell against its random variants (Section 4.1, Figures 3, 4, 5 and 12-16).

Section 4.1 trains "both original NAS architectures and their random variants"
under one protocol (Appendix A.3) and compares their test loss and accuracy
curves during training, at several learning rates (Figure 4: 0.0025, 0.025,
0.25). This module runs that experiment reproducibly and resumably:

* the cells are the original genotype and a seeded variant family of its
  **normal cell** (:func:`cellnas_edu.variants.variant_family`, Appendix A.2):
  ``"connections"`` variants for Figures 3, 4, 13-16, ``"operations"`` variants
  for Figures 5 and 12. The **reduction cell is left unchanged**, as in the
  paper, which visualises and measures normal cells only (Figures 2, 10, 11,
  Table 2). Duplicates are redrawn (``distinct=True``) so that no cell is
  trained twice under two labels;
* every (learning rate, cell, seed) is one run of the package's trainer
  (:func:`cellnas_edu.train.train`, one preset for all) in its own folder
  ``OUT/<lr>/<label>/seed<k>/``. A finished or diverged run is skipped, an
  interrupted one resumes from its checkpoint, so the whole experiment is
  resumable;
* after every run ``OUT/summary.json`` is rewritten atomically with the
  statistics of :mod:`cellnas_edu.convergence_stats` (per-cell means and 95%
  intervals over seeds, Spearman correlations of width and depth with test
  loss, diverged runs listed apart), and ``OUT/figures/`` gets the curves:
  mean per cell with a shaded 95% interval over seeds, coloured by width.

``OUT/experiment.json`` records the protocol and the cells; resuming with a
different protocol (other architecture, variants, preset, epochs, ...) is
refused. Learning rates and seeds may be added when resuming.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from .cellspec import Genotype
from .convergence_stats import (
    area_under_curve,
    describe_correlation,
    is_diverged,
    mean_interval,
    one_way_anova,
    spearman_with_bootstrap,
)
from .errors import UserError
from .genotypes import genotype_from_dict, resolve_genotype, save_genotype
from .io import atomic_save, atomic_write_json, read_jsonl
from .tables import display_name
from .topology import cell_depth, cell_width, format_width

#: The learning rates of Figures 3 and 4 (Appendix A.3).
PAPER_LEARNING_RATES = (0.025, 0.0025, 0.25)
#: How the variants are chosen: seeded random draws (Appendix A.2), or draws matching Table 2's widths and depths.
FAMILIES = ("random", "table2")
#: Fields of :class:`ConvergenceSpec` that may change between invocations on one folder.
_EXTENDABLE = ("lrs", "seeds")


@dataclass(frozen=True)
class ConvergenceSpec:
    """The protocol of one experiment: which cells, which trainer preset, which learning rates and seeds.

    ``overrides`` are extra :class:`~cellnas_edu.train.TrainConfig` fields
    (``init_channels``, ``layers``, ``train_subset``, ...) applied to every run
    on top of ``preset``; ``epochs`` defaults to the preset's (600 for ``convergence``).
    """

    arch: str
    kind: str = "connections"
    count: int = 4
    variant_seed: int = 0
    family: str = "random"
    lrs: tuple[float, ...] = (0.025,)
    seeds: int = 3
    preset: str = "convergence"
    dataset: str = "cifar10"
    epochs: int | None = None
    overrides: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in ("connections", "operations"):
            raise ValueError(f"--variants must be 'connections' or 'operations', got {self.kind!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"--family must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.family == "table2" and self.kind != "connections":
            raise ValueError("--family table2 is a family of connection variants (Table 2); use --variants connections")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise ValueError(f"--count must be a non-negative integer, got {self.count!r}")
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 1:
            raise ValueError(f"--seeds must be a positive integer, got {self.seeds!r}")
        if not self.lrs:
            raise ValueError("at least one learning rate is needed")
        for lr in self.lrs:
            if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
                raise ValueError(f"learning rates must be positive numbers, got {lr!r}")
        if len({lr_key(lr) for lr in self.lrs}) != len(self.lrs):
            raise ValueError(f"learning rates repeat: {', '.join(map(str, self.lrs))}")
        if self.epochs is not None and (isinstance(self.epochs, bool) or not isinstance(self.epochs, int)
                                        or self.epochs < 1):
            raise ValueError(f"--epochs must be a positive integer, got {self.epochs!r}")

    def protocol(self) -> dict:
        """Everything that must stay the same when the experiment is resumed.

        Learning rates and seeds may be added; where the data live and how the
        work is executed (the trainer's runtime fields: ``data_root``,
        ``device``, ``compile``, ``num_workers``) may change.
        """
        from .train.config import RUNTIME_FIELDS

        data = asdict(self)
        for key in _EXTENDABLE:
            data.pop(key)
        data["overrides"] = {k: v for k, v in data["overrides"].items() if k not in RUNTIME_FIELDS}
        return data


@dataclass(frozen=True)
class ExperimentCell:
    """One trained cell: ``label`` (the original's name, or ``C1..CK``), its genotype, width and depth."""

    label: str
    genotype: Genotype
    width: Fraction
    depth: int
    original: bool

    def caption(self) -> str:
        return f"{self.label} ({format_width(self.width)}, {self.depth})"


def lr_key(lr: float) -> str:
    """Folder name of a learning rate: ``0.025`` -> ``"0.025"``."""
    return f"{lr:g}"


def _safe_label(name: str) -> str:
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "original"
    return "original" if re.fullmatch(r"C\d+", label) else label


def experiment_cells(genotype: Genotype, kind: str, count: int, seed: int = 0,
                     family: str = "random") -> list[ExperimentCell]:
    """The original cell followed by ``count`` variants of its normal cell, labelled ``C1..CK`` (Table 2 order).

    ``family="table2"`` ignores ``count`` and returns 13 connection variants
    with exactly the widths and depths of the genotype's row of Table 2
    (:func:`table2_variants`).
    """
    from .variants import variant_family

    normal = genotype.normal
    cells = [ExperimentCell(_safe_label(display_name(genotype)), genotype, cell_width(normal), cell_depth(normal),
                            True)]
    if family == "table2":
        variants = table2_variants(genotype, seed)
    else:
        variants = variant_family(genotype, kind=kind, count=count, seed=seed, cell="normal", distinct=True)
    for variant in variants:
        cells.append(ExperimentCell(variant.label, variant.genotype, variant.width, variant.depth, False))
    return cells


def table2_variants(genotype: Genotype, seed: int = 0, pool: int = 4000):
    """Connection variants with the widths and depths of Table 2, ``C1..C13`` in the table's order.

    The paper publishes only the width and depth of its 13 random variants of
    DARTS, ENAS, AmoebaNet and NASNet (Table 2), not the cells. This draws a
    seeded pool of distinct random connection variants (Appendix A.2) and,
    for each column of Table 2 in turn, takes the earliest draw with that
    width and depth not taken yet: a family with the paper's topology
    statistics, reproducible from ``seed``.
    """
    from dataclasses import replace

    from .genotypes import ALIASES
    from .paper_topologies import TABLE2_VARIANTS
    from .variants import variant_family

    key = ALIASES.get(genotype.name or "", genotype.name or "")
    if key not in TABLE2_VARIANTS:
        raise ValueError(f"Table 2 lists variants of {', '.join(TABLE2_VARIANTS)} only, not {genotype.name!r}")
    drawn = sorted(variant_family(genotype, "connections", count=pool, seed=seed, distinct=True),
                   key=lambda v: v.draw)
    taken, family = set(), []
    for index, (width, depth) in enumerate(TABLE2_VARIANTS[key], 1):
        match = next((v for v in drawn if v.draw not in taken and (float(v.width), v.depth) == (width, depth)), None)
        if match is None:
            raise ValueError(f"no variant of width {width:g}c and depth {depth} among {pool} draws (seed {seed})")
        taken.add(match.draw)
        family.append(replace(match, label=f"C{index}"))
    return family


def run_dir(out_dir: Path, lr: float, label: str, seed: int) -> Path:
    """``OUT/<lr>/<label>/seed<k>``."""
    return Path(out_dir) / lr_key(lr) / label / f"seed{seed}"


# -- reading runs ------------------------------------------------------------------------------------------------


@dataclass
class RunRecord:
    """What one run folder says: its state and its per-epoch test metrics."""

    state: str  # "missing" | "running" | "finished" | "diverged"
    epochs: list[int]
    test_loss: list[float]
    test_acc: list[float]

    @property
    def done(self) -> bool:
        return self.state in ("finished", "diverged")


def read_run(path: Path, epochs: int) -> RunRecord:
    """Read ``status.json`` and ``metrics.jsonl`` of one run (the trainer's folder layout)."""
    path = Path(path)
    status_file = path / "status.json"
    if not status_file.exists():
        return RunRecord("missing", [], [], [])
    try:
        status = json.loads(status_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return RunRecord("running", [], [], [])
    metrics = read_jsonl(path / "metrics.jsonl")
    # An epoch is on the curve if it was evaluated (eval_every may skip some) or if it diverged. The trainer writes
    # a non-finite loss as null: a null test loss next to a test accuracy means the test loss was NaN/inf.
    curve = [m for m in metrics if m.get("test_acc") is not None or m.get("diverged")]
    epochs_seen = [int(m["epoch"]) for m in curve]
    losses = [math.nan if m.get("test_loss") is None else float(m["test_loss"]) for m in curve]
    accs = [math.nan if m.get("test_acc") is None else float(m["test_acc"]) for m in curve]
    state = status.get("state", "running")
    if state == "diverged" or any(m.get("diverged") for m in metrics) or (losses and is_diverged(losses)):
        state = "diverged"
    elif state == "finished" and len(metrics) < epochs:
        state = "running"  # finished a shorter protocol: not this experiment's run
    return RunRecord(state, epochs_seen, losses, accs)


# -- statistics over the folder -------------------------------------------------------------------------------------


def _interval_json(values):
    return mean_interval(values).to_json()


def summarize(out_dir: Path, spec: ConvergenceSpec, cells: list[ExperimentCell], epochs: int,
              params: dict[str, int] | None = None, n_boot: int = 2000) -> dict:
    """The quantitative summary of everything finished so far (the content of ``summary.json``)."""
    out_dir = Path(out_dir)
    params = params or {}
    per_lr = {}
    done = total = 0
    for lr in spec.lrs:
        rows, diverged_runs = [], []
        for cell in cells:
            seeds, finished, diverged, pending = {}, [], [], []
            for seed in range(spec.seeds):
                total += 1
                record = read_run(run_dir(out_dir, lr, cell.label, seed), epochs)
                done += record.done
                if record.state == "finished":
                    finished.append(seed)
                    seeds[f"seed{seed}"] = {
                        "final_test_loss": record.test_loss[-1],
                        "final_test_acc": record.test_acc[-1],
                        "auc_test_loss": area_under_curve(record.test_loss, record.epochs),
                        "epochs_done": len(record.epochs),
                    }
                elif record.state == "diverged":
                    diverged.append(seed)
                    finite = [e for e, v in zip(record.epochs, record.test_loss) if math.isfinite(v)]
                    diverged_at = next((e for e, v in zip(record.epochs, record.test_loss) if not math.isfinite(v)),
                                       None)
                    diverged_runs.append({"label": cell.label, "seed": seed, "epoch": diverged_at,
                                          "last_finite_epoch": finite[-1] if finite else None})
                    seeds[f"seed{seed}"] = {"diverged": True, "epochs_done": len(record.epochs)}
                else:
                    pending.append(seed)
            losses = [seeds[f"seed{s}"]["final_test_loss"] for s in finished]
            aucs = [seeds[f"seed{s}"]["auc_test_loss"] for s in finished]
            accs = [seeds[f"seed{s}"]["final_test_acc"] for s in finished]
            rows.append({
                "label": cell.label,
                "original": cell.original,
                "width": float(cell.width),
                "width_c": format_width(cell.width),
                "depth": cell.depth,
                "parameters": params.get(cell.label),
                "seeds": seeds,
                "finished_seeds": finished,
                "diverged_seeds": diverged,
                "pending_seeds": pending,
                "final_test_loss": _interval_json(losses),
                "auc_test_loss": _interval_json(aucs),
                "final_test_acc": _interval_json(accs),
                "_losses": losses,
                "_aucs": aucs,
            })
        usable = [r for r in rows if r["_losses"]]
        correlations, verdict = {}, []
        for prop in ("width", "depth"):
            for metric, key in (("final test loss", "_losses"), ("AUC of test loss", "_aucs")):
                corr = spearman_with_bootstrap([r[prop] for r in usable], [r[key] for r in usable], n_boot=n_boot)
                name = f"{prop}_vs_{'final_test_loss' if key == '_losses' else 'auc_test_loss'}"
                correlations[name] = {**corr.to_json(), "paper_expects": "negative" if prop == "width" else "positive",
                                      "statement": describe_correlation(prop, metric, corr)}
                verdict.append(correlations[name]["statement"])
        anova = one_way_anova([r["_losses"] for r in usable])
        if anova is not None:
            verdict.append(
                f"do cells differ beyond seed noise (final test loss, one-way ANOVA over {anova['n_cells']} cells)? "
                f"F = {anova['F'] if anova['F'] is None else round(anova['F'], 3)}, p = "
                f"{'n/a' if anova['p_value'] is None else format(anova['p_value'], '.3g')}; range of cell means "
                f"{anova['range_of_cell_means']:.4f} vs pooled seed sd {anova['pooled_seed_sd']:.4f}"
            )
        if diverged_runs:
            verdict.append("diverged (kept out of the means): " + ", ".join(
                f"{d['label']} seed{d['seed']}" for d in diverged_runs))
        if any(r["pending_seeds"] for r in rows):
            verdict.append("incomplete: some runs have not finished; numbers cover the finished runs only")
        single = [r["label"] for r in usable if len(r["_losses"]) < 2]
        if single:
            verdict.append("cells with one finished seed have no interval: " + ", ".join(single))
        for r in rows:
            r.pop("_losses")
            r.pop("_aucs")
        per_lr[lr_key(lr)] = {"cells": rows, "diverged": diverged_runs, "correlations": correlations,
                              "anova_final_test_loss": anova, "verdict": verdict}
    return {
        "experiment": {**asdict(spec), "lrs": list(spec.lrs), "epochs_resolved": epochs},
        "note": "variants resample the normal cell; the reduction cell is the original's (Section 4.1, Table 2)",
        "runs_done": done,
        "runs_total": total,
        "complete": done == total,
        "learning_rates": per_lr,
    }


# -- figures ------------------------------------------------------------------------------------------------------


def plot_curves(out_dir: Path, lr: float, cells: list[ExperimentCell], seeds: int, epochs: int, path: Path) -> Path:
    """Figures 3/4/13-16 style: test loss and test accuracy per epoch, mean over seeds, shaded 95% interval.

    Colour encodes the cell width (viridis, narrow = dark; cells of equal
    width differ by line style; when every cell has the same width, as for
    operation variants, each cell gets its own colour); the original cell
    is drawn thicker. Diverged seeds are drawn as thin dotted lines up to
    their last finite epoch and counted in the legend.
    """
    import matplotlib
    from matplotlib import cm, colors, ticker
    from matplotlib.figure import Figure
    from scipy import stats

    widths = [float(c.width) for c in cells]
    by_width = len(set(widths)) > 1  # operation variants all share the original's width: colour by cell then
    norm = colors.Normalize(vmin=min(widths), vmax=max(widths) if by_width else min(widths) + 1)
    cmap = matplotlib.colormaps["viridis"]
    styles = ("-", "--", "-.", (0, (1, 1)))
    seen_widths: dict[float, int] = {}
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(11, 4.2), layout="constrained")
        ax_loss, ax_acc = fig.subplots(1, 2)
        for index, cell in enumerate(cells):
            colour = cmap(norm(float(cell.width))) if by_width else matplotlib.colormaps["tab10"](index % 10)
            same_width = seen_widths.get(float(cell.width), 0) if by_width else 0
            seen_widths[float(cell.width)] = same_width + 1
            curves_loss, curves_acc, n_diverged, x = [], [], 0, None
            for seed in range(seeds):
                record = read_run(run_dir(out_dir, lr, cell.label, seed), epochs)
                if record.state == "finished":
                    curves_loss.append(record.test_loss)
                    curves_acc.append(record.test_acc)
                    x = np.asarray(record.epochs)  # the same evaluation epochs for every finished run
                elif record.state == "diverged":
                    n_diverged += 1
                    for ax, values in ((ax_loss, record.test_loss), (ax_acc, record.test_acc)):
                        xs = [e for e, v in zip(record.epochs, values) if math.isfinite(v)]
                        ys = [v for v in values if math.isfinite(v)]
                        if xs:
                            ax.plot(xs, ys, ":", color=colour, lw=0.8)
                            ax.plot(xs[-1:], ys[-1:], "x", color=colour)
            label = cell.caption() + (f" [{n_diverged} diverged]" if n_diverged else "")
            if not curves_loss:
                if n_diverged:
                    ax_loss.plot([], [], ":", color=colour, label=label)
                continue
            width_kw = {"lw": 2.6 if cell.original else 1.3, "zorder": 3 if cell.original else 2,
                        "linestyle": styles[same_width % len(styles)]}
            for ax, curves in ((ax_loss, curves_loss), (ax_acc, curves_acc)):
                data = np.asarray(curves, dtype=float)
                mean = data.mean(axis=0)
                ax.plot(x, mean, color=colour, label=label if ax is ax_loss else None, **width_kw)
                if data.shape[0] >= 2:
                    half = stats.t.ppf(0.975, df=data.shape[0] - 1) * data.std(axis=0, ddof=1) / math.sqrt(
                        data.shape[0])
                    ax.fill_between(x, mean - half, mean + half, color=colour, alpha=0.18, lw=0)
        ax_loss.set(xlabel="epoch", ylabel="test loss", title=f"test loss, lr {lr_key(lr)}")
        ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title=f"test accuracy, lr {lr_key(lr)}")
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax_loss.legend(fontsize=7, ncol=2 if len(cells) > 7 else 1)
        if by_width:
            mappable = cm.ScalarMappable(norm=norm, cmap=cmap)
            fig.colorbar(mappable, ax=[ax_loss, ax_acc], label="cell width (units of c)", shrink=0.9)
        fig.suptitle(f"{cells[0].label} and its random variants: mean over {seeds} seed(s), shaded 95% interval",
                     fontsize=10)
        atomic_save(Path(path), lambda handle: fig.savefig(handle, format="png", dpi=120,
                                                           metadata={"Software": "cellnas-edu"}))
    return Path(path)


def figure_path(out_dir: Path, lr: float) -> Path:
    return Path(out_dir) / "figures" / f"test_curves_lr{lr_key(lr)}.png"


# -- the experiment -------------------------------------------------------------------------------------------------


def _prepare(out_dir: Path, spec: ConvergenceSpec, cells: list[ExperimentCell], resume: bool) -> None:
    """Write ``experiment.json`` and one genotype file per cell; refuse a different protocol."""
    manifest = out_dir / "experiment.json"
    if manifest.exists():
        if not resume:
            raise UserError(f"{out_dir} already holds a convergence experiment; pass --resume to continue it "
                            "(finished runs are skipped) or choose another --out")
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise UserError(f"{manifest} is not valid JSON; remove the folder or choose another --out") from None
        new = spec.protocol()
        changed = [k for k in new if old.get("protocol", {}).get(k) != json.loads(json.dumps(new[k]))]
        if changed:
            raise UserError(f"{out_dir} holds an experiment with another protocol ({', '.join(changed)} differ); "
                            "choose another --out")
        old_cells = {c["label"]: c["genotype"] for c in old.get("cells", [])}
        for cell in cells:
            if cell.label in old_cells and genotype_from_dict(old_cells[cell.label]) != cell.genotype:
                raise UserError(f"{out_dir}: cell {cell.label} differs from the one trained before; choose another "
                                "--out")
    elif any(out_dir.glob("*/*/seed*")) and not resume:
        raise UserError(f"{out_dir} already holds run folders; pass --resume or choose another --out")
    for cell in cells:
        save_genotype(cell.genotype, genotype_file(out_dir, cell.label))
    atomic_write_json(manifest, {
        "protocol": spec.protocol(),
        "lrs": list(spec.lrs),
        "seeds": spec.seeds,
        "cells": [{"label": c.label, "original": c.original, "width": float(c.width), "depth": c.depth,
                   "genotype": c.genotype.to_dict()} for c in cells],
    })


def genotype_file(out_dir: Path, label: str) -> Path:
    return Path(out_dir) / "genotypes" / f"{label}.json"


def _config_for(spec: ConvergenceSpec, arch_path: Path, lr: float, seed: int):
    from .train import make_config

    overrides = dict(spec.overrides, dataset=spec.dataset)
    if spec.epochs is not None:
        overrides["epochs"] = spec.epochs
    return make_config(spec.preset, arch=str(arch_path.resolve()), lr=float(lr), seed=seed, **overrides)


def parameter_counts(cells: list[ExperimentCell], config) -> dict[str, int]:
    """Parameters of each cell's network under the protocol (Table 3 of Appendix B.2 for operation variants)."""
    from .model import count_parameters, network_for_dataset

    return {
        c.label: count_parameters(network_for_dataset(c.genotype, config.dataset, C=config.init_channels,
                                                      layers=config.layers, auxiliary=config.auxiliary))
        for c in cells
    }


def _train_in_worker(config_dict: dict, folder: str, threads: int) -> str:
    """One run in a worker process of :func:`run_convergence` (``jobs > 1``): own thread count, no progress bar."""
    import torch

    from .train import TrainConfig, train

    torch.set_num_threads(threads)
    train(TrainConfig.from_dict(config_dict), folder, resume=True, progress=False)
    return folder


def run_convergence(spec: ConvergenceSpec, out_dir, *, resume: bool = False, progress: bool = True,
                    n_boot: int = 2000, jobs: int = 1, threads_per_job: int = 1) -> dict:
    """Train every (learning rate, cell, seed) of ``spec`` not yet done; return (and write) the summary.

    Runs that are finished or diverged are skipped; an interrupted run
    resumes from its checkpoint. ``summary.json`` and the figure of the run's
    learning rate are rewritten atomically after every run.

    ``jobs > 1`` trains that many runs at once in worker processes, each with
    ``threads_per_job`` torch threads (CPU only: small networks use one core
    poorly, and independent runs fill a multi-core machine better than
    intra-op threads do). Results do not depend on ``jobs``.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    genotype = resolve_genotype(spec.arch)
    cells = experiment_cells(genotype, spec.kind, spec.count, spec.variant_seed, spec.family)
    _prepare(out_dir, spec, cells, resume)
    first = _config_for(spec, genotype_file(out_dir, cells[0].label), spec.lrs[0], 0)
    epochs = first.epochs
    params = parameter_counts(cells, first)

    def write_summary() -> dict:
        summary = summarize(out_dir, spec, cells, epochs, params, n_boot=n_boot)
        atomic_write_json(out_dir / "summary.json", summary)
        return summary

    def after_run(lr: float) -> None:
        write_summary()
        plot_curves(out_dir, lr, cells, spec.seeds, epochs, figure_path(out_dir, lr))

    runs = [(lr, cell, seed) for lr in spec.lrs for cell in cells for seed in range(spec.seeds)]
    todo = [(lr, cell, seed) for lr, cell, seed in runs if not read_run(run_dir(out_dir, lr, cell.label, seed),
                                                                          epochs).done]
    bar = tqdm(total=len(runs), initial=len(runs) - len(todo), desc="convergence runs", unit="run",
               disable=not progress, file=sys.stderr, dynamic_ncols=True, position=0)
    try:
        if jobs == 1:
            _run_serially(spec, out_dir, todo, progress, bar, after_run)
        else:
            _run_in_parallel(spec, out_dir, todo, jobs, threads_per_job, bar, after_run)
    finally:
        bar.close()
    for lr in spec.lrs:
        plot_curves(out_dir, lr, cells, spec.seeds, epochs, figure_path(out_dir, lr))
    return write_summary()


def _run_serially(spec, out_dir, todo, progress, bar, after_run) -> None:
    from .train import train

    for lr, cell, seed in todo:
        bar.set_postfix_str(f"lr {lr_key(lr)} {cell.label} seed{seed}")
        config = _config_for(spec, genotype_file(out_dir, cell.label), lr, seed)
        train(config, run_dir(out_dir, lr, cell.label, seed), resume=True, progress=progress)
        after_run(lr)
        bar.update(1)


def _run_in_parallel(spec, out_dir, todo, jobs, threads_per_job, bar, after_run) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")  # no fork of a process that holds torch threads
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        learning_rate = {}
        try:
            for lr, cell, seed in todo:
                config = _config_for(spec, genotype_file(out_dir, cell.label), lr, seed)
                future = pool.submit(_train_in_worker, config.to_dict(), str(run_dir(out_dir, lr, cell.label, seed)),
                                     threads_per_job)
                learning_rate[future] = lr
            pending = set(learning_rate)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    finished = Path(future.result())  # re-raises a worker's error here
                    bar.set_postfix_str(f"{finished.parent.name} {finished.name} done")
                    after_run(learning_rate[future])
                    bar.update(1)
        except BaseException:
            for future in learning_rate:
                future.cancel()
            raise


def format_summary(summary: dict) -> str:
    """A plain-text report: one table per learning rate, then the verdict lines."""
    lines = []
    for lr, block in summary["learning_rates"].items():
        lines.append(f"learning rate {lr}")
        header = ("cell", "width", "depth", "params", "seeds", "final test loss [95% CI]", "AUC [95% CI]",
                  "final acc %")
        table = []
        for r in block["cells"]:
            def fmt(iv, digits=4):
                if iv["mean"] is None:
                    return "-"
                if iv["low"] is None:
                    return f"{iv['mean']:.{digits}f}"
                return f"{iv['mean']:.{digits}f} [{iv['low']:.{digits}f}, {iv['high']:.{digits}f}]"

            seeds = f"{len(r['finished_seeds'])}" + (f"+{len(r['diverged_seeds'])}div" if r["diverged_seeds"] else "")
            table.append((r["label"], r["width_c"], str(r["depth"]),
                          "-" if r["parameters"] is None else f"{r['parameters'] / 1e6:.3f}M", seeds,
                          fmt(r["final_test_loss"]), fmt(r["auc_test_loss"]), fmt(r["final_test_acc"], 2)))
        sizes = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(header)]
        lines.append("  " + "  ".join(h.ljust(s) for h, s in zip(header, sizes)).rstrip())
        lines.extend("  " + "  ".join(v.ljust(s) for v, s in zip(t, sizes)).rstrip() for t in table)
        lines.extend(f"  - {v}" for v in block["verdict"])
        lines.append("")
    lines.append(f"runs: {summary['runs_done']}/{summary['runs_total']} done; {summary['note']}")
    return "\n".join(lines)
