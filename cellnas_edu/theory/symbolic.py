r"""Equations (1)-(4) of Appendix C.2 checked symbolically with sympy, for an *arbitrary* objective.

The objective is an undefined sympy function $F(z_1, \dots, z_{nd})$ of
all node entries, so the check covers every differentiable $F$ at once
(Section 4.3.1: "an arbitrary objective function"). The weights are matrices of
independent symbols (`d = 2`), the input a vector of symbols. For each block
`i` the gradient of the narrowest cell, `diff(F(nodes(W)), W_i)`, is compared
with the right-hand sides of (2), (3) and (4); (4) uses the widest cell's
gradient `diff(F(V x), V_k)` with $V^{(k)} := W^{(k)} \cdots W^{(1)}$
substituted afterwards (the identification of
[`cellnas_edu.theory.cells`][cellnas_edu.theory.cells]). Differences are expanded (arguments of the
derivative objects included) and must be identically zero.

A control shows the check can fail: substituting $V^{(k)} := W^{(k)}$
instead leaves a non-zero difference for `n >= 2`."""

from __future__ import annotations

import time

import sympy as sp


def _product(matrices, d):
    out = sp.eye(d)
    for m in matrices:
        out = m * out
    return out


def _is_zero(matrix: sp.Matrix) -> bool:
    return all(sp.expand(entry) == 0 for entry in matrix)


def symbolic_identity_for(n: int, d: int) -> dict:
    """Check (1)-(4) and the control for `n` nodes of dimension `d`; values are `True` when the difference
    expands to zero."""
    w = [sp.Matrix(d, d, sp.symbols(f"w{k + 1}_0:{d}_0:{d}")) for k in range(n)]
    v = [sp.Matrix(d, d, sp.symbols(f"v{k + 1}_0:{d}_0:{d}")) for k in range(n)]
    x = sp.Matrix(sp.symbols(f"x0:{d}"))
    u = sp.symbols(f"u0:{n * d}")
    objective = sp.Function("F")

    nodes, y = [], x
    for wk in w:
        y = wk * y
        nodes.append(y)
    narrow_loss = objective(*[e for node in nodes for e in node])
    wide_loss = objective(*[e for vk in v for e in (vk * x)])

    # widest-cell gradients with respect to V_k, and the partials dF/dz at the node values
    wide_grad = [sp.Matrix(d, d, lambda r, c, k=k: sp.diff(wide_loss, v[k][r, c])) for k in range(n)]
    partial = [sp.diff(objective(*u), uj) for uj in u]
    at_wide = {u[k * d + r]: (v[k] * x)[r] for k in range(n) for r in range(d)}
    at_narrow = {u[k * d + r]: nodes[k][r] for k in range(n) for r in range(d)}
    wide_node_grad = [sp.Matrix([partial[k * d + r].subs(at_wide, simultaneous=True) for r in range(d)])
                      for k in range(n)]
    narrow_node_grad = [sp.Matrix([partial[k * d + r].subs(at_narrow, simultaneous=True) for r in range(d)])
                        for k in range(n)]

    identified = {v[k][r, c]: _product(w[: k + 1], d)[r, c] for k in range(n) for r in range(d) for c in range(d)}
    literal = {v[k][r, c]: w[k][r, c] for k in range(n) for r in range(d) for c in range(d)}
    grad_identified = [g.subs(identified, simultaneous=True) for g in wide_grad]
    grad_literal = [g.subs(literal, simultaneous=True) for g in wide_grad]

    result = {"equation_1": all(_is_zero(wide_grad[k] - wide_node_grad[k] * x.T) for k in range(n))}
    eq2 = eq3 = eq4 = True
    control_zero = True
    for i in range(1, n + 1):
        lhs = sp.Matrix(d, d, lambda r, c, i=i: sp.diff(narrow_loss, w[i - 1][r, c]))
        b = _product(w[: i - 1], d)
        rhs2 = rhs3 = rhs4 = control = sp.zeros(d, d)
        for k in range(i, n + 1):
            a = _product(w[i:k], d)
            rhs2 = rhs2 + a.T * narrow_node_grad[k - 1] * (b * x).T
            rhs3 = rhs3 + a.T * narrow_node_grad[k - 1] * x.T * b.T
            rhs4 = rhs4 + a.T * grad_identified[k - 1] * b.T
            control = control + a.T * grad_literal[k - 1] * b.T
        eq2 = eq2 and _is_zero(lhs - rhs2)
        eq3 = eq3 and _is_zero(lhs - rhs3)
        eq4 = eq4 and _is_zero(lhs - rhs4)
        control_zero = control_zero and _is_zero(lhs - control)
    result.update(equation_2=eq2, equation_3=eq3, equation_4=eq4, control_without_identification_zero=control_zero)
    return result


def symbolic_identity_check(sizes=((2, 2), (3, 2))) -> dict:
    """Run [`symbolic_identity_for`][cellnas_edu.theory.symbolic.symbolic_identity_for] for each `(n, d)`; `verdict`
    is `"holds"` when (1)-(4) expand to zero
    for every size (and the control does not, for `n >= 2`)."""
    start = time.perf_counter()
    cases = []
    for n, d in sizes:
        case = symbolic_identity_for(n, d)
        cases.append({"n": n, "d": d, **case})
    holds = all(c["equation_1"] and c["equation_2"] and c["equation_3"] and c["equation_4"] for c in cases)
    control_fails = all(not c["control_without_identification_zero"] for c in cases if c["n"] >= 2)
    return {
        "objective": "arbitrary (undefined sympy function F of all node entries)",
        "cases": cases,
        "verdict": "holds" if holds else "fails",
        "control_without_identification_fails": control_fails,
        "seconds": round(time.perf_counter() - start, 3),
    }
