"""CellSpec validation (Section 3.1): every malformed cell raises a ValueError naming node and operation."""

import pytest

from cellnas_edu.cells.cellspec import CellSpec, Genotype

GOOD = [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("dil_conv_3x3", 2)]


def test_a_valid_cell_round_trips():
    cell = CellSpec(GOOD, [2, 3])
    assert cell.num_intermediate == 2 and cell.num_nodes == 5
    assert cell.node_inputs(3) == (("skip_connect", 0), ("dil_conv_3x3", 2))
    assert CellSpec(*cell.to_lists()) == cell
    assert cell.live_nodes() == {2, 3} and cell.dead_nodes() == frozenset()


def _edit(index, pair):
    edges = list(GOOD)
    edges[index] = pair
    return edges


@pytest.mark.parametrize(
    "edges, concat, fragments",
    [
        (_edit(3, ("conv_9x9", 2)), [2, 3], ["node 3, operation 2", "unknown operation 'conv_9x9'"]),
        (_edit(0, ("none", 0)), [2, 3], ["node 2, operation 1", "'none'"]),
        (_edit(2, (3, 0)), [2, 3], ["node 3, operation 1", "operation must be a string"]),
        (GOOD[:3], [2], ["3 [operation, source] pairs", "odd"]),
        (_edit(3, ("skip_connect", 3)), [2, 3], ["node 3, operation 2", "source 3 does not precede node 3"]),
        (_edit(1, ("skip_connect", 2)), [2, 3], ["node 2, operation 2", "source 2 does not precede node 2"]),
        (_edit(2, ("skip_connect", -1)), [2, 3], ["node 3, operation 1", "source -1 is negative"]),
        (_edit(1, ("skip_connect", True)), [2, 3], ["node 2, operation 2", "source must be an integer"]),
        (_edit(1, ("skip_connect", "1")), [2, 3], ["node 2, operation 2", "source must be an integer"]),
        (_edit(1, ("skip_connect", 1.0)), [2, 3], ["node 2, operation 2", "source must be an integer"]),
        (_edit(3, ["skip_connect"]), [2, 3], ["node 3, operation 2", "expected an [operation, source] pair"]),
        (_edit(0, "skip_connect"), [2, 3], ["node 2, operation 1", "expected an [operation, source] pair"]),
        ([], [2], ["empty"]),
        (GOOD, [2, 4], ["concat entry 4 is out of range", "2..3"]),
        (GOOD, [1, 3], ["concat entry 1 is out of range"]),
        (GOOD, [2, 2], ["concat lists node 2 twice"]),
        (GOOD, [], ["concat is empty"]),
        (GOOD, [2, True], ["concat entry True"]),
        (GOOD, ["3"], ["concat entry '3'"]),
        ("sep_conv_3x3", [2], ["list of [operation, source] pairs"]),
        (GOOD, "23", ["concat must be a list"]),
    ],
)
def test_malformed_cells_name_the_problem(edges, concat, fragments):
    with pytest.raises(ValueError) as info:
        CellSpec(edges, concat)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_genotype_errors_name_the_cell():
    with pytest.raises(ValueError, match=r"^reduce cell: node 3, operation 2: source 4 does not precede node 3"):
        Genotype.from_lists(GOOD, [2, 3], _edit(3, ("max_pool_3x3", 4)), [2, 3])


def test_with_sources_and_with_ops_validate_again():
    cell = CellSpec(GOOD, [2, 3])
    assert cell.with_sources([1, 0, 2, 1]).sources == (1, 0, 2, 1)
    assert cell.with_sources([1, 0, 2, 1]).ops == cell.ops
    with pytest.raises(ValueError, match="node 3, operation 1: source 3 does not precede"):
        cell.with_sources([0, 0, 3, 0])
    with pytest.raises(ValueError, match="need 4 sources, got 3"):
        cell.with_sources([0, 0, 0])
    with pytest.raises(ValueError, match="node 2, operation 2: unknown operation"):
        cell.with_ops(["skip_connect", "conv", "skip_connect", "skip_connect"])
    with pytest.raises(ValueError, match="node 7 is not an intermediate node"):
        cell.node_inputs(7)
    with pytest.raises(ValueError, match="cell must be 'normal' or 'reduce'"):
        Genotype(cell, cell).cell("output")
