"""The graded checks of `cellnas exercises`: property and example tests that ship with the package.

Each module holds the tests of one chapter as plain functions named `test_*` (no pytest
fixtures, so they run without pytest). They call the package's functions by name; the grader
([`cellnas_edu.exercises.grader`][cellnas_edu.exercises.grader]) swaps the learner's function in for the package's and
calls the tests. The suite runs the same functions against the package itself
(`tests/test_exercises_cli.py`): one source for both.

The oracles inside the tests are written independently of the function under test (a
brute-force enumeration, a definition written another way), so a test still means something
when the function it calls is the learner's."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, Phase, settings

GRADED = settings(
    max_examples=50,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    report_multiple_bugs=False,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
"""Settings of every graded property test: quick (a few seconds per exercise), derandomized (the same
examples on every run, so a learner sees the same counterexample twice) and without the example database."""

GRADED_SLOW = settings(GRADED, max_examples=20)
"""Fewer examples for the theory checks (each needs autograd Hessians)."""


def close(a: float, b: float, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_tol)
