# Where the popular cells sit in their connection space: the package enumerates every variant
# (cellnas_edu.cells.space.connection_space); one heat map of (width, depth) counts per cell, the original outlined.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from cellnas_edu.cells.genotypes import POPULAR, display_name, get_genotype
from cellnas_edu.cells.space import connection_space
from cellnas_edu.cells.topology import format_width

fig, axes = plt.subplots(2, 3, figsize=(10.2, 6.8), layout="constrained")
for ax, name in zip(axes.flat, POPULAR):
    space = connection_space(get_genotype(name).normal)
    widths = sorted({b.width for b in space.histogram}, reverse=True)
    depths = list(range(space.min_depth, space.max_depth + 1))
    counts = np.full((len(widths), len(depths)), np.nan)
    for b in space.histogram:
        counts[widths.index(b.width), depths.index(b.depth)] = b.count
    image = ax.imshow(counts, norm=LogNorm(vmin=1, vmax=np.nanmax(counts)), cmap="viridis", aspect="auto")
    row, col = widths.index(space.original.width), depths.index(space.original.depth)
    ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    ax.set_xticks(range(len(depths)), [str(d) for d in depths])
    ax.set_yticks(range(len(widths)), [format_width(w) for w in widths])
    ax.set(xlabel="depth", ylabel="width",
           title=f"{display_name(get_genotype(name))} ({space.original.label()}), {space.count:,} variants")
    fig.colorbar(image, ax=ax, label="variants")
axes.flat[-1].axis("off")
plt.show()
