"""Convergence experiments (Section 4.1): statistics on hand-made data, folder reading, a tiny real run."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from script_loader import load_script

from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.cli import main
from cellnas_edu.convergence import (
    ConvergenceSpec,
    ExperimentCell,
    experiment_cells,
    run_dir,
    summarize,
)
from cellnas_edu.convergence.stats import area_under_curve, split_diverged
from cellnas_edu.io import append_jsonl, atomic_write_json
from cellnas_edu.stats import mean_interval, one_way_anova, spearman_with_bootstrap
from cellnas_edu.train.runfolder import RunFolder


@pytest.fixture
def one_thread():
    """Tiny networks: one thread is as fast, and does not thrash a shared 2-core CI machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- statistics -------------------------------------------------------------------------------------------------------


def test_auc_is_the_trapezoid_by_hand():
    # epochs 1..4, losses 4, 2, 1, 1: trapezoids (4+2)/2 + (2+1)/2 + (1+1)/2 = 3 + 1.5 + 1 = 5.5 over a span of 3
    assert area_under_curve([4.0, 2.0, 1.0, 1.0]) == pytest.approx(5.5 / 3)
    # explicit, uneven epochs: (1+3)/2*2 + (3+5)/2*1 = 4 + 4 = 8 over a span of 3
    assert area_under_curve([1.0, 3.0, 5.0], epochs=[1, 3, 4]) == pytest.approx(8 / 3)
    assert area_under_curve([0.7]) == 0.7
    with pytest.raises(ValueError):
        area_under_curve([])


def test_faster_curve_has_smaller_auc_with_the_same_end_point():
    """AUC separates convergence speed when the final losses agree (Section 4.1: "converge faster")."""
    fast = [1.0, 0.5, 0.5, 0.5]
    slow = [1.0, 0.9, 0.7, 0.5]
    assert fast[-1] == slow[-1]
    assert area_under_curve(fast) < area_under_curve(slow)


def test_t_interval_by_hand():
    values = [1.0, 2.0, 3.0, 6.0]
    iv = mean_interval(values)
    sem = np.std(values, ddof=1) / 2.0
    half = stats.t.ppf(0.975, 3) * sem
    assert iv.mean == pytest.approx(3.0)
    assert (iv.low, iv.high) == pytest.approx((3.0 - half, 3.0 + half))
    one = mean_interval([2.5])
    assert one.mean == 2.5 and one.low is None and one.high is None
    assert mean_interval([]).mean is None
    with pytest.raises(ValueError):
        mean_interval([1.0, math.nan])


@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=8))
def test_interval_contains_the_mean(values):
    """Exercise: a Student-t interval is symmetric about the sample mean, so it always contains it.

    Every per-cell number of a Section 4.1 experiment is reported as such an interval over seeds; why does
    containing the *sample* mean say nothing about containing the *true* mean?
    """
    iv = mean_interval(values)
    assert iv.low <= iv.mean + 1e-9 and iv.mean <= iv.high + 1e-9


def test_spearman_agrees_with_scipy_on_known_data():
    widths = [2.0, 2.0, 2.5, 3.0, 3.5]
    per_seed = [[1.0, 1.2], [0.9, 1.1], [0.8, 0.85], [0.81, 0.7], [0.5, 0.6]]
    corr = spearman_with_bootstrap(widths, per_seed, n_boot=500, seed=1)
    expected = stats.spearmanr(widths, [np.mean(v) for v in per_seed])
    assert corr.rho == pytest.approx(expected.statistic)
    assert corr.p_value == pytest.approx(expected.pvalue)
    assert corr.rho < -0.9
    assert corr.low <= corr.rho <= corr.high or corr.high < corr.rho  # percentile interval of resampled rhos
    assert corr.high < 0 and corr.excludes_zero()


def test_bootstrap_interval_is_wide_when_seeds_disagree():
    """Seed noise larger than the differences between cells must show up as an interval that includes 0."""
    widths = [1.0, 2.0, 3.0, 4.0]
    per_seed = [[1.0, 0.0, 2.0], [0.0, 2.0, 1.0], [2.0, 1.0, 0.0], [0.9, 0.1, 1.9]]
    corr = spearman_with_bootstrap(widths, per_seed, n_boot=1000, seed=0)
    assert corr.low < 0 < corr.high
    assert corr.excludes_zero() is False


