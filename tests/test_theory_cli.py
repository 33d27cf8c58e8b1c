"""The theory scripts, ``cellnas theory`` and the report example: JSON schemas, exit codes, one-line errors."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from cellnas_edu.cli import main as cellnas

ROOT = Path(__file__).resolve().parents[1]


def _script_json(name: str, capsys) -> dict:
    module = runpy.run_path(str(ROOT / "theory" / f"{name}.py"), run_name="theory_script")
    assert module["main"](["--json", "--quick", "--seed", "1"]) == 0
    return json.loads(capsys.readouterr().out)


def test_theorem_4_2_script_schema(capsys):
    """theory/theorem_4_2.py --json: theorem, instances, stated/corrected violation counts and the counterexample
    (quadratic, one input, 1-based block, nested W) with measured > bound."""
    result = _script_json("theorem_4_2", capsys)
    assert result["theorem"] == "4.2" and isinstance(result["instances"], int) and result["instances"] >= 20
    assert isinstance(result["stated_bound_violations"], int) and result["stated_bound_violations"] > 0
    assert result["corrected_bound_violations"] == 0
    # global refutations (constant Hessian) and pointwise violations (local constants) partition the violations
    assert result["global_refutations"] + result["pointwise_violations"] == result["stated_bound_violations"]
    assert 1 <= result["global_refutations"] <= result["constant_hessian_blocks"]
    glob = result["global_estimates"]
    assert glob["pointwise_violations"] == result["pointwise_violations"]
    assert glob["estimated"] == min(2, result["pointwise_violations"])  # --quick: the two smallest blocks
    # --quick: 6 random problems, every 7th of the 28 structured ones, 3 hypothesis-generated ones
    assert result["problems"] == 6 + 4 + 3
    assert sum(result["by_source"][s]["instances"] for s in ("random", "structured", "hypothesis")) == \
        result["instances"]
    for row in glob["blocks"]:
        assert row["narrowest_global_estimate"] >= row["local_measured"] * (1 - 1e-9)
        assert row["survives"] == (row["narrowest_global_estimate"] > row["stated_bound_from_global_estimates"])
    assert result["cross_curvature"]["stated_bound"] == 0.0 and result["cross_curvature"]["measured"] == 2.0
    cex = result["counterexample"]
    assert cex["objective"] == "quadratic" and isinstance(cex["i"], int) and 1 <= cex["i"] <= len(cex["W"])
    assert isinstance(cex["x"], list) and isinstance(cex["W"][0][0], list)
    assert cex["measured"] > cex["bound"]


def test_theorem_4_3_script_schema(capsys):
    """theory/theorem_4_3.py --json: identity error, violations under both readings, max ratio."""
    result = _script_json("theorem_4_3", capsys)
    assert result["theorem"] == "4.3"
    for key, kind in (("instances", int), ("identity_max_rel_error", float), ("stated_bound_violations", int),
                      ("max_ratio", float), ("eigenvalue_reading_violations", int)):
        assert isinstance(result[key], kind), key
    assert result["stated_bound_violations"] == 0 and result["identity_max_rel_error"] < 1e-10
    for section in ("identified", "equal_weights"):
        assert {"violations", "max_ratio", "instances", "worst", "sigma_at"} <= set(result[section])
    assert result["identified"]["violations"] == 0


def test_gradient_identity_script_schema(capsys):
    """theory/gradient_identity.py --json: max relative error per equation, instances, sympy verdict."""
    result = _script_json("gradient_identity", capsys)
    assert set(result["max_relative_error"]) >= {"equation_1", "equation_2", "equation_3", "equation_4"}
    assert result["instances"] > 0 and result["sympy_verdict"] == "holds"


def test_script_text_report(capsys):
    """Without --json a script prints a readable report: the statement, the verdicts and the counterexample."""
    module = runpy.run_path(str(ROOT / "theory" / "theorem_4_3.py"), run_name="theory_script")
    assert module["main"](["--quick"]) == 0
    out = capsys.readouterr().out
    assert "Theorem 4.3" in out and "HOLDS" in out and "FAILS" in out and "2.25" in out


def test_cellnas_theory_json_keys(capsys):
    """`cellnas theory --json` runs every check in-process and prints one object keyed by check."""
    assert cellnas(["theory", "--json", "--quick"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"gradient_identity", "theorem_4_2", "theorem_4_3"} <= set(summary)
    assert summary["theorem_4_2"]["counterexample"]["measured"] == pytest.approx(2.0)


def test_cellnas_theory_bad_seed_is_one_line(capsys):
    """A bad flag value is one line on stderr and exit status 2, never a traceback."""
    assert cellnas(["theory", "--seed", "-3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "--seed" in err


def test_theory_report_example_writes_json_and_figure(tmp_path, capsys):
    """examples/theory_report.py --quick writes theory_report.json (every check) and theory_bounds.png."""
    module = runpy.run_path(str(ROOT / "examples" / "theory_report.py"), run_name="theory_report")
    assert module["main"](["--out", str(tmp_path), "--quick"]) == 0
    report = json.loads((tmp_path / "theory_report.json").read_text())
    assert {"gradient_identity", "theorem_4_2", "theorem_4_3", "theorem_4_1"} <= set(report)
    assert "records" not in report["theorem_4_2"]
    assert (tmp_path / "theory_bounds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
