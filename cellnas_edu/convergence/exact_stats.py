r"""Exact small-sample statistics for the Section 4 study: no asymptotic p-value for n < 20.

The study of Chapter 3 compares 11 cells over 5 seeds. With so few units the
usual large-sample approximations (the t approximation of Spearman's
$\rho$ that `scipy.stats.spearmanr` reports, the normal
approximation of Page's test) can be far off: for five cell means with
perfect ranks scipy reports $p \approx 10^{-24}$ where the exact
one-sided permutation p-value is $1/120$, and for the five cell means
of the old Chapter 3 ($\rho = -0.97$, two tied widths) it reported
$p = 0.0048$ two-sided where the exact two-sided value is
$4/120 = 0.033$. Everything here is
exact, or Monte-Carlo with a stated standard error where exact enumeration is
infeasible, and refuses sizes it cannot do exactly rather than falling back.

* [`rank_sum_distribution`][cellnas_edu.convergence.exact_stats.rank_sum_distribution] -- the exact null distribution of
  $S = \sum_i a_i b_{\pi(i)}$ over all $n!$ permutations
  $\pi$, for integer scores with ties (a dynamic programme over subsets:
  state = which `b` are used, value = partial sum; $2^n$ states, so
  `n <= 14`).
* [`exact_spearman`][cellnas_edu.convergence.exact_stats.exact_spearman] -- Spearman's $\rho$ (midranks for ties) with
  the exact one-sided permutation p-value from that distribution. The rank
  vectors' means and variances do not change under permutation, so
  $\rho$ is an increasing function of $S$ and the two tests are
  the same test.
* [`stratified_spearman`][cellnas_edu.convergence.exact_stats.stratified_spearman] -- the blocked version (seeds as
  blocks): the
  sum over blocks of the per-block $S$, with the exact null distribution
  as the convolution of the per-block distributions (each block permuted
  independently). With the trend variable's ranks as `a` this is Page's
  trend test, generalised to ties.
* [`sign_test`][cellnas_edu.convergence.exact_stats.sign_test] -- the exact binomial test (per-seed $\rho$ in the
  predicted direction, zeros dropped).
* [`permutation_anova`][cellnas_edu.convergence.exact_stats.permutation_anova] -- one-way ANOVA $F$ with a Monte-Carlo
  permutation p-value $(1 + \#\{F^* \ge F\}) / (1 + N)$ and its standard
  error (`30!/(5!)^6` labellings cannot be enumerated).
* [`holm`][cellnas_edu.convergence.exact_stats.holm] -- Holm's step-down adjustment over a pre-registered family.
* [`bootstrap_spearman_over_seeds`][cellnas_edu.convergence.exact_stats.bootstrap_spearman_over_seeds] -- a percentile
  interval for the
  $\rho$ of cell means that resamples the seeds of every cell.

Infinite values (a diverged run's loss counts as $+\infty$, worse than
any finite loss) rank last, tied among themselves."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

MAX_EXACT_N = 14
"""Largest n for which [`rank_sum_distribution`][cellnas_edu.convergence.exact_stats.rank_sum_distribution]
runs (2^n subset states)."""

ALTERNATIVES = ("less", "greater")


def midranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n with ties given their mean rank; `+inf` ranks last (tied among themselves)."""
    x = np.asarray(values, dtype=float)
    if np.isnan(x).any():
        raise ValueError("midranks: NaN has no rank (use +inf for a diverged run)")
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def _doubled(ranks: np.ndarray) -> np.ndarray:
    """Midranks are multiples of 1/2: twice them are integers."""
    doubled = np.rint(2 * np.asarray(ranks, dtype=float)).astype(np.int64)
    if not np.allclose(doubled, 2 * np.asarray(ranks, dtype=float)):
        raise ValueError("scores must be multiples of 1/2 (midranks)")
    return doubled


@dataclass(frozen=True)
class Distribution:
    """An exact discrete distribution: `counts[k]` arrangements have statistic `offset + k`."""

    offset: int
    counts: np.ndarray  # object array of Python ints (no overflow) or int64
    total: int

    def tail_ge(self, value: int) -> int:
        index = max(0, int(value) - self.offset)
        return int(sum(int(c) for c in self.counts[index:]))

    def tail_le(self, value: int) -> int:
        index = int(value) - self.offset
        if index < 0:
            return 0
        return int(sum(int(c) for c in self.counts[: index + 1]))

    def probabilities(self) -> np.ndarray:
        return np.asarray([int(c) for c in self.counts], dtype=float) / float(self.total)


