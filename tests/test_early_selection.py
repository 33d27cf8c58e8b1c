"""Chapter 8's random search by early evaluation: selection and exact statistics on hand-made data, a tiny real run."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys

import pytest
from script_loader import ROOT, load_script

from cellnas_edu.cells.genotypes import genotype_from_dict, get_genotype
from cellnas_edu.cli import main
from cellnas_edu.results import load_summary
from cellnas_edu.search.early_selection import (
    TINY,
    EarlySelectionSpec,
    analyze,
    doubling_checkpoints,
    draw_candidates,
    select,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def as_json(obj):
    return json.loads(json.dumps(obj))


# -- select -------------------------------------------------------------------------------------------------------


def test_select_reads_the_loss_after_epoch_k():
    losses = {"A": [3.0, 1.0, 2.0], "B": [2.0, 2.0, 1.0]}
    assert [select(losses, k) for k in (1, 2, 3)] == ["B", "A", "B"]


def test_select_breaks_ties_by_draw_order():
    """The dict's order is the draw order; the first of equal losses wins, whatever its label."""
    assert select({"C3": [1.0, 0.5], "C1": [1.0, 0.7]}, 1) == "C3"
    assert select({"C1": [1.0, 0.7], "C3": [1.0, 0.5]}, 1) == "C1"
    assert select({"C1": [1.0, 0.7], "C3": [1.0, 0.5]}, 2) == "C3"


def test_select_treats_nan_inf_none_and_missing_epochs_as_worst():
    assert select({"A": [math.nan], "B": [5.0]}, 1) == "B"
    assert select({"A": [math.inf], "B": [1e9]}, 1) == "B"
    assert select({"A": [None, None], "B": [7.0, 6.0]}, 2) == "B"
    # A diverged in epoch 2: its curve stops, so after epoch 2 it is worse than any finite loss
    assert select({"A": [0.1], "B": [2.0, 2.0]}, 1) == "A"
    assert select({"A": [0.1], "B": [2.0, 2.0]}, 2) == "B"
    # nobody has a finite loss: nothing is selected
    assert select({"A": [math.nan], "B": [None]}, 1) is None


def test_select_refuses_bad_k_and_no_candidates():
    losses = {"A": [1.0, 0.5], "B": [1.0]}
    assert select(losses, 2) == "A"  # the last recorded epoch is a valid k
    for k in (0, -1, 3, True, 1.0):
        with pytest.raises(ValueError):
            select(losses, k)
    with pytest.raises(ValueError, match="at least one candidate"):
        select({}, 1)


# -- the spec --------------------------------------------------------------------------------------------------------


def tiny_spec(**changes) -> EarlySelectionSpec:
    return EarlySelectionSpec(**{**TINY, **changes})


def test_default_spec_is_the_pre_registered_one():
    spec = EarlySelectionSpec()
    assert (spec.arch, spec.candidates, spec.repetitions, spec.epochs) == ("DARTS", 6, 8, 8)
    assert spec.select_at == (1, 2, 4, 8) and spec.lrs == (0.025, 0.25)
    assert (spec.dataset, spec.preset) == ("fashion-mnist", "cpu-mini")
    assert spec.overrides == dict(init_channels=4, layers=5, train_subset=640, test_subset=320, batch_size=32,
                                  grad_clip=None)
    assert doubling_checkpoints(6) == (1, 2, 4, 6) and doubling_checkpoints(1) == (1,)
    assert EarlySelectionSpec(epochs=6).select_at == (1, 2, 4, 6)


