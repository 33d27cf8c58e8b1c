"""Chapter 9's analyses (cellnas_edu.nb201.analysis, `cellnas nb201`): each statistic against an independent
computation, the units of analysis against brute force, the committed results file against a recomputation, and
the command's one-line errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cellnas_edu.nb201 import analysis
from cellnas_edu.nb201.cell import NB201Cell
from cellnas_edu.nb201.data import DATASETS, load_results
from cellnas_edu.nb201.space import measure
from cellnas_edu.results import load_summary

ROOT = Path(__file__).resolve().parents[1]


def ranks(x):
    return stats.rankdata(x)


def test_spearman_is_pearson_of_ranks_with_the_fieller_interval():
    rng = np.random.default_rng(1)
    x = rng.integers(1, 4, 500)
    y = x * 0.3 + rng.normal(size=500)
    c = analysis.spearman(x, y)
    assert c.rho == pytest.approx(np.corrcoef(ranks(x), ranks(y))[0, 1], abs=1e-12)
    half = 1.959963984540054 * math.sqrt(1.06 / 497)
    assert (c.low, c.high) == pytest.approx((math.tanh(math.atanh(c.rho) - half), math.tanh(math.atanh(c.rho) + half)))
    assert c.low < c.rho < c.high and c.n == 500


def test_welch_difference_matches_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(1, 1, 40), rng.normal(0, 3, 300)
    d = analysis.welch_difference(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (d.mean, d.low, d.high) == pytest.approx((a.mean() - b.mean(), ci.low, ci.high), rel=1e-10)


def test_mean_interval_matches_scipy():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    m = analysis.mean_interval(x)
    low, high = stats.t.interval(0.95, 3, loc=x.mean(), scale=stats.sem(x))
    assert (m.mean, m.low, m.high) == pytest.approx((3.75, low, high))


def test_units_merge_duplicates_by_brute_force():
    results, space = load_results(), measure(load_results().codes)
    live = analysis.units("live-classes", results, space)
    assert len(live) == 8764 and int(live.members.sum()) == 15284
    cells = analysis.units("cells", results, space)
    assert len(cells) == 15284 and set(cells.members) == {1}
    unique = analysis.units("unique-classes", results, space)
    assert len(unique) == 6461 - 794
    # one class by hand: every cell whose canonical form is the one of index 1
    target = results.cell(1).canonical()
    members = [i for i in range(len(results)) if results.cell(i).canonical() == target]
    acc = results.test_accuracy("cifar10")[members].mean()
    assert np.isclose(live.accuracy["cifar10"], acc).sum() >= 1
    with pytest.raises(ValueError, match="unknown unit 'classes'"):
        analysis.units("classes")


def test_observation31_of_the_darts_cell():
    found = analysis.observation31()
    space = measure(load_results().codes)
    t = space.trainable
    assert (found["width"], found["depth"], found["index"]) == (3, 3, 1835)
    assert found["share_at_least_as_wide"] == pytest.approx((space.width[t] == 3).mean())
    assert found["share_at_most_as_deep"] == 1.0
    acc = load_results().test_accuracy("cifar10")[t]
    assert found["accuracy"]["cifar10"]["percentile"] == pytest.approx(
        100 * ((acc < 54.29666666666666).mean() + 0.5 * (acc == 54.29666666666666).mean()))


def _row(w_low, w_high, d_low, d_high, pooled_w=0.1, pooled_d=-0.1):
    return {"width": {"low": w_low, "high": w_high}, "depth": {"low": d_low, "high": d_high},
            "pooled_within_strata": {"width": pooled_w, "depth": pooled_d}}


def test_the_committed_decision_rule():
    better = [_row(0.1, 0.2, -0.2, -0.1)] * 3
    assert analysis.verdict(better) == "wide and shallow generalize better"
    assert analysis.verdict([_row(0.1, 0.2, -0.2, -0.1, pooled_w=-0.1)] * 3) == "no consistent relation"
    assert analysis.verdict([_row(0.1, 0.2, 0.05, 0.1)] * 3) == "wide and shallow do not generalize better"
    assert analysis.verdict([_row(-0.05, 0.2, -0.2, 0.1)] * 3) == "no consistent relation"


def test_the_committed_results_file_is_the_analysis_rerun():
    """results/nb201/summary.json holds exactly what the analysis computes today from the shipped table."""
    summary = load_summary("nb201")
    assert not summary["provenance"]["git_commit"].endswith("-dirty")
    again = json.loads(json.dumps(analysis.chapter()))
    kept = {k: v for k, v in summary.items() if k not in ("provenance", "settings")}
    assert kept == again


def test_quoted_numbers_of_the_space():
    space = load_summary("nb201")["space"]
    assert (space["cells"], space["trainable"], space["live_classes"], space["unique_classes"],
            space["unique_classes_mixed"]) == (15625, 15284, 8764, 6461, 794)


def cellnas(*argv):
    return subprocess.run([sys.executable, "-m", "cellnas_edu", "nb201", *argv], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_cli_cell_json_and_formats_of_arch():
    by_index = json.loads(cellnas("cell", "1835", "--json").stdout)
    by_string = json.loads(cellnas("cell", analysis.DARTS_CELL, "--json").stdout)
    by_naslib = json.loads(cellnas("cell", "naslib:0,0,0,0,0,0", "--json").stdout)
    assert by_index == by_string == by_naslib
    assert by_index["width"] == 3 and by_index["depth"] == 3 and by_index["unique_string"] == "0+0+0+0"
    assert by_index["test_accuracy_200ep"]["cifar10"] == pytest.approx(54.29666666666666)


@pytest.mark.parametrize("argv, words", [
    (("cell", "|nor_conv_3x3~0|"), "1 node(s)"),
    (("cell", "15625"), "outside 0..15624"),
    (("cell", "naslib:0,0"), "6 entries"),
    (("section5", "--unit", "x"), "invalid choice"),
    (("draw", "1", "-o", "cell.pdf"), "use .png or .svg"),
])
def test_cli_errors_are_one_line(argv, words, tmp_path):
    result = cellnas(*argv)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]


def test_cli_section5_json_matches_the_library():
    rows = json.loads(cellnas("section5", "--dataset", "cifar100", "--json").stdout)
    expected = analysis.section5(analysis.units("live-classes"), "cifar100")
    assert rows == [json.loads(json.dumps(expected))]


def test_cli_draw(tmp_path):
    out = tmp_path / "cell.svg"
    result = cellnas("draw", "1", "-o", str(out), "--json")
    assert result.returncode == 0 and out.read_text().startswith("<?xml")
    assert json.loads(result.stdout)["caption"] == "width 3, depth 3"


def test_every_dataset_is_analysed():
    assert [r["dataset"] for r in load_summary("nb201")["section5"]["live-classes"]] == list(DATASETS)
    assert NB201Cell.from_arch_string(load_summary("nb201")["best"]["cifar10"]["arch"]).width == 3
