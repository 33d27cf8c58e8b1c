"""Readable reports of the theory checks: statement, what was measured, verdict per reading, counterexample.

Each `format_*` function takes the dict returned by the matching `run_*`
function and returns plain text (what `theory/*.py` print without `--json`)."""

from __future__ import annotations


def _matrices(weights) -> str:
    return "; ".join(f"W{k + 1}={w}" for k, w in enumerate(weights))


def verdict(holds: bool) -> str:
    return "HOLDS" if holds else "FAILS"


def format_gradient_identity(result: dict) -> str:
    errors = result["max_relative_error"]
    lines = [
        "Equations (1)-(4), Appendix C.2: gradients of the widest and narrowest linear cells (Figure 26)",
        "  (1) df/dW_i = df/dy_i x^T              (widest cell)",
        "  (2)-(4) dfhat/dW_i = sum_{k>=i} (W_k...W_{i+1})^T [df/dy_k x^T] (W_{i-1}...W_1)^T",
        "  (1) concerns the widest cell only, (2)-(3) the narrowest cell only: they hold at any weights;",
        "  (4) needs the identification V_k = W_k...W_1 (both cells then have the same nodes)",
        f"Measured: float64 autograd vs right-hand sides, per sample, {result['instances']} random instances "
        f"({result['blocks_checked']} blocks; n in 1..5, d in 1..6; objectives quadratic, cross-entropy, log-cosh, "
        "tanh+squared).",
    ]
    for name in ("equation_1", "equation_2", "equation_3", "equation_4", "node_gradient_fact"):
        lines.append(f"  {name:<20} max relative error {errors[name]:.2e}   {verdict(errors[name] < 1e-10)}")
    naive = result["without_identification"]
    lines.append(f"  control, widest cell at V_k = W_k (no identification): (1) still holds (max relative error "
                 f"{naive['equation_1_max_relative_error']:.1e}); (4) fails on {naive['failing']}/"
                 f"{naive['instances']} instances with n >= 2 "
                 f"(median relative error {naive['median_relative_error']:.2f})")
    if "sympy" in result:
        sym = result["sympy"]
        sizes = ", ".join(f"n={c['n']}, d={c['d']}" for c in sym["cases"])
        control = "non-zero as expected" if sym["control_without_identification_fails"] else "ZERO"
        lines.append(f"Symbolic (sympy, arbitrary F, {sizes}): (1)-(4) {sym['verdict'].upper()}; control without "
                     f"identification {control} ({sym['seconds']:.1f} s)")
    return "\n".join(lines)