@pytest.mark.parametrize("changes, message", [
    (dict(candidates=1), "--candidates"),
    (dict(candidates=True), "--candidates"),
    (dict(candidates=10 ** 9), "distinct connections variants"),
    (dict(repetitions=0), "--repetitions"),
    (dict(repetitions=21), r"2\^R"),
    (dict(epochs=0), "--epochs"),
    (dict(select_at=(2, 1)), "increasing"),
    (dict(select_at=(1, 1, 2)), "without repeats"),
    (dict(select_at=(0, 2)), r"1\.\.2"),
    (dict(select_at=(1, 3)), r"1\.\.2"),
    (dict(select_at=(1,)), "full budget 2"),
    (dict(select_at=()), "at least one epoch"),
    (dict(select_at=(1.0, 2)), "whole epochs"),
    (dict(lrs=()), "at least one learning rate"),
    (dict(lrs=(0.1, -1.0)), "positive"),
    (dict(lrs=(0.1, math.nan)), "positive"),
    (dict(lrs=(0.1, 0.1)), "repeat"),
    (dict(arch="NOPE"), "unknown architecture"),
    (dict(dataset="mnist"), "unknown dataset"),
    (dict(preset="fast"), "unknown preset"),
    (dict(overrides=dict(seed=3)), "may not set seed"),
    (dict(overrides=dict(eval_every=2)), "eval_every must be 1"),
    (dict(overrides=dict(init_channels=3)), "init_channels"),
    (dict(overrides=dict(momentum_typo=0.9)), "unknown config field"),
])
def test_bad_specs_are_refused_when_built(changes, message):
    with pytest.raises(ValueError, match=message):
        tiny_spec(**changes)


def test_protocol_leaves_out_what_may_change_on_resume():
    spec = tiny_spec(overrides=dict(TINY["overrides"], data_root="/somewhere", device="cpu"))
    protocol = spec.protocol()
    assert set(protocol) == {"arch", "candidates", "epochs", "dataset", "preset", "overrides"}
    assert "data_root" not in protocol["overrides"] and "device" not in protocol["overrides"]
    assert tiny_spec(lrs=(0.1,), repetitions=5, select_at=(2,)).protocol() == tiny_spec().protocol()
    assert tiny_spec(candidates=4).protocol() != tiny_spec().protocol()
    assert EarlySelectionSpec.from_json(as_json(spec.to_json())) == spec


def test_candidates_are_seeded_distinct_connection_variants():
    darts = get_genotype("DARTS")
    first, again, other = (draw_candidates(darts, 6, r) for r in (0, 0, 1))
    assert [v.genotype for v in first] == [v.genotype for v in again]
    assert [v.genotype for v in first] != [v.genotype for v in other]
    assert len({v.genotype.normal for v in first}) == 6 and darts.normal not in {v.genotype.normal for v in first}
    assert all(v.genotype.reduce == darts.reduce for v in first)
    assert sorted(v.draw for v in first) == list(range(6))


# -- analyze on hand-made records ---------------------------------------------------------------------------------


def record(rep, label, draw, width, depth, losses, state="finished", lr="0.1"):
    return {"lr": lr, "repetition": rep, "label": label, "draw": draw, "width": width, "width_c": f"{width:g}c",
            "depth": depth, "state": state, "test_loss": list(losses)}


ANALYSIS_SPEC = dict(candidates=3, repetitions=4, epochs=4, select_at=(1, 2, 4), lrs=(0.1,))

#: width, depth of the three candidates of every hand-made repetition (mean width 8/3, mean depth 10/3)
NARROW, MIDDLE, WIDE = (2.0, 4), (2.5, 3), (3.5, 3)


def records_where(curves: dict, repetitions: int = 4) -> list[dict]:
    """Every repetition: the narrow, middle and wide candidate with the given curves (drawn wide first)."""
    cells = {"C1": NARROW, "C2": MIDDLE, "C3": WIDE}
    draws = {"C3": 0, "C1": 1, "C2": 2}
    return [record(r, label, draws[label], *cells[label], curves[label])
            for r in range(repetitions) for label in ("C1", "C2", "C3")]


