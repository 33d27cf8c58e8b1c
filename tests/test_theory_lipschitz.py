"""Theorem 4.2 (block-wise Lipschitz smoothness, Appendix C.3) as exercises.

The stated bound L_hat_i <= (prod_{j<i} lambda_j) L_i is false; the corrected
bound L_hat_i <= (prod_{j<i} lambda_j)^2 sum_{k,l>=i} a_k a_l ||H_kl|| holds.
Block-Lipschitz constants are spectral norms of block Hessians (Frobenius norms
on gradients and weights); lambda_j = ||W_j||_2.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings

from cellnas_edu.theory.hessian import (
    BlockHessianVectorProduct,
    narrowest_block_constant_by_power_iteration,
    narrowest_block_hessian,
    power_iteration_norm,
    quadratic_narrowest_block_constant,
    symmetric_spectral_norm,
    widest_hessian,
)
from cellnas_edu.theory.lipschitz import (
    block_lipschitz_record,
    corrected_bound,
    cross_curvature_counterexample,
    cross_curvature_dict,
    estimate_global_constants,
    exceeds,
    find_smallest_counterexample,
    hand_counterexample,
    max_block_hessian_norm,
    separable_corrected_bound,
    spectral_norms,
    spectral_radii,
    stated_bound_violated,
    stated_bound_violated_closed_form,
    widest_block_loss,
    widest_global_upper_bound,
)
from cellnas_edu.theory.objectives import OBJECTIVE_NAMES
from cellnas_edu.theory.problems import quadratic_single_input, random_problem
from cellnas_edu.theory.runtime import single_thread
from cellnas_edu.theory.strategies import as_quadratic_problem, cell_problems, integer_single_input_cells


@pytest.fixture(autouse=True)
def _one_thread():
    with single_thread():
        yield


def test_hand_counterexample_measures_exactly_2_against_bound_1():
    """n = 2, d = 1, x = 1, W_2 = 1, quadratic: f_hat = (w1 - t1)^2/2 + (w2 w1 - t2)^2/2, so the block Hessian
    in w1 is 1 + w2^2 = 2. The widest cell's L_1 is x^2 = 1 and there is no lambda_j with j < 1, so Theorem 4.2
    claims 1. The corrected bound lambda_2^2 L_2 + L_1 = 2 is exact here."""
    problem, i = hand_counterexample()
    record = block_lipschitz_record(problem, i)
    assert record["measured"] == pytest.approx(2.0, abs=1e-12)
    assert record["power_iteration"] == pytest.approx(2.0, abs=1e-12)
    assert record["stated_bound"] == pytest.approx(1.0, abs=1e-12)
    assert record["corrected_bound"] == pytest.approx(2.0, abs=1e-12)
    assert record["stated_violated"] and not record["corrected_violated"]
    assert stated_bound_violated(problem, i) and stated_bound_violated_closed_form(problem, i)


def test_step_b_alone_breaks_the_bound():
    """Step (b) of Appendix C.3: Delta V_i = Delta W_i B loses a factor ||B||. With n = 2, i = 2, W_1 = 2, W_2 = 0,
    x = 1 there is no k > i term at all, yet the block constant is W_1^2 x^2 = 4 > lambda_1 L_2 = 2."""
    problem = quadratic_single_input([[[2.0]], [[0.0]]], [1.0])
    record = block_lipschitz_record(problem, 2)
    assert record["measured"] == pytest.approx(4.0) and record["stated_bound"] == pytest.approx(2.0)
    assert record["squared_single_term_bound"] == pytest.approx(4.0)


def test_hypothesis_falsifies_the_stated_bound():
    """Exercise: state Theorem 4.2 as a property over small integer cells and let hypothesis falsify it.
    The property below is the theorem as printed (quadratic objective, both constants in closed form, which
    test_quadratic_closed_form_matches_autograd ties to autograd); hypothesis must find a counterexample."""

    @settings(max_examples=200, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(integer_single_input_cells(max_n=3, max_d=2))
    def stated_theorem_4_2(example):
        assert not stated_bound_violated_closed_form(*as_quadratic_problem(example))

    with pytest.raises(AssertionError):
        stated_theorem_4_2()


def test_smallest_counterexample_is_two_scalar_nodes():
    """hypothesis.find over sizes in increasing order shrinks to the smallest counterexample:
    n = 2, d = 1, i = 1, W = (0, 1), x = 1, measured 2 > bound 1 (no n = 1 cell violates the bound)."""
    cex = find_smallest_counterexample()
    assert cex["i"] == 1 and cex["x"] == [1.0] and cex["W"] == [[[0.0]], [[1.0]]]
    assert cex["measured"] == pytest.approx(2.0) and cex["bound"] == pytest.approx(1.0)


@settings(max_examples=40)
@given(cell_problems(max_n=4, max_d=3))
def test_corrected_bound_holds(example):
    """Corrected Theorem 4.2 (proof in cellnas_edu.theory.lipschitz): with a_k = prod_{j=i+1}^k lambda_j,
    L_hat_i <= (prod_{j<i} lambda_j)^2 sum_{k,l>=i} a_k a_l ||H_kl||_2, H_kl the widest cell's cross-block
    Hessians at V_k = W_k...W_1. Local constants for non-quadratic objectives, exact global ones for the quadratic.

    Exercise: drop the square on prod_{j<i} lambda_j, or the k > i terms, and let hypothesis find the violation."""
    problem, i = example
    record = block_lipschitz_record(problem, i, power=False)
    assert not record["corrected_violated"], record
    if "separable_corrected_bound" in record:
        assert not exceeds(record["measured"], record["separable_corrected_bound"])


@settings(max_examples=30)
@given(cell_problems(max_n=3, max_d=3))
def test_block_hessian_is_j_transpose_h_j(example):
    """Because V_k = A_k W_i B is linear in W_i, the narrowest cell's block Hessian is exactly J^T H J,
    J: Delta -> (A_k Delta B)_{k>=i}, H the widest cell's Hessian in (V_i..V_n): no curvature term appears."""
    problem, i = example
    assert block_lipschitz_record(problem, i, power=False)["structure_relative_error"] < 1e-10


