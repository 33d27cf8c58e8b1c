r"""A cell problem: the weights of Figure 26, a finite data set and an objective.

The losses are means over the samples (Section 4.2.2 follows Ghadimi & Lan and
treats the sample as the source of gradient noise), so "the expectation over
inputs" in Theorem 4.3 is an exact average over the uniform distribution on the
data set:

$$
\hat f(W) = \frac1N \sum_{s=1}^N F(\hat z(W, x_s), t_s), \qquad
f(V) = \frac1N \sum_{s=1}^N F(z(V, x_s), t_s).
$$

[`random_problem`][cellnas_edu.theory.problems.random_problem] draws the instances the theory scripts check;
[`quadratic_single_input`][cellnas_edu.theory.problems.quadratic_single_input] builds the hand-checkable problems of the
counterexamples (one input, quadratic objective, zero targets)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from .cells import identified_widest_weights, narrowest_nodes, widest_nodes
from .objectives import OBJECTIVE_NAMES, Objective, quadratic, random_objective


@dataclass(frozen=True)
class CellProblem:
    """Weights $W^{(1..n)}$ `(n, d, d)`, inputs `(N, d)`, per-sample targets and the objective."""

    weights: torch.Tensor
    inputs: torch.Tensor
    targets: torch.Tensor
    objective: Objective

    def __post_init__(self):
        w, x = self.weights, self.inputs
        if w.dim() != 3 or w.shape[1] != w.shape[2]:
            raise ValueError(f"weights must have shape (n, d, d), got {tuple(w.shape)}")
        if x.dim() != 2 or x.shape[1] != w.shape[1]:
            raise ValueError(f"inputs must have shape (N, {w.shape[1]}), got {tuple(x.shape)}")
        if self.targets.shape[0] != x.shape[0]:
            raise ValueError(f"{x.shape[0]} inputs but {self.targets.shape[0]} targets")
        if w.dtype != torch.float64 or x.dtype != torch.float64 or self.targets.dtype != torch.float64:
            raise ValueError("the theory checks run in float64: weights, inputs and targets must be torch.float64")

    @property
    def n(self) -> int:
        """Number of intermediate nodes."""
        return self.weights.shape[0]

    @property
    def d(self) -> int:
        """Node dimension."""
        return self.weights.shape[1]

    @property
    def num_samples(self) -> int:
        return self.inputs.shape[0]

    def with_weights(self, weights: torch.Tensor) -> CellProblem:
        return replace(self, weights=weights)

    def narrowest_losses(self, weights: torch.Tensor) -> torch.Tensor:
        r"""Per-sample losses $\hat f_s(W) = F(\hat z(W, x_s), t_s)$, shape `(N,)`.

        `weights` is `(n, d, d)` or one copy per sample `(N, n, d, d)` (then `f_s` depends on copy `s` only,
        which is how [`gradients`][cellnas_edu.theory.gradients] gets per-sample gradients from one backward pass)."""
        return self.objective.losses(narrowest_nodes(weights, self.inputs), self.targets)

    def widest_losses(self, widest_weights: torch.Tensor) -> torch.Tensor:
        r"""Per-sample losses $f_s(V) = F(z(V, x_s), t_s)$, shape `(N,)`; `(n, d, d)` or `(N, n, d, d)`."""
        return self.objective.losses(widest_nodes(widest_weights, self.inputs), self.targets)

    def narrowest_loss(self, weights: torch.Tensor) -> torch.Tensor:
        r"""$\hat f(W)$, the mean over samples."""
        return self.narrowest_losses(weights).mean()

    def widest_loss(self, widest_weights: torch.Tensor) -> torch.Tensor:
        r"""$f(V)$, the mean over samples."""
        return self.widest_losses(widest_weights).mean()

    def identified_widest_weights(self) -> torch.Tensor:
        r"""$V^{(k)} = W^{(k)} \cdots W^{(1)}$: the widest cell's point that matches this narrowest cell."""
        return identified_widest_weights(self.weights)


def as_float64(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)


def random_problem(rng: np.random.Generator, objective: str | None = None, n: int | None = None,
                   d: int | None = None, num_samples: int | None = None) -> CellProblem:
    """A random instance: `n` in 1..5, `d` in 1..6, 2..6 samples, Gaussian weights with spectral scales spread
    over roughly [0.3, 2] (so products of norms are both below and above 1), Gaussian inputs."""
    name = objective or OBJECTIVE_NAMES[int(rng.integers(len(OBJECTIVE_NAMES)))]
    n = int(rng.integers(1, 6)) if n is None else n
    d = int(rng.integers(1, 7)) if d is None else d
    num_samples = int(rng.integers(2, 7)) if num_samples is None else num_samples
    scales = np.exp(rng.uniform(np.log(0.3), np.log(2.0), size=(n, 1, 1)))
    weights = scales * rng.normal(size=(n, d, d)) / np.sqrt(d)
    inputs = rng.normal(size=(num_samples, d))
    obj, targets = random_objective(name, n, d, num_samples, rng)
    return CellProblem(as_float64(weights), as_float64(inputs), targets, obj)


def quadratic_single_input(weights, x, targets=None) -> CellProblem:
    r"""The quadratic objective with one input `x` and (by default) zero targets.

    The quadratic's Hessian does not depend on the targets, so the block
    Lipschitz constants of such a problem are those of *every* target choice."""
    w = as_float64(weights)
    xs = as_float64(x).reshape(1, -1)
    t = torch.zeros(1, w.shape[0], w.shape[1], dtype=torch.float64) if targets is None else as_float64(targets)
    return CellProblem(w, xs, t.reshape(1, w.shape[0], w.shape[1]), quadratic())


def structured_problems(rng: np.random.Generator) -> list[CellProblem]:
    """Hand-picked weight families that random Gaussians rarely produce: orthogonal (all norms 1), contractions,
    expansions, diagonal, nilpotent Jordan blocks (spectral radius 0, norm 1), rank one, and zero blocks;
    each with every objective."""
    problems = []
    for name in OBJECTIVE_NAMES:
        for family in ("orthogonal", "contraction", "expansion", "diagonal", "nilpotent", "rank_one", "zero_block"):
            n, d = int(rng.integers(2, 5)), int(rng.integers(2, 5))
            if family == "orthogonal":
                weights = np.stack([np.linalg.qr(rng.normal(size=(d, d)))[0] for _ in range(n)])
            elif family == "contraction":
                weights = 0.5 * np.stack([np.linalg.qr(rng.normal(size=(d, d)))[0] for _ in range(n)])
            elif family == "expansion":
                weights = 1.5 * np.stack([np.linalg.qr(rng.normal(size=(d, d)))[0] for _ in range(n)])
            elif family == "diagonal":
                weights = np.stack([np.diag(rng.uniform(-2, 2, size=d)) for _ in range(n)])
            elif family == "nilpotent":
                weights = np.stack([np.eye(d, k=1) * rng.uniform(0.5, 2.0) for _ in range(n)])
                weights[0] = rng.normal(size=(d, d))
            elif family == "rank_one":
                weights = np.stack([np.outer(rng.normal(size=d), rng.normal(size=d)) for _ in range(n)])
            else:
                weights = rng.normal(size=(n, d, d))
                weights[int(rng.integers(n))] = 0.0
            inputs = rng.normal(size=(4, d))
            obj, targets = random_objective(name, n, d, 4, rng)
            problems.append(CellProblem(as_float64(weights), as_float64(inputs), targets, obj))
    return problems
