"""``benchmarks/gpu_check.sh`` on the CPU: valid bash, a dry run writes its report, and the report helper's parts."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from script_loader import load_script

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"


def helper():
    return load_script("benchmarks/gpu_check_report.py")


def test_script_is_valid_bash():
    assert shutil.which("bash")
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for python_file in ("gpu_check_report.py", "nccl_smoke.py"):
        compile((ROOT / "benchmarks" / python_file).read_text(), python_file, "exec")


def test_dry_run_writes_the_report(tmp_path):
    report = tmp_path / "out" / "gpu_check.json"
    env = {**os.environ, "PYTHON": sys.executable, "GPU_CHECK_JSON": str(report), "TMPDIR": str(tmp_path)}
    result = subprocess.run(["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=300, env=env,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(report.read_text())
    assert list(data["steps"]) == ["env", "gpu_tests", "bench_train", "landscape", "nccl"]
    env_step = data["steps"]["env"]
    assert env_step["ok"] and env_step["figures"]["python"] and env_step["figures"]["missing"] == []
    assert "cuda_available" in env_step["figures"]
    for name in ("gpu_tests", "bench_train", "landscape", "nccl"):
        assert data["steps"][name]["skipped"] == "dry run" and not data["steps"][name]["ok"]
    assert data["all_ok"] is True


def test_dry_run_honours_out(tmp_path):
    out = tmp_path / "device-out"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "GPU_CHECK_JSON"}
    env.update({"PYTHON": sys.executable, "OUT": str(out), "TMPDIR": str(tmp_path)})
    result = subprocess.run(["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((out / "gpu_check.json").read_text())["steps"]["env"]["ok"]


def write_landscape(path: Path, loss: np.ndarray, grad_var: np.ndarray | None = None) -> Path:
    done = np.isfinite(loss) | np.isinf(loss)
    gv = np.full_like(loss, np.nan) if grad_var is None else grad_var
    np.savez(path, loss=loss, loss_done=done, grad_var=gv, grad_var_done=~np.isnan(gv))
    return path


def test_compare_landscapes(tmp_path):
    compare = helper().compare_landscapes
    loss = np.arange(1.0, 10.0).reshape(3, 3)
    gv = loss * 10
    a = write_landscape(tmp_path / "a.npz", loss, gv)
    b = write_landscape(tmp_path / "b.npz", loss * (1 + 5e-3), gv * (1 - 3e-2))
    figures, agree = compare(a, b)
    assert agree and figures["loss"]["points"] == 9
    assert figures["loss"]["max_rel_diff"] == pytest.approx(5e-3, rel=1e-6)
    assert figures["grad_var"]["max_rel_diff"] == pytest.approx(3e-2, rel=1e-6)
    assert figures["loss"]["center_reference"] == 5.0
    c = write_landscape(tmp_path / "c.npz", loss * (1 + 2e-2), gv)
    figures, agree = compare(a, c)
    assert not agree and not figures["loss"]["agree"] and figures["grad_var"]["agree"]
    worse = loss.copy()
    worse[0, 0] = np.inf  # non-finite where the reference is finite: a disagreement, whatever the others
    figures, agree = compare(a, write_landscape(tmp_path / "d.npz", worse, gv))
    assert not agree


def test_pytest_and_bench_figures(tmp_path):
    module = helper()
    log = tmp_path / "pytest.log"
    log.write_text("FAILED tests/test_x.py::test_a - boom\n= 1 failed, 3 passed, 2 skipped, 600 deselected in 9s =\n")
    figures = module.pytest_figures(log)
    assert (figures["passed"], figures["failed"], figures["skipped"], figures["deselected"]) == (3, 1, 2, 600)
    assert figures["failed_tests"] == ["tests/test_x.py::test_a - boom"]
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"device": "cuda", "quick": False, "results": {"train": {
        "rows": [{"ours_img_s": 3000.0, "plain_img_s": 1200.0, "speedup": 2.5}], "speedup": 2.5, "seconds": 80}}}))
    figures = module.bench_figures(bench)
    assert figures["speedup"] == 2.5 and figures["goal_2x_met"] is True and figures["device"] == "cuda"


def test_step_records_timeouts_and_assembles(tmp_path):
    module = helper()
    log = tmp_path / "s.log"
    log.write_text("line\n" * 40)
    steps = tmp_path / "steps"
    module.record_step(steps, "a", 0, 1.0, log, None, None)
    module.record_step(steps, "b", 124, 90.0, log, None, None)
    report = module.assemble(steps, tmp_path / "r.json")
    assert report["steps"]["b"]["timed_out"] and not report["steps"]["b"]["ok"]
    assert len(report["steps"]["a"]["log_tail"]) == 25 and report["all_ok"] is False
    assert json.loads((tmp_path / "r.json").read_text())["total_seconds"] == 91.0