def test_power_iteration_agrees_with_dense_eigvalsh():
    """The block constant from power iteration on Hessian-vector products matches the largest |eigenvalue|
    of the dense block Hessian (numpy eigvalsh) on random instances of every objective."""
    rng = np.random.default_rng(7)
    for index in range(8):
        name = ("quadratic", "cross_entropy", "log_cosh", "tanh_squared")[index % 4]
        problem = random_problem(rng, objective=name, n=int(rng.integers(1, 4)), d=int(rng.integers(1, 5)))
        for i in range(1, problem.n + 1):
            dense = symmetric_spectral_norm(narrowest_block_hessian(problem, i))
            estimate, _ = narrowest_block_constant_by_power_iteration(problem, i, seed=index)
            assert estimate == pytest.approx(dense, rel=1e-6, abs=1e-12)


@settings(max_examples=25)
@given(cell_problems(max_n=3, max_d=3))
def test_power_iteration_never_overshoots(example):
    """||Hv|| with ||v|| = 1 never exceeds ||H||_2: power iteration approaches the norm from below."""
    problem, i = example
    dense = symmetric_spectral_norm(narrowest_block_hessian(problem, i))
    product = BlockHessianVectorProduct(problem, i)
    estimate, _ = power_iteration_norm(product, (problem.d, problem.d), max_iter=50)
    assert estimate <= dense * (1 + 1e-9) + 1e-12


def test_quadratic_closed_form_matches_autograd():
    """Quadratic objective: the block Hessian is (sum_k A_k^T A_k) kron (B S B^T), S = mean x x^T, whose norm is
    the product of the two largest eigenvalues -- and it equals the autograd measurement."""
    rng = np.random.default_rng(8)
    for _ in range(4):
        problem = random_problem(rng, objective="quadratic", n=int(rng.integers(1, 5)), d=int(rng.integers(1, 5)))
        for i in range(1, problem.n + 1):
            dense = symmetric_spectral_norm(narrowest_block_hessian(problem, i))
            assert quadratic_narrowest_block_constant(problem, i) == pytest.approx(dense, rel=1e-10, abs=1e-13)


def test_separable_objectives_have_no_cross_node_curvature():
    """For F = sum_k F_k(z_k) (quadratic, log-cosh) the widest cell's cross blocks H_kl, k != l, vanish, so the
    corrected bound reduces to (prod_{j<i} lambda_j)^2 sum_k a_k^2 L_k; cross-entropy couples the nodes."""
    rng = np.random.default_rng(9)
    for name, separable in (("quadratic", True), ("log_cosh", True), ("cross_entropy", False)):
        h = widest_hessian(random_problem(rng, objective=name, n=3, d=2))
        assert (np.abs(h[0, 1]).max() == 0.0) == separable


def test_corrected_bound_is_tight_for_scalar_cells():
    """d = 1, one input, quadratic: every norm is an absolute value and the corrected bound is an equality,
    (prod_{j<i} w_j)^2 x^2 sum_{k>=i} (prod_{j=i+1}^k w_j)^2."""
    problem = quadratic_single_input([[[1.5]], [[-2.0]], [[0.5]]], [0.7])
    for i in (1, 2, 3):
        record = block_lipschitz_record(problem, i, power=False)
        assert record["measured"] == pytest.approx(record["corrected_bound"], rel=1e-12)
        assert record["separable_corrected_bound"] == pytest.approx(record["measured"], rel=1e-12)
    assert corrected_bound([1.5, 2.0, 0.5], 2, np.eye(2) * 0.49) == pytest.approx(1.5**2 * (1 + 0.25) * 0.49)
    assert separable_corrected_bound([1.5, 3.0, 0.5], 2, [0.49, 2.0]) == pytest.approx(1.5**2 * (0.49 + 0.25 * 2.0))


