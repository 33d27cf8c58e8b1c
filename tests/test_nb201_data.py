"""The shipped NAS-Bench-201 table (cellnas_edu.nb201.data): it loads offline, its values are NATS-Bench's own
(the published optimum and the DARTS result), the script regenerates it bit for bit, and a damaged file is refused
with a line naming it."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from script_loader import load_script

from cellnas_edu.nb201.cell import NB201Cell
from cellnas_edu.nb201.data import EXTRACT, SOURCES, load_results, read_results

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "nasbench201"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"


def test_the_table_has_every_cell_once():
    results = load_results()
    assert len(results) == 15625
    assert len({tuple(row) for row in results.codes}) == 15625
    for i in (0, 1, 777, 15624):
        assert results.index_of(results.arch_string(i)) == i


def test_natsbench_index_order_is_not_the_product_order():
    results = load_results()
    assert results.arch_string(0) == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    assert results.arch_string(1) == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")


def test_published_numbers():
    """NAS-Bench-201 (Dong & Yang, 2020), Table 5: the optimum is 94.37 / 73.51 / 47.31 and DARTS (the all-skip
    cell) reaches 54.30 / 15.61 / 16.32 on CIFAR-10 / CIFAR-100 / ImageNet16-120."""
    results = load_results()
    best = {d: round(float(results.test_accuracy(d).max()), 2) for d in ("cifar10", "cifar100", "imagenet16")}
    assert best == {"cifar10": 94.37, "cifar100": 73.51, "imagenet16": 47.31}
    i = results.index_of(ALL_SKIP)
    assert [round(float(results.test_accuracy(d)[i]), 2) for d in ("cifar10", "cifar100", "imagenet16")] == [
        54.30, 15.61, 16.32]
    assert results.index_of(NB201Cell.from_arch_string(ALL_SKIP)) == i == 1835


def test_sources_and_licences_are_stated():
    assert "MIT" in SOURCES and "NATS-Bench" in SOURCES and "nats-bench-landscape" in SOURCES


def test_unknown_dataset_and_index_are_refused():
    results = load_results()
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        results.test_accuracy("cifar")
    with pytest.raises(ValueError, match="outside 0..15624"):
        results.cell(15625)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the source CSVs (../shared/nasbench201) are not beside the checkout")
def test_the_script_regenerates_the_extract_bit_for_bit():
    script = load_script(ROOT / "scripts" / "make_nb201_extract.py")
    assert script.build(SHARED) == EXTRACT.read_bytes()


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:100], "not a readable gzip"),
    (lambda b: gzip.compress(b"index,ops\n"), "the header is not"),
    (lambda b: gzip.compress(gzip.decompress(b).rsplit(b"\n", 2)[0] + b"\n"), "15624 rows"),
    (lambda b: gzip.compress(gzip.decompress(b).replace(b"\n1,", b"\n1,9", 1)), "row 3 is malformed"),
])
def test_a_damaged_extract_is_refused(tmp_path, damage, message):
    bad = tmp_path / "nb201_results.csv.gz"
    bad.write_bytes(damage(EXTRACT.read_bytes()))
    with pytest.raises(ValueError, match=message) as info:
        read_results(bad)
    assert str(bad) in str(info.value)
