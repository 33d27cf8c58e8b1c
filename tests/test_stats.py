"""The statistics package (cellnas_edu.stats) against brute force, scipy and textbook values, and every committed
statistic in results/ recomputed from its records through it, bit for bit."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cellnas_edu import stats as xs


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
    a = xs.doubled_ranks(xs.midranks([1, 1, 2, 3, 3, 3, 4, 5]))
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
    prepared = [(xs.doubled_ranks(xs.midranks(x)), xs.doubled_ranks(xs.midranks(y))) for x, y in blocks]
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


def test_spearman_rho_is_scipys_statistic():
    rng = np.random.default_rng(0)
    for n in (3, 5, 8, 11):
        x = rng.choice([1.5, 2.0, 2.5, 3.0, 3.5], size=n)
        y = rng.normal(size=n)
        if len(set(x)) > 1:
            assert xs.spearman_rho(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)
            rows = rng.normal(size=(4, n))
            expected = [stats.spearmanr(x, row).statistic for row in rows]
            assert xs.spearman_rows(x, rows) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(xs.spearman_rows([1, 2, 3], np.ones((1, 3))))[0]


# -- signs ---------------------------------------------------------------------------------------------------------


def brute_force_sign_flip(values: list[Fraction], alternative: str) -> Fraction:
    """Enumerate every sign pattern with itertools.product, in exact arithmetic."""
    observed = sum(values)
    hits = 0
    for signs in itertools.product((1, -1), repeat=len(values)):
        flipped = sum(s * abs(v) for s, v in zip(signs, values))
        hits += {"greater": flipped >= observed, "less": flipped <= observed,
                 "two-sided": abs(flipped) >= abs(observed)}[alternative]
    return Fraction(hits, 2 ** len(values))


@given(st.lists(st.integers(-8, 8), min_size=1, max_size=9), st.sampled_from(["greater", "less", "two-sided"]))
def test_sign_flip_agrees_with_brute_force(halves, alternative):
    """Multiples of 1/2 (cell widths are) with ties and zeros: the exact count of extreme sign patterns."""
    values = [Fraction(h, 2) for h in halves]
    result = xs.sign_flip_test([float(v) for v in values], alternative)
    assert Fraction(result.p_fraction) == brute_force_sign_flip(values, alternative)
    assert result.p_value == pytest.approx(float(brute_force_sign_flip(values, alternative)))
    assert result.n == len(values) and result.mean == pytest.approx(float(sum(values)) / len(values))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-6, 6), min_size=1, max_size=9), st.sampled_from(["greater", "less", "two-sided"]))
def test_sign_flip_is_the_brute_force_permutation_test(d, alternative):
    """Chapter 7's error test counts, by convolution over the integer differences in misclassified images, the
    sign patterns whose sum is at least as extreme as the observed one: the brute-force enumeration of all 2^n
    patterns, and the same count as listing the sums (the path of non-integer values)."""
    result = xs.sign_flip_test(d, alternative)
    assert Fraction(result.p_fraction) == brute_force_sign_flip([Fraction(v) for v in d], alternative)
    from cellnas_edu.stats.signs import _integer_count, _listed_count

    assert _integer_count(d, alternative) == _listed_count([float(v) for v in d], alternative)


def test_sign_flip_known_values():
    # eight positive, distinct differences: only the observed pattern is as large
    assert xs.sign_flip_test([1, 2, 3, 4, 5, 6, 7, 8], "greater").p_fraction == "1/256"
    assert xs.sign_flip_test([1, 2, 3, 4, 5, 6, 7, 8], "less").p_value == 1.0
    # thirds (widths can be): 1/3 + 1/3 - 2/3 = 0; patterns with sum >= 0: 5 of 8 (by hand)
    assert xs.sign_flip_test([1 / 3, 1 / 3, -2 / 3], "greater").p_fraction == "5/8"
    assert xs.sign_flip_test([None, 2.0], "greater").p_fraction == "1/2"  # None dropped
    assert xs.sign_flip_test([1] * 5, "two-sided").p_value == 2 / 32  # the two extreme patterns
    assert xs.sign_flip_test([0, 0, 3], "two-sided").p_value == 1.0  # zeros count in neither share
    assert xs.sign_flip_test([1.0, 2.0, 3.0, 4.0, 5.0], "two-sided").p_value == 1 / 16  # 5 means: never below
    assert xs.sign_flip_test([1] * 40, "greater").p_fraction == f"1/{2 ** 40}"  # integers: by convolution
    empty = xs.sign_flip_test([], "greater")
    assert empty.p_value is None and empty.n == 0
    with pytest.raises(ValueError, match="n = 21 > 20"):
        xs.sign_flip_test([0.5] * 21, "greater")
    with pytest.raises(ValueError):
        xs.sign_flip_test([math.nan], "greater")
    with pytest.raises(ValueError):
        xs.sign_flip_test([1.0], "both")


@pytest.mark.parametrize("k, n, p", [(3, 5, Fraction(1, 2)), (0, 4, Fraction(1, 2)), (2, 5, Fraction(1, 11)),
                                     (5, 5, Fraction(1, 6)), (1, 8, Fraction(1, 11))])
def test_binomial_tail_is_scipys_survival_function(k, n, p):
    assert float(xs.binomial_tail(k, n, p)) == pytest.approx(stats.binom.sf(k - 1, n, float(p)), rel=1e-12)
    brute = sum(Fraction(math.prod(p if s else 1 - p for s in outcome))
                for outcome in itertools.product((0, 1), repeat=n) if sum(outcome) >= k)
    assert xs.binomial_tail(k, n, p) == brute


def test_binomial_test_is_scipys_binomtest_with_the_exact_interval():
    res = xs.binomial_test(9, 12)
    ref = stats.binomtest(9, 12, 0.5)
    assert res.p_value == ref.pvalue and (res.successes, res.trials) == (9, 12)
    ci = ref.proportion_ci(0.95, method="exact")
    assert (res.low, res.high) == (ci.low, ci.high)
    # brute force two-sided: outcomes no more likely than the observed one
    probs = [math.comb(12, i) / 2 ** 12 for i in range(13)]
    assert res.p_value == pytest.approx(sum(q for q in probs if q <= probs[9] * (1 + 1e-7)), rel=1e-12)


def test_signed_rank_test_is_the_enumeration_of_signed_ranks():
    d = [0.4, -0.1, 0.25, 0.7, -0.3, 0.55]
    ranks = stats.rankdata(np.abs(d))
    observed = sum(r for r, v in zip(ranks, d) if v > 0)
    sums = [sum(r for r, s in zip(ranks, signs) if s) for signs in itertools.product((0, 1), repeat=len(d))]
    centre = ranks.sum() / 2
    expected = sum(abs(s - centre) >= abs(observed - centre) for s in sums) / len(sums)
    assert xs.signed_rank_test(d) == pytest.approx(expected, rel=1e-12)


# -- sums of draws ---------------------------------------------------------------------------------------------------


def test_convolve_counts_is_the_brute_force_product():
    counts = {3: 2, 4: 1, 6: 5}
    brute: dict[int, int] = {}
    for draws in itertools.product(counts, repeat=3):
        key = sum(draws)
        brute[key] = brute.get(key, 0) + math.prod(counts[d] for d in draws)
    assert xs.convolve_counts(counts, 3) == brute
    assert xs.convolve([counts, {0: 1, 1: 1}]) == {3: 2, 4: 3, 5: 1, 6: 5, 7: 5}
    with pytest.raises(ValueError):
        xs.convolve_counts(counts, 0)


def test_uniform_selection_null_is_the_brute_force_enumeration():
    """The exact null of H2: every combination of one pick per repetition equally likely."""
    widths = [[2.0, 2.0, 2.5, 3.0, 3.5], [1.5, 3.0, 3.0], [2.0, 4.0, 4.0, 4.0]]
    for selected in ([3.5, 3.0, 4.0], [2.0, 1.5, 2.0], [2.5, 3.0, 4.0]):
        combos = list(itertools.product(*widths))
        total = sum(selected)
        for alternative in ("greater", "less"):
            hits = sum((sum(c) >= total - 1e-12) if alternative == "greater" else (sum(c) <= total + 1e-12)
                       for c in combos)
            expected = Fraction(hits, len(combos))
            result = xs.uniform_selection_test(widths, selected, alternative)
            assert Fraction(result.p_fraction) == expected, (selected, alternative)
    assert xs.uniform_selection_test(widths, [3.5, 3.0, 4.0], "greater").expected == pytest.approx(
        sum(sum(w) / len(w) for w in widths))


def test_holm_of_a_list_keeps_the_order_and_equals_the_mapping():
    ps = [0.01, 0.04, 0.03, 0.5]
    assert xs.holm(ps) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert xs.holm(dict(zip("abcd", ps))) == dict(zip("abcd", xs.holm(ps)))
    # brute force: the step-down definition, max over the smaller p-values of min(1, (m - i) p_(i))
    order = sorted(range(4), key=lambda i: ps[i])
    for rank, i in enumerate(order):
        assert xs.holm(ps)[i] == max(min(1.0, (4 - r) * ps[order[r]]) for r in range(rank + 1))


# -- intervals and the bootstrap -------------------------------------------------------------------------------------


def test_t_interval_is_scipys():
    x = [1.2, 0.7, 1.9, 1.4, 0.8]
    iv = xs.mean_interval(x, level=0.9)
    low, high = stats.t.interval(0.9, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert (iv.low, iv.high) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))
    data = np.array([x, [v + 1 for v in x[::-1]]]).T
    assert xs.t_half_width(data, axis=0) == pytest.approx([iv_half(col) for col in data.T], rel=1e-12)


def iv_half(values):
    low, high = stats.t.interval(0.95, len(values) - 1, loc=0, scale=stats.sem(values))
    return high


def test_bootstrap_draws_replicate_by_replicate_or_cell_by_cell():
    sizes = [3, 5, 2]
    by_hand = np.random.default_rng(7)
    expected = [sum(by_hand.integers(0, n, n).sum() for n in sizes) for _ in range(50)]
    got = xs.bootstrap(sizes, lambda idx: sum(i.sum() for i in idx), n_boot=50, rng=7, order="replicates")
    assert list(got.replicates) == expected and got.undefined == 0
    by_hand = np.random.default_rng(7)
    expected = sum(by_hand.integers(0, n, (50, n)).sum(axis=1) for n in sizes)
    got = xs.bootstrap(sizes, lambda picks: sum(p.sum(axis=1) for p in picks), n_boot=50, rng=7, order="cells")
    assert list(got.replicates) == list(expected)


def test_bootstrap_drops_and_counts_undefined_replicates():
    got = xs.bootstrap([4], lambda idx: None if idx[0][0] == 0 else float(idx[0][0]), n_boot=400, rng=0)
    assert got.undefined + got.replicates.size == 400 and 60 < got.undefined < 140  # about a quarter
    assert 0 not in got.replicates
    assert xs.bootstrap([1], lambda idx: None, n_boot=5).interval() == (None, None)
    with pytest.raises(ValueError):
        xs.bootstrap([2], sum, order="seeds")


@pytest.mark.skipif(tuple(int(v) for v in __import__("scipy").__version__.split(".")[:2]) < (1, 15),
                    reason="scipy.stats.bootstrap(rng=...) needs scipy 1.15")
def test_cell_major_bootstrap_is_scipys_percentile_bootstrap():
    """The cell-major draws are scipy.stats.bootstrap's: the same interval of a mean and of a rho over cells."""
    x = [0.3, -0.1, 0.5, 0.2, 0.9, 0.4]
    ours = xs.bootstrap_mean_interval(x, n_boot=999, seed=3)
    ref = stats.bootstrap((np.array(x),), np.mean, n_resamples=999, method="percentile", vectorized=True,
                          rng=np.random.default_rng(3)).confidence_interval
    assert (ours["low"], ours["high"]) == (ref.low, ref.high)
    widths = [1.5, 2.0, 2.5, 3.0]
    cells = [np.array([1.0, 1.2, 0.9]), np.array([0.8, 1.1, 1.0, 0.7]), np.array([0.9, 0.6]), np.array([0.5, 0.7])]
    corr = xs.spearman_with_bootstrap(widths, cells, n_boot=500, seed=4)

    def rho(*samples, axis=-1):
        return xs.spearman_rows(widths, np.stack([s.mean(axis=axis) for s in samples], axis=-1))

    ref = stats.bootstrap(cells, rho, n_resamples=500, method="percentile", vectorized=True,
                          rng=np.random.default_rng(4)).confidence_interval
    assert (corr.low, corr.high) == pytest.approx((ref.low, ref.high), rel=1e-12)


