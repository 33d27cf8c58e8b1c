"""The figures of Chapter 9's search study, drawn from `results/nb201_darts_search/summary.json`.

[`margins_figure`][cellnas_edu.nb201.search_figures.margins_figure] shows how decisive every edge became,
[`worth_figure`][cellnas_edu.nb201.search_figures.worth_figure] what the found cells score after 200 epochs, and
[`cells_figure`][cellnas_edu.nb201.search_figures.cells_figure] the cells themselves. Each takes the summary and a
path and returns the path (`examples/nb201_darts_search.py figures` and the chapter's notebook call them)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from . import analysis
from .cell import NB201Cell
from .data import DATASETS, load_results
from .drawing import caption_of, draw_cells
from .operations import EDGES
from .search_study import DECISIVE_MARGIN
from .space import measure

__all__ = ["cells_figure", "margins_figure", "worth_figure"]


def margins_figure(summary: dict, path: Path) -> Path:
    """How decisive the derivation became: every edge's margin after each epoch, one line per seed and edge, with
    the plan's threshold of an undecided edge."""
    import matplotlib.pyplot as plt  # lazy: importing nb201 loads no plotting library

    records = summary["records"]
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.6), sharex=True, sharey=True, constrained_layout=True)
    for e, ax in enumerate(axes.flat):
        for r in records:
            ax.plot([m[e] for m in r["margins_by_epoch"]], color="#4c72b0", alpha=0.6, lw=1)
        ax.axhline(DECISIVE_MARGIN, color="#d62728", ls="--", lw=1)
        edge = summary["analysis"]["edges"][e]
        ax.set_title(f"edge {EDGES[e][1]} -> {EDGES[e][0]}\n{edge['modal_operation']} in {edge['agreement']} of "
                     f"{len(records)} seeds", fontsize=10)
        ax.tick_params(labelsize=10)
    for ax in axes[1]:
        ax.set_xlabel("search epoch", fontsize=11)
    for ax in axes[:, 0]:
        ax.set_ylabel("margin (best - second weight)", fontsize=11)
    axes[0, 0].text(0.02, DECISIVE_MARGIN, " decided above this line", color="#d62728", fontsize=10,
                    va="bottom", transform=axes[0, 0].get_yaxis_transform())
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def worth_figure(summary: dict, path: Path) -> Path:
    """What the found cells score after 200 epochs: the accuracy distribution of all trainable cells on each
    dataset, the found cells marked (ticks; one per seed), DARTS's published all-skip cell and the best cell."""
    import matplotlib.pyplot as plt  # lazy: importing nb201 loads no plotting library

    table = load_results()
    t = measure(table.codes).trainable
    darts_cell = analysis.observation31(table)
    titles = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet16": "ImageNet16-120"}
    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), constrained_layout=True)
    for ax, dataset in zip(axes, DATASETS):
        acc = table.test_accuracy(dataset)[t]
        ax.hist(acc, bins=80, color="#c7d4e8", edgecolor="none", label="the trainable cells")
        top = ax.get_ylim()[1]
        found = [r["accuracy"][dataset] for r in summary["records"]]
        ax.vlines(found, 0, 0.55 * top, color="#1f77b4", lw=2, label="found by our search (one line per seed)")
        ax.vlines([darts_cell["accuracy"][dataset]["test_accuracy"]], 0, 0.8 * top, color="#d62728", lw=2,
                  ls="--", label="DARTS's published cell (all skip)")
        ax.vlines([acc.max()], 0, 0.8 * top, color="#b8860b", lw=2, ls=":", label="best cell")
        mean = summary["analysis"]["accuracy"][dataset]
        ax.set_title(f"{titles[dataset]}: found cells {mean['min']:.1f}-{mean['max']:.1f}%, mean percentile "
                     f"{mean['mean_percentile']:.0f}", fontsize=11)
        ax.set_xlabel("200-epoch test accuracy (%)", fontsize=11)
        ax.set_ylabel("cells", fontsize=11)
        ax.tick_params(labelsize=10)
    axes[0].legend(fontsize=9, loc="upper left")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cells_figure(summary: dict, path: Path) -> Path:
    """The distinct cells the seeds found, each with how many seeds found it."""

    counts = Counter(r["arch"] for r in summary["records"])
    seeds = {arch: [r["seed"] for r in summary["records"] if r["arch"] == arch] for arch in counts}
    panels = []
    for arch, n in counts.most_common():
        cell = NB201Cell.from_arch_string(arch)
        label = f"seed{'s' if n > 1 else ''} {', '.join(map(str, seeds[arch]))}"
        panels.append((cell, caption_of(cell, label)))
    return draw_cells(panels, path, ncols=min(3, len(panels)))
