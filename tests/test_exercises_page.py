"""The exercises page of the textbook (docs/exercises.md) lists every property test of the suite.

A property test is a test function decorated with Hypothesis' ``@given``; each
is a course exercise (its docstring states the claim and cites the paper).
Found by reading the test files' syntax trees, so nothing is imported or run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def property_tests() -> list[str]:
    found = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                decorators = [ast.unparse(d) for d in node.decorator_list]
                if any(d == "given" or d.startswith(("given(", "hypothesis.given(")) for d in decorators):
                    found.append(f"tests/{path.name}::{node.name}")
    return found


def test_the_suite_has_property_tests():
    assert len(property_tests()) >= 10


def test_every_property_test_is_an_exercise_on_the_page():
    page = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    missing = [name for name in property_tests() if f"`{name}`" not in page]
    assert not missing, "add these property tests to docs/exercises.md: " + ", ".join(missing)


def test_every_chapter_lists_its_graded_exercises():
    """Each chapter's Exercises section names every `cellnas exercises start NAME` of its chapter."""
    from pathlib import Path

    from cellnas_edu.exercises.catalog import EXERCISES

    pages = {1: "cells", 2: "space", 3: "convergence", 4: "landscape", 5: "gradient-variance", 6: "theory",
             7: "generalization", 8: "search", 9: "nb201"}
    docs = Path(__file__).resolve().parents[1] / "docs"
    for chapter, page in pages.items():
        text = (docs / f"{page}.md").read_text(encoding="utf-8")
        exercises_section = text[text.index("## Exercises"):]
        for exercise in (e for e in EXERCISES if e.chapter == chapter):
            assert f"cellnas exercises start {exercise.name}`" in exercises_section, (page, exercise.name)