def test_spearman_is_undefined_for_constant_widths_and_few_cells():
    assert spearman_with_bootstrap([3.5, 3.5, 3.5], [[1.0], [2.0], [3.0]]).rho is None
    assert "3 cells" in spearman_with_bootstrap([1.0, 2.0], [[1.0], [2.0]]).reason


def test_diverged_runs_are_separated():
    runs = {0: [2.0, 1.0], 1: [2.0, math.nan], 2: [1.5, math.inf], 3: [2.0, 0.9]}
    finite, diverged = split_diverged(runs)
    assert sorted(finite) == [0, 3] and diverged == [1, 2]


def test_anova_sees_cells_that_differ():
    same = one_way_anova([[1.0, 1.1, 0.9], [1.05, 0.95, 1.0]])
    differ = one_way_anova([[1.0, 1.1, 0.9], [3.0, 3.1, 2.9]])
    assert differ["p_value"] < 1e-4 < same["p_value"]


# -- reading run folders (hand-made, no training) ---------------------------------------------------------------


def _fake_run(folder, losses, state="finished"):
    for epoch, loss in enumerate(losses, 1):
        record = {"epoch": epoch, "lr": 0.1, "train_loss": loss, "train_acc": 50.0, "test_loss": loss,
                  "test_acc": 100.0 - 10 * loss if math.isfinite(loss) else None, "seconds": 1.0}
        if not math.isfinite(loss):
            record["diverged"] = True
        append_jsonl(folder / "metrics.jsonl", record)
    atomic_write_json(folder / "status.json", {"state": state, "epochs_done": len(losses)})


def _cells(widths_depths):
    g = get_genotype("DARTS")
    return [ExperimentCell(label, g, Fraction(w), d, i == 0) for i, (label, w, d) in enumerate(widths_depths)]


def test_summary_of_hand_made_runs(tmp_path):
    spec = ConvergenceSpec(arch="DARTS", count=3, lrs=(0.1,), seeds=2, preset="smoke", dataset="synthetic")
    cells = _cells([("DARTS", 3.5, 3), ("C1", 2, 4), ("C2", 2.5, 4), ("C3", 3, 3)])
    curves = {"DARTS": [[2.0, 1.0, 0.5], [2.0, 1.1, 0.6]], "C1": [[2.0, 1.8, 1.5], [2.0, 1.7, 1.4]],
              "C2": [[2.0, 1.5, 1.2], [2.0, math.nan]], "C3": [[2.0, 1.2, 0.8], [2.0, 1.3, 0.9]]}
    for label, seeds in curves.items():
        for seed, losses in enumerate(seeds):
            state = "finished" if all(map(math.isfinite, losses)) else "diverged"
            _fake_run(run_dir(tmp_path, 0.1, label, seed), losses, state)
    summary = summarize(tmp_path, spec, cells, epochs=3, n_boot=300)
    block = summary["learning_rates"]["0.1"]
    rows = {r["label"]: r for r in block["cells"]}
    assert rows["C2"]["diverged_seeds"] == [1] and rows["C2"]["finished_seeds"] == [0]
    assert rows["C2"]["final_test_loss"]["mean"] == pytest.approx(1.2)  # the NaN run is not averaged in
    assert rows["C2"]["final_test_loss"]["low"] is None  # one finite seed: no interval
    assert block["diverged"] == [{"label": "C2", "seed": 1, "epoch": 2, "last_finite_epoch": 1}]
    assert rows["DARTS"]["final_test_loss"]["mean"] == pytest.approx(0.55)
    assert rows["DARTS"]["auc_test_loss"]["mean"] == pytest.approx(np.mean([area_under_curve(c)
                                                                            for c in curves["DARTS"]]))
    width_corr = block["correlations"]["width_vs_final_test_loss"]
    expected = stats.spearmanr([3.5, 2, 2.5, 3], [0.55, 1.45, 1.2, 0.85])
    assert width_corr["rho"] == pytest.approx(expected.statistic) == pytest.approx(-1.0)
    assert "as Section 4.1 claims" in width_corr["statement"]
    assert summary["complete"] and summary["runs_done"] == 8
    assert any("diverged" in line and "C2 seed1" in line for line in block["verdict"])


