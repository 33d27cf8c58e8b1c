r"""The two linear cells of Figure 26 (Section 4.3.1, Appendix C.1).

Both cells have one input node $x \in \mathbb{R}^d$, `n` intermediate
nodes and one output node $z$ that concatenates every intermediate node.
All operations are linear, and every weight matrix is square (`d x d`):

* **widest cell** (case I): $y^{(k)} = V^{(k)} x$ -- every node reads the input;
* **narrowest cell** (case II): $\hat y^{(k)} = W^{(k)} \hat y^{(k-1)} = W^{(k)} \cdots W^{(1)} x$
  -- a chain, with the paper's ordering $\prod_{j=1}^{k} W^{(j)} = W^{(k)} \cdots W^{(1)}$.

**The identification the proofs rely on.** Appendix C writes both cells with the
same symbols $W^{(k)}$ and uses $\partial \hat f / \partial \hat y^{(k)} =
\partial f / \partial y^{(k)}$ to turn (3) into (4). That equality only holds
when both cells produce the same node values, i.e. when the widest cell is
evaluated at

$$
V^{(k)} = W^{(k)} W^{(k-1)} \cdots W^{(1)} \qquad (k = 1, \dots, n),
$$

which is what [`identified_widest_weights`][cellnas_edu.theory.cells.identified_widest_weights] returns. Every "widest
cell"
quantity in [`cellnas_edu.theory`][cellnas_edu.theory] (its gradients, block Lipschitz constants
$L^{(k)}$, gradient variances $\sigma^{(k)}$) is taken at this
point. Under this identification the widest cell's parameters depend on *all*
$W^{(j)}, j \le k$; that dependence is what the proof of Theorem 4.2 loses
(see [`cellnas_edu.theory.lipschitz`][cellnas_edu.theory.lipschitz]).

Index convention: blocks are numbered 1..n as in the paper wherever a function
takes a block `i`; tensors are stored 0-based (`W[i - 1]` is $W^{(i)}$)."""

from __future__ import annotations

import torch


def chain_product(matrices: list[torch.Tensor] | torch.Tensor, size: int, like: torch.Tensor) -> torch.Tensor:
    r"""Ordered product $M_m \cdots M_1$ of the given matrices (first one rightmost); identity if empty."""
    out = torch.eye(size, dtype=like.dtype, device=like.device)
    for m in matrices:
        out = m @ out
    return out


def identified_widest_weights(weights: torch.Tensor) -> torch.Tensor:
    r"""$V^{(k)} = W^{(k)} \cdots W^{(1)}$ for `k = 1..n`, stacked as `(n, d, d)`.

    Evaluating the widest cell at these weights makes its nodes equal to the
    narrowest cell's nodes for every input (the identification of Appendix C.2)."""
    products = []
    current = torch.eye(weights.shape[-1], dtype=weights.dtype, device=weights.device)
    for w in weights:
        current = w @ current
        products.append(current)
    return torch.stack(products)


def narrowest_nodes(weights: torch.Tensor | list[torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    r"""Nodes of the narrowest cell for a batch: $\hat y^{(k)} = W^{(k)} \hat y^{(k-1)}$,
    $\hat y^{(0)} = x$.

    `weights` is `(n, d, d)` (shared), `(N, n, d, d)` (one copy per sample, for per-sample gradients) or a
    list of `n` matrices (so that one block can be a separate leaf tensor); `inputs` is `(N, d)`; returns
    `(N, n, d)`."""
    if isinstance(weights, torch.Tensor):
        weights = [weights[..., k, :, :] for k in range(weights.shape[-3])]
    nodes = []
    y = inputs
    for w in weights:
        y = y @ w.T if w.dim() == 2 else torch.einsum("src,sc->sr", w, y)
        nodes.append(y)
    return torch.stack(nodes, dim=1)


def widest_nodes(widest_weights: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    r"""Nodes of the widest cell for a batch: $y^{(k)} = V^{(k)} x$.

    `widest_weights` is `(n, d, d)` or `(N, n, d, d)`; `inputs` `(N, d)`; returns `(N, n, d)`."""
    if widest_weights.dim() == 3:
        return torch.einsum("krc,sc->skr", widest_weights, inputs)
    return torch.einsum("skrc,sc->skr", widest_weights, inputs)


def left_factor(weights: torch.Tensor, i: int, k: int) -> torch.Tensor:
    r"""$A_k = \prod_{j=i+1}^{k} W^{(j)} = W^{(k)} \cdots W^{(i+1)}$ (identity when `k == i`),
    1-based `i <= k`.

    The factor on the left of $\partial f/\partial W^{(k)}$ in equation (4)
    appears transposed: $A_k^T$."""
    if not 1 <= i <= k <= weights.shape[0]:
        raise ValueError(f"need 1 <= i <= k <= n, got i={i}, k={k}, n={weights.shape[0]}")
    return chain_product(weights[i:k], weights.shape[-1], weights)


def right_factor(weights: torch.Tensor, i: int) -> torch.Tensor:
    r"""$B = \prod_{j=1}^{i-1} W^{(j)} = W^{(i-1)} \cdots W^{(1)}$ (identity when `i == 1`), 1-based `i`.

    Equation (4) has $B^T$ on the right of every term; $B x = \hat y^{(i-1)}$ is the input of block `i`."""
    if not 1 <= i <= weights.shape[0]:
        raise ValueError(f"block i={i} is outside 1..{weights.shape[0]}")
    return chain_product(weights[: i - 1], weights.shape[-1], weights)

