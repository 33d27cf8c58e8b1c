r"""One-way analysis of variance: do the cells differ by more than the seeds do? (Figure 5, Section 4.1).

[`permutation_anova`][cellnas_edu.stats.anova.permutation_anova] gives $F$, a Monte-Carlo permutation p-value
$(1 + \#\{F^* \ge F\}) / (1 + N)$ with its standard error (`30!/(5!)^6`
labellings cannot be enumerated) and, labelled as such, the asymptotic
F-distribution p-value; [`one_way_anova`][cellnas_edu.stats.anova.one_way_anova] is `scipy.stats.f_oneway`
(asymptotic p only) as `cellnas convergence` reports it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


def one_way_f(groups: Sequence[Sequence[float]]) -> float | None:
    """The one-way ANOVA F statistic (`None` without within-group variation or with < 2 groups)."""
    groups = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if len(groups) < 2:
        return None
    allv = np.concatenate(groups)
    grand = allv.mean()
    k, n = len(groups), allv.size
    between = sum(g.size * (g.mean() - grand) ** 2 for g in groups) / (k - 1)
    within_ss = sum(((g - g.mean()) ** 2).sum() for g in groups)
    if n - k <= 0 or within_ss == 0:
        return None
    return float(between / (within_ss / (n - k)))


@dataclass(frozen=True)
class AnovaResult:
    F: float | None
    p_value_f_distribution: float | None
    p_value_permutation: float | None
    permutation_se: float | None
    permutations: int
    eta_squared: float | None
    groups: int
    n: int

    def to_json(self) -> dict:
        return asdict(self)


def permutation_anova(groups: Sequence[Sequence[float]], permutations: int = 20000, seed: int = 0) -> AnovaResult:
    """One-way ANOVA F, its F-distribution p-value, and a Monte-Carlo permutation p-value with its standard error.

    `p_value_f_distribution` is the normal-theory p-value (exact only for
    normal errors, an approximation otherwise: asymptotic); it is kept beside the
    permutation p-value, which needs no distributional assumption.

    The permutation p-value is `(1 + #{F* >= F}) / (1 + N)` over `N`
    random relabellings of all values (valid at any `N`); its Monte-Carlo
    standard error is `sqrt(p (1 - p) / N)`."""
    from scipy import stats

    groups = [list(map(float, g)) for g in groups if len(g)]
    sizes = [len(g) for g in groups]
    allv = np.concatenate([np.asarray(g) for g in groups]) if groups else np.array([])
    f_obs = one_way_f(groups)
    if f_obs is None:
        return AnovaResult(None, None, None, None, 0, None, len(groups), int(allv.size))
    k, n = len(groups), allv.size
    p_f = float(stats.f.sf(f_obs, k - 1, n - k))
    grand = allv.mean()
    ss_total = float(((allv - grand) ** 2).sum())
    ss_between = sum(len(g) * (np.mean(g) - grand) ** 2 for g in groups)
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(k), sizes)
    # vectorised: F is increasing in the between-group sum of squares for fixed total, so compare that
    hits = 0
    batch = 2000
    done = 0
    while done < permutations:
        m = min(batch, permutations - done)
        perms = np.argsort(rng.random((m, n)), axis=1)
        shuffled = allv[perms]
        ssb = np.zeros(m)
        for gi in range(k):
            cols = shuffled[:, labels == gi]
            ssb += cols.shape[1] * (cols.mean(axis=1) - grand) ** 2
        hits += int((ssb >= ss_between * (1 - 1e-12)).sum())
        done += m
    p_perm = (1 + hits) / (1 + permutations)
    se = math.sqrt(p_perm * (1 - p_perm) / permutations)
    return AnovaResult(f_obs, p_f, p_perm, se, permutations, float(ss_between / ss_total) if ss_total else None,
                       k, int(n))


def one_way_anova(per_seed_values: Sequence[Sequence[float]]) -> dict | None:
    """Do the cells differ more than seeds do? `scipy.stats.f_oneway` over cells (Figure 5's question).

    Figure 5 claims that random *operation* variants "achieve nearly the same
    convergence"; a large p-value is consistent with that (it does not prove
    equality). `None` when fewer than two cells have at least two seeds. The p-value is the F distribution's
    (normal theory, asymptotic), not a permutation p-value:
    [`permutation_anova`][cellnas_edu.stats.anova.permutation_anova] gives that."""
    from scipy import stats

    groups = [np.asarray(g, dtype=float) for g in per_seed_values if len(g) >= 2]
    if len(groups) < 2:
        return None
    result = stats.f_oneway(*groups)
    spread = float(max(g.mean() for g in groups) - min(g.mean() for g in groups))
    within = float(np.sqrt(np.mean([g.var(ddof=1) for g in groups])))
    f_stat = float(result.statistic)
    return {
        "F": f_stat if math.isfinite(f_stat) else None,
        "p_value": float(result.pvalue) if math.isfinite(float(result.pvalue)) else None,
        "n_cells": len(groups),
        "range_of_cell_means": spread,
        "pooled_seed_sd": within,
    }