def test_violation_tolerance_is_round_off_not_percent():
    """A bound counts as violated when the measured value exceeds it beyond float64 round-off (relative 1e-9):
    a 1% or even 1e-6 excess is a violation, a 1e-12 excess (round-off) is not, and equality is not."""
    assert exceeds(1.01, 1.0) and exceeds(1.0 + 1e-6, 1.0) and exceeds(1e-6, 0.0)
    assert not exceeds(1.0 + 1e-12, 1.0) and not exceeds(1.0, 1.0) and not exceeds(0.99, 1.0)
    assert exceeds(-0.99, -1.0) and not exceeds(-1.0, -0.99)


def test_lambda_is_the_spectral_norm_not_the_frobenius_norm():
    """lambda_j = ||W_j||_2, the largest singular value, as the proof of Theorem 4.2 uses it: for diag(3, 4) it is
    4 (Frobenius 5), for the 2x2 identity 1 (Frobenius sqrt 2); the stated bound of block 2 with W_1 = I_2 and one
    input x = (1, 0) is lambda_1 L_2 = 1 * 1, and the corrected (separable) bound is 1 as well."""
    assert spectral_norms([np.diag([3.0, 4.0]), np.eye(2)]) == pytest.approx([4.0, 1.0], abs=1e-14)
    assert spectral_radii([[[0.0, 1.0], [0.0, 0.0]]]) == pytest.approx([0.0], abs=1e-14)
    problem = quadratic_single_input([np.eye(2).tolist(), np.eye(2).tolist()], [1.0, 0.0])
    record = block_lipschitz_record(problem, 2, power=False)
    assert record["lambda_spectral_norm"] == pytest.approx([1.0, 1.0], abs=1e-14)
    assert record["stated_bound"] == pytest.approx(1.0, abs=1e-14)
    assert record["corrected_bound"] == pytest.approx(1.0, abs=1e-14)
    assert record["measured"] == pytest.approx(1.0, abs=1e-12)


def test_cross_curvature_defeats_every_bound_built_from_assumption_5():
    """F(z) = <z_1, z_2>, n = 2, d = 1, x = 1, W = (0, 1): the widest cell's block constants are 0 at every point
    (f = v_1 v_2 x^2 is linear in each block), so the stated bound is 0, while f_hat = w_2 w_1^2 x^2 has constant
    curvature 2 w_2 x^2 = 2 in w_1 (a global constant: the Hessian is constant). Scaling F by 10 scales the
    narrowest constant to 20 and leaves every L_k at 0, so no function of lambda and the L_k can bound it; the
    corrected bound, which uses the cross constant L_12 = x^2 = 1, gives 2 a_1 a_2 L_12 = 2 (tight)."""
    cross = cross_curvature_dict()
    assert cross["widest_block_constants"] == [0.0, 0.0] and cross["stated_bound"] == 0.0
    assert cross["measured"] == pytest.approx(2.0, abs=1e-12)
    assert cross["widest_cross_constant_L12"] == pytest.approx(1.0, abs=1e-12)
    assert cross["corrected_bound"] == pytest.approx(2.0, abs=1e-12)
    assert cross["scaled_by_10"]["measured"] == pytest.approx(20.0, abs=1e-11)
    assert cross["scaled_by_10"]["widest_block_constants"] == [0.0, 0.0]
    assert cross["constants"] == "global"
    problem, i = cross_curvature_counterexample()
    other = problem.with_weights(problem.weights + 0.7)  # another point: the narrowest constant is 2 w_2 = 3.4
    record = block_lipschitz_record(other, i, power=False)
    assert record["measured"] == pytest.approx(2 * 1.7, abs=1e-12) and record["stated_bound"] == 0.0


def test_block_hessian_ascent_finds_the_maximum_and_never_overshoots():
    """loss(X) = sum_j cos(x_j) has Hessian diag(-cos x_j), whose norm max_j |cos x_j| is 1 exactly where some
    x_j = 0. From the centre 0.5 (norm cos 0.5 = 0.878) the ascent over the box [-0.5, 1.5]^2 must climb to ~1, and
    an attained value can never exceed the supremum 1; over the box [1, 1.4]^2 the maximum is cos 1 = 0.540, at the
    corner the projection must keep it in."""
    def loss(x):
        return torch.cos(x).sum()

    best, point = max_block_hessian_norm(loss, torch.full((2,), 0.5, dtype=torch.float64), 1.0, starts=2, steps=40)
    assert 0.995 < best <= 1.0 + 1e-12
    assert all(-0.5 - 1e-12 <= v <= 1.5 + 1e-12 for v in point)
    best, point = max_block_hessian_norm(loss, torch.full((2,), 1.2, dtype=torch.float64), 0.2, starts=3, steps=40)
    assert best == pytest.approx(np.cos(1.0), abs=1e-3) and best <= np.cos(1.0) + 1e-12


