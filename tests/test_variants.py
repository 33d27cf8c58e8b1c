"""Random connection and operation variants (Appendix A.2) and Table 2-style families."""

import random
from collections import Counter

import pytest
from cell_strategies import cells, genotypes
from hypothesis import given
from hypothesis import strategies as st

from cellnas_edu.cells.cellspec import SEARCH_SPACE_OPERATIONS, CellSpec
from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.cells.topology import cell_depth, cell_width
from cellnas_edu.cells.variants import (
    random_connection_cell,
    random_operation_cell,
    space_size,
    uniform_below,
    variant_family,
)

DARTS = get_genotype("DARTS_V2")


def test_golden_family_is_reproducible():
    """Seed 2020 gives exactly these variants on every machine (MT19937 getrandbits, integer draws only)."""
    family = variant_family(DARTS, count=3, seed=2020)
    assert [(v.label, v.draw, v.cell.sources, float(v.width), v.depth) for v in family] == [
        ("C1", 2, (1, 1, 0, 2, 1, 3, 4, 4), 2.0, 5),
        ("C2", 0, (0, 1, 1, 1, 2, 3, 4, 1), 2.5, 4),
        ("C3", 1, (0, 1, 0, 0, 3, 1, 4, 1), 3.0, 4),
    ]
    ops = variant_family(DARTS, kind="operations", count=1, seed=2020)[0].cell.ops
    assert ops == ("sep_conv_5x5", "sep_conv_5x5", "avg_pool_3x3", "dil_conv_3x3",
                   "dil_conv_5x5", "sep_conv_3x3", "sep_conv_3x3", "sep_conv_3x3")


def test_same_seed_same_family_different_seed_different_family():
    a = variant_family(DARTS, count=13, seed=7)
    assert a == variant_family(DARTS, count=13, seed=7)
    assert [v.cell for v in a] != [v.cell for v in variant_family(DARTS, count=13, seed=8)]


def test_a_longer_family_extends_a_shorter_one():
    short = {v.draw: v.cell for v in variant_family(DARTS, count=5, seed=3)}
    long = {v.draw: v.cell for v in variant_family(DARTS, count=13, seed=3)}
    assert all(long[d] == cell for d, cell in short.items())


def test_family_sorted_like_table2():
    """Table 2: "width and depth of random variants are in ascending and descending order respectively"."""
    family = variant_family(get_genotype("AmoebaNet"), count=13, seed=0)
    assert [v.label for v in family] == [f"C{i}" for i in range(1, 14)]
    keys = [(v.width, -v.depth) for v in family]
    assert keys == sorted(keys)
    for v in family:
        assert (v.width, v.depth) == (cell_width(v.cell), cell_depth(v.cell))
        assert v.genotype.normal == v.cell and v.genotype.reduce == get_genotype("AmoebaNet").reduce
        assert v.caption().startswith(f"{v.label}, ")


def test_same_seed_gives_the_same_sources_to_cells_of_equal_shape():
    """NASNet and ENAS (5 nodes, full concat) get identical width/depth sequences from one seed.

    Table 2 prints identical rows for ENAS and NASNet, as this sampler would with one seed for both.
    """
    nasnet = variant_family(get_genotype("NASNet"), count=13, seed=5)
    enas = variant_family(get_genotype("ENAS"), count=13, seed=5)
    assert [(v.width, v.depth) for v in nasnet] == [(v.width, v.depth) for v in enas]


def test_reduce_and_both():
    reduce_family = variant_family(DARTS, count=4, seed=1, cell="reduce")
    for v in reduce_family:
        assert v.genotype.normal == DARTS.normal and v.cell == v.genotype.reduce
        assert v.cell.ops == DARTS.reduce.ops
    both = variant_family(DARTS, count=4, seed=1, cell="both")
    for v in both:
        assert v.cell == v.genotype.normal and v.genotype.reduce.ops == DARTS.reduce.ops
    assert any(v.genotype.reduce != DARTS.reduce for v in both)


def test_operation_variants_keep_topology():
    for v in variant_family(get_genotype("NASNet"), kind="operations", count=6, seed=4):
        assert v.cell.sources == get_genotype("NASNet").normal.sources
        assert (v.width, v.depth) == (5, 2)
        assert set(v.cell.ops) <= set(SEARCH_SPACE_OPERATIONS)