# -- every committed statistic, recomputed from its records through this package ------------------------------------

RESULTS = Path(__file__).resolve().parents[1] / "results"
WITHOUT_STATISTICS = {
    "bench_cpu": "timings", "bench_malloc": "timings", "paper_scale": "arithmetic of GPU hours",
    "mutants": "mutation-testing counts", "section4_followup_check": "a protocol check (epochs, timing)",
    "theory": "maximum relative errors of the gradient identities", "gradvar_stat": "rankings by one statistic",
    "nb201": "NAS-Bench-201 correlations of nb201.analysis (scipy), recomputed by tests/test_nb201_analysis.py",
}
"""Results files with no test or interval of this package in them (and what they hold instead)."""


def bit_differences(stored, recomputed, path="") -> list[str]:
    """Every place where `recomputed` (after a JSON round trip) is not exactly `stored`: no tolerance."""
    if isinstance(stored, dict):
        if not isinstance(recomputed, dict) or set(stored) != set(recomputed):
            return [f"{path}: keys differ"]
        return [d for k in stored for d in bit_differences(stored[k], recomputed[k], f"{path}.{k}")]
    if isinstance(stored, list):
        if not isinstance(recomputed, list) or len(stored) != len(recomputed):
            return [f"{path}: lengths differ"]
        return [d for i, (a, b) in enumerate(zip(stored, recomputed)) for d in bit_differences(a, b, f"{path}[{i}]")]
    same = stored == recomputed and type(stored) is type(recomputed)
    return [] if same else [f"{path}: {stored!r} != {recomputed!r}"]


