r"""Block Hessians of both cells, Hessian-vector products and power iteration (Section 4.3.2, Appendix C.3).

Block-wise Lipschitz smoothness (Beck & Tetruashvili, 2013; equation (5)) of a
$C^2$ loss with respect to block $W^{(i)}$ -- all other blocks fixed,
gradient differences and weight differences measured in the Frobenius norm -- is

$$
L^{(i)} = \sup_{W^{(i)}} \big\lVert \nabla^2_{W^{(i)}} f \big\rVert_2 ,
$$

the spectral norm of the block Hessian seen as a symmetric $d^2 \times d^2$
operator on $\mathrm{vec}(W^{(i)})$ (mean value theorem). At one point the
Hessian norm is the *local* constant; for the quadratic objective the Hessian is
constant, so the local constant is the exact global one.

Three independent ways to get the narrowest cell's block constant:

* [`narrowest_block_hessian`][cellnas_edu.theory.hessian.narrowest_block_hessian]: the dense Hessian by
  `torch.autograd.functional.hessian`, then the largest absolute eigenvalue
  (`numpy.linalg.eigvalsh`, [`symmetric_spectral_norm`][cellnas_edu.theory.hessian.symmetric_spectral_norm]);
* [`power_iteration_norm`][cellnas_edu.theory.hessian.power_iteration_norm] on Hessian-vector products (Lanczos,
  `scipy.sparse.linalg.eigsh`)
  ([`BlockHessianVectorProduct`][cellnas_edu.theory.hessian.BlockHessianVectorProduct], double backward through one
  retained graph);
* for the quadratic, the closed form
  [`quadratic_narrowest_block_constant`][cellnas_edu.theory.hessian.quadratic_narrowest_block_constant].

**Structure (the reason Theorem 4.2 fails).** Let $A_k = W^{(k)} \cdots
W^{(i+1)}$, $B = W^{(i-1)} \cdots W^{(1)}$. With all other blocks fixed, the
identified widest weights $V^{(k)} = A_k W^{(i)} B$ (`k >= i`) are *linear*
in $W^{(i)}$, so $\hat f = f \circ (\text{linear map})$ and exactly

$$
\nabla^2_{W^{(i)}} \hat f = J^T H J, \qquad
J: \Delta \mapsto (A_k \Delta B)_{k=i}^n,\quad
H = \nabla^2_{(V^{(i)}, \dots, V^{(n)})} f ,
$$

with no curvature term from the map. [`chain_jacobian`][cellnas_edu.theory.hessian.chain_jacobian] builds $J$
(row-major vectorisation: $\mathrm{vec}(A \Delta B) = (A \otimes B^T)
\mathrm{vec}(\Delta)$) and [`widest_hessian_blocks`][cellnas_edu.theory.hessian.widest_hessian_blocks] the blocks
$H_{kl}$ of the widest cell's Hessian, so the identity can be checked
numerically (`structure_relative_error` in [`cellnas_edu.theory.lipschitz`][cellnas_edu.theory.lipschitz])."""

from __future__ import annotations

import numpy as np
import torch

from .cells import left_factor, right_factor
from .problems import CellProblem


def narrowest_block_loss(problem: CellProblem, i: int):
    r"""The narrowest cell's loss as a function of block $W^{(i)}$ alone (1-based `i`).

    The other blocks enter as constants of a list (no concatenation), which keeps the double-backward graph of a
    Hessian-vector product small."""
    fixed = list(problem.weights.detach())

    def loss(block: torch.Tensor) -> torch.Tensor:
        return problem.narrowest_loss(fixed[: i - 1] + [block] + fixed[i:])

    return loss


def _blocks(hessian: torch.Tensor, m: int, d: int) -> np.ndarray:
    return hessian.reshape(m, d * d, m, d * d).permute(0, 2, 1, 3).numpy()


def narrowest_hessian(problem: CellProblem) -> np.ndarray:
    r"""Full Hessian of $\hat f$ w.r.t. $(W^{(1)}, \dots, W^{(n)})$ by
    `torch.autograd.functional.hessian`, as blocks `(n, n, d*d, d*d)` (row-major vec)."""
    weights = problem.weights.detach().clone()
    return _blocks(torch.autograd.functional.hessian(problem.narrowest_loss, weights), problem.n, problem.d)


def narrowest_block_hessian(problem: CellProblem, i: int, full: np.ndarray | None = None) -> np.ndarray:
    r"""Dense $\nabla^2_{W^{(i)}} \hat f$, `(d*d, d*d)`: diagonal block `i` of
    [`narrowest_hessian`][cellnas_edu.theory.hessian.narrowest_hessian]
    (pass `full` to reuse it)."""
    full = narrowest_hessian(problem) if full is None else full
    return full[i - 1, i - 1]


def widest_hessian(problem: CellProblem) -> np.ndarray:
    r"""Full Hessian of the widest cell $f$ w.r.t. $(V^{(1)}, \dots, V^{(n)})$ at the identified point
    $V^{(k)} = W^{(k)} \cdots W^{(1)}$, as blocks `(n, n, d*d, d*d)`."""
    v = problem.identified_widest_weights().detach().clone()
    return _blocks(torch.autograd.functional.hessian(problem.widest_loss, v), problem.n, problem.d)


def widest_hessian_blocks(problem: CellProblem, i: int = 1, full: np.ndarray | None = None) -> np.ndarray:
    r"""Blocks $H_{kl} = \partial^2 f / \partial V^{(k)} \partial V^{(l)}$ for `k, l = i..n`,
    shape `(m, m, d*d, d*d)` with `m = n - i + 1`; `H[0, 0]` belongs to $V^{(i)}$."""
    full = widest_hessian(problem) if full is None else full
    return full[i - 1:, i - 1:]


