r"""Objectives $F$ on the output node $z$ (Section 4.3.1: "an arbitrary objective function").

The paper lets "both cells have the same arbitrary objective function f
following the output node". Here $F$ acts on the stacked intermediate
nodes of one sample, `z` of shape `(n, d)` (the concatenation of Figure 26),
and that sample's target. Objectives are evaluated on a batch: `losses(z,
targets)` maps `(N, n, d)` and `(N, ...)` to the `N` per-sample losses; the
cell loss is their mean, so expectations and variances over the data set are
exact averages.

| name | per-sample loss | separable | quadratic |
|---|---|---|---|
| `quadratic` | $\tfrac12 \sum_k \lVert z_k - t_k \rVert^2$ | yes | yes |
| `log_cosh` | $\sum_{k,r} \log\cosh(z_{kr} - t_{kr})$ | yes | no |
| `cross_entropy` | softmax cross-entropy of $R\,\mathrm{vec}(z)$ vs. a one-hot label (fixed read-out `R`) | no | no |
| `tanh_squared` | $\tfrac12 \lVert \tanh(R\,\mathrm{vec}(z)) - t \rVert^2$ | no | no |

*Separable* means $F(z) = \sum_k F_k(z_k)$: the cross-node Hessian blocks
$\partial^2 F / \partial z_k \partial z_l$ vanish for $k \ne l$,
which simplifies the corrected bound of Theorem 4.2
([`cellnas_edu.theory.lipschitz.corrected_bound`][cellnas_edu.theory.lipschitz.corrected_bound]). *Quadratic* means the
Hessian does not depend on the point (nor on the targets), so a Hessian norm
measured anywhere is the global Lipschitz constant.

One more objective is kept out of the random instance sets because it exists to
make a point: [`cross_product`][cellnas_edu.theory.objectives.cross_product], $F(z) = \langle z_1, z_2 \rangle$. It
is a polynomial of degree two, so its Hessian is constant as well
(`constant_hessian`), but it has *no* curvature inside any single node: every
block constant $L^{(k)}$ of the widest cell is 0, while the nodes are
coupled
([`cellnas_edu.theory.lipschitz.cross_curvature_counterexample`][cellnas_edu.theory.lipschitz.cross_curvature_counterexample])."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

OBJECTIVE_NAMES = ("quadratic", "cross_entropy", "log_cosh", "tanh_squared")


@dataclass(frozen=True)
class Objective:
    """Per-sample objective $F(z_s, t_s)$ on a batch, plus what is known about its structure."""

    name: str
    losses: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = field(repr=False)
    separable: bool
    quadratic: bool
    constant_hessian: bool | None = None  #: degree-2 polynomial: local block constants are global (default: quadratic)
    readout: torch.Tensor | None = field(default=None, repr=False, compare=False)  #: the fixed read-out R, if any

    def __post_init__(self):
        if self.constant_hessian is None:
            object.__setattr__(self, "constant_hessian", self.quadratic)


def quadratic() -> Objective:
    r"""$F(z) = \tfrac12 \sum_k \lVert z_k - t_k \rVert^2$; targets `(N, n, d)`."""
    return Objective("quadratic", lambda z, t: 0.5 * ((z - t) ** 2).sum((1, 2)), separable=True, quadratic=True)


def log_cosh() -> Objective:
    r"""$F(z) = \sum \log\cosh(z - t)$, smooth and separable; targets `(N, n, d)`.

    Written as `logaddexp(u, -u) - log 2` so it never overflows and autograd's
    second derivative is exact everywhere (also at `u = 0`)."""

    def losses(z, t):
        u = z - t
        return (torch.logaddexp(u, -u) - math.log(2.0)).sum((1, 2))

    return Objective("log_cosh", losses, separable=True, quadratic=False)


def cross_entropy(readout: torch.Tensor) -> Objective:
    r"""Softmax cross-entropy of the logits $R\,\mathrm{vec}(z)$; targets = one-hot labels `(N, C)`."""

    def losses(z, onehot):
        logits = z.flatten(1) @ readout.T
        return torch.logsumexp(logits, dim=1) - (onehot * logits).sum(1)

    return Objective("cross_entropy", losses, separable=False, quadratic=False, readout=readout)


def tanh_squared(readout: torch.Tensor) -> Objective:
    r"""A tanh layer then squared loss, $\tfrac12 \lVert \tanh(R\,\mathrm{vec}(z)) - t \rVert^2$;
    targets `(N, m)`."""

    def losses(z, t):
        return 0.5 * ((torch.tanh(z.flatten(1) @ readout.T) - t) ** 2).sum(1)

    return Objective("tanh_squared", losses, separable=False, quadratic=False, readout=readout)


def cross_product() -> Objective:
    r"""$F(z) = \langle z_1, z_2 \rangle = \sum_r z_{1r} z_{2r}$ (needs `n >= 2`; targets are ignored).

    Degree two, so the Hessian is constant (global constants), but
    $\partial^2 F / \partial z_k^2 = 0$ for every `k`: only the cross block
    $\partial^2 F / \partial z_1 \partial z_2 = I$ is non-zero."""
    return Objective("cross_product", lambda z, t: (z[:, 0] * z[:, 1]).sum(1), separable=False, quadratic=False,
                     constant_hessian=True)


def random_objective(name: str, n: int, d: int, num_samples: int, rng: np.random.Generator,
                     outputs: int = 3) -> tuple[Objective, torch.Tensor]:
    """Objective `name` with a random fixed read-out (where it has one) and random per-sample targets.

    Returns `(objective, targets)` with `targets[s]` the target of sample `s` (float64)."""
    def tensor(a):
        return torch.tensor(np.asarray(a), dtype=torch.float64)

    if name == "quadratic":
        return quadratic(), tensor(rng.normal(size=(num_samples, n, d)))
    if name == "log_cosh":
        return log_cosh(), tensor(rng.normal(size=(num_samples, n, d)))
    if name == "cross_entropy":
        readout = tensor(rng.normal(size=(outputs, n * d)) / math.sqrt(n * d))
        labels = rng.integers(0, outputs, size=num_samples)
        return cross_entropy(readout), tensor(np.eye(outputs)[labels])
    if name == "tanh_squared":
        readout = tensor(rng.normal(size=(outputs, n * d)) / math.sqrt(n * d))
        return tanh_squared(readout), tensor(rng.uniform(-0.9, 0.9, size=(num_samples, outputs)))
    raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVE_NAMES)}")