def assert_bit_identical(stored, recomputed):
    differences = bit_differences(stored, json.loads(json.dumps(recomputed)))
    assert not differences, f"{len(differences)} differences, first: {differences[:3]}"


def _summary(name):
    from cellnas_edu.results import load_summary

    return load_summary(name, RESULTS)


def _followup_records():
    return _summary("convergence_followup")["records"]


def _section4(name):
    from cellnas_edu import section4_study as s4

    summary = _summary(name)
    if name == "operation_variants_study":
        connections = [r for r in _summary("convergence_study")["records"] if r["lr"] == 0.025]
        return [(summary["analysis"], s4.analyze_operations(summary["records"], connections))]
    if name.startswith("landscape"):
        return [(summary["analysis"], s4.analyze_landscape(summary["records"]))]
    return [(summary["analysis"], s4.analyze_convergence(summary["records"]))]


def _section4_pilot(name):
    from cellnas_edu import section4_study as s4

    summary = _summary(name)
    variance = s4.pilot_variance(summary["records"])
    observed = {round(abs(v["standardized_slope"]), 2) for v in variance["per_lr"] if v["standardized_slope"]}
    power = s4.power_analysis(summary["family_widths"], effects=sorted({0.25, 0.5, 1.0, *observed}),
                              seeds_options=(3, 5, 8), simulations=summary["power"][0]["simulations"])
    return [(summary["variance"], variance), (summary["power"], power)]


