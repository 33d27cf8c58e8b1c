"""The benchmark harness and the plain DARTS reference network (benchmarks/)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from script_loader import load_script

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _load(name: str):
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return load_script(f"benchmarks/{name}.py", f"_bench_{name}")


@pytest.mark.parametrize("arch, auxiliary", [("DARTS", False), ("DARTS", True), ("AmoebaNet", False),
                                             ("NASNet", False)])
def test_reference_network_has_the_package_networks_parameter_count(arch, auxiliary):
    """The plain baseline is the same network: equal parameter counts (Appendix A.3: L = 20, C = 36)."""
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.nets.model import build_network, count_parameters

    reference = _load("reference_darts")
    g = get_genotype(arch)
    d = g.to_dict()
    plain = reference.NetworkCIFAR(36, 10, 20, auxiliary, [tuple(p) for p in d["normal"]], d["normal_concat"],
                                   [tuple(p) for p in d["reduce"]], d["reduce_concat"])
    ours = build_network(g, num_classes=10, C=36, layers=20, auxiliary=auxiliary)
    assert sum(p.numel() for p in plain.parameters()) == count_parameters(ours)
    if arch == "DARTS" and not auxiliary:
        assert count_parameters(ours) == 3_349_342  # 3.35 MB, Table 3 of Appendix B.2 (C0 of DARTS)


def test_reference_network_computes_the_same_function():
    """With the same weights, the two implementations give the same logits on even-sized CIFAR inputs."""
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.nets.model import build_network

    reference = _load("reference_darts")
    g = get_genotype("DARTS")
    d = g.to_dict()
    torch.manual_seed(0)
    plain = reference.NetworkCIFAR(8, 10, 5, False, [tuple(p) for p in d["normal"]], d["normal_concat"],
                                   [tuple(p) for p in d["reduce"]], d["reduce_concat"]).eval()
    ours = build_network(g, num_classes=10, C=8, layers=5, auxiliary=False).eval()
    theirs = list(plain.state_dict().values())
    mine = ours.state_dict()
    assert [tuple(v.shape) for v in theirs] == [tuple(v.shape) for v in mine.values()]
    ours.load_state_dict(dict(zip(mine, theirs)))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), plain(x)[0], rtol=1e-4, atol=1e-5)


def test_harness_runs_the_train_benchmark_tiny(capsys):
    run = _load("run")
    assert run.main(["--only", "train", "--quick", "--tiny", "--device", "cpu", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    result = report["results"]["train"]
    assert report["device"] == "cpu"
    assert result["ours_img_s"] > 0 and result["plain_img_s"] > 0
    assert result["speedup"] == pytest.approx(result["ours_img_s"] / result["plain_img_s"])
    assert result["network"] == "DARTS, 3 cells, C=4"
    assert result["rows"][0]["speedup"] == result["speedup"]


def test_harness_lists_and_rejects_names():
    run = _load("run")
    assert "train" in run.discover()
    with pytest.raises(SystemExit, match="no benchmark named nope"):
        run.discover(["nope"])
    assert "speedup" in run.format_table([{"name": "x", "speedup": 2.0}])


def test_train_benchmark_has_cpu_mini_rows(capsys):
    """The train benchmark's rows hold the cpu-mini fast path against plain eager fp32, with speedups."""
    run = _load("run")
    assert run.main(["--only", "train", "--quick", "--tiny", "--device", "cpu", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["results"]["train"]
    mini = [row for row in result["rows"] if row["network"].startswith("cpu-mini")]
    assert [row["what"].split(":")[0] for row in mini] == ["train step"] * 3 + ["evaluation"]
    assert "ours (package, CPU fast path) vs plain eager fp32" in mini[0]["what"]
    for row in mini:
        assert row["speedup"] > 0 and row["speedup_cpu_time"] > 0 and row["threads"] == 1
        assert row["ours_img_s"] > 0 and row["plain_img_s"] > 0
    assert set(result["cpu_mini"]["load_average"]) == {"before", "after"}
    assert result["cpu_mini"]["compile"] is None


def test_cpu_mini_only_returns_just_those_rows():
    bench = _load("bench_train")
    result = bench.run(quick=True, device="cpu", tiny=True, cpu_mini_only=True)
    assert all(row["network"].startswith("cpu-mini") for row in result["rows"])
    assert result["speedup"] == result["rows"][0]["speedup"]


def test_committed_cpu_summary_schema():
    """results/bench_cpu/summary.json: provenance and the cpu-mini row the README quotes."""
    path = BENCHMARKS.parent / "results" / "bench_cpu" / "summary.json"
    summary = json.loads(path.read_text())
    assert set(summary["provenance"]) >= {"command", "version", "git_commit", "date", "machine", "seconds"}
    rows = summary["results"]["train"]["rows"]
    headline = next(r for r in rows if r["network"] == "cpu-mini" and "ours (package" in r["what"])
    assert headline["threads"] == 1 and headline["speedup"] > 0
