"""Cells as validated data: the DARTS genotype convention (Section 3.1).

A cell is a directed acyclic graph with `M = 2` input nodes (the outputs of
the two preceding cells), `n` intermediate nodes and one output node. In the
DARTS convention every intermediate node receives exactly two operations, and a
cell is written as a flat list of `(operation, source)` pairs, two per
intermediate node, in node order:

```text
node 2  <- pairs 0, 1        sources may be 0, 1
node 3  <- pairs 2, 3        sources may be 0, 1, 2
node j  <- pairs 2(j-2), 2(j-2)+1   sources may be 0 .. j-1
```

`concat` lists the intermediate nodes that the output node concatenates.

Like NAS-Bench-101's `ModelSpec`, a [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec] is validated when it is
built and raises a precise `ValueError` (naming the node and the
operation) for anything that is not a cell. Dead nodes (intermediate nodes
that no path connects to the output) are *kept* in the spec, because the
network builder instantiates them exactly as the published code does (their
parameters count in Table 1), but [`CellSpec.live_nodes`][cellnas_edu.cells.cellspec.CellSpec.live_nodes] prunes them
explicitly for the topology measures of Section 3.2."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SEARCH_SPACE_OPERATIONS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
"""The seven non-`none` candidates of the DARTS search space, from which a random *operation* variant draws
each operation uniformly (Appendix A.2)."""

OPERATIONS: tuple[str, ...] = ("none", *SEARCH_SPACE_OPERATIONS, "sep_conv_7x7", "conv_7x1_1x7")
"""Every operation a published cell uses (the DARTS space plus the NASNet / AmoebaNet extras `sep_conv_7x7`
and `conv_7x1_1x7`). `none` is the DARTS "zero" candidate; it is a search-time candidate, never part of a
derived cell, so [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec] rejects it."""

NUM_INPUTS = 2
"""Number of input nodes `M` of every cell in this package (Section 3.1)."""
OPS_PER_NODE = 2
"""Operations per intermediate node in the DARTS convention."""


def node_of_pair(pair_index: int) -> int:
    """Index of the intermediate node that pair `pair_index` feeds (0-based pairs)."""
    return NUM_INPUTS + pair_index // OPS_PER_NODE


@dataclass(frozen=True)
class CellSpec:
    """One cell: `edges` is a tuple of `(op, source)` pairs, `concat` the output nodes.

    Nodes are numbered as in the DARTS code: 0 and 1 are the inputs, 2 .. n+1
    the intermediate nodes. Operations are numbered 1 and 2 within a node in
    error messages, so "node 4, operation 2" is `edges[5]`."""

    edges: tuple[tuple[str, int], ...]
    concat: tuple[int, ...]

    def __init__(self, edges: Iterable[Sequence], concat: Iterable[int]):
        object.__setattr__(self, "edges", _validate_edges(edges))
        object.__setattr__(self, "concat", _validate_concat(concat, len(self.edges) // OPS_PER_NODE))

    # -- shape -----------------------------------------------------------------
    @property
    def num_intermediate(self) -> int:
        """`n`, the number of intermediate nodes."""
        return len(self.edges) // OPS_PER_NODE

    @property
    def num_nodes(self) -> int:
        """`N = M + n + 1` in the notation of Section 3.1 and Appendix A.2."""
        return NUM_INPUTS + self.num_intermediate + 1

    @property
    def intermediate_nodes(self) -> range:
        return range(NUM_INPUTS, NUM_INPUTS + self.num_intermediate)

    @property
    def ops(self) -> tuple[str, ...]:
        return tuple(op for op, _ in self.edges)

    @property
    def sources(self) -> tuple[int, ...]:
        return tuple(src for _, src in self.edges)

    def node_inputs(self, node: int) -> tuple[tuple[str, int], ...]:
        """The two `(op, source)` pairs that feed intermediate node `node`."""
        k = node - NUM_INPUTS
        if not 0 <= k < self.num_intermediate:
            raise ValueError(f"node {node} is not an intermediate node (2..{self.num_intermediate + 1})")
        return self.edges[OPS_PER_NODE * k: OPS_PER_NODE * (k + 1)]

    # -- pruning ---------------------------------------------------------------
    def live_nodes(self) -> frozenset[int]:
        """Intermediate nodes with a path to the output node.

        A node is live if it is concatenated into the output, or if it feeds a
        live node. Everything else is *dead*: it is computed by the network but
        cannot influence its output, so Section 3.2's width and depth ignore it.
        This pruning is what makes the adapted AmoebaNet cell of Figure 25
        `3c` wide: its nodes 2 and 3 feed nothing after adaptation."""
        live = set(self.concat)
        for node in reversed(self.intermediate_nodes):
            if node in live:
                live.update(src for _, src in self.node_inputs(node) if src >= NUM_INPUTS)
        return frozenset(live)

    def dead_nodes(self) -> frozenset[int]:
        return frozenset(self.intermediate_nodes) - self.live_nodes()

    # -- derived cells ---------------------------------------------------------
    def with_sources(self, sources: Sequence[int]) -> CellSpec:
        """Same operations and concat, new sources (validated again)."""
        if len(sources) != len(self.edges):
            raise ValueError(f"need {len(self.edges)} sources, got {len(sources)}")
        return CellSpec([(op, s) for (op, _), s in zip(self.edges, sources)], self.concat)

    def with_ops(self, ops: Sequence[str]) -> CellSpec:
        """Same sources and concat, new operations (validated again)."""
        if len(ops) != len(self.edges):
            raise ValueError(f"need {len(self.edges)} operations, got {len(ops)}")
        return CellSpec([(op, s) for op, (_, s) in zip(ops, self.edges)], self.concat)

    def to_lists(self) -> tuple[list[list], list[int]]:
        return [[op, src] for op, src in self.edges], list(self.concat)


def _validate_edges(edges: Iterable[Sequence]) -> tuple[tuple[str, int], ...]:
    if isinstance(edges, (str, bytes)) or not isinstance(edges, Iterable):
        raise ValueError("a cell must be a list of [operation, source] pairs")
    edges = list(edges)
    if not edges:
        raise ValueError("the cell is empty: it needs two [operation, source] pairs per intermediate node")
    if len(edges) % OPS_PER_NODE:
        raise ValueError(
            f"the cell has {len(edges)} [operation, source] pairs, an odd number: "
            "every intermediate node needs exactly two"
        )
    out = []
    for index, pair in enumerate(edges):
        node, slot = node_of_pair(index), index % OPS_PER_NODE + 1
        where = f"node {node}, operation {slot}"
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"{where}: expected an [operation, source] pair, got {pair!r}")
        op, src = pair
        if not isinstance(op, str):
            raise ValueError(f"{where}: operation must be a string, got {op!r}")
        if op not in OPERATIONS:
            raise ValueError(f"{where}: unknown operation {op!r} (known: {', '.join(OPERATIONS[1:])})")
        if op == "none":
            raise ValueError(f"{where}: 'none' is a search-time candidate, not an operation of a derived cell")
        if isinstance(src, bool) or not isinstance(src, int):
            raise ValueError(f"{where}: source must be an integer node index, got {src!r}")
        if src < 0:
            raise ValueError(f"{where}: source {_short(src)} is negative")
        if src >= node:
            raise ValueError(f"{where}: source {_short(src)} does not precede node {node} (allowed: 0..{node - 1})")
        out.append((op, src))
    return tuple(out)


def _short(number: int) -> str:
    """An integer for an error message: in full up to 12 digits, else its sign and number of digits."""
    digits = len(str(abs(number))) if abs(number) < 10**4000 else None
    if digits is not None and digits <= 12:
        return str(number)
    size = f"{digits}-digit" if digits is not None else "more-than-4000-digit"
    return f"{'-' if number < 0 else ''}<a {size} integer>"


def _validate_concat(concat: Iterable[int], num_intermediate: int) -> tuple[int, ...]:
    if isinstance(concat, (str, bytes)) or not isinstance(concat, Iterable):
        raise ValueError("concat must be a list of intermediate node indices")
    concat = list(concat)
    if not concat:
        raise ValueError("concat is empty: the output node must concatenate at least one intermediate node")
    last = NUM_INPUTS + num_intermediate - 1
    seen = set()
    for node in concat:
        if isinstance(node, bool) or not isinstance(node, int):
            raise ValueError(f"concat entry {node!r} is not an integer node index")
        if not NUM_INPUTS <= node <= last:
            raise ValueError(f"concat entry {_short(node)} is out of range: intermediate nodes are "
                             f"{NUM_INPUTS}..{last}")
        if node in seen:
            raise ValueError(f"concat lists node {node} twice")
        seen.add(node)
    return tuple(concat)


@dataclass(frozen=True)
class Genotype:
    """A normal and a reduction cell, as in the DARTS `Genotype` namedtuple.

    `name` is informational and does not take part in equality."""

    normal: CellSpec
    reduce: CellSpec
    name: str | None = field(default=None, compare=False)

    @classmethod
    def from_lists(cls, normal, normal_concat, reduce, reduce_concat, name=None) -> Genotype:
        """Build from the DARTS lists; a `ValueError` names the cell that is wrong."""
        cells = {}
        for kind, edges, concat in (("normal", normal, normal_concat), ("reduce", reduce, reduce_concat)):
            try:
                cells[kind] = CellSpec(edges, concat)
            except ValueError as exc:
                raise ValueError(f"{kind} cell: {exc}") from None
        return cls(cells["normal"], cells["reduce"], name)

    def cell(self, kind: str) -> CellSpec:
        if kind not in ("normal", "reduce"):
            raise ValueError(f"cell must be 'normal' or 'reduce', got {kind!r}")
        return self.normal if kind == "normal" else self.reduce

    def to_dict(self) -> dict:
        """The JSON layout `{"normal", "normal_concat", "reduce", "reduce_concat"}`."""
        normal, normal_concat = self.normal.to_lists()
        reduce, reduce_concat = self.reduce.to_lists()
        return {"normal": normal, "normal_concat": normal_concat, "reduce": reduce, "reduce_concat": reduce_concat}

    def renamed(self, name: str | None) -> Genotype:
        return Genotype(self.normal, self.reduce, name)