def symmetric_spectral_norm(matrix: np.ndarray) -> float:
    """Spectral norm of a symmetric matrix: the largest absolute eigenvalue (`eigvalsh`)."""
    if matrix.size == 0:
        return 0.0
    sym = 0.5 * (matrix + matrix.T)
    return float(np.max(np.abs(np.linalg.eigvalsh(sym))))


def operator_norm(matrix: np.ndarray) -> float:
    """Spectral norm (largest singular value) of any matrix."""
    return float(np.linalg.norm(matrix, 2)) if matrix.size else 0.0


class BlockHessianVectorProduct:
    r"""$v \mapsto \nabla^2_{W^{(i)}} \hat f \, v$ by double backward; the gradient graph is built once."""

    def __init__(self, problem: CellProblem, i: int):
        self.block = problem.weights[i - 1].detach().clone().requires_grad_(True)
        loss = narrowest_block_loss(problem, i)(self.block)
        (self.gradient,) = torch.autograd.grad(loss, self.block, create_graph=True)
        self.calls = 0

    def __call__(self, vector: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        (product,) = torch.autograd.grad(self.gradient, self.block, grad_outputs=vector, retain_graph=True)
        return product


def power_iteration_norm(matvec, shape, seed: int = 0, max_iter: int = 400, tol: float = 1e-11) -> tuple[float, int]:
    r"""Spectral norm of a symmetric operator $H$ from products $v \mapsto Hv$ alone.

    The eigenvalue of largest magnitude by ARPACK's Lanczos iteration
    (`scipy.sparse.linalg.eigsh` on a `LinearOperator`, `which="LM"`),
    started from a seeded random vector; `tol` is its relative accuracy and `max_iter` bounds its restarts.
    An operator on fewer than three entries is formed densely from its products. Returns
    `(norm, products used)`."""
    from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

    size = int(np.prod(shape))
    calls = 0

    def product(x: np.ndarray) -> np.ndarray:
        nonlocal calls
        calls += 1
        vector = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64).reshape(shape))
        return matvec(vector).detach().cpu().numpy().astype(np.float64).reshape(-1)

    if size < 3:  # ARPACK needs k < size - 1
        dense = np.column_stack([product(e) for e in np.eye(size)]) if size else np.zeros((0, 0))
        return symmetric_spectral_norm(dense), calls
    start = torch.randn(size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).numpy()
    if not np.any(product(start)):  # H v = 0 for a random v: H = 0 (almost surely), which ARPACK cannot start on
        return 0.0, calls
    operator = LinearOperator((size, size), matvec=product, dtype=np.float64)
    try:
        (value,) = eigsh(operator, k=1, which="LM", v0=start, tol=tol, maxiter=max_iter, return_eigenvectors=False)
    except ArpackError:  # e.g. an invariant subspace hit at once; the operator is small: form it
        dense = np.column_stack([product(e) for e in np.eye(size)])
        return symmetric_spectral_norm(dense), calls
    return float(abs(value)), calls


def narrowest_block_constant_by_power_iteration(problem: CellProblem, i: int, seed: int = 0,
                                                 max_iter: int = 400) -> tuple[float, int]:
    """Local block-Lipschitz constant of the narrowest cell w.r.t. $W^{(i)}$ from Hessian-vector products."""
    product = BlockHessianVectorProduct(problem, i)
    return power_iteration_norm(product, (problem.d, problem.d), seed=seed, max_iter=max_iter)


def chain_jacobian(weights: torch.Tensor, i: int) -> np.ndarray:
    r"""$J$, stacked blocks $A_k \otimes B^T$ (`k = i..n`): $\mathrm{vec}\,\Delta V^{(k)}$ for a
    change $\Delta$ of $W^{(i)}$; shape `(m*d*d, d*d)`."""
    b = right_factor(weights, i).numpy()
    return np.concatenate([np.kron(left_factor(weights, i, k).numpy(), b.T) for k in range(i, weights.shape[0] + 1)])


def quadratic_narrowest_block_constant(problem: CellProblem, i: int) -> float:
    r"""Closed form for the quadratic objective: $\lambda_{\max}(\sum_{k \ge i} A_k^T A_k)\,
    \lambda_{\max}(B S B^T)$ with $S = \frac1N \sum_s x_s x_s^T$.

    The block loss is $\frac1{2N} \sum_s \sum_k \lVert A_k W^{(i)} B x_s - t_{ks} \rVert^2$, whose Hessian is
    the Kronecker product $(\sum_k A_k^T A_k) \otimes (B S B^T)$; the spectral norm of a Kronecker product of
    PSD matrices is the product of their largest eigenvalues."""
    if not problem.objective.quadratic:
        raise ValueError("the closed form holds for the quadratic objective only")
    w = problem.weights
    x = problem.inputs.numpy()
    s = x.T @ x / x.shape[0]
    b = right_factor(w, i).numpy()
    gram = sum(left_factor(w, i, k).numpy().T @ left_factor(w, i, k).numpy() for k in range(i, problem.n + 1))
    return float(np.linalg.eigvalsh(gram)[-1] * max(np.linalg.eigvalsh(b @ s @ b.T)[-1], 0.0))


def quadratic_widest_block_constant(problem: CellProblem) -> float:
    r"""Closed form for the quadratic objective: the widest cell's block constant $L^{(k)} = \lambda_{\max}(S)$,
    $S = \frac1N \sum_s x_s x_s^T$, the same for every `k` (the block Hessian is $I \otimes S$)."""
    if not problem.objective.quadratic:
        raise ValueError("the closed form holds for the quadratic objective only")
    x = problem.inputs.numpy()
    return float(max(np.linalg.eigvalsh(x.T @ x / x.shape[0])[-1], 0.0))
