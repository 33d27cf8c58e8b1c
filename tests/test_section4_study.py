"""The Section 4 study: its pipeline at tiny scale, and every committed statistic recomputed from its records."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from script_loader import load_script

from cellnas_edu import section4_study as s4
from cellnas_edu.results import load_summary

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"


def assert_same(stored, recomputed, path="analysis"):
    """Equal structure and values (floats to 1e-9 relative): a wrong number in the file fails here."""
    if isinstance(stored, dict):
        assert isinstance(recomputed, dict), path
        assert set(stored) == set(recomputed), f"{path}: keys differ"
        for key in stored:
            assert_same(stored[key], recomputed[key], f"{path}.{key}")
    elif isinstance(stored, list):
        assert isinstance(recomputed, list) and len(stored) == len(recomputed), f"{path}: lengths differ"
        for i, (a, b) in enumerate(zip(stored, recomputed)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(stored, float) or isinstance(recomputed, float):
        if stored is None or recomputed is None:
            assert stored is recomputed, path
        elif math.isinf(recomputed):
            assert stored == recomputed, path
        else:
            assert stored == pytest.approx(recomputed, rel=1e-9, abs=1e-12), path
    else:
        assert stored == recomputed, path


def _roundtrip(obj):
    return json.loads(json.dumps(obj))


# -- the protocol -----------------------------------------------------------------------------------------------


def test_variant_seed_rule_gives_a_family_spanning_every_width():
    from cellnas_edu.cells.genotypes import resolve_genotype
    from cellnas_edu.convergence import experiment_cells

    seed = s4.choose_variant_seed()
    assert seed == 1
    cells = experiment_cells(resolve_genotype("DARTS"), "connections", s4.CONNECTION_VARIANTS, seed)
    widths = [float(c.width) for c in cells]
    assert len(cells) == 11
    assert all(widths.count(w) >= 2 for w in (1.5, 2.0, 2.5, 3.0, 3.5))
    assert s4.choose_variant_seed(per_width=1, widths=(2.0, 2.5, 3.0, 3.5)) == 0  # the rule really searches


def test_paper_spec_is_the_paper_protocol():
    spec = s4.spec("convergence_study", paper=True, data_root="/data")
    assert (spec.preset, spec.dataset, spec.family, spec.lrs) == ("convergence", "cifar10", "table2", (0.025, 0.25))
    assert s4.epochs_of(spec) == 600
    assert spec.overrides == {"data_root": "/data"}
    cpu = s4.spec("convergence_study")
    assert cpu.overrides["init_channels"] == 4 and cpu.seeds == 5 and s4.epochs_of(cpu) == 3
    with pytest.raises(ValueError):
        s4.spec("convergence_study", tiny=True, paper=True)


def test_every_experiment_is_declared_at_every_scale():
    """The study's experiments are a table of presets: each at the tests', the CPU and the paper's scale."""
    assert set(s4.STUDY_PRESETS) == {"section4_pilot", "convergence_study", "operation_variants_study"}
    for name, scales in s4.STUDY_PRESETS.items():
        assert tuple(scales) == s4.SCALES, name
    tiny = s4.spec("convergence_study", tiny=True)
    assert (tiny.count, tiny.variant_seed, tiny.seeds, tiny.epochs) == (3, 1, 2, 2)
    assert s4.spec("convergence_study").variant_seed == s4.choose_variant_seed() == 1  # the rule, run lazily
    pilot = s4.spec("section4_pilot", 7, train_images=100)  # the pilot's seeds and data size are its design
    assert pilot.seeds == 3 and pilot.overrides == s4.PILOT_NETWORK
    ops = s4.spec("operation_variants_study", 4, paper=True, lrs=(0.1,))
    assert (ops.kind, ops.count, ops.seeds, ops.lrs, ops.epochs, ops.overrides) == \
        ("operations", 5, 4, (0.1,), None, {})
    with pytest.raises(ValueError, match="unknown experiment 'nope'"):
        s4.spec("nope")


# -- the pipeline, tiny -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):

    import torch

    torch.set_num_threads(1)
    driver = load_script("examples/section4_study.py", "section4_driver")
    base = tmp_path_factory.mktemp("s4")
    common = ["--tiny", "--out", str(base / "runs"), "--results", str(base / "results"), "--jobs", "1",
              "--n-boot", "50"]
    driver.main(["convergence", "--lrs", "0.025", *common])
    driver.main(["landscape", "--landscape-samples", "16", *common])
    driver.main(["operations", *common])
    return base


