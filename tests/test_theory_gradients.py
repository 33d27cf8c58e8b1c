"""Equations (1)-(4) of Appendix C.2 as exercises: gradients of the two linear cells of Figure 26.

Every test states the claim it checks; the hypothesis tests can be handed out as
they are ("change the identification and watch the identity fail").
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from cellnas_edu.theory.cells import identified_widest_weights, left_factor, narrowest_nodes, right_factor, widest_nodes
from cellnas_edu.theory.gradient_identity import check_problem, relative_error, run_gradient_identity
from cellnas_edu.theory.gradients import (
    equation_2_rhs,
    equation_3_rhs,
    equation_4_rhs,
    equation_4_terms,
    narrowest_weight_gradients,
    widest_weight_gradients,
)
from cellnas_edu.theory.objectives import OBJECTIVE_NAMES
from cellnas_edu.theory.problems import random_problem
from cellnas_edu.theory.strategies import cell_problems
from cellnas_edu.theory.symbolic import symbolic_identity_for


def test_identified_widest_cell_has_the_narrowest_cells_nodes():
    """Section 4.3.1: y_hat_k = W_k...W_1 x. At V_k = W_k...W_1 the widest cell's nodes V_k x are the same
    vectors (the identification that Appendix C.2 uses without saying so)."""
    problem = random_problem(np.random.default_rng(1), n=4, d=3)
    v = identified_widest_weights(problem.weights)
    narrow = narrowest_nodes(problem.weights, problem.inputs)
    assert torch.allclose(widest_nodes(v, problem.inputs), narrow, rtol=1e-13, atol=1e-14)
    manual = problem.weights[2] @ problem.weights[1] @ problem.weights[0] @ problem.inputs[0]
    assert torch.allclose(narrow[0, 2], manual, rtol=1e-13, atol=1e-14)


def test_chain_factors_follow_the_papers_ordering():
    """prod_{j=1}^{i} W_j = W_i ... W_1 (Section 4.3.1): A_k = W_k...W_{i+1}, B = W_{i-1}...W_1, both identity
    when empty."""
    w = torch.tensor(np.random.default_rng(2).normal(size=(4, 2, 2)))
    assert torch.equal(left_factor(w, 2, 2), torch.eye(2, dtype=torch.float64))
    assert torch.allclose(left_factor(w, 1, 3), w[2] @ w[1])
    assert torch.allclose(right_factor(w, 4), w[2] @ w[1] @ w[0])
    assert torch.equal(right_factor(w, 1), torch.eye(2, dtype=torch.float64))
    with pytest.raises(ValueError):
        left_factor(w, 3, 2)


@settings(max_examples=40)
@given(cell_problems(max_n=4, max_d=3))
def test_equation_4_holds_sample_by_sample(example):
    """Equation (4): d f_hat_s/dW_i = sum_{k>=i} A_k^T (df_s/dV_k) B^T for every sample s, with the widest cell's
    gradient taken at V_k = W_k...W_1. Relative error below 1e-10 in float64, for every objective.

    Exercise: pass ``widest_weight_gradients(problem, problem.weights)`` (the widest cell at V_k = W_k, i.e. the
    same symbols without the identification) and let hypothesis find the instance where (4) breaks."""
    problem, i = example
    lhs = narrowest_weight_gradients(problem)[:, i - 1]
    terms = equation_4_terms(problem, i, widest_weight_gradients(problem))
    assert relative_error(lhs, terms.sum(0), terms.flatten(2).norm(dim=2).sum(0)) < 1e-10


@pytest.mark.parametrize("name", OBJECTIVE_NAMES)
def test_equations_1_to_4_on_random_instances(name):
    """Equations (1)-(4) and the 'fact' d f_hat/d y_hat_k = d f/d y_k agree with autograd to 1e-10 (relative)
    on random instances of every objective. Only (4) needs the identification V_k = W_k...W_1: with the widest
    cell at V_k = W_k, (1) (a statement about the widest cell alone) still holds, (4) fails for n >= 2; (2) and (3)
    involve the narrowest cell only."""
    rng = np.random.default_rng(3)
    for _ in range(4):
        problem = random_problem(rng, objective=name, n=int(rng.integers(2, 5)))
        errors = check_problem(problem)
        for eq in ("equation_1", "equation_2", "equation_3", "equation_4", "node_gradient_fact"):
            assert errors[eq] < 1e-10, (eq, errors[eq])
        assert errors["equation_4_without_identification"] > 1e-3
        assert errors["equation_1_without_identification"] < 1e-10


def test_equations_2_3_4_are_the_same_matrix():
    """(2), (3) and (4) are three ways of writing the same gradient (Appendix C.2)."""
    problem = random_problem(np.random.default_rng(4), objective="cross_entropy", n=3, d=2)
    for i in (1, 2, 3):
        r2, r3, r4 = equation_2_rhs(problem, i), equation_3_rhs(problem, i), equation_4_rhs(problem, i)
        assert torch.allclose(r2, r3, rtol=1e-12, atol=1e-14) and torch.allclose(r3, r4, rtol=1e-12, atol=1e-14)


def test_sympy_identity_for_an_arbitrary_objective():
    """Symbolically, for an undefined objective F of all node entries and 2x2 symbolic weights (n = 2), the
    differences in (1)-(4) expand to zero; with V_k := W_k instead of W_k...W_1 they do not."""
    result = symbolic_identity_for(2, 2)
    assert result["equation_1"] and result["equation_2"] and result["equation_3"] and result["equation_4"]
    assert not result["control_without_identification_zero"]


def test_quick_run_reports_tiny_errors():
    """The script's numeric part: every equation's worst relative error stays at float64 round-off."""
    result = run_gradient_identity(seed=5, quick=True, symbolic=False)
    assert result["instances"] == 24
    assert max(result["max_relative_error"].values()) < 1e-12
    assert result["without_identification"]["failing"] == result["without_identification"]["instances"]
