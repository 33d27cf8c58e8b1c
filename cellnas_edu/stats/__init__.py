r"""The book's statistics, in one place at the bottom of the package (numpy, scipy and the standard library only).

Section 4.1's claims ("as the width increases and the depth decreases ... the
convergence becomes faster"), Observation 3.1's (found cells are wide and
shallow) and Table 1's are tested in Chapters 1, 3, 5 and 7 on a few cells and
seeds. With so few units the tests here are **exact** (or Monte-Carlo with a
stated standard error), and refuse sizes they cannot do exactly rather than
fall back to a large-sample formula:

| module | what |
|---|---|
| [`ranks`][cellnas_edu.stats.ranks] | midranks (`+inf` last), Spearman's $\rho$ |
| [`permutation`][cellnas_edu.stats.permutation] | exact permutation Spearman, the seed-blocked trend test |
| [`signs`][cellnas_edu.stats.signs] | sign, binomial (`scipy.stats.binomtest`), sign-flip and signed-rank tests |
| [`sums`][cellnas_edu.stats.sums] | exact sums of independent draws (found cells against a space) |
| [`anova`][cellnas_edu.stats.anova] | one-way ANOVA with a permutation p-value |
| [`multiple`][cellnas_edu.stats.multiple] | Holm's step-down adjustment |
| [`resampling`][cellnas_edu.stats.resampling] | one percentile bootstrap over groups (both drawing orders) |
| [`intervals`][cellnas_edu.stats.intervals] | Student-t intervals of a mean |
| [`correlation`][cellnas_edu.stats.correlation] | `cellnas convergence`'s Spearman with a bootstrap interval |

**Asymptotic p-values** are kept in two places only, and labelled: the
F-distribution p-value of [`permutation_anova`][cellnas_edu.stats.anova.permutation_anova]
(`p_value_f_distribution`, beside the permutation p-value) and the
`scipy.stats.spearmanr` / `scipy.stats.f_oneway` p-values of
[`spearman_with_bootstrap`][cellnas_edu.stats.correlation.spearman_with_bootstrap] and
[`one_way_anova`][cellnas_edu.stats.anova.one_way_anova] that `cellnas convergence` prints as its quick
summary. For five cell means with perfect ranks `spearmanr` reports
$p \approx 10^{-24}$ where the exact one-sided p-value is $1/120$; the
studies' decisions use the exact tests only.

scipy is used where it computes the same exact thing at a cost that fits
(`binomtest`, `rankdata`, `wilcoxon(method="exact")`); `permutation_test`
would enumerate all $11!$ orderings for one Spearman test (about 100 s
against 0.02 s), has no within-block permutation for the blocked test, and
`scipy.stats.bootstrap` reproduces neither the replicate-major drawing nor the
dropping of undefined replicates. `tests/test_stats.py` checks every function
against scipy or brute-force enumeration at small n, and recomputes every
committed statistic in `results/` through this package."""

from .anova import AnovaResult, one_way_anova, one_way_f, permutation_anova
from .correlation import Correlation, spearman_with_bootstrap
from .intervals import Interval, mean_interval, t_half_width, t_quantile
from .multiple import holm
from .permutation import (
    ALTERNATIVES,
    MAX_EXACT_N,
    Distribution,
    FloatDistribution,
    SpearmanResult,
    StratifiedResult,
    exact_spearman,
    rank_sum_distribution,
    stratified_spearman,
)
from .ranks import doubled_ranks, midranks, spearman_rho, spearman_rows
from .resampling import BootstrapResult, bootstrap, bootstrap_mean_interval, bootstrap_spearman_over_seeds, cell_means
from .signs import (
    MAX_SIGN_FLIP_UNITS,
    BinomialResult,
    SignFlipResult,
    SignTestResult,
    binomial_tail,
    binomial_test,
    sign_flip_test,
    sign_test,
    signed_rank_test,
)
from .sums import UniformSelectionResult, convolve, convolve_counts, uniform_selection_test

__all__ = [
    "ALTERNATIVES", "MAX_EXACT_N", "MAX_SIGN_FLIP_UNITS", "AnovaResult", "BinomialResult", "BootstrapResult",
    "Correlation", "Distribution", "FloatDistribution", "Interval", "SignFlipResult", "SignTestResult",
    "SpearmanResult", "StratifiedResult", "UniformSelectionResult", "binomial_tail", "binomial_test", "bootstrap",
    "bootstrap_mean_interval", "bootstrap_spearman_over_seeds", "cell_means", "convolve", "convolve_counts",
    "doubled_ranks", "exact_spearman", "holm", "mean_interval", "midranks", "one_way_anova", "one_way_f",
    "permutation_anova", "rank_sum_distribution", "sign_flip_test", "sign_test", "signed_rank_test", "spearman_rho",
    "spearman_rows", "spearman_with_bootstrap", "stratified_spearman", "t_half_width", "t_quantile",
    "uniform_selection_test",
]