@dataclass(frozen=True)
class FloatDistribution:
    """A discrete distribution held as float64 probabilities (products of many exact ones: counts overflow)."""

    offset: int
    probs: np.ndarray

    @classmethod
    def of(cls, dist: Distribution) -> FloatDistribution:
        return cls(dist.offset, dist.probabilities())

    def convolve(self, other: FloatDistribution) -> FloatDistribution:
        return FloatDistribution(self.offset + other.offset, np.convolve(self.probs, other.probs))

    def tail_ge(self, value: int) -> float:
        return float(min(1.0, self.probs[max(0, int(value) - self.offset):].sum()))

    def tail_le(self, value: int) -> float:
        index = int(value) - self.offset
        return 0.0 if index < 0 else float(min(1.0, self.probs[: index + 1].sum()))


def rank_sum_distribution(a: Sequence[int], b: Sequence[int]) -> Distribution:
    """Cached front of `_rank_sum_distribution` (the distribution depends on the multisets only)."""
    return _rank_sum_distribution(tuple(sorted(int(v) for v in a)), tuple(sorted(int(v) for v in b)))


@functools.lru_cache(maxsize=256)
def _rank_sum_distribution(a: Sequence[int], b: Sequence[int]) -> Distribution:
    r"""Exact distribution of $S = \sum_i a_i b_{\pi(i)}$ over all `n!` permutations (integer scores).

    Dynamic programme over subsets: `D[mask]` is the distribution of the
    partial sum after giving `a_1..a_k` (`k = |mask|`) the `b` in
    `mask`. Layer by layer, so memory is one layer of subsets. Refuses
    `n > MAX_EXACT_N`."""
    a = [int(v) for v in a]
    b = [int(v) for v in b]
    n = len(a)
    if n != len(b):
        raise ValueError("a and b differ in length")
    if n < 2:
        raise ValueError("need at least 2 units")
    if n > MAX_EXACT_N:
        raise ValueError(f"exact enumeration needs 2^n subset states; n = {n} > {MAX_EXACT_N} is refused "
                         "(no asymptotic fallback)")
    lo = _bound(a, b, low=True)
    hi = _bound(a, b, low=False)
    size = hi - lo + 1
    layer = {0: np.zeros(size, dtype=np.int64)}
    layer[0][-lo] = 1  # partial sum 0
    for k in range(n):
        nxt: dict[int, np.ndarray] = {}
        ak = a[k]
        for mask, dist in layer.items():
            for j in range(n):
                if mask >> j & 1:
                    continue
                shift = ak * b[j]
                target = nxt.get(mask | 1 << j)
                if target is None:
                    target = nxt[mask | 1 << j] = np.zeros(size, dtype=np.int64)
                if shift >= 0:
                    target[shift:] += dist[: size - shift]
                else:
                    target[: size + shift] += dist[-shift:]
        layer = nxt
    (counts,) = layer.values()
    nz = np.nonzero(counts)[0]
    first, last = int(nz[0]), int(nz[-1])
    return Distribution(lo + first, counts[first:last + 1].astype(object), math.factorial(n))


def _bound(a: list[int], b: list[int], *, low: bool) -> int:
    """A bound on every partial sum of products (so the DP arrays never wrap)."""
    products = [abs(x) * max(abs(y) for y in b) for x in a]
    total = sum(products)
    return -total if low else total


@dataclass(frozen=True)
class SpearmanResult:
    """Spearman's rho with an exact one-sided permutation p-value."""

    rho: float | None
    p_value: float | None
    p_fraction: str | None  # e.g. "4/120": the exact p as a fraction of all arrangements
    alternative: str
    n: int
    statistic: int | None  # sum of doubled ranks products

    def to_json(self) -> dict:
        return asdict(self)


