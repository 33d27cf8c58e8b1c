"""The pre-registered re-test of Section 4.1 (cellnas_edu.section41_retest) at the test scale: the plan from the
committed runs, the runs with recalibrated BatchNorm, and every statistic recomputed independently."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cellnas_edu import section41_retest as retest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("retest")
    shutil.copytree(ROOT / "results" / "convergence_followup", base / "results" / "convergence_followup")
    script = ROOT / "examples" / "section41_retest.py"
    for stage in ("plan", "run"):
        result = subprocess.run([sys.executable, str(script), stage, "--tiny", "--results", str(base / "results"),
                                 "--out", str(base / "runs"), "--no-progress"], capture_output=True, text=True,
                                timeout=600, cwd=ROOT)
        assert result.returncode == 0, result.stderr
    return base


def _load(base, name):
    return json.loads((base / "results" / name / "summary.json").read_text())


def test_the_protocol_is_the_pre_registered_one():
    p = retest.PROTOCOL
    assert (p["seeds"], p["learning_rates"], p["train_subset"], p["test_subset"], p["epochs"]) == \
        (8, [0.025, 0.25], 640, 320, 4)
    assert p["variants"] == 10 and p["bn_recalibration"] == 640 and retest.FAMILY_SIZE == 8
    spec = retest.spec()
    assert spec.overrides["bn_recalibration"] == 640 and spec.seeds == 8 and spec.count == 10


def test_the_plan_comes_from_the_committed_runs(tiny):
    plan = _load(tiny, "section41_retest_plan")
    followup = _load(tiny, "convergence_followup")["records"]
    at = [r for r in followup if r["lr"] == 0.025]
    labels = sorted({r["label"] for r in at})
    groups = [[r["metrics"]["auc_test_loss"] for r in at if r["label"] == lab] for lab in labels]
    pooled = math.sqrt(sum((len(g) - 1) * np.var(g, ddof=1) for g in groups) / sum(len(g) - 1 for g in groups))
    assert plan["power_from"]["seed_sd"] == pytest.approx(pooled, rel=1e-12)
    widths = [next(r["width"] for r in at if r["label"] == lab) for lab in labels]
    slope = np.polyfit(widths, [np.mean(g) for g in groups], 1)[0]
    assert plan["power_from"]["slope_per_c"] == pytest.approx(slope, rel=1e-9)
    assert plan["first_holm_alpha"] == 0.05 / 8 and len(plan["hypotheses"]) == 8
    rows = {(r["standardized_slope"], r["cell_sd_ratio"], r["seeds"]): r for r in plan["power"]}
    # power grows with the effect and with the seeds (blocked test), and is near alpha for no effect
    assert rows[(1.0, 0.0, 8)]["power_blocked"] > rows[(0.5, 0.0, 8)]["power_blocked"] > \
        rows[(0.25, 0.0, 8)]["power_blocked"]
    assert rows[(1.0, 0.0, 8)]["power_blocked"] > 0.9


def test_every_run_recalibrates_and_the_records_are_what_the_folders_say(tiny):
    summary = _load(tiny, "section41_retest")
    records = summary["records"]
    assert len(records) == 2 * 4 * 2 and summary["runs"] == 16
    for r in records:
        folder = tiny / "runs" / "runs" / f"{r['lr']:g}" / r["label"] / f"seed{r['seed']}"
        config = json.loads((folder / "config.json").read_text())
        assert config["bn_recalibration"] == 64
        lines = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines()]
        train = [m["train_loss"] for m in lines]
        if not r["diverged"]:
            assert r["metrics"]["auc_train_loss"] == pytest.approx(np.trapezoid(train, [1, 2]), rel=1e-12)
            assert r["metrics"]["final_test_error"] == pytest.approx(100 - lines[-1]["test_acc"])


def test_the_decision_rule_is_max_p_then_holm(tiny):
    analysis = _load(tiny, "section41_retest")["analysis"]
    records = _load(tiny, "section41_retest")["records"]
    primary = analysis["primary"]
    assert [row["hypothesis"] for row in primary] == analysis["family"] and len(primary) == 8
    for row in primary:
        assert row["p_iut"] == max(row["p_cell"], row["p_blocked"])
        at = [r for r in records if r["lr"] == row["lr"]]
        labels = list(dict.fromkeys(r["label"] for r in at))
        x = [next(r[row["property"]] for r in at if r["label"] == lab) for lab in labels]
        y = [np.mean([r["metrics"][row["metric"]] for r in at if r["label"] == lab]) for lab in labels]
        assert row["rho"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    ps = sorted((row["p_iut"], row["hypothesis"]) for row in primary)
    running = 0.0
    for k, (p, name) in enumerate(ps):  # Holm's step-down, written out
        running = max(running, min(1.0, (8 - k) * p))
        assert next(row for row in primary if row["hypothesis"] == name)["p_holm"] == pytest.approx(running)
    assert analysis["supported"] == sum(row["p_holm"] <= 0.05 for row in primary)
