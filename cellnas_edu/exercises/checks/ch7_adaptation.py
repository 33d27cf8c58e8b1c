"""Chapter 7 (Section 5, Figure 25): the SNAS-pattern adaptation."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given

from ...cells.adaptation import adapt, adapt_cell
from ...cells.cellspec import NUM_INPUTS
from ...cells.genotypes import get_genotype
from ...cells.strategies import cells, genotypes
from ...cells.topology import cell_depth, cell_width
from ...paper import FIGURE25
from . import GRADED


@GRADED
@given(cells())
def test_adaptation_never_deepens(cell):
    """Exercise (Section 5): the SNAS pattern makes every live node read the inputs only, so depth becomes 2."""
    adapted = adapt_cell(cell)
    assert all(src < NUM_INPUTS for src in adapted.sources), f"sources {adapted.sources}: not all are input nodes"
    assert cell_depth(adapted) == 2 <= cell_depth(cell)


@GRADED
@given(cells())
def test_adapted_width_is_the_concat_size(cell):
    """Exercise: after adaptation exactly the concatenated nodes are live, each a whole c: width = |concat| c."""
    adapted = adapt_cell(cell)
    assert adapted.live_nodes() == set(cell.concat)
    assert cell_width(adapted) == len(cell.concat)


@GRADED
@given(cells(full_concat=True))
def test_adaptation_never_narrows_a_fully_concatenated_cell(cell):
    """Exercise: with every node concatenated (NASNet, ENAS, DARTS, SNAS normal cells) adaptation never narrows.

    Without that condition the claim is false: Figure 1(b) (AmoebaNet, 4c) and
    Figure 25(b) (its adaptation, 3c) are a counterexample printed in the paper."""
    assert cell_width(adapt_cell(cell)) == cell.num_intermediate >= cell_width(cell)


@GRADED
@given(genotypes())
def test_adaptation_keeps_operations_concat_and_partial_order(genotype):
    """Exercise: adaptation rewrites sources only (Section 5): same operations, positions and concat in both cells,
    and operation k of every node reads input k (the SNAS pattern)."""
    adapted = adapt(genotype)
    for kind in ("normal", "reduce"):
        before, after = genotype.cell(kind), adapted.cell(kind)
        assert after.ops == before.ops and after.concat == before.concat
        assert after.sources == tuple(k % 2 for k in range(len(before.edges)))
    assert adapt(adapted) == adapted
    assert isinstance(cell_width(adapted.normal), Fraction)


def test_adaptation_reproduces_figure25():
    """Width and depth of every adapted normal cell of Figure 25."""
    for name, (width, depth) in FIGURE25.items():
        out = adapt_cell(get_genotype(name).normal)
        assert (cell_width(out), cell_depth(out)) == (Fraction(width), depth), name
