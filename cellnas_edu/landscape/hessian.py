r"""Sharpness beyond the paper: the top Hessian eigenvalue at the trained weights.

Section 4.2.1 reads the Lipschitz constant $L$ of Theorem 4.1 off loss
contours and notes that "the largest eigenvalue of the Hessian matrix, which
indicates the maximum curvature of the objective function, is positively
correlated with Lipschitz constant" (Nesterov, 2004). We measure that number
directly. Locally, $\nabla f$ is Lipschitz with constant
$\lVert H \rVert_2 = \max_k |\lambda_k(H)|$, the eigenvalue of largest
magnitude, which is what **power iteration** converges to:

$$
v_{t+1} = \frac{H v_t}{\lVert H v_t \rVert}, \qquad \lambda_t = v_t^\top H v_t .
$$

At a minimum $H$ is (nearly) positive semi-definite and this is the top
eigenvalue; elsewhere it may be a negative eigenvalue of larger magnitude, and
the sign tells which. `H v` is a Hessian-vector product (Pearlmutter, 1994)
by double back-propagation, summed over chunks of the `M` samples, so
$H$ (`P x P`) is never formed. The loss is the mean cross-entropy in
evaluation mode, as for $s(\alpha, \beta)$.

Stopping rule: $|\lambda_t - \lambda_{t-1}| \le \mathrm{tol}\,|\lambda_t|$
or `max_iter` products; the result says whether it converged and reports the
residual $\lVert H v - \lambda v \rVert / |\lambda|$."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .surface import logits_of


@dataclass(frozen=True)
class HessianEigenvalue:
    """Result of [`top_hessian_eigenvalue`][cellnas_edu.landscape.hessian.top_hessian_eigenvalue]."""

    eigenvalue: float
    iterations: int
    converged: bool
    residual: float


def hessian_vector_product(model: nn.Module, params: dict[str, torch.Tensor], inputs: torch.Tensor,
                           targets: torch.Tensor, vector: list[torch.Tensor],
                           batch_size: int = 128) -> list[torch.Tensor]:
    """$H v$ of the mean cross-entropy over `inputs` at the model's weights (eval mode)."""
    tensors = list(params.values())
    total = [torch.zeros_like(p) for p in tensors]
    count = inputs.shape[0]
    with torch.enable_grad():
        for start in range(0, count, batch_size):
            logits = logits_of(model, inputs[start:start + batch_size])
            loss = F.cross_entropy(logits, targets[start:start + batch_size], reduction="sum") / count
            grads = torch.autograd.grad(loss, tensors, create_graph=True)
            dot = sum((g * v).sum() for g, v in zip(grads, vector))
            hv = torch.autograd.grad(dot, tensors)
            torch._foreach_add_(total, [h.detach() for h in hv])
    return total


def _dot(a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
    return sum((x.double() * y.double()).sum() for x, y in zip(a, b))


def top_hessian_eigenvalue(model: nn.Module, params: dict[str, torch.Tensor], inputs: torch.Tensor,
                           targets: torch.Tensor, *, tol: float = 1e-3, max_iter: int = 100, seed: int = 0,
                           batch_size: int = 128) -> HessianEigenvalue:
    """The Hessian eigenvalue of largest magnitude by power iteration (see the module docstring)."""
    if model.training:
        raise ValueError("the Hessian is measured in evaluation mode; call model.eval() first")
    if tol <= 0 or max_iter < 1:
        raise ValueError(f"need tol > 0 and max_iter >= 1, got tol={tol}, max_iter={max_iter}")
    requires = [p.requires_grad for p in params.values()]
    for p in params.values():
        p.requires_grad_(True)
    try:
        generator = torch.Generator(device="cpu").manual_seed(int(seed))
        v = [torch.randn(tuple(p.shape), generator=generator).to(p) for p in params.values()]
        norm = _dot(v, v).sqrt()
        v = [x / norm.to(x.dtype) for x in v]
        eigenvalue, previous, converged, residual = 0.0, None, False, float("nan")
        iterations = 0
        while iterations < max_iter:
            iterations += 1
            hv = hessian_vector_product(model, params, inputs, targets, v, batch_size)
            eigenvalue = float(_dot(v, hv))
            hv_norm = _dot(hv, hv).sqrt()
            residual_vec = [h - eigenvalue * x for h, x in zip(hv, v)]
            residual = float(_dot(residual_vec, residual_vec).sqrt()) / max(abs(eigenvalue), 1e-300)
            if float(hv_norm) == 0.0:
                converged = True
                break
            if previous is not None and abs(eigenvalue - previous) <= tol * abs(eigenvalue):
                converged = True
                break
            previous = eigenvalue
            v = [h / hv_norm.to(h.dtype) for h in hv]
    finally:
        for p, r in zip(params.values(), requires):
            p.requires_grad_(r)
    return HessianEigenvalue(eigenvalue=eigenvalue, iterations=iterations, converged=converged, residual=residual)
