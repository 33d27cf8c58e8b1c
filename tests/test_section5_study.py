"""Section 5 at student scale (cellnas_edu.section5_study): the exact tests against brute force, the plan from the
committed runs, and the analysis of a test-scale run recomputed independently."""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cellnas_edu import section5_study as s5
from cellnas_edu.stats import sign_flip_test

ROOT = Path(__file__).resolve().parents[1]


def _brute_sign_flip(d):
    observed = abs(sum(d))
    sums = [sum(s * v for s, v in zip(signs, d)) for signs in itertools.product((1, -1), repeat=len(d))]
    return sum(abs(x) >= observed for x in sums) / len(sums)


def test_the_protocol_is_table_1_s_design_at_student_scale():
    p = s5.PROTOCOL
    assert len(s5.PAIRS) == 5 and p["seeds"] == 8 and p["bn_recalibration"] == 640
    assert (p["cutout"], p["drop_path_prob"], p["auxiliary_weight"]) == (14, 0.2, 0.4)
    config = s5.config("DARTS_ADAPT", 3)
    assert (config.cutout, config.auxiliary, config.drop_path_prob, config.seed) == (14, True, 0.2, 3)
    assert len(s5.runs()) == 80 and len(set(s5.runs())) == 80


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("section5")
    shutil.copytree(ROOT / "results" / "convergence_followup", base / "results" / "convergence_followup")
    for stage in ("plan", "run"):
        result = subprocess.run([sys.executable, str(ROOT / "examples" / "section5_study.py"), stage, "--tiny",
                                 "--results", str(base / "results"), "--out", str(base / "runs")],
                                capture_output=True, text=True, timeout=600, cwd=ROOT)
        assert result.returncode == 0, result.stderr
    return base


def test_the_plan_uses_the_committed_seed_sd(tiny):
    plan = json.loads((tiny / "results" / "section5_study_plan" / "summary.json").read_text())
    records = json.loads((ROOT / "results" / "convergence_followup" / "summary.json").read_text())["records"]
    groups = {}
    for r in records:
        groups.setdefault(r["label"], []).append(100 - r["metrics"]["final_test_acc"])
    pooled = math.sqrt(sum((len(g) - 1) * np.var(g, ddof=1) for g in groups.values())
                       / sum(len(g) - 1 for g in groups.values()))
    assert plan["seed_sd_points"] == pytest.approx(pooled, rel=1e-12)
    powers = [row["power"] for row in plan["power"]]
    assert powers[-1] > 0.9 and powers[0] < 0.2  # 8 points is detected, a quarter point is not
    assert plan["table1_cifar10_differences_points"]["max"] == pytest.approx(0.19)


def test_the_analysis_is_what_the_runs_say(tiny):
    summary = json.loads((tiny / "results" / "section5_study" / "summary.json").read_text())
    records = summary["records"]
    assert len(records) == 20
    by = {(r["arch"], r["seed"]): r for r in records}
    for r in records:
        folder = tiny / "runs" / "runs" / r["arch"] / f"seed{r['seed']}"
        config = json.loads((folder / "config.json").read_text())
        assert config["bn_recalibration"] == 64 and config["cutout"] == 14 and config["auxiliary"]
        last = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
        assert r["final_test_error"] == pytest.approx(100 - last["test_acc"])
        assert r["wrong_images"] == round((100 - last["test_acc"]) * 40 / 100)
    error, auc = summary["analysis"]["primary"]
    wrong = [by[(a, s)]["wrong_images"] - by[(o, s)]["wrong_images"] for o, a in s5.PAIRS for s in (0, 1)]
    assert error["p_exact"] == pytest.approx(_brute_sign_flip(wrong) if len(wrong) <= 12 else
                                             sign_flip_test(wrong, "two-sided").p_value)
    d = [by[(a, s)]["auc_test_loss"] - by[(o, s)]["auc_test_loss"] for o, a in s5.PAIRS for s in (0, 1)]
    assert auc["p_exact"] == pytest.approx(stats.wilcoxon(d, method="exact").pvalue)
    assert auc["difference"]["mean"] == pytest.approx(np.mean(d))
    ps = sorted([error["p_exact"], auc["p_exact"]])
    assert sorted([error["p_holm"], auc["p_holm"]]) == pytest.approx([min(1, 2 * ps[0]), max(min(1, 2 * ps[0]),
                                                                                                 ps[1])])
