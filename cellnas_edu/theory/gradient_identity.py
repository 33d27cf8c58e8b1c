r"""Check equations (1)-(4) of Appendix C.2 numerically (float64 autograd).

For every random instance (`n` in 1..5, `d` in 1..6, every objective of
[`cellnas_edu.theory.objectives`][cellnas_edu.theory.objectives]) and every block `i`, the autograd gradient
of the narrowest cell $\partial \hat f_s/\partial W^{(i)}$ is compared with
the right-hand sides of (2), (3) and (4), sample by sample; (1) is checked for
the widest cell, and so is the "fact" (Appendix C.2)
$\partial \hat f/\partial \hat y^{(k)} = \partial f/\partial y^{(k)}$.

The relative error of one comparison is

$$
\frac{\lVert \mathrm{lhs} - \mathrm{rhs} \rVert_F}{\max(\lVert \mathrm{lhs} \rVert_F,\;
\sum_k \lVert \mathrm{term}_k \rVert_F)}
$$

(`0` when everything is exactly zero): dividing by the size of the summed
terms keeps the measure meaningful when the terms cancel.

**Only (4) needs the identification.** (1) is a statement about the widest
cell alone and holds at every $V$; (2) and (3) are statements about the
narrowest cell alone (chain rule, then transposing a product) and involve no
widest-cell quantity at all. Only (4), which replaces
$\partial \hat f/\partial \hat y^{(k)}$ by the widest cell's
$\partial f/\partial y^{(k)}$, needs both cells to have the same node
values, i.e. $V^{(k)} = W^{(k)} \cdots W^{(1)}$. As a control, (1) and (4)
are also evaluated with the widest cell taken at $V^{(k)} = W^{(k)}$ (the
literal reading of "same symbols"): (1) still holds there, (4) fails for
`n >= 2` (`without_identification` in the result)."""

from __future__ import annotations

import numpy as np
import torch

from .gradients import (
    equation_1_rhs,
    equation_2_rhs,
    equation_3_rhs,
    equation_4_terms,
    narrowest_node_values,
    narrowest_weight_gradients,
    node_gradients,
    widest_node_values,
    widest_weight_gradients,
)
from .objectives import OBJECTIVE_NAMES
from .problems import CellProblem, random_problem

EQUATIONS = ("equation_1", "equation_2", "equation_3", "equation_4", "node_gradient_fact")


def relative_error(lhs: torch.Tensor, rhs: torch.Tensor, scale: torch.Tensor | None = None) -> float:
    """Largest per-sample relative Frobenius error between `(N, ...)` tensors; `scale` (`(N,)`) adds the size
    of the summed terms to the denominator."""
    diff = (lhs - rhs).flatten(1).norm(dim=1)
    denom = torch.maximum(lhs.flatten(1).norm(dim=1), rhs.flatten(1).norm(dim=1))
    if scale is not None:
        denom = torch.maximum(denom, scale)
    ratio = torch.where(denom > 0, diff / torch.where(denom > 0, denom, torch.ones_like(denom)), diff)
    return float(ratio.max())


def check_problem(problem: CellProblem) -> dict:
    """Largest relative error of each equation on one problem (over all blocks and samples)."""
    narrow = narrowest_weight_gradients(problem)
    v = problem.identified_widest_weights()
    wide = widest_weight_gradients(problem, v)
    narrow_node_grads = node_gradients(problem, narrowest_node_values(problem))
    errors = {
        "equation_1": relative_error(wide.flatten(1, 2), equation_1_rhs(problem, v).flatten(1, 2)),
        "node_gradient_fact": relative_error(narrow_node_grads,
                                             node_gradients(problem, widest_node_values(problem, v))),
        "equation_2": 0.0, "equation_3": 0.0, "equation_4": 0.0,
    }
    naive = widest_weight_gradients(problem, problem.weights)
    errors["equation_1_without_identification"] = relative_error(
        naive.flatten(1, 2), equation_1_rhs(problem, problem.weights).flatten(1, 2))
    errors["equation_4_without_identification"] = 0.0
    for i in range(1, problem.n + 1):
        lhs = narrow[:, i - 1]
        terms = equation_4_terms(problem, i, wide)
        scale = terms.flatten(2).norm(dim=2).sum(0)
        rhs2 = equation_2_rhs(problem, i, narrow_node_grads)
        rhs3 = equation_3_rhs(problem, i, narrow_node_grads)
        errors["equation_2"] = max(errors["equation_2"], relative_error(lhs, rhs2, scale))
        errors["equation_3"] = max(errors["equation_3"], relative_error(lhs, rhs3, scale))
        errors["equation_4"] = max(errors["equation_4"], relative_error(lhs, terms.sum(0), scale))
        naive_terms = equation_4_terms(problem, i, naive)
        errors["equation_4_without_identification"] = max(
            errors["equation_4_without_identification"],
            relative_error(lhs, naive_terms.sum(0), naive_terms.flatten(2).norm(dim=2).sum(0)),
        )
    return errors


def run_gradient_identity(seed: int = 0, quick: bool = False, symbolic: bool = True) -> dict:
    """Check (1)-(4) on random instances (240, or 40 when `quick`) and, if `symbolic`, with sympy.

    Returns `{"instances", "blocks_checked", "max_relative_error": {equation: value}, "by_objective",
    "without_identification": {...}, "sympy": {...}}`."""
    rng = np.random.default_rng(seed)
    count = 24 if quick else 240
    worst = dict.fromkeys(EQUATIONS, 0.0)
    by_objective = {name: dict.fromkeys(EQUATIONS, 0.0) for name in OBJECTIVE_NAMES}
    blocks = 0
    naive_errors = []
    naive_eq1 = 0.0
    for index in range(count):
        problem = random_problem(rng, objective=OBJECTIVE_NAMES[index % len(OBJECTIVE_NAMES)])
        errors = check_problem(problem)
        blocks += problem.n
        for eq in EQUATIONS:
            worst[eq] = max(worst[eq], errors[eq])
            by_objective[problem.objective.name][eq] = max(by_objective[problem.objective.name][eq], errors[eq])
        naive_eq1 = max(naive_eq1, errors["equation_1_without_identification"])
        if problem.n >= 2:
            naive_errors.append(errors["equation_4_without_identification"])
    result = {
        "instances": count,
        "blocks_checked": blocks,
        "max_relative_error": worst,
        "by_objective": by_objective,
        "needs_identification": {"equation_1": False, "equation_2": False, "equation_3": False,
                                 "equation_4": True},
        "without_identification": {
            "equation_1_max_relative_error": naive_eq1,
            "equations_2_3": "involve the narrowest cell only: no widest-cell weights to identify",
            "instances": len(naive_errors),
            "failing": int(sum(e > 1e-6 for e in naive_errors)),
            "median_relative_error": float(np.median(naive_errors)) if naive_errors else 0.0,
        },
    }
    if symbolic:
        from .symbolic import symbolic_identity_check

        result["sympy"] = symbolic_identity_check(sizes=((2, 2),) if quick else ((2, 2), (3, 2)))
        result["sympy_verdict"] = result["sympy"]["verdict"]
    return result
