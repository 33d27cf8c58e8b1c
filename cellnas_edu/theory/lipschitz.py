r"""Theorem 4.2 (block-wise Lipschitz smoothness, Appendix C.3): measured exactly, stated and corrected bounds.

**Statement (Section 4.3.2).** With $\lambda^{(j)}$ "the largest eigenvalue"
of $W^{(j)}$ -- used in the proof as the 2-norm $\lVert W^{(j)} \rVert_2$
-- and $L^{(i)}$ the block-Lipschitz constant (5) of the widest cell,

$$
\Big\lVert \frac{\partial \hat f}{\partial W^{(i)}_1} - \frac{\partial \hat f}{\partial W^{(i)}_2} \Big\rVert
\le \Big(\prod_{j=1}^{i-1} \lambda^{(j)}\Big) L^{(i)} \lVert W^{(i)}_1 - W^{(i)}_2 \rVert .
$$

**What is measured.** The narrowest cell's block constant
$\hat L^{(i)} = \lVert \nabla^2_{W^{(i)}} \hat f \rVert_2$ (Frobenius norms on
gradients and weights, [`cellnas_edu.theory.hessian`][cellnas_edu.theory.hessian]), by dense eigenvalues and
by power iteration on Hessian-vector products; $L^{(k)} = \lVert H_{kk}
\rVert_2$ of the widest cell at the identified point $V^{(k)} = W^{(k)}
\cdots W^{(1)}$ by the same machinery. For the quadratic objective both are
constant in the weights, so these are the exact *global* constants; for the
other objectives they are the *local* constants at the point, and the comparison
is local (the stated inequality, read at one point, must hold there too).

**Why the stated bound fails.** By [`cellnas_edu.theory.hessian`][cellnas_edu.theory.hessian],
$\nabla^2_{W^{(i)}} \hat f = J^T H J$ with
$J \Delta = (A_k \Delta B)_{k \ge i}$, $A_k = W^{(k)} \cdots W^{(i+1)}$,
$B = W^{(i-1)} \cdots W^{(1)}$. Two steps of Appendix C drop terms:

(a) From (8) to (9) the terms `k > i` are discarded because
    "$W_1^{(k)} = W_2^{(k)}$ while $k \neq i$". But (4), on which
    (6) rests, holds only at the identified point, where the widest cell's
    parameters are $V^{(k)} = A_k W^{(i)} B$: changing $W^{(i)}$
    changes $V^{(k)}$ -- and $\partial f/\partial V^{(k)}$ -- for
    *every* `k >= i`.
(b) In (8), $\lVert V^{(k)}_1 - V^{(k)}_2 \rVert$ is replaced by
    $\lVert W^{(k)}_1 - W^{(k)}_2 \rVert$; but
    $\Delta V^{(i)} = \Delta W^{(i)} B$, which costs a second factor
    $\lVert B \rVert \le \prod_{j<i} \lambda^{(j)}$: even the `k = i` term is
    $(\prod_{j<i} \lambda^{(j)})^2 L^{(i)}$, not the first power.

Smallest counterexample (`n = 2, d = 1, x = 1, i = 1`, quadratic, $W^{(2)} = 1$):
$\hat f = \tfrac12 (w_1 - t_1)^2 + \tfrac12 (w_2 w_1 - t_2)^2$ has
$\partial^2 \hat f / \partial w_1^2 = 1 + w_2^2 = 2$, while the stated bound is
$L^{(1)} = x^2 = 1$. (With `d = 1` every matrix norm is `|.|`, so the
failure does not depend on how "2-norm" is read for gradients.)

**Corrected bound** ([`corrected_bound`][cellnas_edu.theory.lipschitz.corrected_bound]). With $a_k = \prod_{j=i+1}^{k}
\lambda^{(j)}$ ($a_i = 1$), $b = \prod_{j=1}^{i-1} \lambda^{(j)}$ and
$H_{kl} = \partial^2 f / \partial V^{(k)} \partial V^{(l)}$ of the widest cell,

$$
\hat L^{(i)} \le b^2 \sum_{k=i}^n \sum_{l=i}^n a_k\, a_l\, \lVert H_{kl} \rVert_2 ,
$$

which for objectives separable over nodes ($H_{kl} = 0$ for $k \ne l$,
e.g. the quadratic) is $b^2 \sum_{k=i}^n a_k^2 L^{(k)}$.

*Proof.* $J^T H J$ is symmetric, so its norm is
$\sup_{\lVert \Delta \rVert_F = 1} |\langle J\Delta, H J\Delta \rangle|$. Write
$\Delta V_k = A_k \Delta B$. Then
$|\langle J\Delta, HJ\Delta\rangle| = |\sum_{k,l} \langle \Delta V_k, H_{kl} \Delta V_l \rangle|
\le \sum_{k,l} \lVert \Delta V_k \rVert_F \lVert H_{kl} \rVert_2 \lVert \Delta V_l \rVert_F$
(triangle inequality, Cauchy-Schwarz), and
$\lVert A_k \Delta B \rVert_F \le \lVert A_k \rVert_2 \lVert \Delta \rVert_F \lVert B \rVert_2
\le a_k b$ (submultiplicativity, $\lVert A_k \rVert_2 \le \prod_{j=i+1}^k
\lVert W^{(j)} \rVert_2$). $\square$ The factors $a_k, b$ do not involve
$W^{(i)}$, so replacing $\lVert H_{kl} \rVert_2$ by global bounds
$L_{kl} \ge \sup \lVert H_{kl} \rVert_2$ ($L_{kk} = L^{(k)}$ of (5); the
cross constants are an extra assumption unless $F$ is separable) gives a
global block-Lipschitz bound. The bound is tight for `d = 1` and the quadratic
with one input (it is then an equality).

**Global versus pointwise.** Theorem 4.2 is a global statement: (5) holds "for
any" $W^{(i)}_1, W^{(i)}_2$, and so does the conclusion. What is measured is
the spectral norm of a block Hessian *at one point*, i.e. the local constant.
A violation at a point refutes the global theorem only when the local
constants are the global ones -- for objectives with a constant Hessian
(`constant_hessian`: the quadratic and
[`cross_curvature_counterexample`][cellnas_edu.theory.lipschitz.cross_curvature_counterexample]),
whose blocks are counted as `global_refutations`. Elsewhere the local narrow
constant may exceed the bound built from the local widest constant while the
*global* constants (suprema over all weights) still satisfy it; those blocks
are `pointwise_violations`. For them
[`estimate_global_constants`][cellnas_edu.theory.lipschitz.estimate_global_constants]
maximises the block-Hessian norm of both cells by multi-start projected
gradient ascent over a box around the point (a lower estimate of each
supremum over the box) and reports whether the violation survives
global-versus-global.

**No bound from (5) alone.** For $F(z) = \langle z_1, z_2 \rangle$ every
block of the widest cell has zero curvature, $L^{(k)} = 0$ for every `k`
and every point, so the stated bound is 0, while the narrowest cell
(`n = 2, d = 1, x = 1, w_2 = 1`) has $\hat f = w_2 w_1^2$ and
$\hat L^{(1)} = 2 w_2 = 2$
([`cross_curvature_counterexample`][cellnas_edu.theory.lipschitz.cross_curvature_counterexample]).
Scaling $F$ by `c` keeps every $L^{(k)} = 0$ and makes
$\hat L^{(1)} = 2c$: no function of the $\lambda^{(j)}$ and the
$L^{(k)}$ bounds $\hat L^{(i)}$. The corrected bound needs the cross
constants $L_{kl} \ge \sup \lVert H_{kl} \rVert_2$ (here
$L_{12} = 1$, and the bound is $2 \cdot 1 = 2$, tight), an
assumption the paper does not make.

Tolerance: a bound counts as violated when `measured > bound + 1e-9 * max(bound,
measured) + 1e-12` (float64 round-off is ~1e-15 relative)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from hypothesis import HealthCheck, find, settings
from hypothesis.errors import NoSuchExample

from .hessian import (
    chain_jacobian,
    narrowest_block_constant_by_power_iteration,
    narrowest_block_loss,
    narrowest_hessian,
    operator_norm,
    quadratic_narrowest_block_constant,
    quadratic_widest_block_constant,
    symmetric_spectral_norm,
    widest_hessian,
)
from .objectives import OBJECTIVE_NAMES
from .problems import CellProblem, quadratic_single_input, random_problem, structured_problems
from .strategies import as_quadratic_problem, cell_problems, draw_examples, integer_single_input_cells

RTOL, ATOL = 1e-9, 1e-12


def exceeds(measured: float, bound: float) -> bool:
    """`measured` is larger than `bound` beyond float64 round-off (see the module's tolerance)."""
    return bool(measured > bound + RTOL * max(abs(bound), abs(measured)) + ATOL)


def spectral_norms(weights) -> np.ndarray:
    r"""$\lambda^{(j)} = \lVert W^{(j)} \rVert_2$ (the reading the proof uses)."""
    return np.array([np.linalg.norm(w, 2) for w in np.asarray(weights, dtype=float)])


def spectral_radii(weights) -> np.ndarray:
    r"""$\rho(W^{(j)}) = \max |\mathrm{eig}(W^{(j)})|$ ("the largest eigenvalue", read literally)."""
    return np.array([np.max(np.abs(np.linalg.eigvals(w))) for w in np.asarray(weights, dtype=float)])


def stated_bound(lambdas, i: int, widest_constant: float) -> float:
    r"""Right-hand side of Theorem 4.2: $(\prod_{j<i} \lambda^{(j)})\, L^{(i)}$."""
    return float(np.prod(lambdas[: i - 1]) * widest_constant)


def squared_single_term_bound(lambdas, i: int, widest_constant: float) -> float:
    r"""$(\prod_{j<i} \lambda^{(j)})^2 L^{(i)}$: the `k = i` term with step (b) repaired but step (a) not."""
    return float(np.prod(lambdas[: i - 1]) ** 2 * widest_constant)


def chain_factors(lambdas, i: int) -> tuple[np.ndarray, float]:
    r"""`(a, b)`: $a_k = \prod_{j=i+1}^{k} \lambda^{(j)}$ for `k = i..n`,
    $b = \prod_{j<i} \lambda^{(j)}$."""
    lambdas = np.asarray(lambdas, dtype=float)
    a = np.array([np.prod(lambdas[i:k]) for k in range(i, len(lambdas) + 1)])
    return a, float(np.prod(lambdas[: i - 1]))


def corrected_bound(lambdas, i: int, cross_norms) -> float:
    r"""Corrected Theorem 4.2: $b^2 \sum_{k,l \ge i} a_k a_l \lVert H_{kl} \rVert_2$
    (`cross_norms[k-i, l-i]` is $\lVert H_{kl} \rVert_2$)."""
    a, b = chain_factors(lambdas, i)
    return float(b**2 * a @ np.asarray(cross_norms, dtype=float) @ a)


def separable_corrected_bound(lambdas, i: int, widest_constants) -> float:
    r"""Corrected bound for node-separable objectives: $b^2 \sum_{k \ge i} a_k^2 L^{(k)}$."""
    a, b = chain_factors(lambdas, i)
    return float(b**2 * np.sum(a**2 * np.asarray(widest_constants, dtype=float)))


def block_lipschitz_record(problem: CellProblem, i: int, narrow_full: np.ndarray | None = None,
                           wide_full: np.ndarray | None = None, power: bool = True, seed: int = 0) -> dict:
    """Everything Theorem 4.2 needs for block `i` of one problem, as a JSON-friendly dict.

    `narrow_full` / `wide_full` are the full Hessians of both cells (computed when not given)."""
    narrow_full = narrowest_hessian(problem) if narrow_full is None else narrow_full
    wide_full = widest_hessian(problem) if wide_full is None else wide_full
    block = narrow_full[i - 1, i - 1]
    measured = symmetric_spectral_norm(block)
    cross = wide_full[i - 1:, i - 1:]
    m = cross.shape[0]
    cross_norms = np.array([[operator_norm(cross[k, l]) for l in range(m)] for k in range(m)])
    widest_constants = np.diag(cross_norms).copy()
    lambdas = spectral_norms(problem.weights)
    rhos = spectral_radii(problem.weights)
    jac = chain_jacobian(problem.weights, i)
    big = cross.transpose(0, 2, 1, 3).reshape(jac.shape[0], jac.shape[0])
    structure = jac.T @ big @ jac
    scale = max(np.abs(block).max(), np.abs(structure).max(), 1e-300)
    record = {
        "objective": problem.objective.name,
        "n": problem.n, "d": problem.d, "samples": problem.num_samples, "i": i,
        "constants": "global" if problem.objective.constant_hessian else "local",
        "measured": measured,
        "widest_constants": widest_constants.tolist(),
        "lambda_spectral_norm": lambdas.tolist(),
        "lambda_spectral_radius": rhos.tolist(),
        "stated_bound": stated_bound(lambdas, i, widest_constants[0]),
        "stated_bound_eigenvalue_reading": stated_bound(rhos, i, widest_constants[0]),
        "squared_single_term_bound": squared_single_term_bound(lambdas, i, widest_constants[0]),
        "corrected_bound": corrected_bound(lambdas, i, cross_norms),
        "structure_relative_error": float(np.abs(structure - block).max() / scale),
    }
    if problem.objective.separable:
        record["separable_corrected_bound"] = separable_corrected_bound(lambdas, i, widest_constants)
    if problem.objective.quadratic:
        closed = quadratic_narrowest_block_constant(problem, i)
        record["closed_form"] = closed
        record["closed_form_relative_error"] = abs(closed - measured) / max(measured, closed, 1e-300)
    if power:
        estimate, iterations = narrowest_block_constant_by_power_iteration(problem, i, seed=seed)
        record["power_iteration"] = estimate
        record["power_iterations"] = iterations
        record["power_relative_difference"] = abs(estimate - measured) / max(measured, 1e-300) if measured else 0.0
    record["stated_violated"] = exceeds(measured, record["stated_bound"])
    record["corrected_violated"] = exceeds(measured, record["corrected_bound"])
    return record


def problem_records(problem: CellProblem, power: bool = True, seed: int = 0) -> list[dict]:
    """[`block_lipschitz_record`][cellnas_edu.theory.lipschitz.block_lipschitz_record] for every block of `problem`
    (Hessians computed once)."""
    narrow_full, wide_full = narrowest_hessian(problem), widest_hessian(problem)
    return [block_lipschitz_record(problem, i, narrow_full, wide_full, power, seed + i)
            for i in range(1, problem.n + 1)]


def stated_bound_violated(problem: CellProblem, i: int) -> bool:
    """Does block `i` of `problem` violate the stated Theorem 4.2 (spectral-norm reading)?"""
    return block_lipschitz_record(problem, i, power=False)["stated_violated"]


def counterexample_dict(problem: CellProblem, i: int) -> dict:
    """The schema's counterexample: quadratic, one input, zero targets; `measured` and `bound` exact."""
    record = block_lipschitz_record(problem, i, power=False)
    return {
        "objective": "quadratic",
        "targets": "zero (the quadratic's block Hessian does not depend on the targets)",
        "i": i,
        "x": problem.inputs[0].tolist(),
        "W": problem.weights.tolist(),
        "measured": record["measured"],
        "bound": record["stated_bound"],
        "corrected_bound": record["corrected_bound"],
        "lambda": record["lambda_spectral_norm"],
        "widest_constant_L_i": record["widest_constants"][0],
    }


def hand_counterexample() -> tuple[CellProblem, int]:
    r"""`n = 2, d = 1, x = 1, i = 1`, $W^{(1)} = W^{(2)} = 1$: measured $1 + w_2^2 = 2$, bound `1`."""
    return quadratic_single_input([[[1.0]], [[1.0]]], [1.0]), 1


def stated_bound_violated_closed_form(problem: CellProblem, i: int) -> bool:
    """Quadratic objective only: the stated-bound check with both constants in closed form (fast; used by the
    counterexample search, whose result is then re-measured by autograd)."""
    measured = quadratic_narrowest_block_constant(problem, i)
    return exceeds(measured, stated_bound(spectral_norms(problem.weights), i, quadratic_widest_block_constant(problem)))


def find_smallest_counterexample(max_n: int = 3, max_d: int = 2, max_entry: int = 3) -> dict:
    """The smallest violation of the stated Theorem 4.2 among small integer cells (quadratic, one input, zero
    targets): sizes are tried in the order `(n, d) = (1, 1), (1, 2), ..., (2, 1), ...`; within the first size
    that has a violation, hypothesis searches and shrinks block index and entries (deterministic,
    `derandomize`). Returns [`counterexample_dict`][cellnas_edu.theory.lipschitz.counterexample_dict] (measured again
    by autograd); raises
    `hypothesis.errors.NoSuchExample` when nothing up to `max_n, max_d` violates."""
    for n in range(1, max_n + 1):
        for d in range(1, max_d + 1):
            try:
                example = find(
                    integer_single_input_cells(min_n=n, max_n=n, min_d=d, max_d=d, max_entry=max_entry),
                    lambda ex: stated_bound_violated_closed_form(*as_quadratic_problem(ex)),
                    settings=settings(database=None, derandomize=True, max_examples=100, deadline=None,
                                      suppress_health_check=list(HealthCheck)),
                )
            except NoSuchExample:
                continue
            return counterexample_dict(*as_quadratic_problem(example))
    raise NoSuchExample("stated Theorem 4.2")


def _counterexample_or_none() -> dict | None:
    try:
        return find_smallest_counterexample()
    except NoSuchExample:
        return None


def cross_curvature_counterexample() -> tuple[CellProblem, int]:
    r"""$F(z) = \langle z_1, z_2 \rangle$, `n = 2, d = 1, x = 1`, $W^{(1)} = 0, W^{(2)} = 1$, block 1.

    Widest cell: $f = (v_1 x)(v_2 x)$, so $\partial^2 f/\partial v_1^2 = \partial^2 f/\partial v_2^2 = 0$
    for all `v`: $L^{(1)} = L^{(2)} = 0$ and the stated bound is 0. Narrowest cell:
    $\hat f = w_2 w_1^2 x^2$, $\partial^2 \hat f/\partial w_1^2 = 2 w_2 x^2 = 2$ for every $w_1$
    (a global constant). The cross block $\partial^2 f/\partial v_1 \partial v_2 = x^2 = 1$ makes the
    corrected bound $2 a_1 a_2 \lVert H_{12} \rVert = 2$, tight."""
    from .objectives import cross_product

    weights = torch.tensor([[[0.0]], [[1.0]]], dtype=torch.float64)
    inputs = torch.tensor([[1.0]], dtype=torch.float64)
    return CellProblem(weights, inputs, torch.zeros(1, 2, 1, dtype=torch.float64), cross_product()), 1


def cross_curvature_dict() -> dict:
    """[`cross_curvature_counterexample`][cellnas_edu.theory.lipschitz.cross_curvature_counterexample] measured: every
    widest block constant, the stated and corrected bounds,
    the narrowest constant, and the constant again with the objective scaled by 10 (no bound from (5) alone)."""
    problem, i = cross_curvature_counterexample()
    record = block_lipschitz_record(problem, i, power=False)
    wide = widest_hessian(problem)
    scaled = replace(problem, objective=replace(problem.objective,
                                                losses=lambda z, t: 10.0 * problem.objective.losses(z, t)))
    scaled_record = block_lipschitz_record(scaled, i, power=False)
    return {
        "objective": "F(z) = <z_1, z_2> (y1 * y2)", "n": 2, "d": 1, "i": i,
        "x": problem.inputs[0].tolist(), "W": problem.weights.tolist(),
        "widest_block_constants": [operator_norm(wide[k, k]) for k in range(problem.n)],
        "widest_cross_constant_L12": operator_norm(wide[0, 1]),
        "stated_bound": record["stated_bound"],
        "measured": record["measured"],
        "corrected_bound": record["corrected_bound"],
        "scaled_by_10": {"widest_block_constants": scaled_record["widest_constants"],
                         "measured": scaled_record["measured"], "stated_bound": scaled_record["stated_bound"]},
        "constants": record["constants"],
    }


def widest_block_loss(problem: CellProblem, i: int):
    r"""The widest cell's loss as a function of $V^{(i)}$ alone, the other $V^{(k)}$ fixed at the
    identified point (the block of assumption (5))."""
    fixed = list(problem.identified_widest_weights().detach())

    def loss(block: torch.Tensor) -> torch.Tensor:
        return problem.widest_loss(torch.stack(fixed[: i - 1] + [block] + fixed[i:]))

    return loss


def max_block_hessian_norm(loss, center: torch.Tensor, radius: float, starts: int = 3, steps: int = 25,
                           seed: int = 0) -> tuple[float, list]:
    r"""$\max \lVert \nabla^2 \mathrm{loss}(X) \rVert_2$ over the box $|X - X_0|_\infty \le r$ by
    multi-start projected gradient ascent. Each step takes the dense Hessian, its eigenvalue $\mu$ of largest
    magnitude and unit eigenvector $u$, and moves along $\nabla_X\, \mathrm{sign}(\mu)\, u^T H(X) u$
    (Danskin: the gradient of $|\mu|$ where it is simple; three backward passes), with Adam and a projection
    onto the box. The first start is the centre, the others uniform in the box. Returns `(best value, best
    point)`; the value is attained, so it is a lower estimate of the supremum over the box."""
    rng = np.random.default_rng(seed)
    size = center.numel()
    lo, hi = center - radius, center + radius
    best, best_point = -1.0, center.tolist()
    for start in range(starts):
        offset = 0.0 if start == 0 else torch.tensor(rng.uniform(-radius, radius, size=tuple(center.shape)))
        x = (center + offset).detach().clone().requires_grad_(True)
        optimizer = torch.optim.Adam([x], lr=radius / 10)
        for step in range(steps + 1):
            h = torch.autograd.functional.hessian(loss, x.detach()).reshape(size, size)
            values, vectors = torch.linalg.eigh(0.5 * (h + h.T))
            k = int(values.abs().argmax())
            if float(values[k].abs()) > best:
                best, best_point = float(values[k].abs()), x.detach().tolist()
            if step == steps:
                break
            u = vectors[:, k].reshape(center.shape)
            (g,) = torch.autograd.grad(loss(x), x, create_graph=True)
            (hu,) = torch.autograd.grad((g * u).sum(), x, create_graph=True)
            (direction,) = torch.autograd.grad(torch.sign(values[k]) * (hu * u).sum(), x)
            if not torch.isfinite(direction).all():
                break
            optimizer.zero_grad()
            x.grad = -direction
            optimizer.step()
            with torch.no_grad():
                x.copy_(torch.maximum(torch.minimum(x, hi), lo))
    return best, best_point


#: sup over all inputs of the second derivative of the scalar loss on one logit / coordinate: log cosh'' = sech^2
#: <= 1; softmax cross-entropy: ||diag(p) - p p^T||_2 <= 1/2; tanh then squared loss (|t| <= t_max):
#: |sech^4 a - 2 (tanh a - t) tanh a sech^2 a| <= 1 + 2 (1 + t_max) * 2 / (3 sqrt 3).
def _curvature_cap(problem: CellProblem) -> float | None:
    name = problem.objective.name
    if name == "log_cosh":
        return 1.0
    if name == "cross_entropy":
        return 0.5
    if name == "tanh_squared":
        return 1.0 + 2.0 * (1.0 + float(problem.targets.abs().max())) * 2.0 / (3.0 * np.sqrt(3.0))
    return None


def widest_global_upper_bound(problem: CellProblem, i: int) -> float | None:
    r"""A rigorous bound on the widest cell's *global* block constant $\sup_V \lVert H_{ii}(V) \rVert_2$
    (over all weights, not only a box), or `None` for objectives without one here.

    With $S = \frac1N \sum_s x_s x_s^T$: $\frac1N \sum_s \lVert \Delta x_s \rVert^2 \le \lambda_{\max}(S)
    \lVert \Delta \rVert_F^2$, so for log-cosh ($\log\cosh'' \le 1$) the bound is $\lambda_{\max}(S)$;
    through a read-out $R = (R_1, \dots, R_n)$ (node `i` enters the logits as $R_i z_i$) it is
    $c\, \lVert R_i \rVert_2^2 \lambda_{\max}(S)$ with `c` the curvature cap of the output loss (1/2 for
    softmax cross-entropy; see `_curvature_cap` for tanh-squared); the quadratic's is exact,
    $\lambda_{\max}(S)$."""
    x = problem.inputs.numpy()
    top = float(max(np.linalg.eigvalsh(x.T @ x / x.shape[0])[-1], 0.0))
    if problem.objective.name == "quadratic":
        return top
    cap = _curvature_cap(problem)
    if cap is None:
        return None
    if problem.objective.name == "log_cosh":
        return cap * top
    readout = getattr(problem.objective, "readout", None)
    if readout is None:
        return None
    d = problem.d
    block = readout[:, (i - 1) * d: i * d].numpy()
    return cap * float(np.linalg.norm(block, 2)) ** 2 * top


def estimate_global_constants(problem: CellProblem, i: int, radius: float = 1.0, starts: int = 3, steps: int = 25,
                              seed: int = 0) -> dict:
    r"""Global-versus-global for a block whose Hessian is not constant: the largest block-Hessian norm found over
    the box $\lVert W^{(i)} - W^{(i)}_0 \rVert_\infty \le r$ (narrowest cell, other blocks fixed) and over
    $\lVert V^{(i)} - V^{(i)}_0 \rVert_\infty \le r$ (widest cell at the identified point, other blocks
    fixed), and the stated bound rebuilt from the widest estimate.

    Both numbers are attained values, i.e. lower estimates of the suprema over the box; `survives` says whether
    the narrow estimate still exceeds the stated bound built from the widest estimate."""
    lambdas = spectral_norms(problem.weights)
    narrow, narrow_at = max_block_hessian_norm(narrowest_block_loss(problem, i), problem.weights[i - 1].detach(),
                                               radius, starts, steps, seed)
    wide_center = problem.identified_widest_weights()[i - 1].detach()
    wide, _ = max_block_hessian_norm(widest_block_loss(problem, i), wide_center, radius, starts, steps, seed + 1)
    bound = stated_bound(lambdas, i, wide)
    upper = widest_global_upper_bound(problem, i)
    rigorous = None if upper is None else stated_bound(lambdas, i, upper)
    return {"narrowest_global_estimate": narrow, "widest_global_estimate": wide,
            "stated_bound_from_global_estimates": bound, "survives": exceeds(narrow, bound),
            "widest_global_upper_bound": upper, "stated_bound_from_upper_bound": rigorous,
            "refuted_globally": None if rigorous is None else exceeds(narrow, rigorous),
            "narrowest_argmax": narrow_at}


def global_estimates(problems: list[tuple[str, CellProblem]], records: list[dict], quick: bool = False,
                     seed: int = 0) -> dict:
    """[`estimate_global_constants`][cellnas_edu.theory.lipschitz.estimate_global_constants] for the pointwise
    violations of `records` (all of them, or the first 3
    with fewer starts and steps when `quick`)."""
    pointwise = [r for r in records if r["stated_violated"] and r["constants"] == "local"]
    chosen = sorted(pointwise, key=lambda r: (r["d"], r["n"]))[:2] if quick else pointwise
    radius, starts, steps = 1.0, (2 if quick else 3), (6 if quick else 20)
    rows = []
    for index, record in enumerate(chosen):
        problem = problems[record["problem_index"]][1]
        estimate = estimate_global_constants(problem, record["i"], radius, starts, steps, seed + index)
        rows.append({"problem_index": record["problem_index"], "source": record["source"],
                     "objective": record["objective"], "n": record["n"], "d": record["d"], "i": record["i"],
                     "local_measured": record["measured"], "local_stated_bound": record["stated_bound"],
                     **{k: v for k, v in estimate.items() if k != "narrowest_argmax"}})
    ratios = [r["narrowest_global_estimate"] / r["stated_bound_from_global_estimates"] for r in rows
              if r["stated_bound_from_global_estimates"] > 0]
    return {
        "region": f"box of radius {radius} (max-norm) around the point, in W_i (narrowest) and V_i (widest), "
                  "other blocks fixed",
        "method": f"multi-start projected gradient ascent on the largest |eigenvalue| ({starts} starts, {steps} steps)",
        "pointwise_violations": len(pointwise),
        "estimated": len(rows),
        "survive_global_vs_global": sum(r["survives"] for r in rows),
        "refuted_globally": sum(bool(r["refuted_globally"]) for r in rows),
        "without_upper_bound": sum(r["refuted_globally"] is None for r in rows),
        "max_narrow_over_bound": max(ratios, default=0.0),
        "blocks": rows,
    }


def instance_problems(seed: int = 0, quick: bool = False) -> list[tuple[str, CellProblem]]:
    """`(source, problem)` pairs: random Gaussian instances, structured families
    ([`structured_problems`][cellnas_edu.theory.problems.structured_problems]) and hypothesis-generated integer
    instances."""
    rng = np.random.default_rng(seed)
    random_count, hyp_count = (6, 3) if quick else (24, 12)
    problems = [("random", random_problem(rng, objective=OBJECTIVE_NAMES[k % len(OBJECTIVE_NAMES)]))
                for k in range(random_count)]
    structured = structured_problems(rng)
    problems += [("structured", p) for p in (structured[::7] if quick else structured)]
    examples = draw_examples(cell_problems(integer=True, max_n=3, max_d=3), hyp_count, seed=seed)
    problems += [("hypothesis", p) for p, _ in examples]
    return problems


def summarize(records: list[dict]) -> dict:
    """Counts and extremes over block records."""
    def ratio(key):
        values = [r["measured"] / r[key] for r in records if r[key] > 0]
        return max(values) if values else 0.0

    with_power = [r for r in records if "power_iteration" in r]
    quadratic = [r for r in records if "closed_form" in r]
    separable = [r for r in records if "separable_corrected_bound" in r]
    return {
        "instances": len(records),
        "stated_bound_violations": sum(r["stated_violated"] for r in records),
        "constant_hessian_blocks": sum(r["constants"] == "global" for r in records),
        "global_refutations": sum(r["stated_violated"] for r in records if r["constants"] == "global"),
        "pointwise_violations": sum(r["stated_violated"] for r in records if r["constants"] == "local"),
        "corrected_bound_violations": sum(r["corrected_violated"] for r in records),
        "squared_single_term_violations": sum(exceeds(r["measured"], r["squared_single_term_bound"]) for r in records),
        "eigenvalue_reading_violations": sum(exceeds(r["measured"], r["stated_bound_eigenvalue_reading"])
                                             for r in records),
        "separable_corrected_violations": sum(exceeds(r["measured"], r["separable_corrected_bound"])
                                              for r in separable),
        "max_measured_over_stated": ratio("stated_bound"),
        "max_measured_over_corrected": ratio("corrected_bound"),
        "power_iteration": {
            "checked": len(with_power),
            "max_relative_difference": max((r["power_relative_difference"] for r in with_power), default=0.0),
            "max_iterations": max((r["power_iterations"] for r in with_power), default=0),
        },
        "structure_max_relative_error": max((r["structure_relative_error"] for r in records), default=0.0),
        "closed_form_max_relative_error": max((r["closed_form_relative_error"] for r in quadratic), default=0.0),
    }


def run_theorem_4_2(seed: int = 0, quick: bool = False, keep_records: bool = False) -> dict:
    """Check Theorem 4.2 on every block of every instance of
    [`instance_problems`][cellnas_edu.theory.lipschitz.instance_problems]; find the smallest
    counterexample with hypothesis. The result follows the schema of `theory/theorem_4_2.py --json`."""
    problems = instance_problems(seed, quick)
    records = []
    for index, (source, problem) in enumerate(problems):
        for record in problem_records(problem, power=True, seed=seed + 1000 * index):
            record["source"] = source
            record["problem_index"] = index
            records.append(record)
    summary = summarize(records)
    hand_problem, hand_i = hand_counterexample()
    result = {
        "theorem": "4.2",
        "instances": summary["instances"],
        "stated_bound_violations": summary["stated_bound_violations"],
        "global_refutations": summary["global_refutations"],
        "pointwise_violations": summary["pointwise_violations"],
        "constant_hessian_blocks": summary["constant_hessian_blocks"],
        "corrected_bound_violations": summary["corrected_bound_violations"],
        "counterexample": _counterexample_or_none(),
        "global_estimates": global_estimates(problems, records, quick=quick, seed=seed),
        "cross_curvature": cross_curvature_dict(),
        "reading": "lambda = spectral norm ||W||_2; gradient and weight differences in the Frobenius norm; "
                   "widest cell at V_k = W_k...W_1",
        "problems": len(problems),
        "by_source": {s: summarize([r for r in records if r["source"] == s])
                      for s in ("random", "structured", "hypothesis")},
        "by_objective": {name: summarize([r for r in records if r["objective"] == name]) for name in OBJECTIVE_NAMES},
        **{k: v for k, v in summary.items() if k not in ("instances", "stated_bound_violations",
                                                         "corrected_bound_violations", "global_refutations",
                                                         "pointwise_violations", "constant_hessian_blocks")},
        "hand_counterexample": counterexample_dict(hand_problem, hand_i),
        "corrected_bound": "L_hat_i <= (prod_{j<i} lambda_j)^2 * sum_{k,l=i..n} a_k a_l ||H_kl||_2, "
                           "a_k = prod_{j=i+1..k} lambda_j; separable F: (prod_{j<i} lambda_j)^2 sum_k a_k^2 L_k",
    }
    if keep_records:
        result["records"] = records
    return result
