r"""Theorem 4.1 (Ghadimi & Lan, 2013) illustrated on a smooth non-convex problem with exactly known constants.

**Statement (Section 4.2).** For an $L$-smooth non-convex $f$ with minimum
$f^*$, stochastic gradients of variance at most $\sigma^2$, step sizes
$\gamma_k < 1/L$ and $w_R$ drawn from the iterates with probability
$\gamma_k / H$, $H = \sum_{k=1}^N \gamma_k$,

$$
\mathbb{E} \lVert \nabla f(w_R) \rVert^2 \le \frac{2 (f(w_0) - f^*)}{H}
+ \frac{L \sigma^2}{H} \sum_{k=1}^N \gamma_k^2 .
$$

(Ghadimi & Lan number the iterates $w_1, \dots, w_N$ with $w_1$ the
start, which the paper calls $w_0$; $w_R$ ranges over the `N` points
at which a stochastic gradient is taken.)

**The toy problem.** $f(w) = \frac1N_s \sum_s f_s(w)$,
$f_s(w) = \sum_j (1 - \cos(w_j - a_{sj}))$, $w \in \mathbb{R}^p$;
sample `s` uniformly for a stochastic gradient $\sin(w - a_s)$. With
$m_{1j} = \mathrm{mean}_s e^{i a_{sj}} = R_j e^{i \varphi_j}$ and
$m_{2j} = \mathrm{mean}_s e^{2 i a_{sj}}$, everything is exact:

* $f(w) = \sum_j (1 - R_j \cos(w_j - \varphi_j))$, so $f^* = \sum_j (1 - R_j)$;
* $\nabla^2 f = \mathrm{diag}(R_j \cos(\cdot))$, so $L = \max_j R_j$ (global);
* the gradient variance at `w` is
  $\sum_j \tfrac12 (1 - R_j^2) - \tfrac12 \mathrm{Re}(e^{2 i w_j} \overline{(m_{2j} - m_{1j}^2)})$,
  whose supremum is $\sigma^2 = \sum_j \tfrac12 (1 - |m_{1j}|^2 + |m_{2j} - m_{1j}^2|)$.

The left-hand side is a Monte Carlo estimate over independent SGD runs
(weighted exactly by $\gamma_k / H$ over the iterates), reported with its
standard error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CosineProblem:
    """The toy objective: per-sample phases `a` of shape `(N, p)`."""

    phases: np.ndarray

    @property
    def first_moment(self) -> np.ndarray:
        return np.exp(1j * self.phases).mean(0)

    @property
    def second_moment(self) -> np.ndarray:
        return np.exp(2j * self.phases).mean(0)

    def loss(self, w: np.ndarray) -> np.ndarray:
        """$f(w)$ for `w` of shape `(..., p)`."""
        return (1.0 - np.cos(w[..., None, :] - self.phases)).sum(-1).mean(-1)

    def gradient(self, w: np.ndarray) -> np.ndarray:
        r"""$\nabla f(w)$."""
        return np.sin(w[..., None, :] - self.phases).mean(-2)

    def sample_gradient(self, w: np.ndarray, samples: np.ndarray) -> np.ndarray:
        r"""$\nabla f_s(w)$ for one sample index per row of `w`."""
        return np.sin(w - self.phases[samples])

    def smoothness(self) -> float:
        """Exact global Lipschitz constant of the gradient: $\\max_j R_j$."""
        return float(np.abs(self.first_moment).max())

    def minimum(self) -> float:
        """$f^* = \\sum_j (1 - R_j)$."""
        return float((1.0 - np.abs(self.first_moment)).sum())

    def variance_bound(self) -> float:
        """$\\sigma^2$, the supremum over `w` of the stochastic gradient's variance."""
        m1, m2 = self.first_moment, self.second_moment
        return float((0.5 * (1.0 - np.abs(m1) ** 2 + np.abs(m2 - m1**2))).sum())

    def coordinate_variances(self, w: np.ndarray) -> np.ndarray:
        """Per-coordinate variance of the stochastic gradient at `w` (`(..., p)` -> `(..., p)`); their sum is
        the variance, and coordinate `j` depends on `w_j` only."""
        g = np.sin(w[..., None, :] - self.phases)
        return ((g - g.mean(-2, keepdims=True)) ** 2).mean(-2)


def sgd_gradient_norms(problem: CosineProblem, start: np.ndarray, steps: np.ndarray, runs: int,
                       rng: np.random.Generator) -> np.ndarray:
    r"""$\lVert \nabla f(w_k) \rVert^2$ for `k = 1..N` (`w_1` = start) over `runs` independent SGD runs;
    shape `(N, runs)`."""
    w = np.repeat(start[None, :], runs, axis=0)
    norms = np.empty((len(steps), runs))
    for k, gamma in enumerate(steps):
        norms[k] = (problem.gradient(w) ** 2).sum(-1)
        samples = rng.integers(0, problem.phases.shape[0], size=runs)
        w = w - gamma * problem.sample_gradient(w, samples)
    return norms


def check_theorem_4_1(seed: int = 0, quick: bool = False) -> dict:
    """SGD on the toy problem for three step-size schedules; left- and right-hand sides of Theorem 4.1."""
    rng = np.random.default_rng(seed)
    problem = CosineProblem(rng.uniform(-1.5, 1.5, size=(8, 5)))
    lip, f_star, sigma2 = problem.smoothness(), problem.minimum(), problem.variance_bound()
    start = rng.uniform(-np.pi, np.pi, size=5)
    iterations, runs = (100, 200) if quick else (400, 1000)
    k = np.arange(1, iterations + 1)
    schedules = {
        "constant 0.5/L": np.full(iterations, 0.5 / lip),
        "constant 0.95/L": np.full(iterations, 0.95 / lip),
        "0.95/(L sqrt k)": 0.95 / (lip * np.sqrt(k)),
    }
    grid = np.linspace(-np.pi, np.pi, 3601)[:, None] + np.zeros(5)
    results = []
    for name, steps in schedules.items():
        norms = sgd_gradient_norms(problem, start, steps, runs, rng)
        weights = steps / steps.sum()
        per_run = weights @ norms
        lhs = float(per_run.mean())
        rhs = 2 * (problem.loss(start) - f_star) / steps.sum() + lip * sigma2 * (steps**2).sum() / steps.sum()
        results.append({"schedule": name, "iterations": iterations, "runs": runs, "lhs": lhs,
                        "lhs_standard_error": float(per_run.std(ddof=1) / np.sqrt(runs)), "rhs": float(rhs),
                        "holds": bool(lhs <= rhs)})
    return {
        "theorem": "4.1",
        "L": lip, "f_star": f_star, "sigma2": sigma2,
        "sigma2_grid_max": float(problem.coordinate_variances(grid).max(0).sum()),
        "schedules": results,
        "holds": all(r["holds"] for r in results),
    }