def test_tiny_study_writes_records_and_statistics(tiny_study):
    conv = load_summary("convergence_study", tiny_study / "results")
    assert conv["provenance"]["command"].startswith("python examples/section4_study.py convergence")
    assert conv["provenance"]["seconds"] > 0
    assert len(conv["records"]) == 4 * 2  # DARTS + 3 variants, 2 seeds, one lr
    record = conv["records"][0]
    assert {"label", "width", "depth", "lr", "seed", "diverged", "metrics"} <= set(record)
    assert set(s4.METRICS) <= set(record["metrics"])
    assert_same(conv["analysis"], _roundtrip(s4.analyze_convergence(conv["records"], n_boot=50)))
    ops = load_summary("operation_variants_study", tiny_study / "results")
    assert ops["darts_runs_shared_with_convergence_study"] == [0, 1]
    assert len(ops["records"]) == 3 * 2
    land = load_summary("landscape_study", tiny_study / "results")
    assert len(land["records"]) == 8
    assert all(r["metrics"]["top_hessian_eigenvalue"] is not None for r in land["records"])
    assert_same(land["analysis"], _roundtrip(s4.analyze_landscape(land["records"], n_boot=50)))


def test_tiny_study_resumes_without_training_again(tiny_study):
    from cellnas_edu.convergence import run_dir
    from cellnas_edu.train.runfolder import RunFolder

    spec = s4.spec("convergence_study", tiny=True, lrs=(0.025,))
    folder = run_dir(tiny_study / "runs" / "connections", 0.025, "DARTS", 0)
    assert RunFolder(folder).record(s4.epochs_of(spec)).state == "finished"
    records = s4.run_records(tiny_study / "runs" / "connections", spec)
    assert len(records) == 8


# -- the Section 4.2 measurement cache ---------------------------------------------------------------------------


@pytest.fixture
def fake_landscape(tmp_path, monkeypatch):
    """Every run folder finished, and a fake measurement that counts its calls (no training, no torch)."""
    from cellnas_edu.train.runfolder import RunFolder

    class Finished:
        state = "finished"

    calls = []

    def measure(folder, samples=s4.LANDSCAPE_SAMPLES, device="cpu"):
        calls.append((folder, samples))
        return {"folder": folder, "seconds": 1.0, "eval_loss": 2.0, "top_hessian_eigenvalue": float(samples)}

    monkeypatch.setattr(RunFolder, "record", lambda self, epochs: Finished())
    monkeypatch.setattr(s4, "_measure_one", measure)
    spec = s4.spec("convergence_study", tiny=True, lrs=(0.025,))
    return spec, tmp_path / "runs", calls


def test_a_landscape_cache_is_reused_only_under_its_protocol(fake_landscape, monkeypatch):
    from cellnas_edu import io
    from cellnas_edu.convergence import run_dir

    spec, out, calls = fake_landscape
    written = []
    atomic = io.atomic_write_json
    monkeypatch.setattr(io, "atomic_write_json", lambda path, obj: (written.append(path), atomic(path, obj)))
    first = s4.measure_landscape_runs(out, spec, seeds=2, jobs=1, samples=16)
    assert len(first) == len(calls) == 4 * 2  # DARTS + 3 variants, 2 seeds
    cache = run_dir(out, 0.025, "DARTS", 0) / s4.LANDSCAPE_CACHE
    stored = json.loads(cache.read_text())
    assert stored["protocol"] == s4.landscape_protocol(16) and stored["protocol"]["samples"] == 16
    assert stored["top_hessian_eigenvalue"] == 16.0 and stored["label"] == "DARTS" and stored["seed"] == 0
    assert cache in written and len(written) == 8  # every cache through the atomic writer
    # the same protocol: read back, nothing measured again
    assert s4.measure_landscape_runs(out, spec, seeds=2, jobs=1, samples=16) == first
    assert len(calls) == 8
    # another protocol (more test images): every run measured again, and the caches now hold the new protocol
    again = s4.measure_landscape_runs(out, spec, seeds=2, jobs=1, samples=32)
    assert len(calls) == 16 and {r["top_hessian_eigenvalue"] for r in again} == {32.0}
    assert json.loads(cache.read_text())["protocol"]["samples"] == 32


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "", json.dumps({"folder": "x", "seconds": 1.0,
                                                                                "top_hessian_eigenvalue": 5.0})])
def test_a_torn_foreign_or_unversioned_landscape_cache_is_measured_again(fake_landscape, content):
    """A cache that is not valid JSON, not an object, or written before caches recorded their protocol: measured
    again and rewritten, never reused."""
    from cellnas_edu.convergence import run_dir

    spec, out, calls = fake_landscape
    cache = run_dir(out, 0.025, "DARTS", 0) / s4.LANDSCAPE_CACHE
    cache.parent.mkdir(parents=True)
    cache.write_text(content)
    results = s4.measure_landscape_runs(out, spec, seeds=1, jobs=1, samples=16)
    assert len(calls) == 4 and {r["top_hessian_eigenvalue"] for r in results} == {16.0}
    assert json.loads(cache.read_text())["protocol"] == s4.landscape_protocol(16)


def test_the_study_drivers_do_not_monkeypatch_the_runner():
    """The examples turn the runner's figures off through its `plot` parameter, not by replacing its functions."""
    for script in ("examples/section4_study.py", "examples/section41_retest.py"):
        text = (ROOT / script).read_text()
        assert "plot_curves =" not in text and "plot=False" in text, script


