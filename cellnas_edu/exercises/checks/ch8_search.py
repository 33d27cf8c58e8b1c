"""Chapter 8 (DARTS' derivation rule; found cells against the connection space): graded checks.

The oracle of the derivation is a literal transcription of DARTS' `_parse` (Liu et al., 2019), written
with loops and indices the way the DARTS code writes it; the oracle of the exact p-value is a brute-force
enumeration of every tuple of draws."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ...search.against_space import sum_tail
from ...search.derive import NONE_INDEX, SEARCH_OPERATIONS, derive_cell
from . import GRADED


def darts_parse(weights, primitives=SEARCH_OPERATIONS, steps=4):
    """DARTS' `Network.genotype._parse`, transcribed literally: the reference of the derivation rule."""
    gene, n, start = [], 2, 0
    for i in range(steps):
        end = start + n
        W = [list(row) for row in weights[start:end]]
        edges = sorted(range(i + 2), key=lambda x: -max(W[x][k] for k in range(len(W[x]))
                                                         if k != primitives.index("none")))[:2]
        for j in edges:
            k_best = None
            for k in range(len(W[j])):
                if k != primitives.index("none") and (k_best is None or W[j][k] > W[j][k_best]):
                    k_best = k
            gene.append((primitives[k_best], j))
        start = end
        n += 1
    return gene


half_integers = st.integers(-3, 3).map(lambda v: v / 2)
weight_matrices = st.lists(st.lists(half_integers, min_size=8, max_size=8), min_size=14, max_size=14)
"""14 x 8 matrices with many ties (half-integers in [-1.5, 1.5]), where tie-breaking matters."""


def rows_of(steps: int) -> int:
    """Edges of a cell of `steps` intermediate nodes: 2 + 3 + ... + (steps + 1)."""
    return sum(2 + node for node in range(steps))


ROW_COUNTS = frozenset(rows_of(steps) for steps in range(1, 8))
"""2, 5, 9, 14, 20, 27, 35: the numbers of rows that make a cell (of 1 to 7 nodes)."""


@st.composite
def sized_weight_matrices(draw):
    """`(steps, weights)`: a cell of 1-5 nodes (DARTS has 4) and its matrix, many ties as in `weight_matrices`."""
    steps = draw(st.integers(1, 5))
    rows = rows_of(steps)
    return steps, draw(st.lists(st.lists(half_integers, min_size=8, max_size=8), min_size=rows, max_size=rows))


@GRADED
@given(sized_weight_matrices())
def test_derivation_matches_darts_parse_including_ties(example):
    """Exercise (DARTS): two strongest edges per node by their best non-`none` weight, the strongest non-`none`
    operation on each, ties to the lower source and to the earlier candidate, all nodes concatenated; for any
    number of nodes (DARTS' 14 rows make 4 nodes, 2 + 3 + ... + (k + 1) rows make k)."""
    steps, weights = example
    cell = derive_cell(weights)
    assert list(cell.edges) == darts_parse(weights, steps=steps), f"edges {list(cell.edges)}"
    assert cell.concat == tuple(range(2, 2 + steps)), f"concat {cell.concat}"


@st.composite
def weights_that_make_no_cell(draw):
    """`(weights, operations, what is wrong)`: a matrix (or candidate list) that no cell comes from."""
    kind = draw(st.sampled_from(["rows", "row length", "not finite", "candidates"]))
    operations = None
    rows, columns = 14, 8
    if kind == "rows":
        rows = draw(st.integers(0, 22).filter(lambda k: k not in ROW_COUNTS))
    if kind == "candidates":
        operations = draw(st.sampled_from([SEARCH_OPERATIONS[1:], ("none",), ("sep_conv_3x3", "max_pool_3x3")]))
        columns = len(operations)
    weights = [[float(v) for v in draw(st.lists(half_integers, min_size=columns, max_size=columns))]
               for _ in range(rows)]
    if kind == "row length":
        row = draw(st.integers(0, rows - 1))
        length = draw(st.integers(1, 10).filter(lambda k: k != columns))
        weights[row] = (weights[row] * 2)[:length]
    if kind == "not finite":
        row, column = draw(st.integers(0, rows - 1)), draw(st.integers(0, columns - 1))
        weights[row][column] = draw(st.sampled_from([float("nan"), float("inf"), float("-inf")]))
    return weights, operations, kind


@GRADED
@given(weights_that_make_no_cell())
def test_weights_that_do_not_make_a_cell_raise_value_error(example):
    """Exercise: weights that make no cell raise ValueError: a number of rows that is not 2 + 3 + ... + (k + 1)
    (0, 13 or 15 rows, say), a row whose length is not the number of candidates, a weight that is not finite;
    and candidates without `none` or with nothing besides it."""
    weights, operations, kind = example
    try:
        got = derive_cell(weights) if operations is None else derive_cell(weights, operations)
    except ValueError:
        return
    raise AssertionError(f"{kind}: derive_cell returned {got!r} instead of raising ValueError")


@GRADED
@given(weight_matrices)
def test_a_derived_cell_never_keeps_none_and_reads_two_distinct_nodes(weights):
    """Exercise: `none` competes only inside the softmax; a node keeps two different incoming edges."""
    cell = derive_cell(weights)
    assert "none" not in cell.ops, f"ops {cell.ops}"
    for node in cell.intermediate_nodes:
        sources = [s for _, s in cell.node_inputs(node)]
        assert len(set(sources)) == 2 and all(s < node for s in sources), f"node {node} reads {sources}"


def test_none_never_wins_even_when_it_dominates_every_edge():
    """Exercise: with `none` the largest weight everywhere the cell is still made of real operations."""
    weights = [[0.0] * 8 for _ in range(14)]
    for row in weights:
        row[NONE_INDEX] = 10.0
    weights[0][SEARCH_OPERATIONS.index("sep_conv_3x3")] = 1.0
    weights[1][SEARCH_OPERATIONS.index("max_pool_3x3")] = 2.0
    cell = derive_cell(weights)
    assert cell.node_inputs(2) == (("max_pool_3x3", 1), ("sep_conv_3x3", 0)), f"node 2: {cell.node_inputs(2)}"


small_counts = st.dictionaries(st.integers(0, 6), st.integers(1, 4), min_size=1, max_size=4)


@GRADED
@given(small_counts, st.data())
def test_sum_tail_is_the_brute_force_tail(counts, data):
    """Exercise: P(sum of S independent draws >= observed sum) ("greater") or <= ("less"), exactly."""
    values = [v for v, c in counts.items() for _ in range(c)]
    observed = data.draw(st.lists(st.sampled_from(sorted(counts)), min_size=1, max_size=3), label="observed")
    alternative = data.draw(st.sampled_from(["greater", "less"]), label="alternative")
    t = sum(observed)
    hits = sum(1 for draw in itertools.product(values, repeat=len(observed))
               if (sum(draw) >= t if alternative == "greater" else sum(draw) <= t))
    expected = Fraction(hits, len(values) ** len(observed))
    got = sum_tail(counts, observed, alternative)
    assert got == expected, f"sum_tail({counts}, {observed}, {alternative!r}) = {got}, brute force {expected}"


def test_six_cells_at_the_maximum_width():
    """Exercise: six found cells of width 4c in the 14,400-cell space: every draw must be one of its 2^8."""
    widths = {8: 2 ** 8, 7: 1}  # a two-value space is enough to check the exponent
    assert sum_tail(widths, [8] * 6, "greater") == Fraction(2 ** 8, 2 ** 8 + 1) ** 6
