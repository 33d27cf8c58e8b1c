"""Cell topology drawings in the style of Figure 1 (and Figures 2, 10, 11, 25).

Figure 1: "Each sub-figure has three sets of nodes from left to right, which are
the input nodes, intermediate nodes, and output node respectively. The arrows
(i.e., operations of the cell) represent the direction of information flow. The
caption of each sub-figure includes the name of the architecture, width and
depth of a cell."

Layout: an intermediate node sits in the column of its depth (longest path from
an input, [`node_depths`][cellnas_edu.cells.topology.node_depths]), so a chain such as
DARTS's `0 -> 2 -> 5` reads left to right and a depth-2 cell is a single
column. Inputs are the leftmost column, the output node the rightmost. Every
operation is an arrow (two operations between the same pair of nodes are two
bent arrows); the output node's inputs (`concat`) are thin arrows. Dead nodes
(no path to the output; not counted by Section 3.2's width) and their arrows
are grey and dashed.

Files are PNG or SVG, chosen by the extension, and written atomically via
[`cellnas_edu.io.atomic_save`][cellnas_edu.io.atomic_save]. Output is deterministic: no date in the
metadata, a fixed SVG hash salt, text kept as `<text>` elements (so the
caption is searchable in the SVG). Only `matplotlib.figure.Figure` is
used (no pyplot state, no GUI backend)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..io import atomic_save
from .cellspec import NUM_INPUTS, CellSpec, Genotype
from .genotypes import display_name
from .topology import Topology, node_depths

FORMATS = {".png": "png", ".svg": "svg"}
NODE_RADIUS = 0.22
BENDS = (0.0, -0.15, 0.15, -0.3, 0.3, -0.45, 0.45, -0.6, 0.6)  # arc3 rads tried, straightest first
CLEARANCE = 0.34  # distance an arrow keeps from the centres of nodes it does not connect
INCHES_PER_UNIT = 0.8  # drawing scale: the vertical distance between two nodes
COLUMN_GAP = 1.7  # horizontal distance between depth columns (vertical distance between nodes: 1)
_RC = {"svg.hashsalt": "cellnas-edu", "svg.fonttype": "none", "font.family": "DejaVu Sans"}
_METADATA = {"png": {"Software": "cellnas-edu"}, "svg": {"Date": None, "Creator": "cellnas-edu"}}
_FILL = {"input": "#c1e1c1", "intermediate": "#bcd7ef", "output": "#f3e6a6", "dead": "#e6e6e6"}
DEAD_INK = "#9a9a9a"


def caption_of(cell: CellSpec, name: str | None) -> str:
    """`"DARTS, 3.5c, 3"` (or just `"3.5c, 3"` without a name), as in Figure 1's captions."""
    label = Topology.of(cell).label()
    return f"{name}, {label}" if name else label


def node_positions(cell: CellSpec, column_gap: float = COLUMN_GAP) -> dict[int | str, tuple[float, float]]:
    """(x, y) of every node: x grows with the node's depth, the output one column right of the deepest node."""
    depth = node_depths(cell)
    out_x = max(depth.values()) + 1
    columns: dict[int, list[int]] = {}
    for node in sorted(depth):
        columns.setdefault(depth[node], []).append(node)
    pos: dict[int | str, tuple[float, float]] = {}
    for x, nodes in columns.items():
        for i, node in enumerate(nodes):
            pos[node] = (column_gap * x, (len(nodes) - 1) / 2 - i)
    pos["output"] = (column_gap * out_x, 0.0)
    return pos


@dataclass(frozen=True)
class Arrow:
    """One arrow of the drawing: an operation (`op` set) or an input of the output node."""

    src: int
    dst: int | str
    bend: float  # matplotlib's arc3 ``rad``: 0 is straight
    op: str | None
    dead: bool

    def midpoint(self, pos) -> tuple[float, float]:
        """The middle of the quadratic Bezier curve that `arc3` draws (control point: midpoint + rad * normal)."""
        (x0, y0), (x1, y1) = pos[self.src], pos[self.dst]
        cx, cy = (x0 + x1) / 2 + self.bend * (y1 - y0), (y0 + y1) / 2 - self.bend * (x1 - x0)
        return (x0 + 2 * cx + x1) / 4, (y0 + 2 * cy + y1) / 4


