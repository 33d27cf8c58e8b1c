"""A NAS-Bench-201 cell as validated data, its live graph, and its width and depth (Section 3.2 on NB201).

A NAS-Bench-201 cell (NATS-Bench's topology space) is a DAG on four nodes with one operation on every edge
``j -> i`` (``j < i``); node 0 is the cell's input and node 3 its output, the *sum* of its incoming edges. It is
written as an architecture string, one ``|op~j|`` term per incoming edge, nodes separated by ``+``:

```text
|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|
 node 1          node 2                          node 3
```

Like NAS-Bench-101's `ModelSpec` and this package's [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec], an
[`NB201Cell`][cellnas_edu.nb201.cell.NB201Cell] is validated when it is built and raises a precise `ValueError`
for anything that is not a cell of the space. Pruning is explicit: the cell keeps all six operations (the network
builds them all), and [`NB201Cell.live_edges`][cellnas_edu.nb201.cell.NB201Cell.live_edges] says which of them lie on
a path from the input to the output over non-``none`` edges.

**Width and depth, carried over from Section 3.2.** Shu et al. define the depth of a cell as "the number of
connections along the longest path from input nodes to the output node", and its width through the
intermediate nodes that are connected to the inputs. In NB201 the operations sit on the edges and the output is
a sum, so the book measures

- *width* = the number of live edges leaving the input node 0 (1 to 3);
- *depth* = the number of edges on the longest live path from node 0 to node 3 (1 to 3);

and, for the confound that a deeper cell may simply hold more convolutions, the number of convolutions on the
longest live path ([`NB201Cell.convs_on_longest_path`][cellnas_edu.nb201.cell.NB201Cell.convs_on_longest_path]),
the number of live convolutions, and the network's parameter count ([`cellnas_edu.nb201.params`][]).

This module imports no torch, numpy or matplotlib."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .naslib import from_naslib_indices, to_naslib_indices
from .operations import EDGES, NUM_NODES, OPERATIONS

CONVOLUTIONS: frozenset[str] = frozenset({"nor_conv_1x1", "nor_conv_3x3"})
"""The parameterised operations of the space (ReLU-Conv-BN); pooling, skip and none have no parameters."""

PATHS: tuple[tuple[int, ...], ...] = ((0, 3), (0, 1, 3), (0, 2, 3), (0, 1, 2, 3))
"""The four paths from node 0 to node 3 of the complete four-node DAG, as node sequences."""

EDGE_INDEX: dict[tuple[int, int], int] = {edge: k for k, edge in enumerate(EDGES)}
"""Position in the architecture string of the edge ``(to, from)``."""

_TERM = re.compile(r"([A-Za-z0-9_]+)~([0-9]+)")


def _edge_positions(path: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(EDGE_INDEX[(b, a)] for a, b in zip(path, path[1:]))


PATH_EDGES: tuple[tuple[int, ...], ...] = tuple(_edge_positions(p) for p in PATHS)
"""The edges (positions in the string) of each of the four paths in `PATHS`."""


def parse_arch_string(text: str) -> tuple[str, ...]:
    """The six operations of an architecture string, in string order; `ValueError` naming what is wrong.

    >>> parse_arch_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    ('nor_conv_3x3', 'none', 'skip_connect', 'skip_connect', 'none', 'avg_pool_3x3')
    """
    if not isinstance(text, str):
        raise ValueError(f"an architecture string must be a str, not {type(text).__name__}")
    if text != text.strip() or any(c.isspace() for c in text):
        raise ValueError(f"architecture string {text!r} contains whitespace")
    nodes = text.split("+")
    if len(nodes) != NUM_NODES - 1:
        raise ValueError(f"architecture string {text!r} has {len(nodes)} node(s) separated by '+'; "
                         f"a NAS-Bench-201 cell has {NUM_NODES - 1} (nodes 1, 2 and 3)")
    ops: list[str] = []
    for node, part in enumerate(nodes, start=1):
        if len(part) < 2 or not (part.startswith("|") and part.endswith("|")):
            raise ValueError(f"node {node} of {text!r} is {part!r}: each node is written |op~j|...| "
                             "with a bar at both ends")
        terms = part[1:-1].split("|")
        if len(terms) != node:
            raise ValueError(f"node {node} of {text!r} has {len(terms)} incoming edge(s); it needs {node} "
                             f"(one from each of the nodes 0..{node - 1})")
        for j, term in enumerate(terms):
            match = _TERM.fullmatch(term)
            if match is None:
                raise ValueError(f"node {node}, edge {j + 1} of {text!r} is {term!r}; expected op~j such as "
                                 "nor_conv_3x3~0")
            op, source = match.group(1), int(match.group(2))
            if op not in OPERATIONS:
                raise ValueError(f"node {node}, edge {j + 1}: unknown operation {op!r}; "
                                 f"the space has {', '.join(OPERATIONS)}")
            if source != j:
                raise ValueError(f"node {node}, edge {j + 1} of {text!r} comes from node {source}; "
                                 f"edge {j + 1} of node {node} must come from node {j} "
                                 f"(sources in order 0..{node - 1})")
            ops.append(op)
    return tuple(ops)


def format_arch_string(ops: Iterable[str]) -> str:
    """The architecture string of six operations in string order (the inverse of `parse_arch_string`)."""
    ops = tuple(ops)
    parts, k = [], 0
    for node in range(1, NUM_NODES):
        parts.append("|" + "|".join(f"{ops[k + j]}~{j}" for j in range(node)) + "|")
        k += node
    return "+".join(parts)


def _validate_ops(ops: Iterable[str]) -> tuple[str, ...]:
    if isinstance(ops, str):
        raise ValueError("ops must be six operation names, not one string (use NB201Cell.from_arch_string)")
    ops = tuple(ops)
    if len(ops) != len(EDGES):
        raise ValueError(f"a NAS-Bench-201 cell has {len(EDGES)} edges; got {len(ops)} operation(s)")
    for k, op in enumerate(ops):
        if op not in OPERATIONS:
            to, frm = EDGES[k]
            raise ValueError(f"edge {frm}->{to}: unknown operation {op!r}; the space has {', '.join(OPERATIONS)}")
    return ops


@dataclass(frozen=True)
class NB201Cell:
    """One NAS-Bench-201 cell: `ops` holds the six operations in architecture-string order (see `EDGES`).

    >>> cell = NB201Cell.from_arch_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    >>> cell.live_edges
    (False, False, False, True, False, False)
    >>> cell.width, cell.depth
    (1, 1)
    """

    ops: tuple[str, ...]

    def __init__(self, ops: Iterable[str]):
        object.__setattr__(self, "ops", _validate_ops(ops))

    # -- strings and codes -----------------------------------------------------
    @classmethod
    def from_arch_string(cls, text: str) -> NB201Cell:
        """Parse an architecture string; `ValueError` naming the node, edge or operation that is wrong."""
        return cls(parse_arch_string(text))

    def to_arch_string(self) -> str:
        """The architecture string; ``NB201Cell.from_arch_string(s).to_arch_string() == s``."""
        return format_arch_string(self.ops)

    @classmethod
    def from_codes(cls, codes: Iterable[int]) -> NB201Cell:
        """The cell of six operation indices into `OPERATIONS` (NATS-Bench's order), in string order."""
        codes = tuple(int(c) for c in codes)
        bad = [c for c in codes if not 0 <= c < len(OPERATIONS)]
        if bad:
            raise ValueError(f"operation code {bad[0]} is outside 0..{len(OPERATIONS) - 1}")
        return cls(OPERATIONS[c] for c in codes)

    @property
    def codes(self) -> tuple[int, ...]:
        """The six operation indices into `OPERATIONS`, in string order."""
        return tuple(OPERATIONS.index(op) for op in self.ops)

    def op(self, to: int, frm: int) -> str:
        """The operation on the edge ``frm -> to``."""
        return self.ops[EDGE_INDEX[(to, frm)]]

    # -- the live graph (explicit pruning) ---------------------------------------
    @property
    def live_edges(self) -> tuple[bool, ...]:
        """For each edge: is it non-``none`` and on a path from node 0 to node 3 over non-``none`` edges?"""
        on = [op != "none" for op in self.ops]
        live = [False] * len(EDGES)
        for path_edges in PATH_EDGES:
            if all(on[k] for k in path_edges):
                for k in path_edges:
                    live[k] = True
        return tuple(live)

    @property
    def is_trainable(self) -> bool:
        """Whether any live path joins the input to the output (else the cell's output is identically zero)."""
        return any(self.live_edges)

    def pruned(self) -> NB201Cell:
        """The same cell with every dead edge set to ``none`` (the live graph)."""
        return NB201Cell(op if live else "none" for op, live in zip(self.ops, self.live_edges))

    def _live_paths(self) -> list[tuple[int, ...]]:
        return [edges for edges in PATH_EDGES if all(self.ops[k] != "none" for k in edges)]

    # -- Section 3.2 ---------------------------------------------------------------
    @property
    def width(self) -> int:
        """Live edges leaving the input node 0 (0 for a cell that is not trainable)."""
        live = self.live_edges
        return sum(live[EDGE_INDEX[(to, 0)]] for to in range(1, NUM_NODES))

    @property
    def depth(self) -> int:
        """Edges on the longest live path from node 0 to node 3 (0 for a cell that is not trainable)."""
        return max((len(edges) for edges in self._live_paths()), default=0)

    @property
    def convs_on_longest_path(self) -> int:
        """Convolutions on the longest live path; among equally long paths, the one with the most."""
        depth = self.depth
        return max((sum(self.ops[k] in CONVOLUTIONS for k in edges)
                    for edges in self._live_paths() if len(edges) == depth), default=0)

    @property
    def live_convolutions(self) -> int:
        """Convolutions on live edges (the dead ones still hold parameters, but do not touch the output)."""
        return sum(live and op in CONVOLUTIONS for op, live in zip(self.ops, self.live_edges))

    # -- the two equivalences ----------------------------------------------------------
    def unique_string(self) -> str:
        """NATS-Bench's own equivalence key, ``to_unique_str(consider_zero=True)``, reproduced exactly.

        Each node is written as the sorted ``+``-sum of its incoming terms: ``skip_connect`` passes its source's
        string through, ``none`` (or a source whose string is exactly ``#``) gives the zero term ``#``, any other
        operation gives ``(source)@op``. Because a skip path is read as its source, cells that differ only in
        where their skip connections run share a key, although their width and depth differ: the key is **not**
        a graph-isomorphism class (see [`NB201Cell.canonical`][cellnas_edu.nb201.cell.NB201Cell.canonical])."""
        nodes = {0: "0"}
        for to in range(1, NUM_NODES):
            terms = []
            for frm in range(to):
                op, source = self.op(to, frm), nodes[frm]
                if op == "none" or source == "#":
                    terms.append("#")
                elif op == "skip_connect":
                    terms.append(source)
                else:
                    terms.append(f"({source})@{op}")
            nodes[to] = "+".join(sorted(terms))
        return nodes[NUM_NODES - 1]

    def swapped(self) -> NB201Cell:
        """The cell with the intermediate nodes 1 and 2 exchanged; an isomorphic cell only when edge 1->2 is
        ``none`` (otherwise the exchange would reverse that edge, and the result is not returned by `canonical`)."""
        edge = {(to, frm): op for (to, frm), op in zip(EDGES, self.ops)}
        relabel = {0: 0, 1: 2, 2: 1, 3: 3}
        moved = {}
        for (to, frm), op in edge.items():
            a, b = relabel[to], relabel[frm]
            if a < b:  # the edge 1->2 would become 2->1
                if op != "none":
                    raise ValueError("nodes 1 and 2 can be exchanged only when the edge 1->2 is none")
                a, b = b, a
            moved[(a, b)] = op
        return NB201Cell(moved[e] for e in EDGES)

    def canonical(self) -> NB201Cell:
        """The live-graph canonical form: dead edges set to ``none``, then nodes 1 and 2 exchanged when that is an
        isomorphism (no live edge 1->2) and gives the smaller operation codes. Two cells with the same canonical
        form compute the same function family, and width and depth are invariant by construction (both are read
        off the live graph, which the exchange maps onto itself)."""
        live = self.pruned()
        if live.op(2, 1) != "none":
            return live
        return min(live, live.swapped(), key=lambda c: c.codes)

    # -- NASLib's encoding --------------------------------------------------------------
    def to_naslib(self) -> tuple[int, ...]:
        """NASLib's ``op_indices`` of this cell (see [`cellnas_edu.nb201.naslib`][])."""
        return to_naslib_indices(self.ops)

    @classmethod
    def from_naslib(cls, op_indices: Iterable[int]) -> NB201Cell:
        """The cell of NASLib's ``op_indices`` tuple (NASLib's own op and edge order)."""
        return cls(from_naslib_indices(op_indices))

    def __str__(self) -> str:
        return self.to_arch_string()


__all__ = ["CONVOLUTIONS", "EDGE_INDEX", "NB201Cell", "PATHS", "PATH_EDGES", "format_arch_string",
           "parse_arch_string"]
