r"""Statistics of a convergence experiment (Section 4.1, Figures 3-5, Appendix B.2).

Section 4.1 claims that "as the width increases and the depth decreases of a
cell ... the convergence becomes faster". A claim about training runs is a
claim about random quantities (initialisation, data order), so it is made
here over several seeds, with an interval, never from one run:

* **Final test loss** of each run after `E` epochs, and the **area under the
  test-loss curve** ([`area_under_curve`][cellnas_edu.convergence.stats.area_under_curve]), which summarises the speed
  of
  convergence over the whole run rather than only its end point.
* Per cell, the mean over seeds with a 95% Student-t interval
  ([`mean_interval`][cellnas_edu.convergence.stats.mean_interval]).
* Across cells, Spearman's rank correlation between cell width (or depth) and
  the cell's mean test loss / AUC
  ([`spearman_with_bootstrap`][cellnas_edu.convergence.stats.spearman_with_bootstrap]), with the
  p-value of `scipy.stats.spearmanr` (a test over cells that treats the
  cell means as exact) and a bootstrap interval that also carries the seed
  noise: each replicate resamples the seeds of every cell with replacement,
  recomputes the cell means and the correlation.

The paper's claim predicts a **negative** correlation between width and test
loss (wider converges faster: lower loss) and a **positive** one between depth
and test loss.

**Diverged runs** (a NaN/inf loss; Figure 4's `C3` at learning rate 0.25
"completely fails to converge") are kept out of the means and listed
separately ([`split_diverged`][cellnas_edu.convergence.stats.split_diverged]): averaging a NaN would poison the mean and
dropping it silently would hide the strongest effect of all."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PAPER_EXPECTS = {"width": -1, "depth": +1}
"""Sign of the correlation with test loss that Section 4.1's claim predicts."""


