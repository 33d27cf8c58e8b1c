"""Chapter 7 (Section 5, Figure 25): the SNAS-pattern adaptation."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given

from ...cells.adaptation import adapt_cell
from ...cells.cellspec import NUM_INPUTS
from ...cells.genotypes import get_genotype
from ...cells.strategies import cells
from ...cells.topology import cell_depth, cell_width
from ...paper import FIGURE25
from . import GRADED


@GRADED
@given(cells())
def test_adapted_cell_reads_the_inputs_only(cell):
    """Every operation of the adapted cell reads an input node, so every node sits at depth 1 and the cell at 2."""
    out = adapt_cell(cell)
    assert all(src < NUM_INPUTS for src in out.sources), f"sources {out.sources}: not all are input nodes"
    assert cell_depth(out) == 2


@GRADED
@given(cells())
def test_adaptation_keeps_operations_and_concat(cell):
    """Only sources change: the operations, their positions and ``concat`` stay (Table 1's counts rely on it)."""
    out = adapt_cell(cell)
    assert out.ops == cell.ops and out.concat == cell.concat


@GRADED
@given(cells())
def test_adapted_width_is_the_concat_size(cell):
    """After adaptation exactly the concatenated nodes are live, each a whole c wide."""
    assert cell_width(adapt_cell(cell)) == Fraction(len(cell.concat))


@GRADED
@given(cells())
def test_adaptation_uses_both_inputs(cell):
    """The SNAS pattern: the two operations of a node read the two different input nodes (0 and 1)."""
    out = adapt_cell(cell)
    for node in out.intermediate_nodes:
        assert sorted(src for _, src in out.node_inputs(node)) == [0, 1], f"node {node}: {out.node_inputs(node)}"


def test_adaptation_reproduces_figure25():
    """Width and depth of every adapted normal cell of Figure 25."""
    for name, (width, depth) in FIGURE25.items():
        out = adapt_cell(get_genotype(name).normal)
        assert (cell_width(out), cell_depth(out)) == (Fraction(width), depth), name
