"""Chapter 1 (Section 3.2): live nodes, cell width and cell depth."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ...cells.cellspec import NUM_INPUTS, CellSpec
from ...cells.genotypes import ADAPTED, get_genotype
from ...cells.strategies import cells
from ...cells.topology import cell_depth, cell_width, half_integer_width_implies_depth_at_least_3
from ...paper import FIGURE1, FIGURE25
from . import GRADED

PAPER_CELLS = [(name, width, depth) for name, (width, depth) in FIGURE1.items()] + [
    (ADAPTED[name], width, depth) for name, (width, depth) in FIGURE25.items()
]
"""The normal cells of Figure 1 and Figure 25 with the (width, depth) the paper prints."""


def _consumers(cell: CellSpec) -> dict[int, set[int]]:
    out = {node: set() for node in cell.intermediate_nodes}
    for node in cell.intermediate_nodes:
        for _, src in cell.node_inputs(node):
            if src >= NUM_INPUTS:
                out[src].add(node)
    return out


def live_by_search(cell: CellSpec) -> frozenset[int]:
    """Oracle: a node is live iff a forward path leads from it to a concatenated node (depth-first search)."""
    consumers, concat = _consumers(cell), set(cell.concat)

    def reaches(node: int) -> bool:
        return node in concat or any(reaches(c) for c in consumers[node])

    return frozenset(node for node in cell.intermediate_nodes if reaches(node))


def width_by_definition(cell: CellSpec) -> Fraction:
    """Oracle: half a c for every operation of a live node that reads an input node."""
    live = live_by_search(cell)
    return Fraction(sum(1 for k, (_, src) in enumerate(cell.edges)
                        if NUM_INPUTS + k // 2 in live and src < NUM_INPUTS), 2)


def depth_by_paths(cell: CellSpec) -> int:
    """Oracle: enumerate every path from an input node to the output node and count its connections."""

    def longest_to(node: int) -> int:  # connections on the longest path from an input node to ``node``
        if node < NUM_INPUTS:
            return 0
        return max(1 + longest_to(src) for _, src in cell.node_inputs(node))

    return max(longest_to(node) + 1 for node in cell.concat)


@st.composite
def cells_with_few_outputs(draw) -> CellSpec:
    """A random cell of 3-5 nodes that concatenates only one or both of its last two nodes, and whose nodes
    often read the node just before them.

    A random `concat` holds most of the nodes, and then following the sources of the concatenated nodes one
    level deep already finds every live node. With few outputs and chains (node 5 reads 4, which reads 3,
    which reads 2), liveness has to be followed through several levels of sources."""
    cell = draw(cells(min_nodes=3))
    sources = list(cell.sources)
    for k in range(2, len(sources), 2):  # the first operation of node 3, 4, ...: read the previous node?
        if draw(st.booleans()):
            sources[k] = NUM_INPUTS + k // 2 - 1
    last_two = list(cell.intermediate_nodes)[-2:]
    concat = draw(st.lists(st.sampled_from(last_two), min_size=1, max_size=2, unique=True))
    return CellSpec(cell.with_sources(sources).edges, sorted(concat))


# -- live nodes ------------------------------------------------------------------
@GRADED
@given(st.one_of(cells(), cells_with_few_outputs()))
def test_live_nodes_are_those_with_a_path_to_the_output(cell):
    """A node is live iff it is concatenated or feeds a live node, through any number of nodes in between
    (Section 3.2's width ignores the others)."""
    assert set(cell.live_nodes()) == set(live_by_search(cell))


def test_live_nodes_of_the_adapted_amoebanet():
    """Figure 25(b): after adaptation AmoebaNet's nodes 2 and 3 feed nothing and are not concatenated, so only
    the concatenated nodes 4, 5 and 6 are live."""
    assert set(get_genotype("AmoebaNet_ADAPT").normal.live_nodes()) == {4, 5, 6}


def test_live_nodes_of_amoebanet():
    """Figure 1(b): AmoebaNet itself concatenates nodes 4, 5 and 6 only, but every node is live: node 4 reads
    node 3, and node 3 reads node 2 (two levels of sources)."""
    assert set(get_genotype("AmoebaNet").normal.live_nodes()) == {2, 3, 4, 5, 6}


# -- width -----------------------------------------------------------------------
@GRADED
@given(cells())
def test_width_is_the_definition(cell):
    """Width = c/2 for every operation of a live node fed by an input node (Section 3.2)."""
    assert cell_width(cell) == width_by_definition(cell)


@GRADED
@given(cells())
def test_width_is_a_multiple_of_half_c_and_bounded_by_live_nodes(cell):
    """Exercise: width is a multiple of c/2 and at most c per live intermediate node (Section 3.2)."""
    width = Fraction(cell_width(cell))
    assert (2 * width).denominator == 1
    assert 0 <= width <= len(live_by_search(cell)) <= cell.num_intermediate


@GRADED
@given(cells())
def test_half_integer_width_needs_depth_3(cell):
    """Exercise: a cell of depth 2 has whole-number width, so Figure 2(a)'s "3.5c, 2" describes no cell.

    Depth 2 means every live node reads only input nodes (Section 3.2), so each
    counts a whole c; a half c needs an edge between intermediate nodes, which
    makes some path input -> node -> node -> output, depth >= 3."""
    assert half_integer_width_implies_depth_at_least_3(cell)
    if cell_depth(cell) == 2:
        assert Fraction(cell_width(cell)).denominator == 1


@GRADED
@given(cells())
def test_depth_2_cells_have_integer_width_equal_to_concat(cell):
    """Exercise: at depth 2 every live node is a concatenated node fed by inputs only, so width = |concat| c."""
    if cell_depth(cell) == 2:
        assert cell_width(cell) == len(cell.concat)
        assert cell.live_nodes() == set(cell.concat)


def test_width_of_the_paper_cells():
    """Figures 1 and 25 print the widths of the popular cells and their adaptations."""
    for name, width, _ in PAPER_CELLS:
        got = cell_width(get_genotype(name).normal)
        assert got == Fraction(width), f"{name}: width {got}, the paper prints {width}c"


# -- depth -----------------------------------------------------------------------
@GRADED
@given(cells())
def test_depth_is_the_longest_path(cell):
    """Depth = connections on the longest input-to-output path (Section 3.2)."""
    assert cell_depth(cell) == depth_by_paths(cell)


@GRADED
@given(cells())
def test_depth_at_least_2_and_at_most_a_chain(cell):
    """Exercise: depth >= 2 (input -> node -> output) and <= n + 1 (all n nodes in one chain)."""
    assert 2 <= cell_depth(cell) <= cell.num_intermediate + 1


def test_depth_of_the_paper_cells():
    """Figures 1 and 25 print the depths of the popular cells and their adaptations."""
    for name, _, depth in PAPER_CELLS:
        got = cell_depth(get_genotype(name).normal)
        assert got == depth, f"{name}: depth {got}, the paper prints {depth}"