def test_unfinished_run_is_pending(tmp_path):
    _fake_run(tmp_path / "r", [1.0, 0.9], state="running")
    assert RunFolder(tmp_path / "r").record(3).state == "running"
    assert RunFolder(tmp_path / "missing").record(3).state == "missing"
    _fake_run(tmp_path / "short", [1.0], state="finished")
    assert not RunFolder(tmp_path / "short").record(3).done  # finished a shorter protocol


def test_a_run_record_carries_the_training_time(tmp_path):
    """`seconds` is the sum of every recorded epoch's `seconds` (the studies report it per run)."""
    _fake_run(tmp_path / "r", [1.0, 0.9, 0.8])
    record = RunFolder(tmp_path / "r").record(3)
    assert record.state == "finished" and record.epochs == [1, 2, 3] and record.seconds == 3.0
    assert RunFolder(tmp_path / "missing").record(3).seconds == 0.0


def test_experiment_cells_are_original_then_sorted_variants():
    cells = experiment_cells(get_genotype("DARTS"), "connections", 5, seed=0)
    assert cells[0].label == "DARTS" and cells[0].original
    assert (cells[0].width, cells[0].depth) == (Fraction(7, 2), 3)
    assert [c.label for c in cells[1:]] == ["C1", "C2", "C3", "C4", "C5"]
    keys = [(c.width, -c.depth) for c in cells[1:]]
    assert keys == sorted(keys)
    assert all(c.genotype.reduce == cells[0].genotype.reduce for c in cells)  # reduction cell unchanged
    ops = experiment_cells(get_genotype("DARTS"), "operations", 3, seed=0)
    assert {(c.width, c.depth) for c in ops} == {(Fraction(7, 2), 3)}


