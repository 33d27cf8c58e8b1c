"""Hypothesis strategies for cells in the DARTS convention (Section 3.1).

Shared by the topology tests of `tests/` (through `tests/cell_strategies.py`) and the graded
checks of `cellnas_edu.exercises`, so that both draw the same random cells."""

from hypothesis import strategies as st

from .cellspec import NUM_INPUTS, OPERATIONS, CellSpec, Genotype


@st.composite
def cells(draw, min_nodes: int = 1, max_nodes: int = 5, full_concat: bool | None = None) -> CellSpec:
    """A random valid cell: `n` intermediate nodes, two (op, source) pairs each, a non-empty concat.

    `full_concat=True` concatenates every intermediate node (NASNet, ENAS, DARTS, SNAS normal cells),
    `False` a strict subset when `n > 1` (AmoebaNet normal cell), `None` either."""
    n = draw(st.integers(min_nodes, max_nodes))
    edges = []
    for node in range(NUM_INPUTS, NUM_INPUTS + n):
        for _ in range(2):
            edges.append((draw(st.sampled_from(OPERATIONS[1:])), draw(st.integers(0, node - 1))))
    nodes = list(range(NUM_INPUTS, NUM_INPUTS + n))
    if full_concat:
        concat = nodes
    else:
        max_size = n - 1 if (full_concat is False and n > 1) else n
        concat = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=max_size, unique=True))
    return CellSpec(edges, sorted(concat))


@st.composite
def genotypes(draw, max_nodes: int = 5) -> Genotype:
    return Genotype(draw(cells(max_nodes=max_nodes)), draw(cells(max_nodes=max_nodes)), name="random")
