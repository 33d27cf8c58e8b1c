"""``cellnas landscape`` and ``cellnas compare-landscapes`` on tiny trained runs (Section 4.2).

Two runs of a few seconds each (DARTS, 3.5c/3, and its adaptation, 4c/2, on
the synthetic dataset) are trained once for the module. The tests check that
the grid's centre equals the plain evaluation loss, that an interrupted grid
resumes to the uninterrupted result, that bad input is one line with exit 2
and never clobbers an existing ``landscape.npz``, that two ``torchrun``
processes give the single-process grid, and the comparison table.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cellnas_edu.cli import main
from cellnas_edu.landscape import LandscapeData, LandscapeOptions, measure_landscape

GRID = ["--steps", "3", "--span", "0.4", "--samples", "24", "--device", "cpu", "--no-progress"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def train_tiny(arch: str, out: Path) -> Path:
    from cellnas_edu.train import make_config, train

    config = make_config("smoke", arch=arch, dataset="synthetic", device="cpu", epochs=1, train_subset=48,
                         test_subset=16, batch_size=16, init_channels=4, layers=3)
    train(config, out, progress=False)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("landscape_runs")
    return {"darts": train_tiny("DARTS", root / "darts"), "adapt": train_tiny("DARTS_ADAPT", root / "adapt")}


def fresh_copy(run: Path, tmp_path: Path, name: str = "run") -> Path:
    target = tmp_path / name
    shutil.copytree(run, target, ignore=shutil.ignore_patterns("landscape*"))
    return target


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def measured(runs, tmp_path_factory):
    """Both runs measured once on a 3x3 grid with gradient variance; DARTS also with the Hessian."""
    root = tmp_path_factory.mktemp("landscape_measured")
    summaries = {}
    for name, extra in (("darts", ["--hessian"]), ("adapt", [])):
        run = fresh_copy(runs[name], root, name)
        assert main(["landscape", str(run), *GRID, "--gradvar", "--chunk", "12", *extra]) == 0
        summaries[name] = (run, measure_landscape(run, LandscapeOptions(
            steps=3, span=0.4, samples=24, device="cpu", progress=False, gradvar=True, hessian=bool(extra))))
    return summaries


def test_centre_equals_eval_loss_and_json_summary(measured):
    """The grid contains alpha = beta = 0 exactly, and s(0, 0) is the plain evaluation loss on the same sample."""
    run, summary = measured["darts"]
    assert summary["points_computed_now"] == 0  # the second call found the grid of the first one complete
    assert summary["grid"] == [3, 3] and summary["points_done"] == 9
    assert summary["center_loss"] == pytest.approx(summary["eval_loss"], rel=1e-5)
    assert summary["min_loss"] <= summary["center_loss"] <= summary["max_loss"]
    assert summary["grad_var_center"] > 0
    assert summary["grad_var_std_center"] == pytest.approx(summary["grad_var_center"] ** 0.5)
    assert summary["grad_var_per_parameter_center"] == pytest.approx(
        summary["grad_var_center"] / summary["grad_var_num_parameters"])
    assert summary["top_hessian_eigenvalue"] is not None and summary["hessian_iterations"] >= 1
    assert (summary["cell_width"], summary["cell_depth"]) == (3.5, 3)
    data = LandscapeData.load(run / "landscape.npz")
    assert data.alpha[1] == 0.0 and data.beta[1] == 0.0 and data.loss_done.all() and data.grad_var_done.all()
    with np.load(run / "landscape.npz") as npz:  # the settings travel with the numbers
        assert {"alpha", "beta", "loss", "grad_var", "steps", "span", "samples", "seed", "eval_loss"} <= set(npz)
        assert float(npz["eval_loss"]) == summary["eval_loss"]


def test_gradvar_stat_per_parameter_selects_g_over_p_and_plots_it(measured, tmp_path, capsys):
    """--gradvar-stat per-parameter: the JSON keeps the trace, the per-parameter mean and P, and the selected value
    (grad_var_selected_center) is g / P; the plotted field is sqrt(g / P) (Appendix B.4's scale), the default sqrt(g);
    an unknown statistic is refused."""
    from cellnas_edu.landscape.plots import gradvar_std

    run = fresh_copy(measured["darts"][0], tmp_path)
    shutil.copy(measured["darts"][0] / "landscape.npz", run / "landscape.npz")
    code, out, err = run_cli(capsys, "landscape", run, *GRID, "--gradvar", "--gradvar-stat", "per-parameter", "--json",
                             "--plots")
    assert code == 0, err
    summary = json.loads(out)
    p = summary["grad_var_num_parameters"]
    assert summary["grad_var_stat"] == "per-parameter" and p > 1
    assert summary["grad_var_selected_center"] == pytest.approx(summary["grad_var_center"] / p, rel=1e-12)
    assert summary["grad_var_per_parameter_center"] == pytest.approx(summary["grad_var_center"] / p, rel=1e-12)
    assert (run / "landscape_gradvar_heatmap.png").exists()
    data = LandscapeData.load(run / "landscape.npz")
    assert np.allclose(gradvar_std(data, "per-parameter") ** 2 * p, gradvar_std(data) ** 2, rtol=1e-12)
    assert np.allclose(gradvar_std(data) ** 2, data.grad_var, rtol=1e-12)
    with pytest.raises(ValueError, match="per-parameter"):
        gradvar_std(data, "mean")
    code, out, err = run_cli(capsys, "landscape", run, *GRID, "--gradvar", "--json")
    assert json.loads(out)["grad_var_selected_center"] == pytest.approx(summary["grad_var_center"], rel=1e-12)


def test_plain_surface_centre_is_bit_identical_to_evaluate(runs, tmp_path, capsys):
    """Without --gradvar the centre is one plain evaluation pass at w* itself: the same number as evaluate()."""
    run = fresh_copy(runs["darts"], tmp_path)
    code, out, err = run_cli(capsys, "landscape", run, *GRID, "--json", "--plots")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["center_loss"] == pytest.approx(summary["eval_loss"], rel=1e-12)
    for name in ("landscape_contour.png", "landscape_slices.png", "landscape_loss3d.png"):
        assert (run / name).stat().st_size > 1000


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_to_the_same_file(runs, tmp_path):
    whole = fresh_copy(runs["darts"], tmp_path, "whole")
    options = LandscapeOptions(steps=5, span=0.4, samples=16, device="cpu", progress=False)
    measure_landscape(whole, options)

    broken = fresh_copy(runs["darts"], tmp_path, "broken")

    def stop(n):
        if n == 8:
            raise Interrupt

    with pytest.raises(Interrupt):
        measure_landscape(broken, options, on_point=stop)
    partial = LandscapeData.load(broken / "landscape.npz")
    assert partial.loss_done.sum() == 7
    computed = []
    summary = measure_landscape(broken, options, on_point=computed.append)
    assert len(computed) == 25 - 7 and summary["points_computed_now"] == 18
    np.testing.assert_array_equal(LandscapeData.load(broken / "landscape.npz").loss,
                                  LandscapeData.load(whole / "landscape.npz").loss)


def assert_one_line_error(code, out, err):
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "error:" in err


@pytest.mark.parametrize("flags", [
    ["--span", "0"], ["--span", "-1"], ["--steps", "0"], ["--steps", "-3"], ["--steps", "4"],
    ["--samples", "0"], ["--samples", "-5"], ["--samples", "100000"], ["--chunk", "0"],
    ["--steps", "5"],  # other settings than the existing file
])
def test_bad_flags_are_one_line_and_keep_the_existing_file(measured, tmp_path, capsys, flags):
    run = fresh_copy(measured["darts"][0], tmp_path)
    shutil.copy(measured["darts"][0] / "landscape.npz", run / "landscape.npz")
    before = (run / "landscape.npz").read_bytes()
    argv = GRID + flags  # later flags win
    assert_one_line_error(*run_cli(capsys, "landscape", run, *argv))
    assert (run / "landscape.npz").read_bytes() == before
    assert not [p for p in run.iterdir() if p.name.startswith(".landscape")]  # no temporary left behind


def test_overwrite_replaces_a_file_with_other_settings(measured, tmp_path, capsys):
    run = fresh_copy(measured["darts"][0], tmp_path)
    shutil.copy(measured["darts"][0] / "landscape.npz", run / "landscape.npz")
    code, out, err = run_cli(capsys, "landscape", run, *GRID, "--steps", "5", "--overwrite", "--json")
    assert code == 0, err
    assert json.loads(out)["grid"] == [5, 5]


@pytest.mark.parametrize("damage", ["no checkpoint", "other architecture", "not a run", "corrupt landscape"])
def test_bad_run_folders_are_one_line_and_keep_the_existing_file(measured, tmp_path, capsys, damage):
    run = fresh_copy(measured["darts"][0], tmp_path, "damaged")
    shutil.copy(measured["darts"][0] / "landscape.npz", run / "landscape.npz")
    if damage == "no checkpoint":
        (run / "model.pt").unlink()
        (run / "checkpoint.pt").unlink()
    elif damage == "other architecture":
        config = json.loads((run / "config.json").read_text())
        config["arch"] = "NASNet"
        (run / "config.json").write_text(json.dumps(config))
    elif damage == "not a run":
        (run / "config.json").unlink()
    else:
        (run / "landscape.npz").write_bytes(b"not a zip file")
    before = (run / "landscape.npz").read_bytes()
    assert_one_line_error(*run_cli(capsys, "landscape", run, *GRID))
    assert (run / "landscape.npz").read_bytes() == before


def test_two_gloo_processes_give_the_single_process_grid(runs, tmp_path, capsys):
    """Grid points shared out over 2 torchrun processes (rank r takes points r, r + 2, ...) give the same grid."""
    single = fresh_copy(runs["darts"], tmp_path, "single")
    shared = fresh_copy(runs["darts"], tmp_path, "shared")
    assert run_cli(capsys, "landscape", single, *GRID, "--steps", "5")[0] == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "cellnas_edu.cli", "landscape", str(shared), *GRID, "--steps", "5", "--json"],
        capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["points_done"] == 25  # rank 0 alone prints the summary
    a, b = LandscapeData.load(single / "landscape.npz"), LandscapeData.load(shared / "landscape.npz")
    assert b.loss_done.all()
    np.testing.assert_array_equal(a.loss, b.loss)


def test_compare_landscapes_json(measured, tmp_path, capsys):
    darts, adapt = measured["darts"][0], measured["adapt"][0]
    out_dir = tmp_path / "cmp"
    code, out, err = run_cli(capsys, "compare-landscapes", darts, adapt, "--out", out_dir, "--json")
    assert code == 0, err
    table = json.loads(out)
    assert [(r["width"], r["depth"]) for r in table["runs"]] == [(4.0, 2), (3.5, 3)]  # widest first
    assert table["sharpness_kind"] == "slice_curvature"  # only one of the two has a Hessian eigenvalue
    for row in table["runs"]:
        data = LandscapeData.load(Path(row["run_dir"]) / "landscape.npz")
        assert row["near_optimum_grad_var"] == pytest.approx(data.grad_var[1, 1])  # span/5 region = the centre
        h = data.alpha[2]
        curvature = 0.5 * ((data.loss[2, 1] - 2 * data.loss[1, 1] + data.loss[0, 1])
                           + (data.loss[1, 2] - 2 * data.loss[1, 1] + data.loss[1, 0])) / h ** 2
        assert row["sharpness"] == pytest.approx(curvature)
        assert row["num_parameters"] == int(data.info["grad_var_num_parameters"]) > 0
        assert row["near_optimum_grad_var_per_parameter"] == pytest.approx(data.grad_var[1, 1] / row["num_parameters"])
    rankings = table["grad_var_rankings"]
    by_trace = sorted(table["runs"], key=lambda r: r["near_optimum_grad_var"])
    by_param = sorted(table["runs"], key=lambda r: r["near_optimum_grad_var_per_parameter"])
    assert rankings["trace"] == [r["label"] for r in by_trace]
    assert rankings["per_parameter"] == [r["label"] for r in by_param]
    assert rankings["same"] == (rankings["trace"] == rankings["per_parameter"])
    assert set(table["spearman"].values()) == {None}  # two runs: no rank correlation
    assert "one run" in table["caveat"]
    assert (out_dir / "compare_contours.png").exists() and (out_dir / "compare_gradvar_heatmaps.png").exists()
    assert json.loads((out_dir / "comparison.json").read_text())["runs"] == table["runs"]


def test_compare_landscapes_without_a_grid_is_one_line(runs, tmp_path, capsys):
    run = fresh_copy(runs["darts"], tmp_path)
    assert_one_line_error(*run_cli(capsys, "compare-landscapes", run, "--out", tmp_path / "cmp"))


def test_channels_last_changes_speed_not_values(runs, tmp_path):
    """The CPU fast path also runs the landscape passes in channels-last format.

    Directions are drawn by shape, so both layouts walk the same plane; the
    loss surface and the gradient variance agree to float32 rounding, and the
    file records which layout measured it.
    """
    results = {}
    for layout in (True, False):
        run = fresh_copy(runs["darts"], tmp_path, f"run_{layout}")
        results[layout] = measure_landscape(run, LandscapeOptions(
            steps=3, span=0.4, samples=24, device="cpu", progress=False, gradvar=True, chunk=12,
            channels_last=layout))
        data = LandscapeData.load(run / "landscape.npz")
        assert data.info["memory_format"] == ("channels_last" if layout else "contiguous")
        results[layout] = (data.loss.copy(), data.grad_var.copy())
    np.testing.assert_allclose(results[True][0], results[False][0], rtol=1e-5)
    np.testing.assert_allclose(results[True][1], results[False][1], rtol=1e-4)