def test_widest_always_best_gives_h2_p_one_over_two_to_the_r_and_no_h1_test():
    curves = {"C1": [3.0, 2.5, 2.0, 1.5], "C2": [2.0, 1.8, 1.6, 1.4], "C3": [1.0, 0.9, 0.8, 0.7]}
    result = analyze(records_where(curves), tiny_spec(**ANALYSIS_SPEC))
    block = result["learning_rates"]["0.1"]
    assert block["complete_repetitions"] == 4
    assert all([s["label"] for s in rep["selected"]] == ["C3"] * 3 for rep in block["repetitions"])
    h2 = block["primary"]["H2"]
    assert h2["sign_test"]["p_fraction"] == "1/16" and h2["sign_flip"]["p_fraction"] == "1/16"
    assert h2["mean_interval"]["mean"] == pytest.approx(3.5 - 8 / 3)
    h1 = block["primary"]["H1"]
    assert h1["stratified_spearman"]["p_value"] is None and h1["stratified_spearman"]["blocks"] == 0
    assert h1["sign_test"]["p_value"] is None and h1["first_minus_last"] == [0.0] * 4
    # the exact null of a uniform pick among 3 candidates: the widest in all 4 repetitions has p = (1/3)^4
    assert h2["uniform_selection"]["p_fraction"] == "1/81"
    assert h1["p_holm"] is None and h2["p_holm"] == pytest.approx(1 / 81)  # a family of one p-value
    assert [e["widest_selected"]["count"] for e in block["per_k"]] == [4, 4, 4]
    assert block["per_k"][0]["widest_selected"]["expected_by_chance"] == pytest.approx(4 / 3)
    assert any("no informative block" in line for line in block["verdict"])


def test_wide_early_narrow_late_is_a_falling_width():
    """The wide cell leads after epochs 1 and 2, the narrow one after epoch 4: every block is the most extreme
    of its 3 distinct arrangements, so the exact stratified p is (1/3)^4."""
    curves = {"C1": [3.0, 2.5, 1.0, 0.5], "C2": [2.0, 1.5, 1.2, 1.1], "C3": [1.0, 0.9, 0.8, 0.7]}
    result = analyze(records_where(curves), tiny_spec(**ANALYSIS_SPEC))
    block = result["learning_rates"]["0.1"]
    assert [s["label"] for s in block["repetitions"][0]["selected"]] == ["C3", "C3", "C1"]
    h1 = block["primary"]["H1"]
    assert h1["stratified_spearman"]["p_value"] == pytest.approx(1 / 81)
    assert h1["stratified_spearman"]["mean_rho"] == pytest.approx(-math.sqrt(3) / 2)
    assert h1["sign_test"]["p_fraction"] == "1/16" and h1["first_minus_last"] == [1.5] * 4
    h2 = block["primary"]["H2"]
    assert h2["sign_flip"]["p_fraction"] == "1/16" and h2["uniform_selection"]["p_fraction"] == "1/81"
    # Holm over {H1, H2}: 2 * 1/81, then max(2/81, 1/81)
    assert h1["p_holm"] == pytest.approx(2 / 81) and h2["p_holm"] == pytest.approx(2 / 81)
    assert result["holm"]["family"] == ["0.1:H1", "0.1:H2"]
    # depth is secondary and points the other way: it rises with k, the early cell is shallower than average
    depth = block["secondary"]
    assert depth["depth_trend"]["stratified_spearman"]["p_value"] == pytest.approx(1 / 81)
    assert depth["depth_excess"]["sign_flip"]["p_fraction"] == "1/16"
    # at k = 4 the narrow cell is selected: narrower than average in every repetition (descriptive)
    last = block["per_k"][-1]
    assert last["width_excess"]["sign_flip"]["p_value"] == 1.0 and last["widest_selected"]["count"] == 0
    assert last["mean_selected_width"] == 2.0


def test_diverged_candidates_and_unfinished_repetitions():
    curves = {"C1": [3.0, 2.5, 1.0, 0.5], "C2": [2.0, 1.5, 1.2, 1.1], "C3": [0.1, None, None, None]}
    records = records_where(curves)
    for row in records:
        if row["label"] == "C3":
            row["state"] = "diverged"
    records[-1]["state"] = "running"  # repetition 3's C3 is still training
    block = analyze(records, tiny_spec(**ANALYSIS_SPEC))["learning_rates"]["0.1"]
    assert block["complete_repetitions"] == 3 and block["repetitions"][3]["selected"] == []
    assert [s["label"] for s in block["repetitions"][0]["selected"]] == ["C3", "C2", "C1"]
    assert block["repetitions"][0]["diverged"] == ["C3"]
    assert block["primary"]["H2"]["sign_flip"]["n"] == 3
    assert any("incomplete" in line for line in block["verdict"])


