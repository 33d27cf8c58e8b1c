"""Exact statistics against brute force, scipy's exact routines and textbook values."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from cellnas_edu.convergence import exact_stats as xs


def brute_spearman_p(x, y, alternative):
    """Share of all n! re-pairings of y whose rho is at least as extreme (brute force)."""
    observed = xs.spearman_rho(x, y)
    hits = total = 0
    for perm in itertools.permutations(range(len(y))):
        rho = xs.spearman_rho(x, [y[i] for i in perm])
        total += 1
        hits += rho <= observed + 1e-12 if alternative == "less" else rho >= observed - 1e-12
    return Fraction(hits, total)


def test_textbook_value_five_perfect_ranks_is_one_in_120():
    res = xs.exact_spearman([1, 2, 3, 4, 5], [10, 8, 6, 4, 2], "less")
    assert res.rho == pytest.approx(-1.0)
    assert res.p_fraction == "1/120"
    assert res.p_value == pytest.approx(1 / 120, abs=1e-15)
    # scipy's asymptotic two-sided p is far smaller than the exact one-sided one: the reason this module exists
    assert stats.spearmanr([1, 2, 3, 4, 5], [10, 8, 6, 4, 2]).pvalue < 1 / 120 / 2
    # rho = -0.9: the perfect ordering and the 4 adjacent swaps
    res = xs.exact_spearman([1, 2, 3, 4, 5], [5, 3, 4, 2, 1], "less")
    assert res.rho == pytest.approx(-0.9)
    assert res.p_fraction == "5/120"
    # the old Chapter 3 run: five cell means, two tied widths, rho = -0.97; scipy said p = 0.0048 (two-sided,
    # asymptotic); exactly it is 2/120 one-sided, 4/120 two-sided (the null distribution is symmetric)
    widths, aucs = [3.5, 2, 2.5, 2.5, 3], [1.5027, 1.9218, 1.6894, 1.7541, 1.5488]
    res = xs.exact_spearman(widths, aucs, "less")
    assert res.rho == pytest.approx(-0.9747, abs=1e-4)
    assert res.p_fraction == "2/120"
    assert stats.spearmanr(widths, aucs).pvalue == pytest.approx(0.0048, abs=1e-4)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alternative", ["less", "greater"])
def test_exact_spearman_equals_brute_force_with_ties(seed, alternative):
    rng = np.random.default_rng(seed)
    n = 5 + seed % 3
    x = rng.choice([1.5, 2.0, 2.5, 3.0, 3.5], size=n)  # widths: many ties
    y = rng.integers(0, 4, size=n).astype(float) if seed % 2 else rng.normal(size=n)
    if xs.spearman_rho(x, y) is None:
        pytest.skip("constant draw")
    res = xs.exact_spearman(x, y, alternative)
    expected = brute_spearman_p(x, y, alternative)
    assert Fraction(res.p_fraction) == expected
    assert res.p_value == pytest.approx(float(expected), abs=1e-15)


def test_exact_spearman_matches_scipy_exact_permutation_test():
    x = [3.5, 1.5, 2.0, 2.0, 2.5, 3.0, 3.5]
    y = [1.1, 1.9, 1.5, 1.6, 1.4, 1.2, 1.0]
    ref = stats.permutation_test((x,), lambda a: stats.spearmanr(a, y)[0], permutation_type="pairings",
                                 alternative="less", n_resamples=np.inf)
    assert xs.exact_spearman(x, y, "less").p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_distribution_counts_every_permutation_once():
    a = xs._doubled(xs.midranks([1, 1, 2, 3, 3, 3, 4, 5]))
    b = 2 * np.arange(1, 9)
    dist = xs.rank_sum_distribution(a, b)
    assert sum(int(c) for c in dist.counts) == math.factorial(8) == dist.total
    brute = {}
    for perm in itertools.permutations(b):
        s = int(np.dot(a, perm))
        brute[s] = brute.get(s, 0) + 1
    for s, count in brute.items():
        assert int(dist.counts[s - dist.offset]) == count


def test_infinite_losses_rank_last_and_nan_is_refused():
    assert list(xs.midranks([1.0, math.inf, 0.5, math.inf])) == [2.0, 3.5, 1.0, 3.5]
    with pytest.raises(ValueError, match="NaN"):
        xs.midranks([1.0, float("nan")])


def test_too_large_n_is_refused_not_approximated():
    n = xs.MAX_EXACT_N + 1
    with pytest.raises(ValueError, match="refused"):
        xs.exact_spearman(list(range(n)), list(range(n)), "less")


def test_constant_variable_has_no_rho():
    res = xs.exact_spearman([2, 2, 2, 2], [1, 2, 3, 4], "less")
    assert res.rho is None and res.p_value is None


def test_stratified_equals_brute_force_over_blocks():
    blocks = [([1, 2, 2, 3], [0.3, 0.1, 0.2, 0.05]), ([1, 2, 3, 3], [0.5, 0.45, 0.2, 0.3])]
    res = xs.stratified_spearman(blocks, "less")
    # brute force: permute each block independently, statistic = sum of doubled-rank products
    prepared = [(xs._doubled(xs.midranks(x)), xs._doubled(xs.midranks(y))) for x, y in blocks]
    observed = sum(int(np.dot(a, b)) for a, b in prepared)
    sums = [[int(np.dot(a, p)) for p in itertools.permutations(b)] for a, b in prepared]
    hits = sum(1 for s1 in sums[0] for s2 in sums[1] if s1 + s2 <= observed)
    assert res.p_value == pytest.approx(hits / (len(sums[0]) * len(sums[1])), rel=1e-12)
    assert res.statistic == observed
    assert res.mean_rho == pytest.approx(np.mean([xs.spearman_rho(x, y) for x, y in blocks]))


def test_stratified_with_perfect_blocks_is_product_of_block_p():
    res = xs.stratified_spearman([([1, 2, 3], [3, 2, 1])] * 3, "less")
    assert res.p_value == pytest.approx((1 / 6) ** 3, rel=1e-12)


@pytest.mark.parametrize("values, k, n", [([-0.2, -0.5, -0.1, 0.3, -0.9], 4, 5), ([-1] * 5, 5, 5),
                                          ([0.1, 0.0, -0.3, -0.2], 2, 3)])
def test_sign_test_equals_scipy_binomtest(values, k, n):
    res = xs.sign_test(values, "less")
    assert (res.successes, res.trials) == (k, n)
    assert res.p_value == pytest.approx(stats.binomtest(k, n, 0.5, alternative="greater").pvalue, rel=1e-12)


def test_sign_test_minimum_with_five_seeds_is_one_in_32():
    assert xs.sign_test([-0.1] * 5, "less").p_fraction == "1/32"


def test_holm_by_hand():
    adjusted = xs.holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": None})
    assert adjusted["a"] == pytest.approx(0.03)
    assert adjusted["c"] == pytest.approx(0.06)
    assert adjusted["b"] == pytest.approx(0.06)  # monotone: never below the previous step
    assert adjusted["d"] is None


def test_anova_f_matches_scipy_and_permutation_p_matches_full_enumeration():
    groups = [[1.0, 1.3], [2.1, 2.4], [1.6, 1.2]]
    res = xs.permutation_anova(groups, permutations=20000, seed=1)
    assert res.F == pytest.approx(stats.f_oneway(*groups).statistic)
    assert res.p_value_f_distribution == pytest.approx(stats.f_oneway(*groups).pvalue)
    # exact: all 6!/(2!2!2!) = 90 distinct labellings
    values = sum(groups, [])
    hits = total = 0
    for perm in set(itertools.permutations([0, 0, 1, 1, 2, 2])):
        regrouped = [[v for v, g in zip(values, perm) if g == k] for k in range(3)]
        total += 1
        hits += xs.one_way_f(regrouped) >= res.F * (1 - 1e-12)
    exact = hits / total
    assert total == 90
    assert abs(res.p_value_permutation - exact) < 4 * res.permutation_se + 1e-4


def test_bootstrap_interval_contains_point_and_handles_divergence():
    x = [1, 2, 3, 4]
    by_cell = [[0.9, 1.0, 1.1], [0.8, 0.85, 0.9], [0.6, 0.7, math.inf], [0.5, 0.55, 0.6]]
    boot = xs.bootstrap_spearman_over_seeds(x, by_cell, n_boot=300, seed=0)
    assert boot["low"] <= boot["rho"] <= boot["high"]
    assert boot["rho"] == pytest.approx(xs.spearman_rho(x, [1.0, 0.85, math.inf, 0.55]))