def format_theorem_4_2(result: dict) -> str:
    lines = [
        "Theorem 4.2 (block-wise Lipschitz smoothness, Appendix C.3)",
        "  stated: L_hat_i <= (prod_{j<i} lambda_j) L_i,  lambda_j = ||W_j||_2,",
        "          L_i = block-Lipschitz constant of the widest cell",
        f"Measured: exact block-Lipschitz constants (spectral norm of the block Hessian, Frobenius norms) on "
        f"{result['instances']} blocks of {result['problems']} problems (random, structured, hypothesis-generated); "
        "global for the quadratic objective, local at the point for the others.",
        f"  stated bound (spectral norm):        {result['stated_bound_violations']} violations   "
        f"{verdict(result['stated_bound_violations'] == 0)}  "
        f"(max measured/bound {result['max_measured_over_stated']:.2f})",
        f"  stated bound (eigenvalue reading):   {result['eigenvalue_reading_violations']} violations   "
        f"{verdict(result['eigenvalue_reading_violations'] == 0)}",
        f"  k = i term with squared factor:      {result['squared_single_term_violations']} violations   "
        f"{verdict(result['squared_single_term_violations'] == 0)}  (repairs step (b) only)",
        f"  corrected bound:                     {result['corrected_bound_violations']} violations   "
        f"{verdict(result['corrected_bound_violations'] == 0)}  (max measured/bound "
        f"{result['max_measured_over_corrected']:.6f})",
        f"    {result['corrected_bound']}",
        "  cross-checks: Lanczos (eigsh) on Hessian-vector products vs eigvalsh max rel. diff "
        f"{result['power_iteration']['max_relative_difference']:.1e}"
        f" ({result['power_iteration']['checked']} blocks); Hessian = J^T H J max rel. error "
        f"{result['structure_max_relative_error']:.1e}; quadratic closed form max rel. error "
        f"{result['closed_form_max_relative_error']:.1e}",
    ]
    for name in ("counterexample", "hand_counterexample"):
        cex = result.get(name)
        if cex:
            title = "smallest counterexample (hypothesis)" if name == "counterexample" else "hand counterexample"
            lines.append(f"  {title}: quadratic, one input x={cex['x']}, zero targets, block i={cex['i']}, "
                         f"{_matrices(cex['W'])}: measured {cex['measured']:g} > bound {cex['bound']:g} "
                         f"(corrected bound {cex['corrected_bound']:g})")
    lines.insert(5, f"  global refutations (constant Hessian: local constant = global constant): "
                    f"{result['global_refutations']} of {result['constant_hessian_blocks']} such blocks")
    lines.insert(6, f"  pointwise violations (local constants at one point; not by themselves a refutation of the "
                    f"global theorem): {result['pointwise_violations']}")
    glob = result.get("global_estimates")
    if glob:
        lines.append(f"  global-vs-global for pointwise violations ({glob['region']}; {glob['method']}): "
                     f"{glob['survive_global_vs_global']}/{glob['estimated']} survive with both constants estimated; "
                     f"{glob['refuted_globally']}/{glob['estimated']} refuted rigorously against an upper bound on "
                     f"the widest cell's global constant")
    cross = result.get("cross_curvature")
    if cross:
        lines.append(f"  cross curvature, F = <z_1, z_2>, n = 2, d = 1, x = 1, W = (0, 1): widest block constants "
                     f"{cross['widest_block_constants']} -> stated bound {cross['stated_bound']:g}, narrowest constant "
                     f"{cross['measured']:g} (x10 objective: {cross['scaled_by_10']['measured']:g}, bound still "
                     f"{cross['scaled_by_10']['stated_bound']:g}); no bound from (5) alone; with the cross constant "
                     f"L_12 = {cross['widest_cross_constant_L12']:g} the corrected bound is "
                     f"{cross['corrected_bound']:g}")
    lines.append("  why: (a) the k > i terms are dropped although V_k = W_k...W_1 changes with W_i;")
    lines.append("       (b) ||Delta V_i|| = ||Delta W_i B|| loses a second factor ||B|| <= prod_{j<i} lambda_j.")
    return "\n".join(lines)


def format_theorem_4_3(result: dict) -> str:
    cex = result["eigenvalue_reading_counterexample"]
    lines = [
        "Theorem 4.3 (gradient variance, Appendix C.4)",
        "  stated: Var(dfhat/dW_i) <= n sum_{k=i}^n (sigma_k prod_{j<=k, j!=i} lambda_j)^2",
        f"Measured: exact per-sample gradient variances over finite data sets, {result['instances']} blocks; sigma_k = "
        "widest-cell variance at V_k = W_k...W_1.",
        f"  per-sample identity (4) max relative error {result['identity_max_rel_error']:.2e}",
        f"  spectral-norm reading: {result['stated_bound_violations']} violations   "
        f"{verdict(result['stated_bound_violations'] == 0)}  (max measured/bound {result['max_ratio']:.4f}; "
        f"n >= 2: {result['max_ratio_n_at_least_2']:.4f})",
        f"  eigenvalue reading (spectral radius): {result['eigenvalue_reading_violations']} violations   "
        f"{verdict(result['eigenvalue_reading_violations'] == 0)}",
        f"  same parameters in both cells (sigma_k at V_k = W_k, not the proof's point): "
        f"{result['equal_weights']['violations']} violations   {verdict(result['equal_weights']['violations'] == 0)}"
        f"  (max measured/bound {result['equal_weights']['max_ratio']:.2f})",
        f"  counterexample (eigenvalue reading): quadratic, zero targets, inputs {cex['x']}, i={cex['i']}, "
        f"{_matrices(cex['W'])}: variance {cex['measured']:g} > bound {cex['bound_eigenvalue']:g} "
        f"(spectral radii {cex['lambda_spectral_radius']}); with 2-norms the bound is {cex['bound_spectral_norm']:g}",
    ]
    return "\n".join(lines)


def format_theorem_4_1(result: dict) -> str:
    lines = [
        "Theorem 4.1 (Ghadimi & Lan) on a non-convex toy problem with exact L, f*, sigma^2",
        f"  L = {result['L']:.4f}, f* = {result['f_star']:.4f}, sigma^2 = {result['sigma2']:.4f} "
        f"(grid check {result['sigma2_grid_max']:.4f})",
    ]
    for s in result["schedules"]:
        lines.append(f"  {s['schedule']:<16} E||grad f(w_R)||^2 = {s['lhs']:.4f} +- {s['lhs_standard_error']:.4f}"
                     f"  <=  {s['rhs']:.4f}   {verdict(s['holds'])}")
    return "\n".join(lines)
