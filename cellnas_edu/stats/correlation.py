r"""Spearman's $\rho$ of a cell property against cell means, with a bootstrap interval over seeds (Section 4.1).

The quick summary `cellnas convergence` prints: the point estimate and
the **asymptotic** p-value of `scipy.stats.spearmanr` on the cell means (a
t approximation that treats the cell means as exact and can be far off for a
handful of cells; [`exact_spearman`][cellnas_edu.stats.permutation.exact_spearman] is the exact test), and a
percentile interval that also carries the seed noise: each replicate
resamples the seeds of every cell with replacement
([`bootstrap`][cellnas_edu.stats.resampling.bootstrap], `order="cells"`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .ranks import spearman_rows
from .resampling import bootstrap


@dataclass(frozen=True)
class Correlation:
    """Spearman's rho between a cell property and a per-cell mean, asymptotic p-value and bootstrap interval."""

    rho: float | None
    p_value: float | None  # asymptotic (scipy.stats.spearmanr's t approximation)
    low: float | None
    high: float | None
    n_cells: int
    n_boot: int
    reason: str | None = None  # why it is undefined, when rho is None

    def excludes_zero(self) -> bool | None:
        if self.low is None or self.high is None:
            return None
        return self.low > 0 or self.high < 0

    def to_json(self) -> dict:
        return {
            "rho": self.rho,
            "p_value": self.p_value,
            "interval": [self.low, self.high] if self.low is not None else None,
            "interval_excludes_zero": self.excludes_zero(),
            "n_cells": self.n_cells,
            "n_boot": self.n_boot,
            "reason": self.reason,
        }


def spearman_with_bootstrap(
    properties: Sequence[float],
    per_seed_values: Sequence[Sequence[float]],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Correlation:
    """Spearman's rho between `properties[i]` and `mean(per_seed_values[i])` over cells `i`.

    The point estimate and the asymptotic p-value are `scipy.stats.spearmanr`
    on the cell means. The interval is the percentile bootstrap over seeds:
    replicate `b` draws, for every cell independently, as many seeds as it has
    with replacement, and recomputes rho on the resampled means. Replicates in
    which the means are all tied (rho undefined) are dropped. Cells without
    values must be removed by the caller."""
    from scipy import stats

    x = np.asarray(properties, dtype=float)
    groups = [np.asarray(v, dtype=float) for v in per_seed_values]
    if len(groups) != x.size:
        raise ValueError(f"{x.size} properties but {len(groups)} groups of values")
    if any(g.size == 0 for g in groups):
        raise ValueError("every cell needs at least one value")
    n = x.size
    if n < 3:
        return Correlation(None, None, None, None, n, 0, f"needs at least 3 cells, got {n}")
    if np.all(x == x[0]):
        return Correlation(None, None, None, None, n, 0, "all cells have the same value of this property")
    means = np.array([g.mean() for g in groups])
    result = stats.spearmanr(x, means)
    rho, p_value = float(result.statistic), float(result.pvalue)
    if not math.isfinite(rho):
        return Correlation(None, None, None, None, n, 0, "all cell means are tied")

    def rhos(picks):
        boot_means = np.empty((n_boot, n))
        for i, (g, p) in enumerate(zip(groups, picks)):
            boot_means[:, i] = g[p].mean(axis=1)
        return spearman_rows(x, boot_means)

    boot = bootstrap([g.size for g in groups], rhos, n_boot=n_boot, rng=seed, order="cells")
    if boot.replicates.size == 0:
        return Correlation(rho, p_value, None, None, n, 0, "every bootstrap replicate was tied")
    tail = (1 - level) / 2 * 100
    low, high = boot.quantiles(np.true_divide([tail, 100 - tail], 100))  # what np.percentile computes
    return Correlation(rho, p_value, low, high, n, int(boot.replicates.size))
