"""Drawing a NAS-Bench-201 cell: four nodes, six labelled edges, dead edges grey and dashed.

The input node 0 is on the left, the output node 3 on the right, node 1 above and node 2 below the straight
edge 0->3. Every non-``none`` edge is an arrow labelled with its operation;
an edge that is not on a live path (see [`NB201Cell.live_edges`][cellnas_edu.nb201.cell.NB201Cell.live_edges]) is
grey and dashed, and a ``none`` edge is not drawn. The caption gives width and depth as Section 3.2 carries over
(``width 2, depth 3``). Same conventions as [`cellnas_edu.cells.drawing`][]: PNG or SVG by the extension,
deterministic output, written atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..cells.drawing import _FILL, _METADATA, _RC, DEAD_INK, format_of, grid_shape
from ..io import atomic_save
from .cell import NB201Cell
from .operations import EDGES

POSITIONS = {0: (0.0, 0.0), 1: (1.3, 0.9), 2: (2.6, -0.9), 3: (3.9, 0.0)}
SHORT = {"skip_connect": "skip", "nor_conv_1x1": "conv 1x1", "nor_conv_3x3": "conv 3x3", "avg_pool_3x3": "pool 3x3"}
LABEL_AT = {(3, 0): 0.25}  # where along an edge its label sits (default: the middle); 0->3 crosses 1->2 there
MAX_PANELS = 60


def caption_of(cell: NB201Cell, name: str | None = None) -> str:
    """``"name: width 2, depth 3"`` (or without the name); ``"not trainable"`` when no live path exists."""
    measure = f"width {cell.width}, depth {cell.depth}" if cell.is_trainable else "not trainable"
    return f"{name}: {measure}" if name else measure


def draw_cell_on(ax, cell: NB201Cell, caption: str = "") -> None:
    """Draw `cell` on a matplotlib axes."""
    from matplotlib.patches import Circle, FancyArrowPatch

    live = cell.live_edges
    for k, ((to, frm), op) in enumerate(zip(EDGES, cell.ops)):
        if op == "none":
            continue
        (x0, y0), (x1, y1) = POSITIONS[frm], POSITIONS[to]
        ink = "#333333" if live[k] else DEAD_INK
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>",
                                     mutation_scale=12, shrinkA=14, shrinkB=14, color=ink, linewidth=1.2,
                                     linestyle="-" if live[k] else "--", zorder=1))
        t = LABEL_AT.get((to, frm), 0.5)
        mx, my = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        ax.text(mx, my, SHORT[op], ha="center", va="center", fontsize=8, color=ink, zorder=3,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    for node, (x, y) in POSITIONS.items():
        kind = "input" if node == 0 else "output" if node == 3 else "intermediate"
        ax.add_patch(Circle((x, y), 0.22, facecolor=_FILL[kind], edgecolor="#333333", linewidth=0.9, zorder=2))
        ax.text(x, y, str(node), ha="center", va="center", fontsize=10, zorder=4)
    ax.set_xlim(-0.45, 4.35)
    ax.set_ylim(-1.45, 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if caption:
        ax.text(0.5, 0.0, caption, transform=ax.transAxes, ha="center", va="top", fontsize=11)


def draw_cells(panels: Sequence[tuple[NB201Cell, str]], path, ncols: int = 3, dpi: int = 150) -> Path:
    """Draw `(cell, caption)` panels in a grid and save to `path` (.png or .svg)."""
    import matplotlib
    from matplotlib.figure import Figure

    path = Path(path)
    fmt = format_of(path)
    ncols, nrows = grid_shape(len(panels), ncols, MAX_PANELS)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(3.6 * ncols, 2.4 * nrows))
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, (cell, caption) in zip(axes.flat, panels):
            draw_cell_on(ax, cell, caption)
        for ax in list(axes.flat)[len(panels):]:
            ax.axis("off")
        fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.1 / nrows, wspace=0.05, hspace=0.25)
        atomic_save(path, lambda handle: fig.savefig(handle, format=fmt, dpi=dpi, metadata=_METADATA[fmt]))
    return path


def draw_cell(cell: NB201Cell, path, name: str | None = None) -> Path:
    """One cell, captioned with its width and depth."""
    return draw_cells([(cell, caption_of(cell, name))], path, ncols=1)


__all__ = ["caption_of", "draw_cell", "draw_cell_on", "draw_cells"]
