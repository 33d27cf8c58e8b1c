r"""Exact distributions of sums of independent discrete draws (Observation 3.1's width and depth tests).

A found cell's width (in halves of $c$) or depth is one draw from a count
distribution (how many cells of the space have each value); the mean of $R$
found cells is then a sum of $R$ independent draws, whose exact distribution
is the $R$-fold convolution ([`convolve_counts`][cellnas_edu.stats.sums.convolve_counts],
Python integers, no overflow). [`uniform_selection_test`][cellnas_edu.stats.sums.uniform_selection_test]
is the same with a different distribution per draw: each repetition of the
early-selection experiment picks one of its own candidates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from .permutation import ALTERNATIVES


def convolve(distributions: Sequence[dict[int, int]]) -> dict[int, int]:
    """The distribution (as counts) of the sum of independent draws, one from each integer count distribution."""
    result = {0: 1}
    for counts in distributions:
        step: dict[int, int] = {}
        for total, a in result.items():
            for value, b in counts.items():
                step[total + value] = step.get(total + value, 0) + a * b
        result = step
    return result


def convolve_counts(counts: dict[int, int], times: int) -> dict[int, int]:
    """The `times`-fold convolution of an integer count distribution (exact: Python integers)."""
    if times < 1:
        raise ValueError(f"times must be at least 1, got {times}")
    return convolve([counts] * times)


def _tail(dist: dict[int, int], observed: int, alternative: str) -> int:
    return sum(c for s, c in dist.items() if (s >= observed if alternative == "greater" else s <= observed))


@dataclass(frozen=True)
class UniformSelectionResult:
    """The exact test of "the search picks one of each repetition's candidates at random"."""

    total: float | None
    expected: float | None
    p_value: float | None
    p_fraction: str | None
    alternative: str
    repetitions: int

    def to_json(self) -> dict:
        return asdict(self)


def uniform_selection_test(values_by_repetition: list[list[float]], selected: list[float],
                           alternative: str) -> UniformSelectionResult:
    r"""Exact test of $T = \sum_r v_r(\hat c_r)$ under the null that each repetition's selected candidate is
    uniform among its candidates, independently across repetitions.

    Unlike the sign-flip test of the excesses, this null needs no symmetry:
    with candidates of widths $2, 2, 2.5, 3, 3, 3.5$ the excess of a random
    pick is not symmetric about 0. The distribution of $T$ is the
    [`convolve`][cellnas_edu.stats.sums.convolve] of the repetitions' uniform distributions over their
    candidates' values, computed exactly with integers (values are
    multiples of $1/2$ here; any values that are multiples of a common
    $1/q$, $q \le 1000$, work). `alternative="greater"`: $p = P(T \ge t)$."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be 'less' or 'greater', got {alternative!r}")
    pairs = [(vals, s) for vals, s in zip(values_by_repetition, selected) if s is not None and vals]
    if not pairs:
        return UniformSelectionResult(None, None, None, None, alternative, 0)
    scale = next((q for q in range(1, 1001) if all(abs(v * q - round(v * q)) < 1e-9
                                                   for vals, s in pairs for v in (*vals, s))), None)
    if scale is None:
        raise ValueError("uniform_selection_test needs values on a common grid of 1/q, q <= 1000")
    dist = convolve([Counter(round(v * scale) for v in vals) for vals, _ in pairs])
    denominator = 1
    for vals, _ in pairs:
        denominator *= len(vals)
    observed = sum(round(s * scale) for _, s in pairs)
    p = Fraction(_tail(dist, observed, alternative), denominator)
    expected = sum(float(np.mean(vals)) for vals, _ in pairs)
    return UniformSelectionResult(observed / scale, expected, float(p), f"{p.numerator}/{p.denominator}",
                                  alternative, len(pairs))