def spearman_rho(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation of the midranks; `None` when either variable is constant."""
    rx, ry = midranks(x), midranks(y)
    sx, sy = rx.std(), ry.std()
    if sx == 0 or sy == 0:
        return None
    return float(((rx - rx.mean()) * (ry - ry.mean())).mean() / (sx * sy))


def exact_spearman(x: Sequence[float], y: Sequence[float], alternative: str) -> SpearmanResult:
    """Spearman's rho of `x` and `y` and its exact one-sided permutation p-value.

    `alternative="less"` tests for a negative association, `"greater"` for
    a positive one. p = (number of the `n!` pairings at least as extreme as
    the observed one) / `n!`, counted exactly with ties (midranks)."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    n = len(x)
    if n != len(y):
        raise ValueError("x and y differ in length")
    rho = spearman_rho(x, y) if n >= 2 else None
    if rho is None:
        return SpearmanResult(None, None, None, alternative, n, None)
    a, b = _doubled(midranks(x)), _doubled(midranks(y))
    dist = rank_sum_distribution(a, b)
    observed = int(np.dot(a, b))
    count = dist.tail_le(observed) if alternative == "less" else dist.tail_ge(observed)
    frac = Fraction(count, dist.total)
    return SpearmanResult(rho, float(frac), f"{count}/{dist.total}", alternative, n, observed)


@dataclass(frozen=True)
class StratifiedResult:
    """Blocked (seeds as blocks) rank trend test: exact p over independent within-block permutations."""

    mean_rho: float | None
    block_rhos: list
    p_value: float | None
    alternative: str
    blocks: int
    statistic: int | None

    def to_json(self) -> dict:
        return asdict(self)


def stratified_spearman(blocks: Sequence[tuple[Sequence[float], Sequence[float]]],
                        alternative: str) -> StratifiedResult:
    """Page-type trend test over blocks: `T = sum_blocks sum_i a_i b_i` (doubled midranks within each block).

    Under the null the values within each block are exchangeable across
    units, independently between blocks, so the exact distribution of `T`
    is the convolution of the per-block
    [`rank_sum_distribution`][cellnas_edu.convergence.exact_stats.rank_sum_distribution] (exact
    counts per block; the convolution in float64, relative error ~1e-15).
    Blocks where either variable is constant carry no information and are
    skipped."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    dist, observed, rhos = None, 0, []
    for x, y in blocks:
        rho = spearman_rho(x, y) if len(x) >= 2 else None
        if rho is None:
            continue
        a, b = _doubled(midranks(x)), _doubled(midranks(y))
        block = FloatDistribution.of(rank_sum_distribution(a, b))
        dist = block if dist is None else dist.convolve(block)
        observed += int(np.dot(a, b))
        rhos.append(rho)
    if dist is None:
        return StratifiedResult(None, [], None, alternative, 0, None)
    p = dist.tail_le(observed) if alternative == "less" else dist.tail_ge(observed)
    return StratifiedResult(float(np.mean(rhos)), rhos, p, alternative, len(rhos), observed)


@dataclass(frozen=True)
class SignTestResult:
    successes: int
    trials: int
    zeros: int
    p_value: float | None
    p_fraction: str | None

    def to_json(self) -> dict:
        return asdict(self)


def binomial_tail(k: int, n: int) -> Fraction:
    """P(X >= k) for X ~ Binomial(n, 1/2), exactly."""
    return Fraction(sum(math.comb(n, i) for i in range(k, n + 1)), 2 ** n)


def sign_test(values: Sequence[float], alternative: str) -> SignTestResult:
    """Exact one-sided sign test: how many `values` (e.g. per-seed rho) have the predicted sign.

    Zeros (and `None`) are dropped; p = P(X >= successes), X ~ Bin(trials, 1/2)."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    kept = [v for v in values if v is not None and v != 0]
    zeros = len(values) - len(kept)
    successes = sum(1 for v in kept if (v < 0 if alternative == "less" else v > 0))
    if not kept:
        return SignTestResult(0, 0, zeros, None, None)
    frac = binomial_tail(successes, len(kept))
    return SignTestResult(successes, len(kept), zeros, float(frac), f"{frac.numerator}/{frac.denominator}")


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


def holm(p_values: dict[str, float | None]) -> dict[str, float | None]:
    """Holm's step-down adjusted p-values (`min(1, max over the step-down of (m - i) p_(i))`)."""
    items = sorted(((p, k) for k, p in p_values.items() if p is not None))
    m = len(items)
    adjusted: dict[str, float | None] = {k: None for k, p in p_values.items() if p is None}
    running = 0.0
    for i, (p, key) in enumerate(items):
        running = max(running, min(1.0, (m - i) * p))
        adjusted[key] = running
    return {k: adjusted[k] for k in p_values}


def _cell_means(values_by_cell: Sequence[Sequence[float]]) -> np.ndarray:
    out = []
    for v in values_by_cell:
        arr = np.asarray(v, dtype=float)
        out.append(np.inf if np.isinf(arr).any() else arr.mean())
    return np.asarray(out)


def bootstrap_spearman_over_seeds(x: Sequence[float], values_by_cell: Sequence[Sequence[float]],
                                  n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile interval of the rho of `x` against the cell means, resampling each cell's seeds.

    A cell with a diverged (infinite) run in the resample has mean `+inf`
    (it ranks last). Replicates where rho is undefined are dropped and counted."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(v, dtype=float) for v in values_by_cell]
    point = spearman_rho(x, _cell_means(arrays))
    rhos, undefined = [], 0
    for _ in range(n_boot):
        sample = [a[rng.integers(0, a.size, a.size)] for a in arrays]
        rho = spearman_rho(x, _cell_means(sample))
        if rho is None:
            undefined += 1
        else:
            rhos.append(rho)
    if not rhos:
        return {"rho": point, "low": None, "high": None, "n_boot": n_boot, "undefined": undefined, "level": level}
    low, high = np.quantile(rhos, [(1 - level) / 2, (1 + level) / 2])
    return {"rho": point, "low": float(low), "high": float(high), "n_boot": n_boot, "undefined": undefined,
            "level": level}


def bootstrap_mean_interval(values: Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile bootstrap interval of a mean (for per-seed rho, whose distribution is bounded)."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return {"mean": None, "low": None, "high": None}
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, (n_boot, arr.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return {"mean": float(arr.mean()), "low": float(low), "high": float(high)}
