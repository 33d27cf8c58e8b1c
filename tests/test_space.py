"""The enumerated connection space (Appendix A.2): counts, the paper's formula, vectorised == scalar, Table 2."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from cell_strategies import cells
from hypothesis import given, settings
from hypothesis import strategies as st

from cellnas_edu.cells.cellspec import CellSpec
from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.cells.space import (
    connection_space,
    decode_sources,
    enumeration_count,
    paper_connection_count,
    variant_cell,
    variant_index,
    variant_topologies,
)
from cellnas_edu.cells.topology import cell_depth, cell_width
from cellnas_edu.paper import FIGURE_FAMILIES, TABLE2_VARIANTS


@pytest.fixture(scope="module")
def spaces():
    """Normal-cell spaces of the cells in Table 2 and Figures 2, 10, 11 (each enumerated once)."""
    names = ("DARTS_V2", "ENAS", "AmoebaNet", "NASNet", "SNAS_MILD")
    return {name: connection_space(get_genotype(name).normal) for name in names}


# -- counting --------------------------------------------------------------------
def test_counts_of_the_popular_cells(spaces):
    """518,400 = 720**2 variants for the 5-node cells, 14,400 = 120**2 for the 4-node ones."""
    assert {name: s.count for name, s in spaces.items()} == {
        "DARTS_V2": 14_400, "ENAS": 518_400, "AmoebaNet": 518_400, "NASNet": 518_400, "SNAS_MILD": 14_400,
    }
    for space in spaces.values():
        assert sum(b.count for b in space.histogram) == space.count


def test_paper_formula_is_one_source_per_node():
    """Appendix A.2's (N-2)!/(M-1)! counts one source per node; the two-operation space is its square."""
    assert paper_connection_count(8, 2) == 720 and paper_connection_count(7, 2) == 120
    for name in ("NASNet", "DARTS_V2"):
        cell = get_genotype(name).normal
        assert enumeration_count(cell) == int(paper_connection_count(cell.num_nodes, 2)) ** 2


def test_paper_formula_symbolically():
    """For n intermediate nodes (N = n + 3, M = 2): prod_{j=2}^{n+1} j = (N-2)!/(M-1)!, and prod j^2 is its square."""
    n, j = sympy.symbols("n j", integer=True, positive=True)
    N = n + 3
    one_source = sympy.product(j, (j, 2, n + 1))
    assert sympy.simplify(one_source - paper_connection_count(N, 2)) == 0
    two_sources = sympy.product(j**2, (j, 2, n + 1))
    assert sympy.simplify(two_sources - paper_connection_count(N, 2) ** 2) == 0
    M = sympy.symbols("M", integer=True, positive=True)
    assert sympy.simplify(paper_connection_count(n + M + 1, M).rewrite(sympy.gamma)
                          - sympy.gamma(n + M) / sympy.gamma(M)) == 0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_paper_formula_by_brute_force(n):
    """Brute force for small n: list every one-source and every two-source assignment explicitly."""
    nodes = range(2, 2 + n)
    one = list(itertools.product(*[range(j) for j in nodes]))
    two = list(itertools.product(*[range(j) for j in nodes for _ in range(2)]))
    assert len(one) == paper_connection_count(n + 3, 2)
    cell = CellSpec([("skip_connect", 0)] * (2 * n), list(nodes))
    assert len(two) == enumeration_count(cell) == len(one) ** 2
    assert sorted(map(tuple, decode_sources(cell, np.arange(len(two))).tolist())) == sorted(two)


@given(cells(max_nodes=6))
def test_enumeration_count_is_its_product_formula(cell):
    """Exercise: the number of connection variants is prod over intermediate nodes j of j**2."""
    assert enumeration_count(cell) == math.prod(j**2 for j in cell.intermediate_nodes)
    assert enumeration_count(cell) == math.factorial(cell.num_intermediate + 1) ** 2


# -- indexing and the vectorised topology -----------------------------------------
def test_variant_index_round_trip():
    cell = get_genotype("AmoebaNet").normal
    assert variant_cell(cell, variant_index(cell)) == cell
    assert variant_cell(cell, 0).sources == (0,) * 10
    assert variant_cell(cell, enumeration_count(cell) - 1).sources == (1, 1, 2, 2, 3, 3, 4, 4, 5, 5)
    with pytest.raises(ValueError, match="variant indices must lie in"):
        decode_sources(cell, [enumeration_count(cell)])


@pytest.mark.parametrize("name", ["NASNet", "AmoebaNet", "ENAS"])
def test_vectorised_equals_scalar_on_random_samples(name):
    """The numpy enumeration agrees with topology.cell_width / cell_depth on 400 random variants."""
    cell = get_genotype(name).reduce if name == "ENAS" else get_genotype(name).normal
    rng = np.random.default_rng(2020)
    indices = rng.integers(0, enumeration_count(cell), 400)
    half_widths, depths = variant_topologies(cell)
    for index in indices:
        variant = variant_cell(cell, int(index))
        assert Fraction(int(half_widths[index]), 2) == cell_width(variant)
        assert depths[index] == cell_depth(variant)


@settings(max_examples=60)
@given(cells(max_nodes=4), st.data())
def test_vectorised_equals_scalar_on_random_cells(cell, data):
    """Exercise: for any cell, the vectorised width/depth of a variant equals the scalar definition."""
    index = data.draw(st.integers(0, enumeration_count(cell) - 1))
    half_widths, depths = variant_topologies(cell, index, index + 1)
    variant = variant_cell(cell, index)
    assert (Fraction(int(half_widths[0]), 2), int(depths[0])) == (cell_width(variant), cell_depth(variant))


