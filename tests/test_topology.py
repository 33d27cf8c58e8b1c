"""Section 3.2's width and depth against every number the paper prints (Figures 1, 2, 10, 11, 25; Table 2)."""

from fractions import Fraction

import pytest

from cellnas_edu.cells.cellspec import NUM_INPUTS, CellSpec
from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.cells.topology import (
    Topology,
    cell_depth,
    cell_width,
    cell_width_all_nodes,
    format_width,
    node_depths,
)

# The property exercises of Chapter 1 live with the graded checks of `cellnas exercises` (one source):
from cellnas_edu.exercises.checks.ch1_cells import (  # noqa: F401 - collected here
    test_depth_2_cells_have_integer_width_equal_to_concat,
    test_depth_at_least_2_and_at_most_a_chain,
    test_half_integer_width_needs_depth_3,
    test_width_is_a_multiple_of_half_c_and_bounded_by_live_nodes,
)
from cellnas_edu.paper import FIGURE1, FIGURE25, FIGURE_FAMILIES, TABLE2_BASE


def measured(name, kind="normal"):
    cell = get_genotype(name).cell(kind)
    return float(cell_width(cell)), cell_depth(cell)


@pytest.mark.parametrize("name, expected", FIGURE1.items())
def test_figure1_popular_cells(name, expected):
    assert measured(name) == expected


def test_figure1_literally():
    """The captions of Figure 1, typed in by hand (independent of cellnas_edu.paper)."""
    assert Topology.of(get_genotype("NASNet").normal).label() == "5c, 2"
    assert Topology.of(get_genotype("AmoebaNet").normal).label() == "4c, 4"
    assert Topology.of(get_genotype("ENAS").normal).label() == "5c, 2"
    assert Topology.of(get_genotype("DARTS").normal).label() == "3.5c, 3"
    assert Topology.of(get_genotype("SNAS").normal).label() == "4c, 2"


@pytest.mark.parametrize("name, expected", FIGURE25.items())
def test_figure25_published_adapted_cells(name, expected):
    adapted = {"DARTS_V2": "DARTS_ADAPT", "SNAS_MILD": "SNAS_ADAPT"}.get(name, f"{name}_ADAPT")
    assert measured(adapted) == expected


@pytest.mark.parametrize("name, expected", TABLE2_BASE.items())
def test_table2_base_cells(name, expected):
    assert measured(name) == expected


def test_figure11a_snas():
    assert measured("SNAS_MILD") == FIGURE_FAMILIES["Figure 11"][1][0] == (4, 2)


def test_section32_text():
    """Section 3.2: "the width and depth of the DARTS cell are 3.5c and 3 ... of the AmoebaNet cell are 4c and 4"."""
    assert (cell_width(get_genotype("DARTS").normal), cell_depth(get_genotype("DARTS").normal)) == (Fraction(7, 2), 3)
    assert (cell_width(get_genotype("AmoebaNet").normal), cell_depth(get_genotype("AmoebaNet").normal)) == (4, 4)


def test_node_depths_of_darts():
    """DARTS normal cell: nodes 2, 3, 4 read inputs only; node 5 reads node 2: longest path 0 -> 2 -> 5 -> out."""
    assert node_depths(get_genotype("DARTS").normal) == {0: 0, 1: 0, 2: 1, 3: 1, 4: 1, 5: 2}


# -- the two caption errata -------------------------------------------------------
def test_erratum_figure2a_darts_printed_as_depth_2():
    """Figure 2(a) prints C^darts as "3.5c, 2"; Figure 1(d), Table 2 and Section 3.2 say 3.5c, 3."""
    printed = FIGURE_FAMILIES["Figure 2"][1][0]
    assert printed == (3.5, 2)
    assert measured("DARTS_V2") == (3.5, 3) != printed


def test_erratum_figure10a_amoebanet_width():
    """Figure 10(a) prints the AmoebaNet normal cell as 3.5c, 4; Figure 1(b), Table 2 and Section 3.2 give 4c, 4."""
    printed = FIGURE_FAMILIES["Figure 10"][1][0]
    assert printed == (3.5, 4)
    assert FIGURE1["AmoebaNet"] == TABLE2_BASE["AmoebaNet"] == (4, 4)
    assert measured("AmoebaNet") == (4, 4) != printed


def test_literal_all_nodes_reading_fails_figure25b():
    """Counting dead nodes too gives the adapted AmoebaNet 5c; Figure 25(b) prints 3c, so dead nodes are pruned."""
    adapted = get_genotype("AmoebaNet_ADAPT").normal
    assert adapted.dead_nodes() == {2, 3}
    assert cell_width_all_nodes(adapted) == 5
    assert cell_width(adapted) == 3 == FIGURE25["AmoebaNet"][0]


def test_literal_reading_agrees_where_no_node_is_dead():
    for name in FIGURE1:
        cell = get_genotype(name).normal
        assert not cell.dead_nodes()
        assert cell_width_all_nodes(cell) == cell_width(cell)


def test_format_width():
    assert [format_width(Fraction(w)) for w in (Fraction(7, 2), 4, 0, Fraction(1, 2))] == ["3.5c", "4c", "0c", "0.5c"]


def test_widest_cell_of_7_and_8_nodes():
    """Section 3.2: a 7-node cell (4 intermediate) is at most 4c wide, an 8-node cell at most 5c; depth at least 2."""
    for n, expected in ((4, 4), (5, 5)):
        widest = CellSpec([("sep_conv_3x3", k % NUM_INPUTS) for k in range(2 * n)], range(2, 2 + n))
        assert widest.num_nodes == n + 3
        assert (cell_width(widest), cell_depth(widest)) == (expected, 2)


def test_min_depth_is_two_and_is_reached():
    """Section 3.2: the shallowest possible cell goes input -> intermediate -> output, depth 2, and cells of
    depth 2 exist (ENAS, NASNet); no cell is shallower."""
    from cellnas_edu.cells.topology import min_depth

    assert min_depth() == 2
    assert measured("ENAS")[1] == min_depth() and measured("NASNet")[1] == min_depth()
