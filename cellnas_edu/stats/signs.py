r"""Exact tests of signs: the sign test, the binomial test and the sign-flip permutation test.

* [`sign_test`][cellnas_edu.stats.signs.sign_test] -- how many values (per-seed $\rho$, per-repetition excesses)
  have the predicted sign, zeros dropped; one-sided, $P(X \ge k)$ for
  $X \sim \mathrm{Bin}(n, 1/2)$ as an exact fraction.
* [`binomial_test`][cellnas_edu.stats.signs.binomial_test] -- `scipy.stats.binomtest` (the same exact test, any
  alternative) with its exact Clopper-Pearson interval: the paired two-sided
  sign test of the linear-cell experiment (Section 4.1's claim, Chapter 8).
* [`sign_flip_test`][cellnas_edu.stats.signs.sign_flip_test] -- the permutation test of $\sum_i v_i$ under
  symmetry about 0: each of the $2^n$ sign patterns is equally likely.
  Integer values (wrongly classified test images, Table 1 at student scale)
  are counted by convolution at any $n \le 62$; other values by listing the
  $2^n$ sums, $n \le 20$.
* [`signed_rank_test`][cellnas_edu.stats.signs.signed_rank_test] -- the exact Wilcoxon signed-rank test
  (`scipy.stats.wilcoxon`, `method="exact"`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from .permutation import ALTERNATIVES

MAX_SIGN_FLIP_UNITS = 20
"""The sign-flip test of non-integer values lists all $2^n$ sign patterns; it refuses more units than this."""
MAX_INTEGER_SIGN_FLIP_UNITS = 62
"""Integer values are counted by convolution in int64: at most $2^{62}$ patterns."""


@dataclass(frozen=True)
class SignTestResult:
    successes: int
    trials: int
    zeros: int
    p_value: float | None
    p_fraction: str | None

    def to_json(self) -> dict:
        return asdict(self)


def binomial_tail(k: int, n: int, p: Fraction = Fraction(1, 2)) -> Fraction:
    """P(X >= k) for X ~ Binomial(n, p), exactly (`p` a fraction; 1/2 for the sign test)."""
    if p == Fraction(1, 2):
        return Fraction(sum(math.comb(n, i) for i in range(k, n + 1)), 2 ** n)
    p = Fraction(p)
    return sum((Fraction(math.comb(n, i)) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1)), Fraction(0))


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


@dataclass(frozen=True)
class BinomialResult:
    """`scipy.stats.binomtest` at p = 1/2 with its exact (Clopper-Pearson) interval of the success fraction."""

    successes: int
    trials: int
    p_value: float
    low: float
    high: float


def binomial_test(successes: int, trials: int, alternative: str = "two-sided", level: float = 0.95) -> BinomialResult:
    """Exact binomial test of `successes` out of `trials` against p = 1/2 (`scipy.stats.binomtest`)."""
    from scipy import stats

    test = stats.binomtest(successes, trials, 0.5, alternative=alternative)
    ci = test.proportion_ci(confidence_level=level, method="exact")
    return BinomialResult(int(successes), int(trials), float(test.pvalue), float(ci.low), float(ci.high))


@dataclass(frozen=True)
class SignFlipResult:
    """An exact sign-flip permutation test: `p_fraction` counts the sign patterns as extreme as the data."""

    mean: float | None
    p_value: float | None
    p_fraction: str | None
    alternative: str
    n: int

    def to_json(self) -> dict:
        return asdict(self)


def sign_flip_test(values, alternative: str) -> SignFlipResult:
    r"""Exact sign-flip permutation test of $\sum_i v_i$.

    Under the null hypothesis every $v_i$ is symmetric about 0, so each of
    the $2^n$ sign patterns $s \in \{-1, +1\}^n$ of $\sum_i s_i |v_i|$ is
    equally likely. With `alternative="greater"`

    $$
    p = \#\{s : \textstyle\sum_i s_i |v_i| \ge \sum_i v_i\} / 2^n ,
    $$

    `"less"` counts $\le$ and `"two-sided"` counts $|\sum_i s_i |v_i|| \ge |\sum_i v_i|$.
    Integer values are counted exactly by convolution ($n \le 62$); otherwise
    all $2^n$ sums are listed (a doubling array: 8 MB at $n = 20$; larger $n$
    is refused) and sums within $10^{-9}$ (relative) of the observed one
    count as equal. `None` values are dropped."""
    if alternative not in (*ALTERNATIVES, "two-sided"):
        raise ValueError(f"alternative must be 'less', 'greater' or 'two-sided', got {alternative!r}")
    kept = [float(v) for v in values if v is not None]
    if not all(math.isfinite(v) for v in kept):
        raise ValueError("sign_flip_test needs finite values")
    n = len(kept)
    if n == 0:
        return SignFlipResult(None, None, None, alternative, 0)
    if all(v == int(v) for v in kept) and n <= MAX_INTEGER_SIGN_FLIP_UNITS:
        count = _integer_count([int(v) for v in kept], alternative)
    else:
        if n > MAX_SIGN_FLIP_UNITS:
            raise ValueError(f"the exact sign-flip test enumerates 2^n patterns; n = {n} > {MAX_SIGN_FLIP_UNITS} "
                             "is refused")
        count = _listed_count(kept, alternative)
    p = Fraction(count, 2 ** n)
    return SignFlipResult(float(np.sum(kept)) / n, float(p), f"{count}/{2 ** n}", alternative, n)


def _listed_count(kept: list[float], alternative: str) -> int:
    magnitudes = np.abs(np.asarray(kept))
    sums = np.zeros(1)
    for m in magnitudes:
        sums = np.concatenate([sums + m, sums - m])
    observed = float(np.sum(kept))
    tolerance = 1e-9 * max(1.0, float(magnitudes.sum()))
    if alternative == "greater":
        return int(np.count_nonzero(sums >= observed - tolerance))
    if alternative == "less":
        return int(np.count_nonzero(sums <= observed + tolerance))
    return int(np.count_nonzero(np.abs(sums) >= abs(observed) - tolerance))


def _integer_count(kept: list[int], alternative: str) -> int:
    """The number of sign patterns as extreme as the observed sum, by convolution of the {-|v|, +|v|} steps."""
    total = sum(abs(v) for v in kept)
    counts = np.zeros(2 * total + 1, dtype=np.int64)  # sums -total .. total
    counts[total] = 1
    for v in (abs(v) for v in kept):
        if v == 0:
            counts = 2 * counts
            continue
        shifted = np.zeros_like(counts)
        shifted[:len(counts) - v] += counts[v:]
        shifted[v:] += counts[:len(counts) - v]
        counts = shifted
    sums = np.arange(-total, total + 1)
    observed = sum(kept)
    if alternative == "greater":
        extreme = sums >= observed
    elif alternative == "less":
        extreme = sums <= observed
    else:
        extreme = np.abs(sums) >= abs(observed)
    return sum(int(c) for c in counts[extreme])


def signed_rank_test(differences: Sequence[float]) -> float:
    """Two-sided exact Wilcoxon signed-rank p-value of paired differences (`scipy.stats.wilcoxon`,
    `method="exact"`: the enumeration of all sign patterns of the ranks, Table 1's AUC test in Chapter 7)."""
    from scipy import stats

    return float(stats.wilcoxon(differences, method="exact").pvalue)
