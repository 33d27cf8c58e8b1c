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


weight_matrices = st.lists(st.lists(st.integers(-3, 3).map(lambda v: v / 2), min_size=8, max_size=8),
                           min_size=14, max_size=14)
"""14 x 8 matrices with many ties (half-integers in [-1.5, 1.5]), where tie-breaking matters."""


@GRADED
@given(weight_matrices)
def test_derivation_matches_darts_parse_including_ties(weights):
    """Exercise (DARTS): two strongest edges per node by their best non-`none` weight, the strongest non-`none`
    operation on each, ties to the lower source and to the earlier candidate, all nodes concatenated."""
    cell = derive_cell(weights)
    assert list(cell.edges) == darts_parse(weights), f"edges {list(cell.edges)}"
    assert cell.concat == (2, 3, 4, 5), f"concat {cell.concat}"


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
