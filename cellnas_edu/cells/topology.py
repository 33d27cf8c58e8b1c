r"""Cell width and depth, exactly as Section 3.2 defines them.

**Depth** (Section 3.2): "the number of connections along the longest path from
input nodes to the output node". Input nodes have depth 0, an intermediate node
`j` has depth `1 + max(depth(source))` over its two sources, and the output
node adds one more connection:

```text
depth(cell) = 1 + max_{j in concat} depth(j)
```

**Width** (Section 3.2): every intermediate node has width `c`; a node that is
"partially connected to input nodes (i.e. has connections to other intermediate
nodes)" has its width "deducted by the percentages of the intermediate nodes
that they are connected to". With two operations per node this is

$$
\mathrm{width}(cell) = c \sum_{j\ \mathrm{live}} \frac{\#\{\text{operations of } j
\text{ whose source is an input node}\}}{2}
$$

so a node fed by two input nodes counts `c`, by one input and one
intermediate node `c/2`, by two intermediate nodes `0`.

**The reading the figures force: only live nodes count.** Read literally, the
sum runs over *all* intermediate nodes. That reading gives the adapted
AmoebaNet cell of Figure 25 a width of `5c`, but the caption says `3c`:
after adaptation its nodes 2 and 3 feed nothing and are not concatenated
(`normal_concat = [4, 5, 6]`), so they cannot affect the output. Summing over
*live* nodes only (those with a path to the output, see
[`live_nodes`][cellnas_edu.cells.cellspec.CellSpec.live_nodes]) reproduces every width and
depth printed in Figures 1, 2, 10, 11, 25 and Table 2 for the cells that are
given, except two captions that no reading can reproduce:

* **Figure 2(a)** prints the DARTS cell as `3.5c, 2`. This is the typo: Figure
  1(d), Table 2 and the text of Section 3.2 give `3.5c, 3`, and `3.5c, 2` is
  impossible for *any* cell. Depth 2 means every live node is fed only by input
  nodes, so every live node contributes a whole `c` and the width is an
  integer multiple of `c`; a half-integer width requires an edge between
  intermediate nodes and hence depth at least 3 (see
  `half_integer_width_implies_depth_at_least_3` and its test).
* **Figure 10(a)** prints the AmoebaNet normal cell as `3.5c, 4`, while Figure
  1(b), Table 2 and Section 3.2's text give `4c, 4` for the same cell. One cell
  has one width, so the captions contradict each other; we follow the three
  sources that agree.

Widths are returned as exact `fractions.Fraction` multiples of `c`."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .cellspec import NUM_INPUTS, OPS_PER_NODE, CellSpec


def node_depths(cell: CellSpec) -> dict[int, int]:
    """Longest number of connections from an input node to each node (inputs: 0)."""
    depth = {i: 0 for i in range(NUM_INPUTS)}
    for node in cell.intermediate_nodes:
        depth[node] = 1 + max(depth[src] for _, src in cell.node_inputs(node))
    return depth


def cell_depth(cell: CellSpec) -> int:
    """Depth of Section 3.2: connections on the longest input-to-output path."""
    depth = node_depths(cell)
    return 1 + max(depth[node] for node in cell.concat)


def node_width(cell: CellSpec, node: int) -> Fraction:
    """Width of one intermediate node in units of `c`: the fraction of its operations fed by input nodes."""
    from_inputs = sum(1 for _, src in cell.node_inputs(node) if src < NUM_INPUTS)
    return Fraction(from_inputs, OPS_PER_NODE)


def cell_width(cell: CellSpec) -> Fraction:
    """Width of Section 3.2 in units of `c`, summed over live intermediate nodes."""
    return sum((node_width(cell, node) for node in cell.live_nodes()), Fraction(0))


def cell_width_all_nodes(cell: CellSpec) -> Fraction:
    """The *literal* reading (dead nodes counted too); kept to show where it fails (Figure 25(b))."""
    return sum((node_width(cell, node) for node in cell.intermediate_nodes), Fraction(0))


def max_width(cell: CellSpec) -> int:
    """Largest width a cell with this many intermediate nodes can have: one `c` per node (Section 3.2)."""
    return cell.num_intermediate


def min_depth() -> int:
    """Smallest depth of any cell: input -> intermediate -> output (Section 3.2)."""
    return 2


def half_integer_width_implies_depth_at_least_3(cell: CellSpec) -> bool:
    """The argument that Figure 2(a)'s `3.5c, 2` is a typo, as a checkable predicate.

    Returns `True` when the implication "width not a whole multiple of c =>
    depth >= 3" holds for `cell` (it holds for every cell)."""
    return cell_width(cell).denominator == 1 or cell_depth(cell) >= 3


@dataclass(frozen=True)
class Topology:
    """Width (in units of `c`) and depth of one cell, for tables and JSON."""

    width: Fraction
    depth: int

    @classmethod
    def of(cls, cell: CellSpec) -> Topology:
        return cls(cell_width(cell), cell_depth(cell))

    def label(self) -> str:
        """`"3.5c, 3"`, the caption format of Figures 1, 2, 10, 11 and 25."""
        return f"{format_width(self.width)}, {self.depth}"


def format_width(width: Fraction) -> str:
    """`Fraction(7, 2)` -> `"3.5c"`; `Fraction(4)` -> `"4c"`; `0` -> `"0c"`."""
    value = float(width)
    text = f"{value:g}" if value != int(value) else str(int(value))
    return f"{text}c"