def cell_arrows(cell: CellSpec, pos) -> list[Arrow]:
    """Every operation of `cell` and every `concat` input of the output node, with its bend.

    Each arrow takes the straightest of a few arcs that keeps clear of the
    nodes it does not connect (a tiny deterministic router); two operations
    between the same two nodes bend in opposite directions."""

    def bend(src, dst):
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        others = [p for node, p in pos.items() if node not in (src, dst)]

        def clearance(rad):
            cx, cy = (x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0)
            best = float("inf")
            for i in range(1, 20):
                t = i / 20
                px = (1 - t) ** 2 * x0 + 2 * t * (1 - t) * cx + t**2 * x1
                py = (1 - t) ** 2 * y0 + 2 * t * (1 - t) * cy + t**2 * y1
                best = min([best] + [((px - ox) ** 2 + (py - oy) ** 2) ** 0.5 for ox, oy in others])
            return best

        for rad in BENDS:
            if clearance(rad) >= CLEARANCE:
                return rad
        return max(BENDS, key=clearance)

    dead = cell.dead_nodes()
    arrows = []
    for node in cell.intermediate_nodes:
        pairs = cell.node_inputs(node)
        same_source = pairs[0][1] == pairs[1][1]
        for slot, (op, src) in enumerate(pairs):
            rad = (0.25 if slot == 0 else -0.25) if same_source else bend(src, node)
            arrows.append(Arrow(src, node, rad, op, node in dead))
    arrows += [Arrow(node, "output", bend(node, "output"), None, False) for node in cell.concat]
    return arrows


@dataclass(frozen=True)
class Fonts:
    """Font sizes (points) of one drawing, and whether input and output names sit beside their nodes."""

    caption: float = 12.0
    node: float = 8.0
    terminal: float = 6.0  # c[k-2], c[k-1], c[k]
    edge: float = 5.0  # operation labels
    outside: bool = False


def draw_cell_on(ax, cell: CellSpec, caption: str = "", op_labels: bool = False, fonts: Fonts | None = None,
                 column_gap: float = COLUMN_GAP) -> None:
    """Draw `cell` on a matplotlib `Axes` (no file output)."""
    from matplotlib.patches import FancyArrowPatch

    fonts = fonts or Fonts()
    pos = node_positions(cell, column_gap)
    arrows = cell_arrows(cell, pos)
    dead = cell.dead_nodes()
    for arrow in arrows:
        if arrow.op is None:
            color, style, width = "#555555", "-", 0.6
        else:
            color, style, width = (DEAD_INK, "--", 0.8) if arrow.dead else ("black", "-", 1.1)
        ax.add_patch(FancyArrowPatch(
            pos[arrow.src], pos[arrow.dst], arrowstyle="-|>", mutation_scale=9, shrinkA=11, shrinkB=11,
            connectionstyle=f"arc3,rad={arrow.bend}", color=color, linestyle=style, linewidth=width, zorder=1,
        ))
        if op_labels and arrow.op is not None:
            ax.text(*arrow.midpoint(pos), arrow.op, fontsize=fonts.edge, ha="center", va="center", color=color,
                    zorder=3, bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85})

    for node, (x, y) in pos.items():
        if node == "output":
            kind, text = "output", "c[k]"
        elif node < NUM_INPUTS:
            kind, text = "input", ("c[k-2]", "c[k-1]")[node]
        else:
            kind, text = ("dead" if node in dead else "intermediate"), str(node)
        ink = DEAD_INK if kind == "dead" else "black"
        ax.add_patch(_circle((x, y), NODE_RADIUS, _FILL[kind], ink))
        if kind in ("input", "output"):
            if fonts.outside:  # beside the node, away from the arrows
                side = -1 if kind == "input" else 1
                ax.text(x + side * (NODE_RADIUS + 0.06), y, text, ha="right" if side < 0 else "left", va="center",
                        fontsize=fonts.terminal, color=ink, zorder=4)
            else:
                ax.text(x, y, text, ha="center", va="center", fontsize=fonts.terminal, color=ink, zorder=4)
        else:
            ax.text(x, y, text, ha="center", va="center", fontsize=fonts.node, color=ink, zorder=4)

    (x0, x1), (y0, y1) = _limits(pos, arrows, fonts.outside)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    if caption:
        ax.text(0.5, 0.0, caption, transform=ax.transAxes, ha="center", va="top", fontsize=fonts.caption)


