r"""Theorem 4.3 (gradient variance, Appendix C.4): exact per-sample variances against bound (13).

**Statement (Section 4.3.2).** If the widest cell's gradient variance satisfies (10),
$\mathbb{E} \lVert \partial f/\partial W^{(k)} - \mathbb{E}\, \partial f/\partial W^{(k)} \rVert^2
\le (\sigma^{(k)})^2$, then

$$
\mathbb{E} \Big\lVert \frac{\partial \hat f}{\partial W^{(i)}}
- \mathbb{E} \frac{\partial \hat f}{\partial W^{(i)}} \Big\rVert^2
\le n \sum_{k=i}^n \Big(\frac{\sigma^{(k)}}{\lambda^{(i)}} \prod_{j=1}^k \lambda^{(j)}\Big)^2 . \qquad (13)
$$

**What is measured.** The expectation is over the uniform distribution on a
finite data set, so every quantity is exact: per-sample gradients by autograd
([`cellnas_edu.theory.gradients`][cellnas_edu.theory.gradients]), variance = trace of the covariance =
$\frac1N \sum_s \lVert g_s - \bar g \rVert_F^2$. $\sigma^{(k)}$ is the
widest cell's variance w.r.t. $V^{(k)}$ at the identified point
$V^{(k)} = W^{(k)} \cdots W^{(1)}$ -- the tightest $\sigma$ for which (10)
holds there (the proof uses (10) only at that point). The factor
$\frac1{\lambda^{(i)}} \prod_{j \le k} \lambda^{(j)}$ is computed as the product
over $j \le k, j \ne i$ (no division, so $\lambda^{(i)} = 0$ is fine).

**Why the spectral-norm reading holds.** The proof uses the per-sample identity
(4) (checked here as `identity_max_rel_error`): centred gradients satisfy
$g_s - \bar g = \sum_{k=i}^n A_k^T D_{ks} B^T$ with $D_{ks}$ the centred
widest-cell gradients. Then $\lVert \sum_{k} X_k \rVert^2 \le (n-i+1) \sum_k
\lVert X_k \rVert^2 \le n \sum_k \lVert X_k \rVert^2$ (Cauchy-Schwarz), and
$\lVert A_k^T D B^T \rVert_F \le \lVert A_k \rVert_2 \lVert D \rVert_F \lVert B \rVert_2$
with $\lVert A_k \rVert_2 \lVert B \rVert_2 \le \prod_{j \le k, j \ne i} \lVert W^{(j)} \rVert_2$.
Note that, unlike Theorem 4.2, no widest-cell parameter is varied here, so
the identification causes no trouble.

**Identified versus equal weights.** The bound compares the narrowest cell at
weights $W$ with the widest cell at $V^{(k)} = W^{(k)} \cdots W^{(1)}$
(`identified`): two *different* networks that compute the same node values.
Read as a comparison of the two cells *with the same parameters*
($V^{(k)} = W^{(k)}$, `equal_weights`), which is what "the narrowest
cell has a larger gradient variance" suggests, $\sigma^{(k)}$ is taken at
$V = W$ and (13) is no longer implied by the proof; it fails on a large
share of blocks (`equal_weights` in [`run_theorem_4_3`][cellnas_edu.theory.variance.run_theorem_4_3]).

**Why the eigenvalue reading fails.** The paper calls $\lambda^{(i)}$ "the
largest eigenvalue" but uses it as the 2-norm. For a non-normal matrix the
spectral radius can be much smaller than the 2-norm -- a nilpotent Jordan block
has spectral radius 0 and norm 1 -- and then (13) fails
([`eigenvalue_reading_counterexample`][cellnas_edu.theory.variance.eigenvalue_reading_counterexample])."""

from __future__ import annotations

import numpy as np
import torch

from .gradient_identity import relative_error
from .gradients import equation_4_terms, narrowest_weight_gradients, widest_weight_gradients
from .lipschitz import exceeds, spectral_norms, spectral_radii
from .objectives import OBJECTIVE_NAMES, quadratic
from .problems import CellProblem, as_float64, random_problem, structured_problems
from .strategies import cell_problems, draw_examples


def gradient_variance(per_sample: torch.Tensor) -> float:
    r"""$\frac1N \sum_s \lVert g_s - \bar g \rVert_F^2$ for per-sample gradients `(N, ...)`."""
    centred = per_sample - per_sample.mean(0, keepdim=True)
    return float((centred.flatten(1) ** 2).sum(1).mean())


def variance_bound(norms, i: int, sigmas, n: int | None = None) -> float:
    r"""Right-hand side of (13): $n \sum_{k=i}^n (\sigma^{(k)} \prod_{j \le k, j \ne i} \lambda^{(j)})^2$.

    `norms` are the $\lambda^{(j)}$ (any reading), `sigmas[k - i]` is $\sigma^{(k)}$; `n` defaults
    to the number of nodes (pass `n - i + 1` for the slightly tighter Cauchy-Schwarz constant)."""
    norms = np.asarray(norms, dtype=float)
    count = len(norms) if n is None else n
    total = 0.0
    for k in range(i, len(norms) + 1):
        factor = np.prod(norms[: i - 1]) * np.prod(norms[i:k])
        total += (sigmas[k - i] * factor) ** 2
    return float(count * total)


