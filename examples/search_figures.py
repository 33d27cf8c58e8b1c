"""Chapter 8's figures, drawn from the committed results files (no training):

* ``search_darts_seeds.png``: the derived normal cell's width and depth after every epoch of each DARTS
  search, and the found cells against the width and depth distributions of Chapter 2's connection space and
  of the 180 cells DARTS can derive (results/darts_search);
* ``search_early_selection.png``: the width of the selected cell against the checkpoint k, per repetition,
  with the mean over repetitions and the mean candidate width (results/early_selection).

    python examples/search_figures.py --out docs/figures
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cellnas_edu.results import load_summary  # noqa: E402
from cellnas_edu.search.against_space import null_counts  # noqa: E402


def _probabilities(counts: dict[int, int], scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array(sorted(counts))
    total = sum(counts.values())
    return keys * scale, np.array([counts[k] / total for k in sorted(counts)])


def darts_seeds_plot(summary: dict):
    """The four panels of ``search_darts_seeds.png`` in a 2 x 2 grid (the search above, the found cells below),
    sized for the book's page (every text at least ``cellnas_edu.page.MIN_TEXT_PX``)."""
    records = summary["records"]
    fig, grid = plt.subplots(2, 2, figsize=(9, 7.2), constrained_layout=True)
    axes = list(grid.flat)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(records)))
    for record, color in zip(records, colors):
        epochs = np.arange(len(record["widths_by_epoch"]))
        jitter = 0.04 * (record["seed"] - (len(records) - 1) / 2)
        axes[0].plot(epochs, np.array(record["widths_by_epoch"]) + jitter, "-o", ms=3, color=color,
                     label=f"seed {record['seed']}")
        axes[1].plot(epochs, np.array(record["depths_by_epoch"]) + jitter, "-o", ms=3, color=color)
    space_w, _, _ = null_counts("connection_space")
    mean_width = sum(h * c for h, c in space_w.items()) / (2 * sum(space_w.values()))
    axes[0].axhline(mean_width, ls="--", color="grey", lw=1, label="space mean")
    axes[0].set(xlabel="epoch (0 = initialisation)", ylabel="width of the derived normal cell (c)",
                title="width during the search")
    axes[1].set(xlabel="epoch (0 = initialisation)", ylabel="depth", title="depth during the search")
    for ax in axes[:2]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(fontsize=9, ncol=2)
    found_w = [r["normal"]["width"] for r in records]
    found_d = [r["normal"]["depth"] for r in records]
    for ax, which, found, scale, label in ((axes[2], 0, found_w, 0.5, "width (c)"), (axes[3], 1, found_d, 1, "depth")):
        for null, offset, color in (("connection_space", -0.12, "#8da0cb"), ("derivable", 0.12, "#fc8d62")):
            x, p = _probabilities(null_counts(null)[which], scale)
            ax.bar(x + offset * scale * 2, p, width=0.24 * scale * 2, color=color,
                   label="connection space (14,400)" if null == "connection_space" else "derivable (180)")
        values, counts = np.unique(found, return_counts=True)
        ax.plot(values, counts / len(found), "k*", ms=12, label=f"found ({len(found)} seeds)")
        ax.set(xlabel=label, ylabel="fraction of cells", title=f"found cells vs the space: {label}")
        ax.legend(fontsize=9)
    axes[3].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def darts_seeds_figure(summary: dict, path: Path) -> Path:
    fig = darts_seeds_plot(summary)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def early_selection_plot(summary: dict):
    """The panels of ``search_early_selection.png``, one per learning rate, sized for the book's page (every
    text at least ``cellnas_edu.page.MIN_TEXT_PX``)."""
    rates = summary["analysis"]["learning_rates"]
    fig, axes = plt.subplots(1, len(rates), figsize=(4.6 * len(rates), 3.9), constrained_layout=True, squeeze=False)
    for ax, (lr, analysis) in zip(axes[0], rates.items()):
        reps = [r for r in analysis["repetitions"] if r["complete"]]
        for r in reps:
            ks = [s["k"] for s in r["selected"]]
            widths = [s["width"] if s["width"] is not None else np.nan for s in r["selected"]]
            jitter = 0.03 * (r["repetition"] - (len(reps) - 1) / 2)
            ax.plot(ks, np.array(widths) + jitter, "-o", color="tab:blue", alpha=0.35, ms=3)
        per_k = analysis["per_k"]
        ax.plot([p["k"] for p in per_k], [p["mean_selected_width"] for p in per_k], "-o", color="tab:blue", lw=3,
                label="selected cell (mean over repetitions)")
        ax.axhline(np.mean([r["mean_width"] for r in reps]), color="grey", ls="--",
                   label="mean candidate width")
        ax.set_xscale("log", base=2)
        ax.set_xticks([p["k"] for p in per_k], [str(p["k"]) for p in per_k])
        ax.set(xlabel="k: epochs before the selection", ylabel="width of the selected cell (c)",
               title=f"learning rate {lr}: {len(reps)} repetitions")
        ax.legend(fontsize=9)
    return fig


def early_selection_figure(summary: dict, path: Path) -> Path:
    fig = early_selection_plot(summary)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/figures", help="folder for the PNGs")
    parser.add_argument("--results", help="results root (default: the repository's results/)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(args.results) if args.results else None
    for name, draw in (("darts_search", darts_seeds_figure), ("early_selection", early_selection_figure)):
        try:
            summary = load_summary(name, root)
        except (OSError, ValueError) as exc:
            print(f"search_figures: skipping {name}: {exc}", file=sys.stderr)
            continue
        path = draw(summary, out / f"search_{'darts_seeds' if name == 'darts_search' else name}.png")
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