def test_distinct_excludes_duplicates_and_the_original():
    tiny = CellSpec([("sep_conv_3x3", 0), ("skip_connect", 1)], [2])  # 4 connection variants, one is itself
    family = variant_family(tiny, count=3, seed=0, distinct=True)
    assert len({v.cell for v in family}) == 3 and tiny not in {v.cell for v in family}
    with pytest.raises(ValueError, match="only 3 exist"):
        variant_family(tiny, count=4, seed=0, distinct=True)
    independent = variant_family(tiny, count=40, seed=0)
    assert len({v.cell for v in independent}) == 4  # with replacement, the original is drawn too
    assert space_size(tiny, "connections") == 4 and space_size(tiny, "operations") == 49


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        variant_family(DARTS, kind="edges")
    with pytest.raises(ValueError, match="cell must be one of"):
        variant_family(DARTS, cell="output")
    with pytest.raises(ValueError, match="count must be a non-negative integer"):
        variant_family(DARTS, count=-1)
    with pytest.raises(ValueError, match="seed must be an integer"):
        variant_family(DARTS, seed=1.5)
    with pytest.raises(ValueError, match="needs a genotype"):
        variant_family(DARTS.normal, cell="both")
    with pytest.raises(ValueError, match="expected a Genotype or a CellSpec"):
        variant_family({"normal": []})
    assert variant_family(DARTS, count=0) == []


def test_uniform_below_is_uniform():
    """Chi-square check of the integer sampler: 7,000 draws over 7 operations (and 5 sources)."""
    rng = random.Random(11)
    for n, draws in ((7, 7000), (5, 5000)):
        counts = Counter(uniform_below(rng, n) for _ in range(draws))
        expected = draws / n
        chi2 = sum((counts[k] - expected) ** 2 / expected for k in range(n))
        assert set(counts) == set(range(n)) and chi2 < 22.5  # p ~ 0.001 for 6 degrees of freedom
    with pytest.raises(ValueError):
        uniform_below(rng, 0)


def test_connection_sources_are_uniform_over_preceding_nodes():
    """Appendix A.2: the source of an operation of node j is uniform over 0..j-1 (node 5 of DARTS: 0..4)."""
    rng = random.Random(5)
    counts = Counter(random_connection_cell(DARTS.normal, rng).sources[7] for _ in range(5000))
    assert set(counts) == set(range(5)) and max(counts.values()) - min(counts.values()) < 200


# -- properties as exercises --------------------------------------------------------
@given(cells(), st.integers(0, 2**32))
def test_connection_variants_keep_operations_and_point_backwards(cell, seed):
    """Exercise (Appendix A.2): a connection variant keeps every operation, its node and concat;
    every new source precedes its node."""
    variant = random_connection_cell(cell, random.Random(seed))
    assert variant.ops == cell.ops and variant.concat == cell.concat
    for node in variant.intermediate_nodes:
        assert all(0 <= src < node for _, src in variant.node_inputs(node))


@given(cells(), st.integers(0, 2**32))
def test_operation_variants_keep_sources(cell, seed):
    """Exercise (Appendix A.2): an operation variant keeps every source (so width and depth) and draws
    operations from the seven non-'none' candidates."""
    variant = random_operation_cell(cell, random.Random(seed))
    assert variant.sources == cell.sources and variant.concat == cell.concat
    assert set(variant.ops) <= set(SEARCH_SPACE_OPERATIONS)
    assert (cell_width(variant), cell_depth(variant)) == (cell_width(cell), cell_depth(cell))


@given(genotypes(max_nodes=4), st.integers(0, 1000), st.sampled_from(["connections", "operations"]))
def test_families_are_sorted_and_deterministic(genotype, seed, kind):
    """Exercise: a family is sorted by (width up, depth down), labelled C1..CK, and a function of its seed."""
    family = variant_family(genotype, kind=kind, count=5, seed=seed)
    assert [(v.width, -v.depth) for v in family] == sorted((v.width, -v.depth) for v in family)
    assert family == variant_family(genotype, kind=kind, count=5, seed=seed)