OUTSIDE_LEFT, OUTSIDE_RIGHT = 0.95, 0.7
"""Room (drawing units) left of the inputs and right of the output when their names sit beside the nodes."""


def _limits(pos, arrows, outside: bool = False) -> tuple[tuple[float, float], tuple[float, float]]:
    points = list(pos.values()) + [a.midpoint(pos) for a in arrows]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    left, right = (OUTSIDE_LEFT, OUTSIDE_RIGHT) if outside else (0.0, 0.0)
    return (min(xs) - 0.45 - left, max(xs) + 0.45 + right), (min(ys) - 0.45, max(ys) + 0.45)


def _circle(center, radius, fill, edge):
    from matplotlib.patches import Circle

    return Circle(center, radius, facecolor=fill, edgecolor=edge, linewidth=0.9, zorder=2)


MAX_DRAWN_NODES = 32
"""Drawing limits: a 10,000-node cell would take minutes and give a 61,512-pixel-wide image; refuse instead."""
MAX_PANELS = 100


def format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: cannot draw to a {path.suffix or 'file without extension'}; use .png or .svg")
    return fmt


def grid_shape(count: int, ncols: int, limit: int) -> tuple[int, int]:
    """``(columns, rows)`` of a grid of `count` panels, at most `ncols` a row; `ValueError` for none or too many."""
    if not count:
        raise ValueError("nothing to draw: no cells given")
    if count > limit:
        raise ValueError(f"{count} panels are too many to draw legibly (at most {limit})")
    ncols = max(1, min(ncols, count))
    return ncols, -(-count // ncols)


CAPTION_PX, NODE_PX, TERMINAL_PX, EDGE_PX = 12.0, 10.0, 9.0, 9.0
"""Text sizes in CSS pixels on the book's page (`cellnas_edu.page`): captions, node numbers, the names of the
input and output nodes, operation labels. The point sizes follow from the figure's width, so a grid of many
panels gets larger points and stays readable when the page shrinks it to its column."""
MAX_NODE_FONT_PT = 0.8 * 2 * NODE_RADIUS * INCHES_PER_UNIT * 72
"""The largest node number (points): 80 % of a node's diameter."""
UNLABELLED_COLUMN_GAP = 1.2
"""Column distance of drawings without operation labels (the arrows need no room for text)."""


def cells_figure(panels: Sequence[tuple[CellSpec, str]], ncols: int = 5, op_labels: bool = False, dpi: int = 150):
    """The `matplotlib.figure.Figure` of `(cell, caption)` panels in a grid (row-major), not saved.

    Each column is as wide as its widest panel and each row as tall as its
    tallest, and every text reaches its pixel size (`CAPTION_PX` ...) at the
    page's width; where the names ``c[k-2]``, ``c[k-1]``, ``c[k]`` would not fit
    inside their circles at that size they are written beside them."""
    from matplotlib.figure import Figure

    from ..page import points_for

    ncols, nrows = grid_shape(len(panels), ncols, MAX_PANELS)
    for cell, caption in panels:
        if cell.num_intermediate > MAX_DRAWN_NODES:
            raise ValueError(f"{caption or 'the cell'}: {cell.num_intermediate} intermediate nodes are too many to "
                             f"draw legibly (at most {MAX_DRAWN_NODES}; the paper's cells have 4 or 5)")
    gap = COLUMN_GAP if op_labels else UNLABELLED_COLUMN_GAP

    def layout(outside: bool):
        widths, heights = [0.0] * ncols, [0.0] * nrows
        for k, (cell, _) in enumerate(panels):
            pos = node_positions(cell, gap)
            (x0, x1), (y0, y1) = _limits(pos, cell_arrows(cell, pos), outside)
            widths[k % ncols] = max(widths[k % ncols], INCHES_PER_UNIT * (x1 - x0))
            heights[k // ncols] = max(heights[k // ncols], INCHES_PER_UNIT * (y1 - y0))
        return widths, heights

    def fonts_for(width_in: float, outside: bool) -> Fonts:
        # a grid too wide for the page (many columns) would need node numbers larger than the nodes: cap the
        # scale there, so the file stays a good drawing (its text is then small on the page, as it must be)
        cap = min(1.0, MAX_NODE_FONT_PT / points_for(NODE_PX, width_in, dpi))
        pt = lambda px: cap * points_for(px, width_in, dpi)  # noqa: E731
        return Fonts(caption=pt(CAPTION_PX), node=pt(NODE_PX), terminal=pt(TERMINAL_PX), edge=pt(EDGE_PX),
                     outside=outside)

    widths, heights = layout(False)
    fonts = fonts_for(sum(widths), False)
    # "c[k-2]" is about 0.6 em a character: does it fit the circle at the page's scale?
    label_in = 0.6 * len("c[k-2]") * fonts.terminal / 72
    if label_in > 0.95 * 2 * NODE_RADIUS * INCHES_PER_UNIT:
        widths, heights = layout(True)
        fonts = fonts_for(sum(widths), True)
    caption_in = 1.8 * fonts.caption / 72
    fig = Figure(figsize=(sum(widths), sum(heights) + caption_in * nrows))
    grid = fig.add_gridspec(nrows, ncols, width_ratios=widths, height_ratios=[h + caption_in for h in heights],
                            left=0, right=1, top=1, bottom=0, wspace=0, hspace=0)
    for k, (cell, caption) in enumerate(panels):
        cell_box = grid[k // ncols, k % ncols].subgridspec(2, 1, height_ratios=[heights[k // ncols], caption_in],
                                                           hspace=0)
        ax = fig.add_subplot(cell_box[0])
        draw_cell_on(ax, cell, caption, op_labels, fonts, gap)
    return fig


def draw_cells(panels: Sequence[tuple[CellSpec, str]], path, ncols: int = 5, op_labels: bool = False,
               dpi: int = 150) -> Path:
    """Draw `(cell, caption)` panels in a grid (row-major) and save to `path` (.png or .svg)."""
    import matplotlib

    path = Path(path)
    fmt = format_of(path)
    grid_shape(len(panels), ncols, MAX_PANELS)
    with matplotlib.rc_context(_RC):
        fig = cells_figure(panels, ncols, op_labels, dpi)
        atomic_save(path, lambda handle: fig.savefig(handle, format=fmt, dpi=dpi, metadata=_METADATA[fmt]))
    return path


def draw_cell(cell: CellSpec, path, name: str | None = None, op_labels: bool = True) -> Path:
    """One cell with the caption `"name, width, depth"` (Figure 1 style)."""
    return draw_cells([(cell, caption_of(cell, name))], path, ncols=1, op_labels=op_labels)


def draw_genotype(genotype: Genotype, path, kind: str = "normal", op_labels: bool = True) -> Path:
    """One cell of a genotype, captioned with the genotype's paper name."""
    return draw_cell(genotype.cell(kind), path, display_name(genotype), op_labels)


def draw_family(original: CellSpec, variants, path, name: str | None = None, ncols: int = 5,
                op_labels: bool = False) -> Path:
    """Figures 2, 10, 11: the original cell first, then the variants `C1..CK` with their captions.

    `variants` are [`Variant`][cellnas_edu.cells.variants.Variant] objects (anything
    with `cell` and `caption()`)."""
    panels = [(original, caption_of(original, name))]
    panels += [(v.cell, v.caption()) for v in variants]
    return draw_cells(panels, path, ncols=ncols, op_labels=op_labels)