# -- a tiny real experiment ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_tiny_real_experiment_writes_summary_figure_and_resumes(tmp_path, capsys, one_thread):
    out = tmp_path / "conv"
    argv = ["convergence", "DARTS", "--variants", "connections", "--count", "1",
            "--dataset", "synthetic", "--preset", "smoke", "--epochs", "1", "--C", "4", "--layers", "3",
            "--train-subset", "64", "--test-subset", "32", "--lrs", "0.05", "--out", str(out), "--no-progress",
            "--json"]
    # one seed, serially
    assert main(argv + ["--seeds", "1"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["complete"] and first["runs_total"] == 2
    # a second seed added on resume, trained by two worker processes
    assert main(argv + ["--seeds", "2", "--resume", "--jobs", "2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["complete"] and summary["runs_total"] == 4
    rows = summary["learning_rates"]["0.05"]["cells"]
    assert [r["label"] for r in rows] == ["DARTS", "C1"]
    assert all(r["finished_seeds"] == [0, 1] for r in rows)
    assert all(r["final_test_loss"]["low"] <= r["final_test_loss"]["mean"] <= r["final_test_loss"]["high"]
               for r in rows)
    assert rows[0]["seeds"]["seed0"] == first["learning_rates"]["0.05"]["cells"][0]["seeds"]["seed0"]
    assert json.loads((out / "summary.json").read_text()) == summary
    figure = out / "figures" / "test_curves_lr0.05.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("metrics.jsonl")}
    assert len(stamps) == 4

    # without --resume the folder is refused; with --resume nothing is trained again
    assert main(argv + ["--seeds", "2"]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert main(argv + ["--seeds", "2", "--resume"]) == 0
    capsys.readouterr()
    assert {p: p.stat().st_mtime_ns for p in out.rglob("metrics.jsonl")} == stamps
    # another protocol in the same folder is refused
    assert main(argv + ["--seeds", "2", "--resume", "--C", "6"]) == 2
    assert "another protocol" in capsys.readouterr().err


def test_the_runner_draws_no_figures_when_asked_not_to(tmp_path, one_thread):
    """`plot=False` (a study that draws its figures from its results file): no figure, the same summary; a resume
    with `plot=True` trains nothing again and draws the figure."""
    from cellnas_edu.convergence import run_convergence

    spec = ConvergenceSpec(arch="DARTS", count=1, lrs=(0.05,), seeds=1, preset="smoke", dataset="synthetic",
                           epochs=1, overrides=dict(init_channels=4, layers=3, train_subset=64, test_subset=32))
    out = tmp_path / "conv"
    summary = run_convergence(spec, out, progress=False, n_boot=50, plot=False)
    assert summary["complete"] and summary["runs_total"] == 2
    assert not (out / "figures").exists()
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("metrics.jsonl")}
    again = run_convergence(spec, out, resume=True, progress=False, n_boot=50)
    assert again == summary
    assert {p: p.stat().st_mtime_ns for p in out.rglob("metrics.jsonl")} == stamps
    assert (out / "figures" / "test_curves_lr0.05.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_paper_protocol_is_wired_to_cifar10_on_cuda(tmp_path):
    """``examples/figure3_convergence.py --paper``: Table 2's family, the convergence preset, 600 epochs, CUDA."""

    from cellnas_edu.convergence import _config_for
    from cellnas_edu.paper import TABLE2_VARIANTS

    example = load_script("examples/figure3_convergence.py", "_figure3")
    spec = ConvergenceSpec(**example.PAPER)
    cells = experiment_cells(get_genotype(spec.arch), spec.kind, spec.count, spec.variant_seed, spec.family)
    assert [(float(c.width), c.depth) for c in cells[1:]] == list(TABLE2_VARIANTS["DARTS_V2"])
    assert len({c.genotype.normal for c in cells}) == 14  # 13 distinct variants besides the original
    config = _config_for(spec, cells[3], 0.25, 2)
    assert config.arch == "C3" and config.build_genotype() == cells[3].genotype  # the genotype travels as data
    assert (config.dataset, config.device, config.epochs, config.batch_size) == ("cifar10", "cuda", 600, 80)
    assert (config.init_channels, config.layers, config.lr, config.seed) == (36, 20, 0.25, 2)
    assert (config.auxiliary, config.cutout, config.drop_path_prob, config.augment) == (False, 0, 0.0, True)
    assert spec.lrs == (0.025, 0.0025, 0.25) and spec.seeds == 3
    if not torch.cuda.is_available():
        assert example.main(["--paper", "--out", str(tmp_path / "x")]) == 2


def test_figure5_example_protocols():
    """``examples/figure5_operation_variants.py``: operation variants keep width and depth (Appendix A.2)."""

    example = load_script("examples/figure5_operation_variants.py", "_figure5")
    for protocol in (example.CPU, example.PAPER):
        spec = ConvergenceSpec(arch="AmoebaNet", **protocol)
        cells = experiment_cells(get_genotype("AmoebaNet"), spec.kind, spec.count, spec.variant_seed, spec.family)
        assert len(cells) == 1 + spec.count and spec.kind == "operations"
        assert {(c.width, c.depth) for c in cells} == {(Fraction(4), 4)}
        assert len({c.genotype.normal.ops for c in cells}) == len(cells)
    assert example.PAPER["count"] == 10 and example.PAPER["epochs"] == 600  # Table 3: C1..C10


def _exit_code(argv) -> int:
    """``main(argv)``'s return code, or the code of argparse's ``SystemExit`` for a bad flag."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    for argv in (["convergence", "DARTS", "--variants", "wires", "--out", str(tmp_path)],
                 ["convergence", "NOPE", "--out", str(tmp_path), "--dataset", "synthetic", "--preset", "smoke"],
                 ["convergence", "DARTS", "--seeds", "0", "--out", str(tmp_path)],
                 ["convergence", "DARTS", "--lrs", "-1", "--out", str(tmp_path)]):
        assert _exit_code(argv) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
