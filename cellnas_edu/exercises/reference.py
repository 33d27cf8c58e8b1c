r"""Reference solutions that the package did not have before the exercises needed them.

[`spearman_exact_pvalue`][cellnas_edu.exercises.reference.spearman_exact_pvalue] is the exact permutation test of
Spearman's $\rho$
(Section 4.1 correlates cell width and depth with convergence over a handful of cells, where
the large-sample p-value of `scipy.stats.spearmanr` is only an approximation)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

MAX_EXACT_N = 8
"""Largest sample the exact test enumerates (8! = 40,320 permutations)."""


def _ranks(values: Sequence[float]) -> list[int]:
    order = sorted(range(len(values)), key=lambda k: values[k])
    ranks = [0] * len(values)
    for rank, k in enumerate(order, start=1):
        ranks[k] = rank
    return ranks


def spearman_exact_pvalue(x: Sequence[float], y: Sequence[float], alternative: str = "greater") -> float:
    r"""Exact permutation p-value of Spearman's $\rho$ between `x` and `y` (no ties, `3 <= n <= 8`).

    Under the null hypothesis every one of the $n!$ orderings of `y`'s ranks against `x`'s is
    equally likely. With $S = \sum_i d_i^2$ (`d_i` the rank differences),
    $\rho = 1 - 6S / (n(n^2-1))$, so $T = n(n^2-1) - 6S$ is an integer multiple of
    $\rho$ and the comparison is exact. The p-value is the fraction of permutations whose
    $T$ is `>=` the observed one (`"greater"`), `<=` (`"less"`) or at least as large in
    absolute value (`"two-sided"`)."""
    n = len(x)
    if len(y) != n:
        raise ValueError(f"x and y differ in length ({n} and {len(y)})")
    if not 3 <= n <= MAX_EXACT_N:
        raise ValueError(f"the exact test enumerates n! permutations; need 3 <= n <= {MAX_EXACT_N}, got n = {n}")
    if len(set(x)) < n or len(set(y)) < n:
        raise ValueError("the exact test here assumes no ties")
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}")
    rx, ry = _ranks(x), _ranks(y)
    scale = n * (n * n - 1)

    def statistic(ranks_y) -> int:
        return scale - 6 * sum((a - b) ** 2 for a, b in zip(rx, ranks_y))

    observed = statistic(ry)
    hits = 0
    for perm in itertools.permutations(range(1, n + 1)):
        t = statistic(perm)
        if alternative == "greater":
            hits += t >= observed
        elif alternative == "less":
            hits += t <= observed
        else:
            hits += abs(t) >= abs(observed)
    return hits / math.factorial(n)