def test_holm_spans_learning_rates():
    curves = {"C1": [3.0, 2.5, 1.0, 0.5], "C2": [2.0, 1.5, 1.2, 1.1], "C3": [1.0, 0.9, 0.8, 0.7]}
    records = records_where(curves) + [dict(r, lr="0.2") for r in records_where(curves)]
    result = analyze(records, tiny_spec(**dict(ANALYSIS_SPEC, lrs=(0.1, 0.2))))
    assert result["holm"]["family"] == ["0.1:H1", "0.1:H2", "0.2:H1", "0.2:H2"]
    assert result["holm"]["adjusted"]["0.1:H1"] == pytest.approx(4 / 81)  # smallest of four: times 4
    assert result["holm"]["adjusted"]["0.2:H2"] == pytest.approx(4 / 81)  # all four equal: each times 4


# -- a tiny real experiment through the command line --------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch):
    """`cellnas_edu.cli.main`, with `cellnas search` offering only the methods whose module exists in this checkout
    (`search_darts` is written on another branch)."""
    from cellnas_edu.cli import search

    for name, (module, _) in list(search.METHODS.items()):
        if importlib.util.find_spec(module) is None:
            monkeypatch.delitem(search.METHODS, name)
    return main


def metrics_curve(folder) -> list:
    lines = (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["test_loss"] for line in lines]


def check_selection_against_run_folders(out, summary):
    """Recompute every selection from metrics.jsonl and config.json alone (not through the package's readers)."""
    manifest = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    for key, block in summary["analysis"]["learning_rates"].items():
        for rep in block["repetitions"]:
            r = rep["repetition"]
            candidates = sorted((c for c in manifest["candidates"] if c["repetition"] == r), key=lambda c: c["draw"])
            curves = {}
            for c in candidates:
                folder = out / f"lr{key}" / f"rep{r}" / c["label"]
                config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
                assert (config["seed"], config["lr"], config["epochs"]) == (r, float(key), 2)
                assert genotype_from_dict(config["genotype"]) == genotype_from_dict(c["genotype"])
                curves[c["label"]] = metrics_curve(folder)
            widths = {c["label"]: c["width"] for c in candidates}
            assert rep["mean_width"] == pytest.approx(sum(widths.values()) / len(widths))
            for chosen in rep["selected"]:
                k = chosen["k"]
                finite = {label: curve[k - 1] for label, curve in curves.items()
                          if len(curve) >= k and curve[k - 1] is not None and math.isfinite(curve[k - 1])}
                best = min(finite.values())
                expected = next(label for label in curves if finite.get(label) == best)  # first drawn wins ties
                assert (chosen["label"], chosen["width"]) == (expected, widths[expected])