def area_under_curve(values: Sequence[float], epochs: Sequence[float] | None = None) -> float:
    """Trapezoid area under a per-epoch curve, divided by the epoch span (so it is a mean loss).

    With `epochs = 1..E` this is `trapz(values, epochs) / (E - 1)`: a curve
    that is constant at `v` has AUC `v`, and a curve that drops earlier has
    a smaller AUC than one that reaches the same end point later. A single
    epoch has no span; its AUC is its only value."""
    y = np.asarray(values, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("area_under_curve needs a non-empty 1-d sequence of values")
    x = np.arange(1, y.size + 1, dtype=float) if epochs is None else np.asarray(epochs, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"epochs ({x.size}) and values ({y.size}) differ in length")
    if y.size == 1:
        return float(y[0])
    span = x[-1] - x[0]
    if span <= 0:
        raise ValueError("epochs must increase")
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy >= 2.0 / 1.26
    return float(trapezoid(y, x)) / span


@dataclass(frozen=True)
class Interval:
    """A mean with a two-sided interval; `low`/`high` are `None` when it cannot be computed (one value)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    level: float = 0.95

    def to_json(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n, "level": self.level}

    def excludes_zero(self) -> bool | None:
        if self.low is None or self.high is None:
            return None
        return self.low > 0 or self.high < 0


def mean_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean of `values` and its Student-t interval (`n - 1` degrees of freedom).

    With one value the mean is that value and the interval is `None`: one
    run says nothing about the spread between seeds."""
    from scipy import stats

    x = np.asarray([v for v in values], dtype=float)
    if x.size == 0:
        return Interval(None, None, None, 0, level)
    if not np.all(np.isfinite(x)):
        raise ValueError("mean_interval got a non-finite value; separate diverged runs first (split_diverged)")
    mean = float(x.mean())
    if x.size == 1:
        return Interval(mean, None, None, 1, level)
    sem = float(x.std(ddof=1) / math.sqrt(x.size))
    half = float(stats.t.ppf(0.5 + level / 2, df=x.size - 1)) * sem
    return Interval(mean, mean - half, mean + half, int(x.size), level)


def is_diverged(values: Sequence[float]) -> bool:
    """A run diverged if any of its losses is NaN or infinite."""
    return not bool(np.all(np.isfinite(np.asarray(values, dtype=float))))


def split_diverged(runs: dict[int, Sequence[float]]) -> tuple[dict[int, Sequence[float]], list[int]]:
    """`{seed: test-loss curve}` -> (the finite runs, the sorted seeds of the diverged runs)."""
    finite = {seed: curve for seed, curve in runs.items() if not is_diverged(curve)}
    return finite, sorted(seed for seed in runs if seed not in finite)


def _rank_rows(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(a, axis=-1)


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of a vector `x` with every row of `y` (NaN where a row is constant)."""
    xc = x - x.mean()
    yc = y - y.mean(axis=1, keepdims=True)
    denom = np.sqrt((xc**2).sum()) * np.sqrt((yc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (yc @ xc) / denom


@dataclass(frozen=True)
class Correlation:
    """Spearman's rho between a cell property and a per-cell mean, with p-value and bootstrap interval."""

    rho: float | None
    p_value: float | None
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

    The point estimate and p-value are `scipy.stats.spearmanr` on the
    cell means. The interval is the percentile bootstrap over seeds: replicate
    `b` draws, for every cell independently, as many seeds as it has with
    replacement, and recomputes rho on the resampled means. Replicates in which
    the means are all tied (rho undefined) are dropped. Cells without values
    must be removed by the caller."""
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

    rng = np.random.default_rng(seed)
    boot_means = np.empty((n_boot, n))
    for i, g in enumerate(groups):
        picks = rng.integers(0, g.size, size=(n_boot, g.size))
        boot_means[:, i] = g[picks].mean(axis=1)
    rhos = _pearson_rows(_rank_rows(x), _rank_rows(boot_means))
    rhos = rhos[np.isfinite(rhos)]
    if rhos.size == 0:
        return Correlation(rho, p_value, None, None, n, 0, "every bootstrap replicate was tied")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(rhos, [tail, 100 - tail])
    return Correlation(rho, p_value, float(low), float(high), n, int(rhos.size))


def describe_correlation(prop: str, metric: str, corr: Correlation) -> str:
    """One sentence for a student: the estimate, its interval, and which way the evidence points."""
    if corr.rho is None:
        return f"{prop} vs {metric}: undefined ({corr.reason})"
    expected = PAPER_EXPECTS[prop]
    agrees = corr.rho * expected > 0
    direction = {
        ("width", True): "wider cells reach lower loss, as Section 4.1 claims",
        ("width", False): "wider cells do NOT reach lower loss here, against Section 4.1's claim",
        ("depth", True): "deeper cells reach higher loss, as Section 4.1 claims",
        ("depth", False): "deeper cells do NOT reach higher loss here, against Section 4.1's claim",
    }[(prop, agrees)]
    if corr.rho == 0:
        direction = "no rank association"
    if corr.low is None:
        interval = "no bootstrap interval"
        verdict = "inconclusive"
    else:
        interval = f"95% bootstrap interval [{corr.low:+.2f}, {corr.high:+.2f}]"
        verdict = "interval excludes 0" if corr.excludes_zero() else "interval includes 0: inconclusive"
    return (
        f"{prop} vs {metric}: Spearman rho = {corr.rho:+.2f}, {interval}, p = {corr.p_value:.3g} "
        f"({corr.n_cells} cells); points this way: {direction}; {verdict}"
    )


def one_way_anova(per_seed_values: Sequence[Sequence[float]]) -> dict | None:
    """Do the cells differ more than seeds do? `scipy.stats.f_oneway` over cells (Figure 5's question).

    Figure 5 claims that random *operation* variants "achieve nearly the same
    convergence"; a large p-value is consistent with that (it does not prove
    equality). `None` when fewer than two cells have at least two seeds."""
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