def _retest_landscape(name):
    from cellnas_edu import section4_study as s4

    return [(block["analysis"], s4.analyze_landscape(block["records"])) for block in _summary(name)["by_lr"]]


def _retest(name):
    from cellnas_edu import section41_retest as retest

    summary = _summary(name)
    if name.endswith("_plan"):
        return [({k: v for k, v in summary.items() if k != "provenance"}, retest.plan(_followup_records()))]
    return [(summary["analysis"], retest.analyze(summary["records"]))]


def _section5(name):
    from cellnas_edu import section5_study as s5

    summary = _summary(name)
    if name.endswith("_plan"):
        return [({k: v for k, v in summary.items() if k != "provenance"}, s5.plan(_followup_records()))]
    return [(summary["analysis"], s5.analyze(summary["records"]))]


def _early_selection(name):
    from script_loader import load_script

    from cellnas_edu.search.early_selection import analyze

    summary = _summary(name)
    spec = load_script("examples/early_selection.py").study_spec(
        bn_recalibration=summary["protocol"]["overrides"].get("bn_recalibration", 0))
    return [(summary["analysis"], analyze(summary["records"], spec))]


def _darts_search(name):
    from script_loader import load_script

    summary = _summary(name)
    return [(summary["analysis"], load_script("examples/darts_search_seeds.py").analyze(summary["records"]))]


