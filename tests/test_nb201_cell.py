"""The NAS-Bench-201 cell (cellnas_edu.nb201.cell, space, params, naslib): validation, live edges, width and
depth against brute force, NATS-Bench's UniqueString on all 15,625 rows, the live-graph canonical form."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellnas_edu.nb201.cell import NB201Cell, format_arch_string, parse_arch_string
from cellnas_edu.nb201.data import load_results, unique_digest
from cellnas_edu.nb201.naslib import NASLIB_OPERATIONS, from_naslib_indices, to_naslib_indices
from cellnas_edu.nb201.operations import EDGES, OPERATIONS
from cellnas_edu.nb201.params import network_parameters
from cellnas_edu.nb201.space import all_codes, measure

cells = st.lists(st.sampled_from(OPERATIONS), min_size=6, max_size=6).map(NB201Cell)
DARTS_ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


# -- brute force, written independently of the module: every path of the DAG by depth-first search -----------------
def brute_paths(cell: NB201Cell) -> list[list[tuple[int, int]]]:
    """All paths 0 -> 3 over non-none edges, as lists of (to, from) edges."""
    out = []

    def walk(node, path):
        if node == 3:
            out.append(path)
            return
        for to in range(node + 1, 4):
            if cell.ops[EDGES.index((to, node))] != "none":
                walk(to, path + [(to, node)])

    walk(0, [])
    return out


def brute_measures(cell: NB201Cell):
    paths = brute_paths(cell)
    live = {edge for path in paths for edge in path}
    width = sum((to, 0) in live for to in (1, 2, 3))
    depth = max((len(p) for p in paths), default=0)
    convs = max((sum(cell.ops[EDGES.index(e)].startswith("nor_conv") for e in p) for p in paths if len(p) == depth),
                default=0)
    return tuple(e in live for e in EDGES), width, depth, convs


@pytest.mark.parametrize("text, message", [
    ("|nor_conv_3x3~0|+|none~0|none~1|", "2 node(s)"),
    (EXAMPLE + "+|none~0|", "4 node(s)"),
    ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv'"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 of"),
    ("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "comes from node 1"),
    ("|none~0|+|none~0|none~0|+|none~0|none~1|none~2|", "comes from node 0"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "bar at both ends"),
    ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "expected op~j"),
    (" " + DARTS_ALL_SKIP, "whitespace"),
    ("", "1 node(s)"),
])
def test_malformed_strings_name_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        NB201Cell.from_arch_string(text)


def test_other_constructors_validate():
    with pytest.raises(ValueError, match="6 edges; got 5"):
        NB201Cell(["none"] * 5)
    with pytest.raises(ValueError, match="edge 1->3: unknown operation 'sep_conv_3x3'"):
        NB201Cell(["none"] * 4 + ["sep_conv_3x3", "none"])
    with pytest.raises(ValueError, match="not one string"):
        NB201Cell(DARTS_ALL_SKIP)
    with pytest.raises(ValueError, match="outside 0..4"):
        NB201Cell.from_codes([0, 0, 0, 0, 0, 5])
    with pytest.raises(ValueError, match=r"op_indices\[2\]"):
        NB201Cell.from_naslib([0, 0, 7, 0, 0, 0])


@given(cells)
def test_string_round_trip(cell):
    text = cell.to_arch_string()
    assert NB201Cell.from_arch_string(text) == cell
    assert format_arch_string(parse_arch_string(text)) == text
    assert NB201Cell.from_codes(cell.codes) == cell


@given(cells)
def test_measures_equal_brute_force(cell):
    live, width, depth, convs = brute_measures(cell)
    assert cell.live_edges == live
    assert (cell.width, cell.depth, cell.convs_on_longest_path) == (width, depth, convs)
    assert cell.is_trainable == (depth > 0)


def test_vectorised_measures_equal_the_cell_on_every_cell():
    m = measure()
    assert len(m.codes) == 15625 == len({tuple(r) for r in m.codes})
    for i, row in enumerate(m.codes):
        cell = NB201Cell.from_codes(row)
        assert tuple(m.live[i]) == cell.live_edges
        assert (m.width[i], m.depth[i], m.convs_on_longest_path[i], m.live_convolutions[i]) == (
            cell.width, cell.depth, cell.convs_on_longest_path, cell.live_convolutions)
        if i % 97 == 0:
            assert m.parameters[i] == network_parameters(cell)


def test_whole_space_measured_in_under_a_second():
    codes = load_results().codes
    start = time.perf_counter()
    m = measure(codes)
    assert time.perf_counter() - start < 1.0
    assert int(m.trainable.sum()) == 15284  # 341 cells have no live path (5^6 - 15,284)


def test_width_depth_distribution_of_the_trainable_cells():
    m = measure()
    t = m.trainable
    counts = {(w, d): int(((m.width == w) & (m.depth == d) & t).sum()) for w in (1, 2, 3) for d in (1, 2, 3)}
    assert counts == {(1, 1): 1364, (1, 2): 928, (1, 3): 320, (2, 1): 0, (2, 2): 3968, (2, 3): 2560,
                      (3, 1): 0, (3, 2): 1024, (3, 3): 5120}


def test_parameter_counts_are_natsbench_extremes():
    """NATS-Bench's sizes run from 0.073 MB to 1.531 MB on CIFAR-10; counted by hand:
    stem 3*16*9 + 32 = 464; ResNet blocks 16->32: 4608+64 + 9216+64 + 512 = 14,464 and 32->64: 57,600;
    head 2*64 + 64*10 + 10 = 778: 73,306 without convolutions. Each 3x3 conv adds 5 * 9 * (16^2+32^2+64^2) +
    5 * 2 * (16+32+64) = 243,040."""
    assert network_parameters(NB201Cell(["none"] * 6)) == 73306
    assert network_parameters(NB201Cell(["avg_pool_3x3"] * 6)) == 73306
    assert network_parameters(NB201Cell(["nor_conv_3x3"] * 6)) == 73306 + 6 * 243040 == 1531546
    assert network_parameters(NB201Cell(["nor_conv_1x1"] + ["none"] * 5)) == 73306 + 5 * 5376 + 5 * 2 * 112
    assert network_parameters(NB201Cell(["none"] * 6), num_classes=100) == 73306 + 90 * 65


def test_unique_string_reproduces_natsbench_on_every_row():
    results = load_results()
    for i in range(len(results)):
        assert unique_digest(results.cell(i).unique_string()) == results.unique_digest[i], i


def test_unique_string_examples():
    assert NB201Cell.from_arch_string(EXAMPLE).unique_string() == (
        "((0)@nor_conv_3x3)@avg_pool_3x3+(0)@nor_conv_3x3+((0)@nor_conv_3x3)@nor_conv_3x3+0")
    assert NB201Cell.from_arch_string(DARTS_ALL_SKIP).unique_string() == "0+0+0+0"
    # a node whose terms are all zero is written "#+#", and NATS-Bench compares only "#" with zero:
    chain_of_zeros = NB201Cell(["none", "none", "none", "none", "none", "nor_conv_1x1"])
    assert chain_of_zeros.unique_string() == "#+#+(#+#)@nor_conv_1x1"


def test_unique_string_classes_mix_widths_and_depths():
    """NATS-Bench's key merges skip paths: 6,461 classes of trainable cells, 794 with members of different width
    or depth. The live-graph canonical form has 8,764 classes and keeps width and depth."""
    results, m = load_results(), measure(load_results().codes)
    by_key, by_canon = {}, {}
    for i in np.flatnonzero(m.trainable):
        cell = results.cell(int(i))
        by_key.setdefault(results.unique_digest[i], set()).add((cell.width, cell.depth))
        by_canon.setdefault(cell.canonical(), set()).add((cell.width, cell.depth))
    assert len(by_key) == 6461
    assert sum(len(v) > 1 for v in by_key.values()) == 794
    assert len(by_canon) == 8764
    assert all(len(v) == 1 for v in by_canon.values())


@given(cells)
def test_canonical_form_is_an_invariant_of_isomorphism(cell):
    canon = cell.canonical()
    assert canon == canon.canonical()
    assert (canon.width, canon.depth, canon.convs_on_longest_path, canon.live_convolutions) == (
        cell.width, cell.depth, cell.convs_on_longest_path, cell.live_convolutions)
    assert all(live or op == "none" for op, live in zip(canon.ops, canon.live_edges))
    if cell.pruned().op(2, 1) == "none":  # exchanging nodes 1 and 2 is an isomorphism: same class
        assert cell.pruned().swapped().canonical() == canon


def test_canonical_form_merges_exactly_the_isomorphic_live_graphs():
    """Brute force over the whole space: two cells share a canonical form iff their pruned graphs are equal up to
    the exchange of nodes 1 and 2."""
    seen = {}
    for codes in itertools.product(range(5), repeat=6):
        cell = NB201Cell.from_codes(codes)
        pruned = cell.pruned()
        key = {pruned}
        if pruned.op(2, 1) == "none":
            key.add(pruned.swapped())
        seen.setdefault(cell.canonical(), set()).update(key)
    # every class is one pruned graph or a graph and its mirror image
    assert all(len(v) <= 2 for v in seen.values())
    everything = [g for v in seen.values() for g in v]
    assert len(everything) == len(set(everything))


def test_naslib_uses_another_op_and_edge_order():
    cell = NB201Cell.from_arch_string(EXAMPLE)
    assert cell.to_naslib() == (2, 2, 0, 4, 2, 0)  # NASLib: (0->1, 0->2, 0->3, 1->2, 1->3, 2->3), skip = 0
    assert cell.codes == (3, 3, 4, 1, 3, 1)  # NATS-Bench: string order, none = 0
    assert cell.to_naslib() != cell.codes
    # the trap: NASLib's all-ones tuple is the all-none cell, NATS-Bench's all-ones codes the all-skip cell
    assert NB201Cell.from_naslib([1] * 6) == NB201Cell(["none"] * 6)
    assert NB201Cell.from_codes([1] * 6).to_arch_string() == DARTS_ALL_SKIP
    assert NASLIB_OPERATIONS != OPERATIONS and set(NASLIB_OPERATIONS) == set(OPERATIONS)


@given(cells)
def test_naslib_round_trip(cell):
    assert from_naslib_indices(to_naslib_indices(cell.ops)) == cell.ops


def test_all_codes_is_the_product_space():
    codes = all_codes()
    assert codes.shape == (15625, 6) and codes[0].tolist() == [0] * 6 and codes[-1].tolist() == [4] * 6