def test_every_seventh_darts_variant_equals_scalar():
    """Every 7th of the 14,400 DARTS variants (2,058 cells), scalar against vectorised."""
    cell = get_genotype("DARTS_V2").normal
    half_widths, depths = variant_topologies(cell)
    scalar = [(cell_width(variant_cell(cell, i)), cell_depth(variant_cell(cell, i))) for i in range(0, 14_400, 7)]
    assert scalar == [(Fraction(int(w), 2), int(d)) for w, d in zip(half_widths[::7], depths[::7])]


def test_blocks_give_the_same_histogram():
    cell = get_genotype("DARTS_V2").reduce
    assert connection_space(cell, block_size=1000).histogram == connection_space(cell).histogram


def test_examples_have_their_bin_topology(spaces):
    space = spaces["AmoebaNet"]
    for b in space.histogram[:6]:
        example = space.example_cell(b.width, b.depth)
        assert (cell_width(example), cell_depth(example)) == (b.width, b.depth)
    with pytest.raises(ValueError, match="no variant"):
        spaces["DARTS_V2"].example_cell(Fraction(7, 2), 2)


# -- the paper's numbers inside the spaces ------------------------------------------
@pytest.mark.parametrize("name", list(TABLE2_VARIANTS))
def test_every_table2_variant_exists_in_its_space(spaces, name):
    """Every (width, depth) printed for C1..C13 in Table 2 has a nonzero count in the cell's space."""
    for width, depth in TABLE2_VARIANTS[name]:
        assert spaces[name].count_of(width, depth) > 0, (name, width, depth)


@pytest.mark.parametrize("figure", list(FIGURE_FAMILIES))
def test_every_figure_variant_exists_in_its_space(spaces, figure):
    """Figures 2, 10, 11: the four variants' captions (b)-(e) all occur in the cell's space."""
    name, captions = FIGURE_FAMILIES[figure]
    for width, depth in captions[1:]:
        assert spaces[name].count_of(width, depth) > 0, (figure, width, depth)


def test_figure2a_caption_is_nowhere_in_the_darts_space(spaces):
    """The erratum 3.5c, 2 of Figure 2(a) is not even a variant of DARTS (nor of any cell, see test_topology)."""
    assert spaces["DARTS_V2"].count_of(3.5, 2) == 0


def test_table2_claim_largest_width_nearly_smallest_depth(spaces):
    """Table 2: "the popular NAS architectures achieve the largest width and nearly the smallest depth"."""
    for name in ("ENAS", "NASNet"):
        s = spaces[name]
        assert (s.original.width, s.original.depth) == (s.max_width, s.min_depth) == (5, 2)
        assert s.dominating() == 0
        assert s.fraction_at_least_as_wide() == pytest.approx(4**5 / 518_400)
    darts = spaces["DARTS_V2"]
    assert (darts.max_width, darts.min_depth) == (4, 2)
    assert darts.count_of(4, 2) == 4**4 and darts.original.width == Fraction(7, 2)
    assert darts.fraction_at_least_as_wide() == pytest.approx((256 + darts.count_of(3.5, 3)) / 14_400)


def test_nasnet_histogram_extremes(spaces):
    s = spaces["NASNet"]
    assert (s.max_width, s.min_width, s.min_depth, s.max_depth) == (5, 1, 2, 6)
    assert s.count_of(5, 2) == 1024 and s.count_of(1, 6) == 420
    data = s.to_json("NASNet", "normal")
    assert data["count"] == 518_400 and data["paper_formula"]["value"] == 720
    assert data["original"] == {"width": 5.0, "depth": 2}


def test_space_queries_equal_brute_force_over_the_histogram(spaces):
    """The histogram is ordered widest first, then shallowest; widest_of_shallowest, shallowest_of_widest,
    dominating and the fractions equal direct computations over the bins (and, for DARTS, over every variant)."""
    for name, space in spaces.items():
        bins = space.histogram
        assert [(b.width, b.depth) for b in bins] == sorted(((b.width, b.depth) for b in bins),
                                                            key=lambda t: (-t[0], t[1])), name
        assert bins[0].width == space.max_width and bins[-1].width == space.min_width
        shallow = [b for b in bins if b.depth == space.min_depth]
        assert space.widest_of_shallowest().depth == space.min_depth
        assert space.widest_of_shallowest().width == max(b.width for b in shallow)
        wide = [b for b in bins if b.width == space.max_width]
        assert space.shallowest_of_widest().width == space.max_width
        assert space.shallowest_of_widest().depth == min(b.depth for b in wide)
        w, d = space.original.width, space.original.depth
        expected = sum(b.count for b in bins if (b.width >= w and b.depth <= d) and (b.width > w or b.depth < d))
        assert space.dominating() == expected, name
        assert space.dominating(Fraction(2), 3) == sum(
            b.count for b in bins if b.width >= 2 and b.depth <= 3 and (b.width > 2 or b.depth < 3))
    darts = spaces["DARTS_V2"]
    widths, depths = variant_topologies(darts.cell)
    widths = widths / 2  # half-widths
    w, d = float(darts.original.width), darts.original.depth
    better = ((widths >= w) & (depths <= d) & ((widths > w) | (depths < d))).sum()
    assert darts.dominating() == int(better)
    assert darts.fraction_at_least_as_wide() == pytest.approx(float((widths >= w).mean()))
    assert darts.fraction_at_most_as_deep() == pytest.approx(float((depths <= d).mean()))
