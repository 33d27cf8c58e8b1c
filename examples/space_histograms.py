"""Where the popular cells sit in their whole connection space (Appendix A.2, Observation 3.1).

Enumerates every connection variant of the five normal cells of Figure 1
(:func:`cellnas_edu.cells.space.connection_space`: 14,400 variants for the 7-node
cells, 518,400 for the 8-node ones) and draws, per cell, the number of variants
at each (width, depth) as a heat map, with the original cell marked. Prints the
share of the space at least as wide and at most as deep as the original.

    python examples/space_histograms.py [--out out/figures] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from cellnas_edu.cells.genotypes import POPULAR, display_name, get_genotype
from cellnas_edu.cells.space import connection_space
from cellnas_edu.cells.topology import format_width
from cellnas_edu.io import atomic_save


def space_grid(space) -> tuple[list, list[int], np.ndarray]:
    """(widths descending, depths ascending, counts[width, depth]) of one connection space."""
    widths = sorted({b.width for b in space.histogram}, reverse=True)
    depths = list(range(space.min_depth, space.max_depth + 1))
    counts = np.zeros((len(widths), len(depths)), dtype=np.int64)
    for b in space.histogram:
        counts[widths.index(b.width), depths.index(b.depth)] = b.count
    return widths, depths, counts


def histograms_figure(spaces: dict):
    """One heat map per cell (shared log colour scale); the original cell's bin is outlined in red."""
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    ncols = min(2, len(spaces))  # two a row: every count at least 9 px in the page's 688-px column
    nrows = -(-len(spaces) // ncols)
    fig = Figure(figsize=(3.4 * ncols, 3.4 * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False)
    for ax in grid.flat[len(spaces):]:
        ax.axis("off")
    axes = list(grid.flat[:len(spaces)])
    vmax = max(b.count for space in spaces.values() for b in space.histogram)
    norm = LogNorm(vmin=1, vmax=vmax)  # one colour scale for every panel
    for ax, (name, space) in zip(axes, spaces.items()):
        widths, depths, counts = space_grid(space)
        shown = np.where(counts > 0, counts, np.nan)
        image = ax.imshow(shown, norm=norm, cmap="viridis", aspect="auto")
        for r in range(len(widths)):
            for c in range(len(depths)):
                if counts[r, c]:
                    ax.text(c, r, f"{counts[r, c]:,}", ha="center", va="center", fontsize=8,
                            color="white" if counts[r, c] < vmax ** 0.5 else "black")
        row, col = widths.index(space.original.width), depths.index(space.original.depth)
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
        ax.set_xticks(range(len(depths)), [str(d) for d in depths])
        ax.set_yticks(range(len(widths)), [format_width(w) for w in widths])
        ax.set_xlabel("depth")
        ax.set_title(f"{name} ({space.original.label()})\n{space.count:,} variants", fontsize=10)
    for row in grid:
        row[0].set_ylabel("width")
    fig.colorbar(image, ax=grid[:, -1].tolist(), shrink=0.8, label="variants")
    return fig


def draw(spaces: dict, path: Path) -> Path:
    fig = histograms_figure(spaces)
    atomic_save(path, lambda p: fig.savefig(p, dpi=100))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/figures", help="folder for space_histograms.png (default: out/figures)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    spaces = {display_name(get_genotype(n)): connection_space(get_genotype(n).normal) for n in POPULAR}
    path = draw(spaces, Path(args.out) / "space_histograms.png")
    summary = {
        name: {
            "count": s.count,
            "original": s.original.label(),
            "fraction_at_least_as_wide": s.fraction_at_least_as_wide(),
            "fraction_at_most_as_deep": s.fraction_at_most_as_deep(),
            "dominating_original": s.dominating(),
        }
        for name, s in spaces.items()
    }
    if args.json:
        print(json.dumps({"spaces": summary, "files": [str(path)]}, indent=2))
        return
    for name, s in summary.items():
        wide, deep = 100 * s["fraction_at_least_as_wide"], 100 * s["fraction_at_most_as_deep"]
        print(f"{name:10s} {s['original']:8s} {s['count']:>8,} variants; at least as wide: {wide:5.2f}%, "
              f"at most as deep: {deep:5.2f}%, dominating it: {s['dominating_original']:,}")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