def test_global_estimates_of_a_constant_hessian_are_the_local_constants():
    """For the quadratic objective the block Hessian is the same everywhere: the ascent over any box returns the
    local constant of both cells, and the rigorous upper bound on the widest cell's global constant is exactly
    lambda_max(S) = L_i."""
    problem = random_problem(np.random.default_rng(11), objective="quadratic", n=3, d=2)
    record = block_lipschitz_record(problem, 2, power=False)
    estimate = estimate_global_constants(problem, 2, radius=1.0, starts=2, steps=3)
    assert estimate["narrowest_global_estimate"] == pytest.approx(record["measured"], rel=1e-10)
    assert estimate["widest_global_estimate"] == pytest.approx(record["widest_constants"][0], rel=1e-10)
    assert estimate["widest_global_upper_bound"] == pytest.approx(record["widest_constants"][0], rel=1e-10)
    assert estimate["survives"] == record["stated_violated"]
    assert estimate["stated_bound_from_upper_bound"] == pytest.approx(record["stated_bound"], rel=1e-10)
    assert estimate["refuted_globally"] is record["stated_violated"]


@settings(max_examples=20, suppress_health_check=list(HealthCheck))
@given(cell_problems(objectives=("log_cosh", "cross_entropy", "tanh_squared"), max_n=3, max_d=2))
def test_widest_upper_bound_bounds_the_widest_block_curvature_everywhere(example):
    """widest_global_upper_bound is a bound on sup_V ||H_ii(V)||: at the identified point and at random other
    widest weights (far away too) the widest block-Hessian norm never exceeds it."""
    problem, i = example
    upper = widest_global_upper_bound(problem, i)
    loss = widest_block_loss(problem, i)
    rng = np.random.default_rng(0)
    center = problem.identified_widest_weights()[i - 1].detach()
    for scale in (0.0, 0.5, 3.0):
        point = center + torch.tensor(rng.normal(scale=scale, size=tuple(center.shape)))
        h = torch.autograd.functional.hessian(loss, point).reshape(center.numel(), -1).numpy()
        assert symmetric_spectral_norm(h) <= upper * (1 + 1e-9) + 1e-12


def test_summary_counts_equal_direct_counts_and_instance_sets_have_their_sizes():
    """summarize() counts violations, separable-bound checks and ratios over block records exactly (an empty list
    gives zeros), and the instance sets have their documented sizes: 24 random, all 28 structured, 12
    hypothesis-generated problems; --quick: 6, every 7th structured one, 3."""
    from collections import Counter

    from cellnas_edu.theory.lipschitz import instance_problems, problem_records, summarize

    empty = summarize([])
    assert empty["instances"] == 0 and empty["max_measured_over_stated"] == 0.0
    rng = np.random.default_rng(12)
    records = []
    for name in ("quadratic", "cross_entropy"):
        records += problem_records(random_problem(rng, objective=name, n=2, d=2), power=False)
    records += problem_records(hand_counterexample()[0], power=False)
    summary = summarize(records)
    separable = [r for r in records if "separable_corrected_bound" in r]
    assert len(separable) == 4 and summary["instances"] == 6
    assert summary["separable_corrected_violations"] == 0
    assert summary["stated_bound_violations"] == sum(r["stated_violated"] for r in records) >= 1
    assert summary["global_refutations"] == sum(r["stated_violated"] for r in records if r["objective"] == "quadratic")
    assert summary["max_measured_over_stated"] == pytest.approx(
        max(r["measured"] / r["stated_bound"] for r in records if r["stated_bound"] > 0))
    assert Counter(s for s, _ in instance_problems()) == {"random": 24, "structured": 28, "hypothesis": 12}
    assert Counter(s for s, _ in instance_problems(quick=True)) == {"random": 6, "structured": 4, "hypothesis": 3}
    # --quick takes every 7th structured problem: the first family (orthogonal weights) of each objective
    quick_structured = [p for s, p in instance_problems(quick=True) if s == "structured"]
    assert [p.objective.name for p in quick_structured] == list(OBJECTIVE_NAMES)
    for p in quick_structured:
        assert spectral_norms(p.weights) == pytest.approx(np.ones(p.n), abs=1e-12)