# -- the committed results (every statistic is recomputed bit for bit in tests/test_stats.py) ---------------------


def test_committed_studies_have_their_designs():
    conv = load_summary("convergence_study", RESULTS)
    assert len(conv["records"]) == conv["runs"] == 11 * 5 * 2
    assert len(load_summary("operation_variants_study", RESULTS)["records"]) == 6 * 5
    assert len(load_summary("landscape_study", RESULTS)["records"]) == 11 * 3
    follow = load_summary("convergence_followup", RESULTS)  # the follow-up at lr 0.025 (Chapter 3)
    assert len(follow["records"]) == follow["runs"] == 11 * 5
    assert {r["lr"] for r in follow["records"]} == {0.025}
    assert follow["protocol"]["epochs"] > s4.EPOCHS
    assert (follow["protocol"]["train_subset"], follow["protocol"]["test_subset"]) == (640, 320)
    assert follow["analysis"]["holm_family"] == ["depth@0.025", "width@0.025"]
    land = load_summary("landscape_followup", RESULTS)
    assert land["protocol"]["runs_of"] == "convergence_followup"
    assert len(land["records"]) == 11 * 3
    by_run = {(r["label"], r["seed"]): r for r in follow["records"]}
    for r in land["records"]:  # the measured runs are the follow-up's runs
        assert r["metrics"]["auc_test_loss"] == by_run[(r["label"], r["seed"])]["metrics"]["auc_test_loss"]


def test_budget_options_leave_the_study_spec_unchanged():
    assert s4.spec("convergence_study") == s4.spec("convergence_study", epochs=None, train_images=None,
                                                   test_images=None)
    follow = s4.spec("convergence_study", lrs=(0.025,), epochs=4, train_images=640, test_images=320)
    assert s4.epochs_of(follow) == 4 and follow.overrides["train_subset"] == 640
    assert follow.overrides["test_subset"] == 320 and follow.seeds == s4.SEEDS


def test_a_wrong_number_in_a_results_file_fails():
    summary = load_summary("convergence_study", RESULTS)
    tampered = _roundtrip(summary["analysis"])
    tampered["primary"][0]["p_exact"] *= 1.01
    with pytest.raises(AssertionError):
        assert_same(tampered, summary["analysis"])


def test_examples_readme_types_no_run_time():
    """Run times come from the results files' provenance (the figures page quotes them), never typed by hand."""
    import re

    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    typed = re.findall(r"~?\d+(?:\.\d+)?\s*(?:s|sec|seconds|min|minutes|h|hours)\b", readme)
    assert not typed, f"examples/README.md types run times: {typed}"


def test_cellnas_convergence_writes_the_book_schema(tmp_path):
    """`cellnas convergence --results-name` writes what the chapters quote: a GPU user's file drops in."""
    import torch

    from cellnas_edu.cli import main as cli_main

    torch.set_num_threads(1)
    rc = cli_main(["convergence", "DARTS", "--count", "2", "--seeds", "2", "--preset", "smoke", "--dataset",
                   "synthetic", "--epochs", "2", "--C", "2", "--train-subset", "32", "--test-subset", "16",
                   "--out", str(tmp_path / "runs"), "--no-progress", "--results-name", "convergence_study",
                   "--results-root", str(tmp_path / "results")])
    assert rc == 0
    summary = load_summary("convergence_study", tmp_path / "results")
    assert summary["provenance"]["command"].startswith("cellnas convergence")
    assert len(summary["records"]) == 3 * 2
    assert_same(summary["analysis"], _roundtrip(s4.analyze_convergence(summary["records"])))
    # the same quote paths the chapter uses resolve in a user's file
    assert summary["analysis"]["primary"][0]["hypothesis"] == "width@0.025"


def test_the_analyze_stage_refuses_measurements_of_another_protocol(tiny_study, tmp_path, capsys):
    """`analyze` reads the Section 4.2 caches through their protocol: measured with 16 test images, they are
    analysed under `--landscape-samples 16` and refused (one line naming the file, exit 2) under another count."""
    import shutil

    driver = load_script("examples/section4_study.py", "section4_driver_analyze")
    shutil.copytree(tiny_study, tmp_path / "copy")
    common = ["--tiny", "--out", str(tmp_path / "copy" / "runs"), "--results", str(tmp_path / "copy" / "results"),
              "--n-boot", "50"]
    capsys.readouterr()
    assert driver.main(["analyze", "--landscape-samples", "32", *common]) == 2
    err = capsys.readouterr().err
    assert s4.LANDSCAPE_CACHE in err and "not measured with this protocol" in err and len(err.strip().splitlines()) == 1
    assert driver.main(["analyze", "--landscape-samples", "16", *common]) is None
    stored = load_summary("landscape_study", tiny_study / "results")
    again = load_summary("landscape_study", tmp_path / "copy" / "results")
    assert again["records"] == stored["records"]
