"""Requests too big for the machine end in one line and exit 2, fast: endless inputs, huge networks, absurd spans,
decompression bombs, a full disk, seeds outside the one range."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cellnas_edu.cli import MAX_SEED
from cellnas_edu.errors import UserError
from cellnas_edu.io import read_bounded_bytes, read_bounded_text
from cellnas_edu.seeds import MAX_SEED as SHARED_MAX_SEED

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv, timeout=120, **kwargs):
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          **kwargs)


def _one_line_exit_2(result, *needles):
    assert result.returncode == 2, result
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_endless_inputs_are_read_with_a_bound(tmp_path):
    with pytest.raises(UserError, match=r"/dev/zero: larger than 1 MiB"):
        read_bounded_bytes("/dev/zero", 2**20)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2**20 + 1))
    with pytest.raises(UserError, match="larger than 1 MiB, too large for a genotype file"):
        read_bounded_text(big, 2**20, "genotype file")
    assert read_bounded_bytes(big, 2**20 + 1) == b" " * (2**20 + 1)  # exactly the limit is fine
    started = time.monotonic()
    _one_line_exit_2(_run("-m", "cellnas_edu", "analyze", "/dev/zero"), "/dev/zero", "larger than 64 MiB")
    assert time.monotonic() - started < 60


def test_a_huge_genotype_is_refused_before_anything_is_built(tmp_path):
    """A valid 10,000-node cell: the memory lower bound (every allocating operation and node sum of one batch)
    is tens of GiB, refused in under a second once the config is built, leaving no run folder."""
    from cellnas_edu.train import make_config, train
    from cellnas_edu.train.memory import training_memory_estimate

    n = 10_000
    edges = [e for node in range(2, n + 2) for e in (["sep_conv_3x3", node - 1], ["max_pool_3x3", node - 2])]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"normal": edges, "normal_concat": [n + 1], "reduce": edges,
                                "reduce_concat": [n + 1]}))
    config = make_config("smoke", arch=str(path), dataset="synthetic", device="cpu", epochs=1)
    params, activations = training_memory_estimate(config.build_genotype(), "synthetic", C=config.init_channels,
                                                   layers=config.layers, auxiliary=config.auxiliary,
                                                   batch_size=config.batch_size)
    assert activations > 20 * 2**30  # 2n values per cell and image: not the 2.6 MB of the cells' outputs alone
    started = time.monotonic()
    with pytest.raises(UserError, match=r"10000 nodes in the normal cell\) needs about .* GiB"):
        train(config, tmp_path / "run", progress=False, memory_limit=8 * 2**30)
    assert time.monotonic() - started < 1.0
    assert not (tmp_path / "run").exists()
    result = _run("-m", "cellnas_edu", "train", "--arch", str(path), "--dataset", "synthetic", "--preset", "smoke",
                  "--device", "cpu", "--epochs", "1", "--out", str(tmp_path / "cli"), "--max-memory", "4",
                  "--no-progress")
    _one_line_exit_2(result, "more than the 4.0 GiB available")
    assert not (tmp_path / "cli").exists()


def test_the_memory_bound_counts_what_a_small_network_really_holds():
    """The bound stays a lower bound: for DARTS on CIFAR-10 at the paper's scale (C = 36, 20 cells, batch 96) it
    lies below what training is known to need on a GPU (about 9 GiB) and above the cells' outputs alone."""
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.train.memory import training_memory_estimate

    params, activations = training_memory_estimate(get_genotype("DARTS"), "cifar10", C=36, layers=20,
                                                   auxiliary=True, batch_size=96)
    assert 3 * 4 * 3_000_000 < params < 3 * 4 * 4_000_000  # 3.3M weights, their gradients and momentum
    assert 1 * 2**30 < activations < 9 * 2**30


def test_landscape_span_is_bounded():
    from cellnas_edu.landscape.store import MAX_SPAN, validate_grid

    validate_grid(3, MAX_SPAN)
    for span in (1e308, float("inf"), 0.0, -1.0, MAX_SPAN * 1.01):
        with pytest.raises(ValueError, match="--span must be a number above 0 and at most 1000"):
            validate_grid(3, span)


def test_a_decompression_bomb_image_is_one_line(tmp_path):
    """A Tiny-ImageNet file whose header claims 30,000 x 30,000 pixels is refused from its header, never decoded."""
    from PIL import Image

    from cellnas_edu.data.readers import _decode_jpegs

    bomb = tmp_path / "bomb.png"
    Image.new("1", (30_000, 30_000)).save(bomb)  # 900 M pixels, a few hundred kB on disk: PIL's own limit
    assert bomb.stat().st_size < 2**20
    started = time.monotonic()
    with pytest.raises(UserError, match=r"bomb.png is not a readable image \(.*decompression bomb"):
        _decode_jpegs([bomb], 64)
    large = tmp_path / "large.png"
    Image.new("1", (12_000, 12_000)).save(large)  # below PIL's limit: refused from the header, not decoded
    with pytest.raises(UserError, match=r"large.png is 12000x12000 pixels, expected 64x64"):
        _decode_jpegs([large], 64)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("script", ["theory/theorem_4_1.py", "theory/gradient_identity.py"])
def test_theory_scripts_on_a_full_disk_are_one_line(script):
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, script, "--quick"], stdout=full, stderr=subprocess.PIPE, text=True,
                                timeout=300, cwd=ROOT)
    assert result.returncode == 2 and "disk full" in result.stderr and "Traceback" not in result.stderr, result


@pytest.mark.parametrize("argv", [
    ("theory/record_results.py", "--seed", str(2**64)),
    ("theory/linear_cells_sgd.py", "--quick", "--seed", str(2**63)),
    ("theory/theorem_4_2.py", "--quick", "--seed", "-1"),
    ("-m", "cellnas_edu", "variants", "DARTS", "--seed", str(2**63)),
])
def test_one_seed_range_everywhere(argv):
    assert MAX_SEED == SHARED_MAX_SEED == 2**63 - 1
    result = _run(*argv)
    assert result.returncode == 2 and "seed must be between 0 and 2**63 - 1" in result.stderr, result
    assert "Traceback" not in result.stderr
