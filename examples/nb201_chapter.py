"""Chapter 9: every number of "The thesis on 15,625 trained cells", from the table shipped with the package.

Runs the committed analysis plan (`docs/nb201.md`) with `cellnas_edu.nb201.analysis.chapter` and writes
`results/nb201/summary.json` (with provenance) and the chapter's figures into `docs/figures/`. Seconds, one core.

    python examples/nb201_chapter.py [--no-write] [--figures-only]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402

from cellnas_edu.nb201 import analysis  # noqa: E402
from cellnas_edu.nb201.cell import NB201Cell  # noqa: E402
from cellnas_edu.nb201.data import DATASETS  # noqa: E402
from cellnas_edu.nb201.drawing import caption_of, draw_cells  # noqa: E402
from cellnas_edu.results import load_summary, write_summary  # noqa: E402

TITLES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet16": "ImageNet16-120"}


def accuracy_figure(summary: dict, path: Path) -> Path:
    """Final test accuracy of the live-graph classes by width (top) and depth (bottom), one column per dataset,
    with DARTS's cell and the best cell marked."""
    u = analysis.units("live-classes")
    found = summary["observation31"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), constrained_layout=True)
    for column, dataset in enumerate(DATASETS):
        acc = u.accuracy[dataset]
        for row, (name, values) in enumerate((("width", u.width), ("depth", u.depth))):
            ax = axes[row, column]
            levels = [1, 2, 3]
            ax.boxplot([acc[values == v] for v in levels], positions=levels, widths=0.5, showfliers=False)
            rng = np.random.default_rng(0)
            for v in levels:
                sel = acc[values == v]
                ax.scatter(v + rng.uniform(-0.2, 0.2, len(sel)), sel, s=2, alpha=0.15, color="#4c72b0", zorder=1)
            best = summary["best"][dataset]
            ax.scatter([found[name]], [found["accuracy"][dataset]["test_accuracy"]], marker="*", s=220,
                       color="#d62728", edgecolor="black", zorder=3, label="DARTS's cell (all skip)")
            ax.scatter([best[name]], [best["test_accuracy"]], marker="*", s=220, color="#f2c80f",
                       edgecolor="black", zorder=3, label="best cell")
            rho = summary["section5"]["live-classes"][column][name]["rho"]
            where = "from the input" if name == "width" else "on the longest path"
            ax.set(xticks=levels, xlabel=f"{name} (live edges {where})",
                   ylabel="200-epoch test accuracy (%)")
            ax.set_title(f"{TITLES[dataset]}: {name}, Spearman rho = {rho:+.2f}", fontsize=10)
            if row == 0 and column == 0:
                ax.legend(loc="lower right", fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def strata_figure(summary: dict, path: Path) -> Path:
    """Mean accuracy by width within each number of live convolutions: the confound made visible."""
    u = analysis.units("live-classes")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), constrained_layout=True)
    colors = plt.cm.viridis(np.linspace(0, 0.95, 7))
    for ax, dataset in zip(axes, DATASETS):
        acc = u.accuracy[dataset]
        for convs in range(7):
            xs, ys = [], []
            for w in (1, 2, 3):
                sel = (u.live_convolutions == convs) & (u.width == w)
                if sel.sum() >= 5:
                    xs.append(w)
                    ys.append(acc[sel].mean())
            if xs:
                ax.plot(xs, ys, "-o", color=colors[convs], label=f"{convs} live conv.")
        pooled = summary["section5"]["live-classes"][list(DATASETS).index(dataset)]["pooled_within_strata"]["width"]
        ax.set(xticks=[1, 2, 3], xlabel="width", ylabel="mean test accuracy (%)",
               title=f"{TITLES[dataset]}: within strata, rho = {pooled:+.2f}")
    axes[0].legend(fontsize=7, ncol=2)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cells_figure(summary: dict, path: Path) -> Path:
    """Figure 9.1: the best cell on CIFAR-10, DARTS's all-skip cell, and a cell with dead edges."""
    dead = NB201Cell.from_arch_string("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|")
    panels = [(NB201Cell.from_arch_string(summary["best"]["cifar10"]["arch"]), "best on CIFAR-10"),
              (NB201Cell.from_arch_string(summary["observation31"]["arch"]), "DARTS's cell"), (dead, "dead edges")]
    return draw_cells([(cell, caption_of(cell, name)) for cell, name in panels], path, ncols=3)


def draw_chapter_figures(summary: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [cells_figure(summary, out / "nb201_cells.png"),
            accuracy_figure(summary, out / "nb201_accuracy_width_depth.png"),
            strata_figure(summary, out / "nb201_width_within_convolutions.png")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="compute and print the verdict, write nothing")
    parser.add_argument("--figures-only", action="store_true", help="redraw the figures from the results file")
    args = parser.parse_args(argv)
    if not args.figures_only:
        start = time.perf_counter()
        data = analysis.chapter()
        print(f"verdict: {data['verdict']} ({time.perf_counter() - start:.1f} s)")
        if args.no_write:
            return
        settings = {"numpy": np.__version__, "scipy": scipy.__version__, "threads": 1,
                    "data": "cellnas_edu/resources/nb201_results.csv.gz"}
        write_summary("nb201", {"settings": settings, **data}, command="python examples/nb201_chapter.py",
                      seconds=time.perf_counter() - start)
    for path in draw_chapter_figures(load_summary("nb201"), ROOT / "docs" / "figures"):
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