def _darts_search_power(name):
    from cellnas_edu.search.against_space import NULLS, critical_values

    summary = _summary(name)
    cells = len(_summary("darts_search")["analysis"]["found"])
    assert summary["found_cells"] == cells
    return [(summary["critical"], [critical_values(null, cells, alpha) for null in NULLS for alpha in (0.05, 0.025)])]


def _landscape_recalibration(name):
    summary = _summary(name)
    pairs = []
    for entry in summary["comparison"]:
        mine = [r for r in summary["records"] if r["lr"] == entry["lr"]]
        fixed = [r["fixed"]["sharpness"] for r in mine]
        recalibrated = [r["recalibrated"]["sharpness"] for r in mine]
        new = {"rho_fixed_vs_recalibrated": xs.spearman_rho(fixed, recalibrated)}
        for mode, values in (("fixed", fixed), ("recalibrated", recalibrated)):
            for prop in ("width", "depth"):
                new[f"rho_{prop}_{mode}"] = xs.spearman_rho([r[prop] for r in mine], values)
        pairs.append(({k: entry[k] for k in new}, new))
    return pairs


def _linear_cells_sgd(name):
    from cellnas_edu.theory import linear_sgd as ls

    configs = _summary(name)["configs"]
    tests = [ls.sign_test(c["wide"]["steps_to_threshold"], c["narrow"]["steps_to_threshold"]) for c in configs]
    for test, p in zip(tests, xs.holm([t["p_value"] for t in tests])):
        test["p_holm"] = p
    both = [ls.both_reached_sign_test(c["wide"]["steps_to_threshold"], c["narrow"]["steps_to_threshold"])
            for c in configs]
    return [([{k: v for k, v in c["sign_test"].items() if k != "verdict"} for c in configs], tests),
            ([c["sign_test_both_reached"] for c in configs], both)]


def _nb201_search_plan(name):
    from cellnas_edu.nb201 import search_study

    data = _summary(name)
    return [(data, {**search_study.plan(search_study.Protocol(**data["protocol"])),
                    "provenance": data["provenance"]})]


def _nb201_search(name):
    from cellnas_edu.nb201 import search_study

    data = _summary(name)
    return [(data["analysis"], search_study.analyze(data["records"]))]


RECOMPUTE = {
    "convergence_study": _section4, "convergence_followup": _section4, "operation_variants_study": _section4,
    "landscape_study": _section4, "landscape_followup": _section4, "section4_pilot": _section4_pilot,
    "section41_retest_landscape": _retest_landscape, "section41_retest": _retest, "section41_retest_plan": _retest,
    "section5_study": _section5, "section5_study_plan": _section5, "early_selection": _early_selection,
    "early_selection_recalibrated": _early_selection, "darts_search": _darts_search,
    "darts_search_power": _darts_search_power, "landscape_recalibration": _landscape_recalibration,
    "linear_cells_sgd": _linear_cells_sgd, "nb201_darts_search_plan": _nb201_search_plan,
    "nb201_darts_search": _nb201_search,
}
"""Results file -> (stored, recomputed) pairs of every statistic it holds, from its own records."""


def test_every_results_file_is_recomputed_or_holds_no_statistics():
    committed = {path.parent.name for path in RESULTS.glob("*/summary.json")}
    assert committed == set(RECOMPUTE) | set(WITHOUT_STATISTICS)
    assert not set(RECOMPUTE) & set(WITHOUT_STATISTICS)


@pytest.mark.parametrize("name", sorted(RECOMPUTE))
def test_committed_statistics_recompute_bit_for_bit(name):
    for stored, recomputed in RECOMPUTE[name](name):
        assert_bit_identical(stored, recomputed)


def test_a_changed_last_bit_is_caught():
    stored = {"p": [0.1, {"rho": -0.5}]}
    assert bit_differences(stored, {"p": [0.1, {"rho": np.nextafter(-0.5, 0)}]}) == [
        f".p[1].rho: -0.5 != {np.nextafter(-0.5, 0)!r}"]
    assert bit_differences(stored, {"p": [0.1, {"rho": -0.5}]}) == []
    assert bit_differences({"n": 1}, {"n": 1.0}) == [".n: 1 != 1.0"]  # an int is not a float in JSON
