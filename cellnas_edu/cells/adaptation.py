"""The widest-and-shallowest adaptation of Section 5 (Figure 25, Table 1).

Section 5: "we apply the connection pattern of SNAS cell shown in Figure 1(e)
to obtain the widest and shallowest cells", to the normal *and* the reduction
cell (Appendix B.5). In the SNAS normal cell every intermediate node takes its
first operation from input node 0 and its second from input node 1. Applying
that pattern keeps every operation and its position (hence the partial order)
and the `concat` list, and only rewrites sources:

```text
node j: (op_a, s_a), (op_b, s_b)   ->   (op_a, 0), (op_b, 1)
```

Every node is then fed only by input nodes, so each live node is a whole `c`
wide and the depth is 2, the minimum (Section 3.2).

The published adapted cells (`NASNet_ADAPT` ... `SNAS_ADAPT`) assign the two
inputs in other orders in places (NASNet's uses `(1, 0)`, ENAS's node 3 takes
both operations from input 0); orders do not change width or depth, and the
tests check that this function reproduces every published adapted cell's width
and depth. `DARTS_ADAPT`, which the paper trains but does not list, is defined
by this function.

Note on cells whose `concat` is a strict subset of the intermediate nodes
(AmoebaNet's `[4, 5, 6]`): the adaptation leaves the unconcatenated nodes
dead, so the result is the shallowest cell (depth 2) but not always the widest
one in the connection space; see [`cellnas_edu.cells.space`][cellnas_edu.cells.space]."""

from __future__ import annotations

from .cellspec import NUM_INPUTS, OPS_PER_NODE, CellSpec, Genotype

SNAS_NODE_SOURCES: tuple[int, ...] = tuple(range(NUM_INPUTS))
"""The SNAS connection pattern of one intermediate node (Figure 1(e))."""


def adapt_cell(cell: CellSpec) -> CellSpec:
    """Apply the SNAS pattern to one cell: operation `k` of every node reads input `k`."""
    sources = [SNAS_NODE_SOURCES[i % OPS_PER_NODE] for i in range(len(cell.edges))]
    return cell.with_sources(sources)


def adapt(genotype: Genotype, name: str | None = None) -> Genotype:
    """Widest-and-shallowest adaptation of both cells (Section 5, Appendix B.5)."""
    if name is None and genotype.name:
        base = genotype.name
        name = (base[: -len("_V2")] if base.endswith("_V2") else base) + "_ADAPT"
    return Genotype(adapt_cell(genotype.normal), adapt_cell(genotype.reduce), name)