@pytest.mark.slow
def test_tiny_search_writes_resumes_and_refuses_another_protocol(tmp_path, capsys, cli):
    out = tmp_path / "search"
    argv = ["search", "random", "--tiny", "--out", str(out), "--no-progress", "--json"]
    assert cli(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["complete"] and summary["runs_total"] == 2 * 2 * 3
    spec = EarlySelectionSpec.from_json(summary["experiment"])
    assert spec == tiny_spec()
    assert sorted(p.relative_to(out).parts[:2] for p in out.glob("lr*/rep*")) == [
        ("lr0.025", "rep0"), ("lr0.025", "rep1"), ("lr0.25", "rep0"), ("lr0.25", "rep1")]
    check_selection_against_run_folders(out, summary)
    assert as_json(analyze(summary["records"], spec)) == summary["analysis"]
    for r in range(2):  # the records' cells are repetition r's draw with variant seed r
        drawn = {v.label: (float(v.width), v.depth) for v in draw_candidates(get_genotype("DARTS"), 3, r)}
        assert {row["label"]: (row["width"], row["depth"]) for row in summary["records"]
                if row["repetition"] == r and row["lr"] == "0.025"} == drawn
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("metrics.jsonl")}
    assert len(stamps) == 12

    # resuming trains nothing and gives the same summary
    assert cli(argv + ["--resume"]) == 0
    assert json.loads(capsys.readouterr().out) == summary
    assert {p: p.stat().st_mtime_ns for p in out.rglob("metrics.jsonl")} == stamps
    # the text report
    assert cli(argv[:-1] + ["--resume"]) == 0
    report = capsys.readouterr().out
    assert "learning rate 0.25" in report and "H2 (selected at k = 1" in report and "Holm" in report
    # without --resume the folder is refused; another protocol is refused, one line each
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert cli(argv + ["--resume", "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert "another protocol (epochs differ)" in err and len(err.strip().splitlines()) == 1
    assert {p: p.stat().st_mtime_ns for p in out.rglob("metrics.jsonl")} == stamps


def test_bad_flags_are_one_line_errors(tmp_path, capsys, cli):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    base = ["search", "random", "--tiny", "--no-progress"]
    for extra in (["--select-at", "1,x"], ["--select-at", "2,1"], ["--select-at", "1"], ["--arch", "NOPE"],
                  ["--repetitions", "0"], ["--repetitions", "21"], ["--lrs", "0.1,-1"], ["--candidates", "1"],
                  ["--dataset", "mnist"], ["--out", str(blocker / "sub")]):
        out = ["--out", str(tmp_path / "never")] if "--out" not in extra else []
        assert cli(base + out + extra) == 2, extra
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "never").exists()


def test_the_cli_module_imports_without_torch():
    code = "import sys, cellnas_edu.cli.search_random; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@pytest.mark.slow
def test_example_writes_a_results_file_that_recomputes(tmp_path):
    example = load_script("examples/early_selection.py", "_early_selection_example")
    assert example.study_spec() == EarlySelectionSpec()  # the pre-registered study is the library's default
    results = tmp_path / "results"
    argv = ["--tiny", "--jobs", "2", "--no-progress", "--out", str(tmp_path / "runs"), "--results", str(results)]
    assert example.main(argv) == 0
    data = load_summary("early_selection", results)  # refuses a file without complete provenance
    assert data["provenance"]["command"] == "python examples/early_selection.py " + " ".join(argv)
    assert data["provenance"]["seconds"] > 0 and data["timing"]["jobs"] == 2
    spec = EarlySelectionSpec.from_json(data["experiment"])
    assert data["protocol"] == as_json(spec.protocol()) and spec == tiny_spec()
    assert len(data["records"]) == 12 and all(len(r["test_loss"]) == 2 for r in data["records"])
    assert as_json(analyze(data["records"], spec)) == data["analysis"]


def test_e4_under_the_exact_null_of_uniform_selection():
    """The committed study's E4 (lr 0.25, k = 1): the sign-flip test assumed symmetric excesses (p = 1/32); the
    exact null of a uniform pick among each repetition's 6 candidates gives p = 34823/839808 = 0.041."""
    import json
    from pathlib import Path

    from cellnas_edu.search.early_selection import EarlySelectionSpec, analyze

    data = json.loads((Path(__file__).resolve().parents[1] / "results" / "early_selection" / "summary.json")
                      .read_text())
    spec = EarlySelectionSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in data["experiment"].items()})
    h2 = analyze(data["records"], spec)["learning_rates"]["0.25"]["primary"]["H2"]
    assert h2["sign_flip"]["p_fraction"] == "8/256"  # = 1/32
    assert h2["uniform_selection"]["p_fraction"] == "34823/839808"
    assert h2["uniform_selection"]["p_value"] == pytest.approx(0.0415, abs=5e-5)