def variance_record(problem: CellProblem, i: int, narrow: torch.Tensor | None = None,
                    wide: torch.Tensor | None = None, equal: torch.Tensor | None = None) -> dict:
    """Theorem 4.3 for block `i` of one problem: measured variance, sigmas, both readings of lambda, identity
    error; and the same bound with the widest cell at the same weights (`*_equal_weights`: sigma_k at V = W)."""
    narrow = narrowest_weight_gradients(problem) if narrow is None else narrow
    wide = widest_weight_gradients(problem) if wide is None else wide
    g = narrow[:, i - 1]
    measured = gradient_variance(g)
    sigmas = [gradient_variance(wide[:, k - 1]) ** 0.5 for k in range(i, problem.n + 1)]
    terms = equation_4_terms(problem, i, wide)
    identity = relative_error(g, terms.sum(0), terms.flatten(2).norm(dim=2).sum(0))
    lambdas, rhos = spectral_norms(problem.weights), spectral_radii(problem.weights)
    bound = variance_bound(lambdas, i, sigmas)
    eig_bound = variance_bound(rhos, i, sigmas)
    equal = widest_weight_gradients(problem, problem.weights) if equal is None else equal
    sigmas_equal = [gradient_variance(equal[:, k - 1]) ** 0.5 for k in range(i, problem.n + 1)]
    equal_bound = variance_bound(lambdas, i, sigmas_equal)
    return {
        "objective": problem.objective.name,
        "n": problem.n, "d": problem.d, "samples": problem.num_samples, "i": i,
        "measured": measured,
        "sigmas": sigmas,
        "bound_spectral_norm": bound,
        "bound_spectral_norm_tight_constant": variance_bound(lambdas, i, sigmas, n=problem.n - i + 1),
        "bound_eigenvalue": eig_bound,
        "lambda_spectral_norm": lambdas.tolist(),
        "lambda_spectral_radius": rhos.tolist(),
        "identity_relative_error": identity,
        "ratio": measured / bound if bound > 0 else (0.0 if measured == 0 else float("inf")),
        "spectral_violated": exceeds(measured, bound),
        "eigenvalue_violated": exceeds(measured, eig_bound),
        "sigmas_equal_weights": sigmas_equal,
        "bound_equal_weights": equal_bound,
        "ratio_equal_weights": _ratio(measured, equal_bound),
        "equal_weights_violated": exceeds(measured, equal_bound),
    }


def _ratio(measured: float, bound: float) -> float:
    return measured / bound if bound > 0 else (0.0 if measured == 0 else float("inf"))


def problem_variance_records(problem: CellProblem) -> list[dict]:
    """[`variance_record`][cellnas_edu.theory.variance.variance_record] for every block (per-sample gradients computed
    once)."""
    narrow, wide = narrowest_weight_gradients(problem), widest_weight_gradients(problem)
    equal = widest_weight_gradients(problem, problem.weights)
    return [variance_record(problem, i, narrow, wide, equal) for i in range(1, problem.n + 1)]


