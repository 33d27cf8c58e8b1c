"""Theorem 4.3 (gradient variance, Appendix C.4) as exercises.

Bound (13): Var(d f_hat/dW_i) <= n sum_{k=i}^n (sigma_k prod_{j<=k, j!=i} lambda_j)^2, with exact variances over
a finite data set and sigma_k the widest cell's variance at V_k = W_k...W_1. It holds when lambda is the spectral
norm and fails when lambda is read as "the largest eigenvalue" (spectral radius).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from cellnas_edu.theory.lipschitz import spectral_norms, spectral_radii
from cellnas_edu.theory.objectives import quadratic
from cellnas_edu.theory.problems import CellProblem, as_float64
from cellnas_edu.theory.runtime import single_thread
from cellnas_edu.theory.strategies import cell_problems
from cellnas_edu.theory.variance import (
    eigenvalue_reading_counterexample,
    gradient_variance,
    run_theorem_4_3,
    variance_bound,
    variance_record,
)


@pytest.fixture(autouse=True)
def _one_thread():
    with single_thread():
        yield


@settings(max_examples=60)
@given(cell_problems(max_n=4, max_d=3, max_samples=5))
def test_spectral_norm_reading_holds(example):
    """Theorem 4.3 with lambda_j = ||W_j||_2: by identity (4), Cauchy-Schwarz over the n - i + 1 <= n terms and
    ||A^T D B^T||_F <= ||A||_2 ||D||_F ||B||_2, the bound holds on every instance (any objective).

    Exercise: replace the factor n by 1 and let hypothesis find the instance that breaks it."""
    problem, i = example
    record = variance_record(problem, i)
    assert record["identity_relative_error"] < 1e-10
    assert not record["spectral_violated"], record


def test_eigenvalue_reading_counterexample():
    """Read literally ("largest eigenvalue"), lambda_1 is the spectral radius of the nilpotent W_1 = [[0, 1],
    [0, 0]], i.e. 0, so the bound for block 2 is 0; the measured variance is 2.25. With the 2-norm (= 1) the bound
    is 2 * 2.25 = 4.5 and holds."""
    problem, i = eigenvalue_reading_counterexample()
    assert problem.weights.tolist() == [[[0.0, 1.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]] and i == 2
    assert problem.inputs.tolist() == [[0.0, 1.0], [0.0, 2.0]] and not problem.targets.any()
    record = variance_record(problem, i)
    assert record["measured"] == pytest.approx(2.25, abs=1e-12)
    assert record["sigmas"] == pytest.approx([1.5], abs=1e-12)
    assert record["bound_eigenvalue"] == 0.0 and record["eigenvalue_violated"]
    assert record["bound_spectral_norm"] == pytest.approx(4.5, abs=1e-12) and not record["spectral_violated"]
    assert spectral_radii(problem.weights)[0] == 0.0 and spectral_norms(problem.weights)[0] == pytest.approx(1.0)


def test_bound_uses_a_product_without_division():
    """(1/lambda_i) prod_{j<=k} lambda_j is computed as prod_{j<=k, j!=i} lambda_j, so a zero W_i is fine:
    with lambdas (2, 0, 3), i = 2, sigmas (1, 1): 3 * ((1*2)^2 + (1*2*3)^2) = 120."""
    assert variance_bound([2.0, 0.0, 3.0], 2, [1.0, 1.0]) == pytest.approx(3 * (4 + 36))
    assert variance_bound([2.0, 0.0, 3.0], 2, [1.0, 1.0], n=2) == pytest.approx(2 * (4 + 36))


def test_variance_is_the_trace_of_the_covariance():
    """E||g - Eg||_F^2 over the uniform distribution on the samples equals the trace of the (biased) covariance."""
    g = torch.tensor(np.random.default_rng(0).normal(size=(7, 3, 2)))
    flat = g.reshape(7, -1).numpy()
    assert gradient_variance(g) == pytest.approx(np.trace(np.cov(flat.T, bias=True)), rel=1e-12)


def test_single_node_cell_meets_the_bound_with_equality():
    """n = 1: the two cells coincide (V_1 = W_1), so Var = sigma_1^2 = the bound; the ratio 1 is the largest
    possible value of measured/bound."""
    rng = np.random.default_rng(1)
    problem = CellProblem(as_float64(rng.normal(size=(1, 3, 3))), as_float64(rng.normal(size=(5, 3))),
                          as_float64(rng.normal(size=(5, 1, 3))), quadratic())
    record = variance_record(problem, 1)
    assert record["measured"] == pytest.approx(record["bound_spectral_norm"], rel=1e-12)


def test_quick_run_finds_no_spectral_violation_and_some_eigenvalue_ones():
    """The script's quick run: identity (4) at round-off, zero violations with 2-norms, max ratio <= 1, and the
    eigenvalue reading violated on the structured nilpotent instances."""
    result = run_theorem_4_3(seed=0, quick=True)
    assert result["identity_max_rel_error"] < 1e-12
    assert result["stated_bound_violations"] == 0 and result["max_ratio"] <= 1 + 1e-9
    assert result["eigenvalue_reading_violations"] >= 1
    assert result["eigenvalue_reading_counterexample"]["measured"] == pytest.approx(2.25)
    identified, equal = result["identified"], result["equal_weights"]
    assert identified["violations"] == result["stated_bound_violations"] == 0
    assert identified["max_ratio"] == pytest.approx(result["max_ratio"])
    assert identified["instances"] == equal["instances"] == result["instances"]
    assert sum(equal["by_objective"].values()) == equal["violations"] == equal["violations_n_at_least_2"]
    assert equal["max_ratio"] >= identified["max_ratio"]
    # the tight Cauchy-Schwarz constant n - i + 1 only shrinks the bound: its ratio is at least max_ratio, at most 1
    assert result["max_ratio"] <= result["max_ratio_tight_constant"] <= 1 + 1e-9
    assert "records" not in result and "records" in run_theorem_4_3(seed=0, quick=True, keep_records=True)


def test_instance_sets_have_the_documented_sizes():
    """Full run: 60 random problems, all 28 structured ones (7 families x 4 objectives), 30 hypothesis-generated
    ones with n <= 4, d <= 3 and at most 5 samples; --quick: 10, every 4th structured one, 6."""
    from collections import Counter

    from cellnas_edu.theory.variance import instance_problems

    full = instance_problems()
    assert Counter(source for source, _ in full) == {"random": 60, "structured": 28, "hypothesis": 30}
    generated = [p for source, p in full if source == "hypothesis"]
    assert max(p.n for p in generated) == 4 and max(p.d for p in generated) == 3
    assert max(p.num_samples for p in generated) == 5
    quick = instance_problems(quick=True)
    assert Counter(source for source, _ in quick) == {"random": 10, "structured": 7, "hypothesis": 6}
    assert instance_problems(seed=0)[0][1].weights.tolist() == full[0][1].weights.tolist()


def test_variance_bound_uses_spectral_norms_of_non_diagonal_weights():
    """Bound (13) with lambda_j = ||W_j||_2: for W_1 = [[1, 1], [0, 1]] the 2-norm is the golden ratio
    (1 + sqrt 5)/2 = 1.618..., not the Frobenius norm sqrt 3 nor the spectral radius 1. With W_2 = I and one
    block-2 sigma the bound is 2 (sigma_2 lambda_1)^2 exactly."""
    problem, i = eigenvalue_reading_counterexample()
    shear = CellProblem(as_float64([[[1.0, 1.0], [0.0, 1.0]], np.eye(2)]), problem.inputs, problem.targets,
                        problem.objective)
    record = variance_record(shear, 2)
    golden = (1 + 5 ** 0.5) / 2
    assert record["lambda_spectral_norm"] == pytest.approx([golden, 1.0], rel=1e-14)
    assert record["bound_spectral_norm"] == pytest.approx(2 * (record["sigmas"][0] * golden) ** 2, rel=1e-12)
    assert record["bound_eigenvalue"] == pytest.approx(2 * record["sigmas"][0] ** 2, rel=1e-12)


def test_same_parameters_in_both_cells_breaks_the_bound():
    """Theorem 4.3's sigma_k is the widest cell's variance at V_k = W_k...W_1 (the proof's point). With the same
    parameters in both cells (V = W) the bound can fail: quadratic, zero targets, n = 2, d = 1, W = (2, 1), inputs
    1 and 2, block 2. Narrow gradient w2 w1^2 x^2 -> variance w1^4 w2^2 Var(x^2) = 16 * 2.25 = 36. At V = W:
    sigma_2^2 = Var(v2 x^2) = 2.25 and the bound is 2 (sigma_2 lambda_1)^2 = 18 < 36. At the identified point
    v2 = w2 w1 = 2: sigma_2^2 = 9 and the bound is 72 >= 36."""
    problem = CellProblem(as_float64([[[2.0]], [[1.0]]]), as_float64([[1.0], [2.0]]),
                          torch.zeros(2, 2, 1, dtype=torch.float64), quadratic())
    record = variance_record(problem, 2)
    assert record["measured"] == pytest.approx(36.0, rel=1e-12)
    assert record["bound_equal_weights"] == pytest.approx(18.0, rel=1e-12) and record["equal_weights_violated"]
    assert record["ratio_equal_weights"] == pytest.approx(2.0, rel=1e-12)
    assert record["bound_spectral_norm"] == pytest.approx(72.0, rel=1e-12) and not record["spectral_violated"]


def test_defaults_run_the_full_instance_set_without_records():
    """The scripts' defaults: the full instance set (quick=False), no per-block records in the result."""
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(run_theorem_4_3).parameters.items()}
    assert defaults == {"seed": 0, "quick": False, "keep_records": False}


def test_tight_constant_ratio_counts_blocks_with_small_bounds(monkeypatch):
    """max_ratio_tight_constant is the largest measured / (bound with n - i + 1) over every block with a positive
    bound -- also bounds below 1. One n = 1 cell with small inputs: the two cells coincide, the ratio is exactly 1
    although the bound is about 1e-4."""
    from cellnas_edu.theory import variance

    rng = np.random.default_rng(3)
    problem = CellProblem(as_float64(rng.normal(size=(1, 2, 2))), as_float64(0.05 * rng.normal(size=(4, 2))),
                          as_float64(np.zeros((4, 1, 2))), quadratic())
    monkeypatch.setattr(variance, "instance_problems", lambda seed, quick: [("random", problem)])
    result = variance.run_theorem_4_3(quick=True)
    assert 0 < variance_record(problem, 1)["bound_spectral_norm_tight_constant"] < 1e-2
    assert result["max_ratio_tight_constant"] == pytest.approx(1.0, rel=1e-9)
    assert result["max_ratio"] == pytest.approx(1.0, rel=1e-9)
