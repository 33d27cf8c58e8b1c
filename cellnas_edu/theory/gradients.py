r"""Per-sample gradients of both cells by autograd, and the right-hand sides of equations (1)-(4).

Appendix C.2 writes the gradients of the two cells of Figure 26 as

$$
\frac{\partial f}{\partial W^{(i)}} = \frac{\partial f}{\partial y^{(i)}} x^T \qquad (1)
$$

$$
\frac{\partial \hat f}{\partial W^{(i)}}
  = \sum_{k=i}^n A_k^T \frac{\partial \hat f}{\partial \hat y^{(k)}} (B x)^T \qquad (2)
  = \sum_{k=i}^n A_k^T \frac{\partial \hat f}{\partial \hat y^{(k)}} x^T B^T \qquad (3)
  = \sum_{k=i}^n A_k^T \frac{\partial f}{\partial W^{(k)}} B^T \qquad (4)
$$

with $A_k = W^{(k)} \cdots W^{(i+1)}$ and $B = W^{(i-1)} \cdots W^{(1)}$
([`left_factor`][cellnas_edu.theory.cells.left_factor], [`right_factor`][cellnas_edu.theory.cells.right_factor]).

Two details matter:

* $\partial \hat f / \partial \hat y^{(k)}$ in (2)-(3) is the *partial*
  derivative of $F$ with respect to its `k`-th block (the node as it
  enters the concatenation), not the total derivative through the later nodes;
  the sum over `k` accounts for those paths. [`node_gradients`][cellnas_edu.theory.gradients.node_gradients] computes
  exactly $\nabla_z F$ at the node values.
* In (4), $\partial f/\partial W^{(k)}$ is the widest cell's gradient,
  taken at the identified point $V^{(k)} = W^{(k)} \cdots W^{(1)}$
  ([`cellnas_edu.theory.cells`][cellnas_edu.theory.cells]); only there is
  $\partial \hat f/\partial \hat y^{(k)} = \partial f/\partial y^{(k)}$.

All functions return per-sample tensors (leading dimension `N`): the identities
hold sample by sample, which is what the proof of Theorem 4.3 uses."""

from __future__ import annotations

import torch

from .cells import left_factor, narrowest_nodes, right_factor, widest_nodes
from .problems import CellProblem


def per_sample_gradients(losses, weights: torch.Tensor, num_samples: int) -> torch.Tensor:
    """Gradient of each per-sample loss with respect to `weights`, shape `(N, *weights.shape)`.

    One backward pass: every sample gets its own copy of the weights, so the gradient of the *sum* of the losses
    with respect to copy `s` is exactly the gradient of loss `s`."""
    copies = weights.detach().unsqueeze(0).repeat(num_samples, *([1] * weights.dim())).requires_grad_(True)
    (gradient,) = torch.autograd.grad(losses(copies).sum(), copies)
    return gradient


def narrowest_weight_gradients(problem: CellProblem, weights: torch.Tensor | None = None) -> torch.Tensor:
    r"""$\partial \hat f_s / \partial W^{(k)}$ by autograd, shape `(N, n, d, d)`."""
    w = problem.weights if weights is None else weights
    return per_sample_gradients(problem.narrowest_losses, w, problem.num_samples)


def widest_weight_gradients(problem: CellProblem, widest_weights: torch.Tensor | None = None) -> torch.Tensor:
    r"""$\partial f_s / \partial V^{(k)}$ by autograd at `widest_weights` (default: the identified point
    $V^{(k)} = W^{(k)} \cdots W^{(1)}$), shape `(N, n, d, d)`."""
    v = problem.identified_widest_weights() if widest_weights is None else widest_weights
    return per_sample_gradients(problem.widest_losses, v, problem.num_samples)


def node_gradients(problem: CellProblem, nodes: torch.Tensor) -> torch.Tensor:
    r"""$\nabla_z F(z_s, t_s)$ at given node values `nodes` `(N, n, d)`: the partial derivatives
    $\partial f/\partial y^{(k)}$ (or $\partial \hat f/\partial \hat y^{(k)}$), shape `(N, n, d)`."""
    z = nodes.detach().clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(problem.objective.losses(z, problem.targets).sum(), z)
    return gradient


def narrowest_node_values(problem: CellProblem) -> torch.Tensor:
    r"""$\hat y^{(k)}(x_s)$, shape `(N, n, d)`."""
    return narrowest_nodes(problem.weights, problem.inputs)


def widest_node_values(problem: CellProblem, widest_weights: torch.Tensor | None = None) -> torch.Tensor:
    r"""$y^{(k)}(x_s) = V^{(k)} x_s$, shape `(N, n, d)` (identified point by default)."""
    v = problem.identified_widest_weights() if widest_weights is None else widest_weights
    return widest_nodes(v, problem.inputs)


def equation_1_rhs(problem: CellProblem, widest_weights: torch.Tensor | None = None) -> torch.Tensor:
    r"""Right-hand side of (1): $\frac{\partial f}{\partial y^{(k)}} x^T$ for every `k`, `(N, n, d, d)`."""
    g = node_gradients(problem, widest_node_values(problem, widest_weights))
    return torch.einsum("skr,sc->skrc", g, problem.inputs)


def equation_2_rhs(problem: CellProblem, i: int, node_grads: torch.Tensor | None = None) -> torch.Tensor:
    r"""Right-hand side of (2) for block `i` (1-based): $\sum_k A_k^T g_k (Bx)^T$, `(N, d, d)`.

    `node_grads` (`(N, n, d)`, $g_k = \partial \hat f/\partial \hat y^{(k)}$) is computed when not given."""
    g = node_gradients(problem, narrowest_node_values(problem)) if node_grads is None else node_grads
    w = problem.weights
    bx = problem.inputs @ right_factor(w, i).T
    terms = [left_factor(w, i, k).T @ torch.einsum("sr,sc->src", g[:, k - 1], bx) for k in range(i, problem.n + 1)]
    return torch.stack(terms).sum(0)


def equation_3_rhs(problem: CellProblem, i: int, node_grads: torch.Tensor | None = None) -> torch.Tensor:
    r"""Right-hand side of (3) for block `i`: $\sum_k A_k^T g_k x^T B^T$, `(N, d, d)`."""
    g = node_gradients(problem, narrowest_node_values(problem)) if node_grads is None else node_grads
    w = problem.weights
    b = right_factor(w, i)
    terms = [left_factor(w, i, k).T @ torch.einsum("sr,sc->src", g[:, k - 1], problem.inputs) @ b.T
             for k in range(i, problem.n + 1)]
    return torch.stack(terms).sum(0)


def equation_4_terms(problem: CellProblem, i: int, widest_grads: torch.Tensor | None = None) -> torch.Tensor:
    r"""The terms $A_k^T \frac{\partial f}{\partial W^{(k)}} B^T$ of (4), `k = i..n`;
    shape `(n-i+1, N, d, d)`.

    `widest_grads` (`(N, n, d, d)`) defaults to the widest cell's per-sample gradients at the identified point."""
    w = problem.weights
    g = widest_weight_gradients(problem) if widest_grads is None else widest_grads
    b = right_factor(w, i)
    return torch.stack([left_factor(w, i, k).T @ g[:, k - 1] @ b.T for k in range(i, problem.n + 1)])


def equation_4_rhs(problem: CellProblem, i: int, widest_grads: torch.Tensor | None = None) -> torch.Tensor:
    r"""Right-hand side of (4) for block `i`: $\sum_k A_k^T \frac{\partial f}{\partial W^{(k)}} B^T$."""
    return equation_4_terms(problem, i, widest_grads).sum(0)
