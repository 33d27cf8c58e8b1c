"""Theorem 4.1 (Ghadimi & Lan, Section 4.2) on a toy problem whose L, f* and sigma^2 are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from cellnas_edu.theory.sgd_convergence import CosineProblem, check_theorem_4_1


def test_toy_constants_are_exact():
    """f = mean_s sum_j (1 - cos(w_j - a_sj)): f* = sum_j (1 - R_j), L = max_j R_j and the largest gradient
    variance sigma^2 have closed forms; a fine grid (coordinates are independent) reproduces them."""
    problem = CosineProblem(np.random.default_rng(0).uniform(-1.5, 1.5, size=(6, 2)))
    grid = np.linspace(-np.pi, np.pi, 20001)[:, None] + np.zeros(2)
    assert problem.coordinate_variances(grid).max(0).sum() == pytest.approx(problem.variance_bound(), rel=1e-6)
    assert (problem.loss(grid[:, :1].repeat(2, 1)).min() >= problem.minimum() - 1e-12)
    per_coordinate_min = [(1 - np.cos(grid[:, 0][:, None] - problem.phases[:, j])).mean(1).min() for j in range(2)]
    assert sum(per_coordinate_min) == pytest.approx(problem.minimum(), abs=1e-7)
    slopes = np.abs(np.diff(problem.gradient(grid), axis=0) / np.diff(grid, axis=0)).max()
    assert slopes == pytest.approx(problem.smoothness(), rel=1e-4)


def test_sgd_average_gradient_norm_respects_the_bound():
    """E||grad f(w_R)||^2 <= 2(f(w_0) - f*)/H + (L sigma^2 / H) sum gamma_k^2 for steps below 1/L."""
    result = check_theorem_4_1(seed=0, quick=True)
    assert result["holds"]
    for schedule in result["schedules"]:
        assert schedule["lhs"] + 4 * schedule["lhs_standard_error"] < schedule["rhs"]