def eigenvalue_reading_counterexample() -> tuple[CellProblem, int]:
    r"""A non-normal counterexample to (13) read with spectral radii.

    `n = 2, d = 2, i = 2`, quadratic with zero targets, $W^{(1)} = \begin{pmatrix} 0 & 1 \\ 0 & 0
    \end{pmatrix}$ (nilpotent: spectral radius 0, 2-norm 1), $W^{(2)} = I$, inputs $x_1 = (0, 1)$,
    $x_2 = (0, 2)$. Then $\hat y^{(1)} = \hat y^{(2)} = (x_{s2}, 0)$ and
    $\partial \hat f_s / \partial W^{(2)} = \hat y^{(2)} \hat y^{(1)T} = \mathrm{diag}(x_{s2}^2, 0)$,
    i.e. `diag(1, 0)` and `diag(4, 0)`: variance `2.25`. The widest cell's
    $\partial f_s/\partial V^{(2)} = (V^{(2)} x_s) x_s^T$ has entries `1` and `4` at `(0, 1)`, so
    $(\sigma^{(2)})^2 = 2.25$. Bound (13): $2 (\sigma^{(2)} \lambda^{(1)})^2$ -- `4.5` with the 2-norm
    (holds) but `0` with the spectral radius (violated)."""
    weights = as_float64([[[0.0, 1.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    inputs = as_float64([[0.0, 1.0], [0.0, 2.0]])
    return CellProblem(weights, inputs, torch.zeros(2, 2, 2, dtype=torch.float64), quadratic()), 2


def instance_problems(seed: int = 0, quick: bool = False) -> list[tuple[str, CellProblem]]:
    """Random, structured and hypothesis-generated problems (more samples than for Theorem 4.2: variances)."""
    rng = np.random.default_rng(seed + 43)
    random_count, hyp_count = (10, 6) if quick else (60, 30)
    problems = [("random", random_problem(rng, objective=OBJECTIVE_NAMES[k % len(OBJECTIVE_NAMES)]))
                for k in range(random_count)]
    structured = structured_problems(rng)
    problems += [("structured", p) for p in (structured[::4] if quick else structured)]
    examples = draw_examples(cell_problems(max_n=4, max_d=3, max_samples=5), hyp_count, seed=seed)
    problems += [("hypothesis", p) for p, _ in examples]
    return problems


def run_theorem_4_3(seed: int = 0, quick: bool = False, keep_records: bool = False) -> dict:
    """Check Theorem 4.3 on every block of every instance; the result follows the schema of
    `theory/theorem_4_3.py --json`."""
    records = []
    for source, problem in instance_problems(seed, quick):
        for record in problem_variance_records(problem):
            record["source"] = source
            records.append(record)
    finite = [r["ratio"] for r in records if np.isfinite(r["ratio"])]
    cex_problem, cex_i = eigenvalue_reading_counterexample()
    cex = variance_record(cex_problem, cex_i)
    eigen_violations = [r for r in records if r["eigenvalue_violated"]]

    def comparison(violated_key, ratio_key, sigma_point):
        ratios = [r[ratio_key] for r in records if np.isfinite(r[ratio_key])]
        multi = [r for r in records if r["n"] >= 2]
        worst = max(records, key=lambda r: r[ratio_key] if np.isfinite(r[ratio_key]) else -1.0)
        return {
            "sigma_at": sigma_point,
            "instances": len(records),
            "violations": sum(r[violated_key] for r in records),
            "violations_n_at_least_2": sum(r[violated_key] for r in multi),
            "instances_n_at_least_2": len(multi),
            "infinite_ratios": sum(not np.isfinite(r[ratio_key]) for r in records),
            "max_ratio": max(ratios, default=0.0),
            "worst": {k: worst[k] for k in ("objective", "source", "n", "d", "i", "measured")}
            | {"bound": worst["bound_spectral_norm" if ratio_key == "ratio" else "bound_equal_weights"]},
            "by_objective": {name: sum(r[violated_key] for r in records if r["objective"] == name)
                             for name in OBJECTIVE_NAMES},
        }

    result = {
        "theorem": "4.3",
        "instances": len(records),
        "identity_max_rel_error": max(r["identity_relative_error"] for r in records),
        "stated_bound_violations": sum(r["spectral_violated"] for r in records),
        "max_ratio": max(finite) if finite else 0.0,
        "eigenvalue_reading_violations": len(eigen_violations),
        "identified": comparison("spectral_violated", "ratio", "V_k = W_k...W_1 (the proof's point: same node values)"),
        "equal_weights": comparison("equal_weights_violated", "ratio_equal_weights",
                                    "V_k = W_k (the same parameters in both cells)"),
        "reading": "lambda = spectral norm ||W||_2 (eigenvalue reading: spectral radius); Frobenius norm on gradients; "
                   "sigma_k^2 = widest-cell variance at V_k = W_k...W_1",
        "max_ratio_n_at_least_2": max((r["ratio"] for r in records if r["n"] >= 2 and np.isfinite(r["ratio"])),
                                      default=0.0),
        "max_ratio_tight_constant": max((r["measured"] / r["bound_spectral_norm_tight_constant"]
                                         for r in records if r["bound_spectral_norm_tight_constant"] > 0), default=0.0),
        "by_objective": {
            name: {
                "instances": sum(r["objective"] == name for r in records),
                "stated_bound_violations": sum(r["spectral_violated"] for r in records if r["objective"] == name),
                "eigenvalue_reading_violations": sum(r["eigenvalue_violated"] for r in records
                                                     if r["objective"] == name),
                "max_ratio": max((r["ratio"] for r in records if r["objective"] == name and np.isfinite(r["ratio"])),
                                 default=0.0),
            }
            for name in OBJECTIVE_NAMES
        },
        "eigenvalue_reading_violations_by_source": {
            s: sum(r["source"] == s for r in eigen_violations) for s in ("random", "structured", "hypothesis")
        },
        "eigenvalue_reading_counterexample": {
            "objective": "quadratic", "targets": "zero", "i": cex_i,
            "x": cex_problem.inputs.tolist(), "W": cex_problem.weights.tolist(),
            "measured": cex["measured"], "sigmas": cex["sigmas"],
            "bound_spectral_norm": cex["bound_spectral_norm"], "bound_eigenvalue": cex["bound_eigenvalue"],
            "lambda_spectral_norm": cex["lambda_spectral_norm"],
            "lambda_spectral_radius": cex["lambda_spectral_radius"],
        },
    }
    if keep_records:
        result["records"] = records
    return result
