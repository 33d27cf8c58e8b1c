"""Chapter 9 (NAS-Bench-201's cells): live edges, width, depth and the live-graph canonical form, graded.

The oracles do not use the package's live-edge code: they walk the cell's graph by depth-first search
(every path from the input node 0 to the output node 3 over edges that are not `none`), and decide
isomorphism by trying both labellings of the intermediate nodes 1 and 2."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ...nb201.cell import NB201Cell
from ...nb201.operations import EDGES, OPERATIONS
from . import GRADED

cells = st.lists(st.sampled_from(OPERATIONS), min_size=6, max_size=6).map(NB201Cell)
"""Every NB201 cell: six operations drawn from the five of the space."""


def paths_by_search(cell: NB201Cell) -> list[list[tuple[int, int]]]:
    """Oracle: every path 0 -> 3 over non-`none` edges, each a list of `(to, from)` edges."""
    found = []

    def walk(node, path):
        if node == 3:
            found.append(path)
            return
        for to in range(node + 1, 4):
            if cell.ops[EDGES.index((to, node))] != "none":
                walk(to, path + [(to, node)])

    walk(0, [])
    return found


def live_by_search(cell: NB201Cell) -> tuple[bool, ...]:
    on_a_path = {edge for path in paths_by_search(cell) for edge in path}
    return tuple(edge in on_a_path for edge in EDGES)


def graph(cell: NB201Cell, relabel: dict[int, int]) -> frozenset:
    """Oracle: the live graph as a set of `(from, to, op)` under a relabelling of the nodes."""
    live = live_by_search(cell)
    return frozenset((relabel[frm], relabel[to], op) for (to, frm), op, on in zip(EDGES, cell.ops, live) if on)


IDENTITY, EXCHANGE = {0: 0, 1: 1, 2: 2, 3: 3}, {0: 0, 1: 2, 2: 1, 3: 3}


def isomorphic(a: NB201Cell, b: NB201Cell) -> bool:
    """Oracle: equal live graphs, or equal after exchanging nodes 1 and 2 (edges must still run forwards)."""
    if graph(a, IDENTITY) == graph(b, IDENTITY):
        return True
    mirrored = graph(a, EXCHANGE)
    return all(frm < to for frm, to, _ in mirrored) and mirrored == graph(b, IDENTITY)


# -- live edges -------------------------------------------------------------------------------------------------
@GRADED
@given(cells)
def test_live_edges_are_those_on_a_path_from_input_to_output(cell):
    """An edge is live iff it lies on a path from node 0 to node 3 whose edges are all not `none`."""
    assert cell.live_edges == live_by_search(cell)


def test_live_edges_of_dead_ends():
    """An edge into node 1 is dead when nothing leaves node 1; an edge out of node 2 is dead when nothing enters it."""
    cell = NB201Cell.from_arch_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    assert cell.live_edges == (False, False, False, True, False, False)


# -- width and depth ----------------------------------------------------------------------------------------------
@GRADED
@given(cells)
def test_width_is_the_live_edges_leaving_the_input(cell):
    """Width (Section 3.2 carried over to edge cells) = number of live edges leaving node 0."""
    live = dict(zip(EDGES, live_by_search(cell)))
    assert cell.width == sum(live[(to, 0)] for to in (1, 2, 3))


def test_width_of_the_all_skip_cell_and_of_a_dead_cell():
    """DARTS' all-skip cell on this space has width 3; a cell whose only edge leaves node 0 into a dead end, 0."""
    assert NB201Cell(["skip_connect"] * 6).width == 3
    assert NB201Cell(["nor_conv_3x3", "none", "none", "none", "none", "none"]).width == 0


@GRADED
@given(cells)
def test_depth_is_the_longest_live_path(cell):
    """Depth = number of edges on the longest path 0 -> 3 over non-`none` edges (0 if there is none)."""
    assert cell.depth == max((len(path) for path in paths_by_search(cell)), default=0)


def test_depth_of_the_chain_beside_the_direct_edge():
    """The chain 0 -> 1 -> 2 -> 3 has depth 3 even when the direct edge 0 -> 3 is there too."""
    chain = NB201Cell.from_arch_string(
        "|nor_conv_1x1~0|+|none~0|skip_connect~1|+|nor_conv_3x3~0|none~1|skip_connect~2|"
    )
    assert chain.depth == 3


def test_depth_of_the_direct_edge_alone():
    """A cell whose only edge that is not `none` is the direct edge 0 -> 3 has depth 1 (the `none` edges are no
    path)."""
    assert NB201Cell.from_arch_string("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|").depth == 1


# -- the canonical form -------------------------------------------------------------------------------------------
@GRADED
@given(cells, cells)
def test_canonical_forms_are_equal_exactly_for_isomorphic_live_graphs(a, b):
    """Two cells have the same canonical form iff their live graphs are equal up to exchanging nodes 1 and 2."""
    assert (a.canonical() == b.canonical()) == isomorphic(a, b)


@GRADED
@given(cells)
def test_canonical_form_is_an_isomorphic_pruned_cell_and_keeps_width_and_depth(cell):
    """The form is itself pruned (every edge `none` or live), isomorphic to the cell, and idempotent."""
    canon = cell.canonical()
    assert canon.canonical() == canon
    assert all(op == "none" or on for op, on in zip(canon.ops, live_by_search(canon)))
    assert isomorphic(canon, cell)
    assert (canon.width, canon.depth) == (cell.width, cell.depth)


@GRADED
@given(cells)
def test_the_exchange_is_taken_when_it_gives_the_smaller_codes(cell):
    """Of the pruned cell and its mirror image (when that is an isomorphism), the smaller operation codes win."""
    pruned = NB201Cell(op if on else "none" for op, on in zip(cell.ops, live_by_search(cell)))
    candidates = [pruned]
    if pruned.op(2, 1) == "none":
        candidates.append(pruned.swapped())
    assert cell.canonical().codes == min(c.codes for c in candidates)


def test_canonical_form_of_a_mirrored_pair():
    """A convolution into node 1 and a pool into node 2 (no edge 1 -> 2): the mirror image has the same form."""
    a = NB201Cell.from_arch_string("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|")
    b = NB201Cell.from_arch_string("|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|")
    assert a.canonical() == b.canonical() == a  # codes (3, 4, ...) < (4, 3, ...)
