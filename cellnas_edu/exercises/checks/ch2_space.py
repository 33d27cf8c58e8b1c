"""Chapter 2 (Appendix A.2, Table 2): the size of the connection space and the fraction at least as wide."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ...cells.cellspec import NUM_INPUTS
from ...cells.genotypes import get_genotype
from ...cells.space import connection_space, enumeration_count
from ...cells.strategies import cells
from . import GRADED


def all_source_tuples(cell):
    """Oracle: every tuple of sources in which operation `k` of node `j` reads one of the nodes `0..j-1`."""
    return itertools.product(*(range(NUM_INPUTS + k // 2) for k in range(len(cell.edges))))


# -- the size of the space ----------------------------------------------------------
@GRADED
@given(cells(max_nodes=3))
def test_count_by_brute_force(cell):
    """The count is the number of source tuples that keep the partial order (listed one by one)."""
    assert enumeration_count(cell) == sum(1 for _ in all_source_tuples(cell))


@GRADED
@given(cells(max_nodes=6))
def test_count_is_the_square_of_the_papers_formula(cell):
    """Two operations per node choose their sources independently: ((N-2)!/(M-1)!)^2 (Appendix A.2)."""
    N = cell.num_nodes
    assert enumeration_count(cell) == (math.factorial(N - 2) // math.factorial(NUM_INPUTS - 1)) ** 2


def test_count_of_the_popular_cells():
    """14,400 variants for the 4-node cells of DARTS and SNAS, 518,400 for the 5-node NASNet cell."""
    assert enumeration_count(get_genotype("DARTS_V2").normal) == 14_400
    assert enumeration_count(get_genotype("SNAS_MILD").normal) == 14_400
    assert enumeration_count(get_genotype("NASNet").normal) == 518_400


# -- the fraction at least as wide ----------------------------------------------------
def _widths_by_brute_force(cell) -> list[Fraction]:
    from ...cells.topology import node_width  # not the function under test

    widths = []
    for sources in all_source_tuples(cell):
        variant = cell.with_sources(sources)
        live = variant.live_nodes()
        widths.append(sum((node_width(variant, j) for j in live), Fraction(0)))
    return widths


@GRADED
@given(cells(max_nodes=3), st.one_of(st.none(), st.integers(0, 8).map(lambda k: Fraction(k, 2))))
def test_fraction_at_least_as_wide_by_brute_force(cell, width):
    """The fraction of all variants whose width is >= `width` (default: the original cell's width)."""
    space = connection_space(cell)
    widths = _widths_by_brute_force(cell)
    threshold = space.original.width if width is None else width
    expected = sum(1 for w in widths if w >= threshold) / len(widths)
    got = space.fraction_at_least_as_wide(width) if width is not None else space.fraction_at_least_as_wide()
    assert math.isclose(got, expected, rel_tol=1e-12), f"fraction {got}, counting gives {expected}"


@GRADED
@given(cells(max_nodes=3))
def test_fraction_is_one_at_zero_and_zero_beyond_the_widest(cell):
    """Every variant is at least 0c wide; none is wider than one c per intermediate node."""
    space = connection_space(cell)
    assert space.fraction_at_least_as_wide(0) == 1.0
    assert space.fraction_at_least_as_wide(Fraction(2 * cell.num_intermediate + 1, 2)) == 0.0


def test_fraction_of_the_darts_and_nasnet_cells():
    """Table 2's caption: the popular cells are among the widest of their spaces. DARTS (3.5c): 1,792 of
    14,400 variants (12.4%) are at least as wide; NASNet (5c, the maximum): 1,024 of 518,400 (0.2%)."""
    space = connection_space(get_genotype("DARTS_V2").normal)
    counts = {}
    for b in space.histogram:
        counts[b.width] = counts.get(b.width, 0) + b.count
    expected = sum(c for w, c in counts.items() if w >= Fraction(7, 2)) / 14_400
    assert math.isclose(space.fraction_at_least_as_wide(), expected, rel_tol=1e-12)
    assert math.isclose(space.fraction_at_least_as_wide(), 1_792 / 14_400, rel_tol=1e-12)
    nasnet = connection_space(get_genotype("NASNet").normal)
    assert math.isclose(nasnet.fraction_at_least_as_wide(), 1_024 / 518_400, rel_tol=1e-12)
