"""The widest-and-shallowest adaptation (Section 5, Appendix B.5, Figure 25) checked against the whole space.

Figure 25's caption says the adapted cells "achieve the largest width and
smallest depth in their original search space". The enumeration shows the
precise statement: adaptation always reaches the minimum depth 2 and no
depth-2 variant is wider (the adapted cell is Pareto-optimal); it is also the
widest cell exactly when ``concat`` holds every intermediate node. When
``concat`` is a strict subset (AmoebaNet's normal cell ``[4, 5, 6]``, several
reduction cells) the unconcatenated nodes die, and a depth-3 variant is wider.
"""

import pytest

from cellnas_edu.cells.adaptation import adapt, adapt_cell
from cellnas_edu.cells.genotypes import ADAPTED, POPULAR, get_genotype
from cellnas_edu.cells.space import connection_space
from cellnas_edu.cells.topology import Topology, cell_depth, cell_width

# The property exercises of Chapter 7 live with the graded checks of `cellnas exercises` (one source):
from cellnas_edu.exercises.checks.ch7_adaptation import (  # noqa: F401 - collected here
    test_adaptation_keeps_operations_concat_and_partial_order,
    test_adaptation_never_deepens,
    test_adaptation_never_narrows_a_fully_concatenated_cell,
    test_adapted_width_is_the_concat_size,
)
from cellnas_edu.paper import FIGURE1, FIGURE25

CELLS = [(name, kind) for name in POPULAR for kind in ("normal", "reduce")]


@pytest.fixture(scope="module")
def spaces():
    return {(name, kind): connection_space(get_genotype(name).cell(kind)) for name, kind in CELLS}


@pytest.mark.parametrize("name", POPULAR)
def test_adapt_reproduces_figure25(name):
    """adapt(original) has the widths and depths that Figure 25 prints."""
    adapted = adapt(get_genotype(name)).normal
    assert (float(cell_width(adapted)), cell_depth(adapted)) == FIGURE25[name]


@pytest.mark.parametrize("name", POPULAR)
def test_published_adapted_genotypes_match_adapt(name):
    """The shipped *_ADAPT genotypes have the same widths/depths as adapt() (both cells) and keep every operation."""
    original, published = get_genotype(name), get_genotype(ADAPTED[name])
    for kind in ("normal", "reduce"):
        assert Topology.of(published.cell(kind)) == Topology.of(adapt(original).cell(kind))
        assert published.cell(kind).ops == original.cell(kind).ops
        assert published.cell(kind).concat == original.cell(kind).concat


def test_adapted_names():
    assert adapt(get_genotype("DARTS_V2")).name == "DARTS_ADAPT"
    assert adapt(get_genotype("NASNet")).name == "NASNet_ADAPT"
    assert get_genotype("DARTS_ADAPT") == adapt(get_genotype("DARTS_V2"))


@pytest.mark.parametrize("name, kind", CELLS)
def test_adaptation_is_shallowest_and_pareto_optimal(spaces, name, kind):
    """(a) depth 2 = the minimum of the space; (b) no depth-2 variant is wider than the adaptation."""
    space, adapted = spaces[(name, kind)], Topology.of(adapt_cell(get_genotype(name).cell(kind)))
    assert adapted.depth == space.min_depth == 2
    assert adapted.width == space.widest_of_shallowest().width
    assert space.dominating(adapted.width, adapted.depth) == 0


@pytest.mark.parametrize("name, kind", CELLS)
def test_adaptation_is_widest_iff_concat_is_full(spaces, name, kind):
    """(c) with every intermediate node concatenated the adaptation is also the widest cell (n c); otherwise not."""
    cell = get_genotype(name).cell(kind)
    space, adapted = spaces[(name, kind)], Topology.of(adapt_cell(cell))
    full = set(cell.concat) == set(cell.intermediate_nodes)
    assert (adapted.width == space.max_width) == full
    if full:
        assert space.max_width == cell.num_intermediate
        assert space.shallowest_of_widest().depth == 2


@pytest.mark.parametrize("name", ["DARTS_V2", "SNAS_MILD", "NASNet", "ENAS"])
def test_adapted_normal_cells_are_widest_and_shallowest(spaces, name):
    """DARTS_ADAPT, SNAS_ADAPT, NASNet_ADAPT and ENAS_ADAPT normal cells: no variant is wider or shallower."""
    space = spaces[(name, "normal")]
    adapted = Topology.of(get_genotype(ADAPTED[name]).normal)
    assert (adapted.width, adapted.depth) == (space.max_width, space.min_depth)
    assert space.count_of(adapted.width, adapted.depth) == 4 ** get_genotype(name).normal.num_intermediate


def test_amoebanet_has_a_wider_variant_than_its_adaptation(spaces):
    """AmoebaNet normal cell (concat [4, 5, 6]): the adaptation is 3c, 2, but 4c is reachable at depth 3.

    Adaptation kills nodes 2 and 3. A variant that keeps them alive by feeding
    them into concatenated nodes trades half a c of each reader for a whole c
    of each fed node: 4c at depth 3 (7,680 of the 518,400 variants), at the cost
    of one more level of depth.
    """
    space = spaces[("AmoebaNet", "normal")]
    assert Topology.of(get_genotype("AmoebaNet_ADAPT").normal).label() == "3c, 2"
    assert space.max_width == 4 and space.shallowest_of_widest().depth == 3
    assert space.count_of(4, 3) == 7_680 and space.count_of(3, 2) == 2_304
    example = space.example_cell(4, 3)
    assert (cell_width(example), cell_depth(example)) == (4, 3) and not example.dead_nodes()
    assert space.widest_of_shallowest().width == 3
    # the original AmoebaNet cell itself (Figure 1(b), 4c, 4) is wider than its adaptation
    assert FIGURE1["AmoebaNet"] == (4, 4) and FIGURE25["AmoebaNet"] == (3, 2)


def test_adaptation_can_narrow_when_concat_is_partial():
    amoeba = get_genotype("AmoebaNet")
    assert cell_width(adapt_cell(amoeba.normal)) < cell_width(amoeba.normal)
    assert cell_width(adapt_cell(amoeba.reduce)) == 3 < cell_width(amoeba.reduce) == 4


