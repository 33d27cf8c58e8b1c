"""All theory checks in one call: [`theory_summary`][cellnas_edu.theory.summary.theory_summary] (used by
`cellnas theory` and the tour).

The registry [`CHECKS`][cellnas_edu.theory.summary.CHECKS] maps each check to its `run` function (keyword
arguments `seed` and `quick`) and its text report; the scripts in
`theory/` and the `cellnas theory` command are thin wrappers around it."""

from __future__ import annotations

import time

from .gradient_identity import run_gradient_identity
from .lipschitz import run_theorem_4_2
from .reports import format_gradient_identity, format_theorem_4_1, format_theorem_4_2, format_theorem_4_3
from .runtime import single_thread
from .sgd_convergence import check_theorem_4_1
from .variance import run_theorem_4_3

CHECKS = {
    "gradient_identity": (run_gradient_identity, format_gradient_identity),
    "theorem_4_2": (run_theorem_4_2, format_theorem_4_2),
    "theorem_4_3": (run_theorem_4_3, format_theorem_4_3),
    "theorem_4_1": (check_theorem_4_1, format_theorem_4_1),
}
"""name -> (run(seed=, quick=) -> dict, format(dict) -> str)"""


def run_check(name: str, seed: int = 0, quick: bool = False) -> dict:
    """Run one check single-threaded; adds `seconds` (wall time) to its result."""
    run, _ = CHECKS[name]
    start = time.perf_counter()
    with single_thread():
        result = run(seed=seed, quick=quick)
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def theory_summary(seed: int = 0, quick: bool = False) -> dict:
    """Every check: `{"gradient_identity", "theorem_4_2", "theorem_4_3", "theorem_4_1"}` -> result dict.

    `quick` uses fewer instances (and sympy for `n = 2` only) so the whole summary takes a few seconds."""
    return {name: run_check(name, seed=seed, quick=quick) for name in CHECKS}


def format_summary(summary: dict) -> str:
    """A few lines per check: the verdicts and the headline numbers."""
    gi, t42, t43 = summary["gradient_identity"], summary["theorem_4_2"], summary["theorem_4_3"]
    worst = max(gi["max_relative_error"].values())
    lines = [
        f"Equations (1)-(4): {gi['instances']} instances, max relative error {worst:.1e}; sympy: "
        f"{gi.get('sympy_verdict', 'not run')}",
        f"Theorem 4.2: stated bound violated on {t42['stated_bound_violations']}/{t42['instances']} blocks "
        f"(max measured/bound {t42['max_measured_over_stated']:.1f}): {t42['global_refutations']} global refutations "
        f"(constant Hessian), {t42['pointwise_violations']} pointwise violations; corrected bound violated on "
        f"{t42['corrected_bound_violations']}",
    ]
    cex = t42.get("counterexample")
    if cex:
        lines.append(f"  smallest counterexample: quadratic, x={cex['x']}, i={cex['i']}, W={cex['W']}: "
                     f"measured {cex['measured']:g} > bound {cex['bound']:g}")
    lines.append(f"Theorem 4.3: spectral-norm reading violated on {t43['stated_bound_violations']}/{t43['instances']} "
                 f"blocks (max measured/bound {t43['max_ratio']:.3f}); eigenvalue reading violated on "
                 f"{t43['eigenvalue_reading_violations']}; with the same parameters in both cells (V = W) on "
                 f"{t43['equal_weights']['violations']} (max ratio {t43['equal_weights']['max_ratio']:.1f})")
    if "theorem_4_1" in summary:
        t41 = summary["theorem_4_1"]
        lines.append(f"Theorem 4.1 (SGD toy problem): bound {'holds' if t41['holds'] else 'FAILS'} for "
                     f"{len(t41['schedules'])} step-size schedules")
    return "\n".join(lines)
