r"""From architecture weights to a discrete cell: DARTS' derivation rule (Liu et al., 2019, Section 2.4).

After the search, DARTS keeps, for every intermediate node $j$, the **two strongest incoming edges**, where
the strength of edge $(i, j)$ is its largest softmax weight over the non-`none` candidates,

$$
s^{(i,j)} = \max_{o \neq \texttt{none}} \operatorname{softmax}(\alpha^{(i,j)})_o ,
$$

and on each kept edge the strongest non-`none` operation $\arg\max_{o \neq \texttt{none}}$. `none` is never
kept: it only competes inside the softmax. The output concatenates all four intermediate nodes, so every
node is live and the cell's width and depth (Section 3.2) follow from the kept edges alone.

Ties are broken the way DARTS' `_parse` breaks them: a stable sort keeps the lower source first, and the
first maximal operation in [`SEARCH_OPERATIONS`][cellnas_edu.search.derive.SEARCH_OPERATIONS] order wins.
A kept node reads two **distinct** sources, so DARTS can produce only part of Chapter 2's connection space
(where both operations of a node may read the same node):
[`derivable_cells`][cellnas_edu.search.derive.derivable_cells] lists the $1 \cdot 3 \cdot 6 \cdot 10 = 180$
topologies it can produce.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from ..cells.cellspec import NUM_INPUTS, SEARCH_SPACE_OPERATIONS, CellSpec, Genotype

SEARCH_OPERATIONS = ("none", *SEARCH_SPACE_OPERATIONS)
"""The eight candidates of the DARTS search space, in DARTS' order (`PRIMITIVES`): `none` and Chapter 1's
[`SEARCH_SPACE_OPERATIONS`][cellnas_edu.cells.cellspec.SEARCH_SPACE_OPERATIONS]. Column `o` of an architecture
matrix belongs to `SEARCH_OPERATIONS[o]`. Defined here (no torch) and used by the supernet."""
NONE_INDEX = SEARCH_OPERATIONS.index("none")
EDGES_KEPT_PER_NODE = 2


def _check_weights(weights: Sequence[Sequence[float]], operations: Sequence[str]) -> list[list[float]]:
    rows = [list(map(float, row)) for row in weights]
    if not rows:
        raise ValueError("architecture weights are empty")
    steps, total = 0, 0
    while total < len(rows):
        total += NUM_INPUTS + steps
        steps += 1
    if total != len(rows):
        raise ValueError(f"{len(rows)} rows of architecture weights do not make a cell (2 + 3 + ... edges)")
    for row in rows:
        if len(row) != len(operations):
            raise ValueError(f"every row needs {len(operations)} weights (one per candidate), got {len(row)}")
        if not all(math.isfinite(w) for w in row):
            raise ValueError("architecture weights must be finite")
    return rows


def derive_cell(weights: Sequence[Sequence[float]], operations: Sequence[str] | None = None) -> CellSpec:
    """The discrete cell of a `(edges x candidates)` matrix of **softmax** weights (rows summing to 1).

    Give softmax weights, not logits: the operation chosen on an edge is the same either way (softmax is
    monotone within a row), but the edge strengths are compared *across* rows, and a row's softmax depends
    on all its entries, `none` included. An edge whose `none` logit is large is weak after the softmax
    even when its best operation's logit is high (`tests/test_search_darts.py` shows a case)."""
    operations = tuple(SEARCH_OPERATIONS if operations is None else operations)
    if "none" not in operations or len(operations) < 2:
        raise ValueError("the candidates must include 'none' and at least one other operation")
    rows = _check_weights(weights, operations)
    keep = [o for o, name in enumerate(operations) if name != "none"]
    edges, start, node = [], 0, 0
    while start < len(rows):
        incoming = rows[start:start + NUM_INPUTS + node]
        strength = [max(row[o] for o in keep) for row in incoming]
        kept = sorted(range(len(incoming)), key=lambda source: -strength[source])[:EDGES_KEPT_PER_NODE]
        for source in kept:
            best = max(keep, key=lambda o: (incoming[source][o], -o))
            edges.append((operations[best], source))
        start += NUM_INPUTS + node
        node += 1
    return CellSpec(edges, range(NUM_INPUTS, NUM_INPUTS + node))


def derive_genotype(normal_weights, reduce_weights, name: str | None = None,
                    operations: Sequence[str] | None = None) -> Genotype:
    """A [`Genotype`][cellnas_edu.cells.cellspec.Genotype] from the normal and reduction weight matrices."""
    return Genotype(derive_cell(normal_weights, operations), derive_cell(reduce_weights, operations), name)


def derivable_cells(steps: int = 4, op: str = "sep_conv_3x3") -> list[CellSpec]:
    """Every topology the derivation rule can produce: two distinct sources per node, all nodes concatenated.

    Operations do not change width or depth, so each topology is returned once, with `op` everywhere;
    the order is lexicographic in the sources."""
    choices = [list(itertools.combinations(range(NUM_INPUTS + i), EDGES_KEPT_PER_NODE)) for i in range(steps)]
    cells = []
    for pairs in itertools.product(*choices):
        edges = [(op, source) for pair in pairs for source in pair]
        cells.append(CellSpec(edges, range(NUM_INPUTS, NUM_INPUTS + steps)))
    return cells
