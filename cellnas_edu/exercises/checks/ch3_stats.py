"""Chapter 3 (Section 4.1): the area under a loss curve and the exact p-value of Spearman's rho."""

from __future__ import annotations

import itertools
import math

from hypothesis import given
from hypothesis import strategies as st

from ...convergence.stats import area_under_curve
from ..reference import spearman_exact_pvalue
from . import GRADED, close

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


# -- area under the curve ----------------------------------------------------------
def test_auc_by_hand():
    """Trapezoids over epochs 1..E divided by E - 1: [3, 1] -> 2, [4, 2, 0] -> 2, [1, 3, 2, 2] -> 13/6; a single
    value is its own AUC: [5] -> 5."""
    assert close(area_under_curve([3.0, 1.0]), 2.0)
    assert close(area_under_curve([4.0, 2.0, 0.0]), 2.0)
    assert close(area_under_curve([1.0, 3.0, 2.0, 2.0]), 13 / 6)
    assert close(area_under_curve([5.0]), 5.0)


@GRADED
@given(finite, st.integers(1, 20))
def test_auc_of_a_constant_curve_is_the_constant(value, epochs):
    """The AUC is a mean loss: a constant curve has AUC equal to its value."""
    assert close(area_under_curve([value] * epochs), value, abs_tol=1e-9)


@GRADED
@given(st.lists(st.tuples(st.floats(0.1, 10), finite), min_size=2, max_size=10))
def test_auc_with_uneven_epochs_is_the_trapezoid_rule(steps):
    """With given epochs, the trapezoid area divided by the epoch span (written as a loop of trapezoids)."""
    epochs = list(itertools.accumulate(step for step, _ in steps))
    values = [v for _, v in steps]
    area = sum((epochs[k + 1] - epochs[k]) * (values[k] + values[k + 1]) / 2 for k in range(len(values) - 1))
    expected = area / (epochs[-1] - epochs[0])
    assert close(area_under_curve(values, epochs), expected, rel=1e-9, abs_tol=1e-8)


@st.composite
def curves_that_make_no_auc(draw):
    """`(values, epochs)` that have no AUC: no values, epochs of another length, or epochs whose last is not after
    the first (they run backwards or stand still)."""
    kind = draw(st.sampled_from(["empty", "lengths differ", "no span"]))
    if kind == "empty":
        return [], None
    values = draw(st.lists(finite, min_size=2, max_size=6))
    if kind == "lengths differ":
        size = draw(st.integers(1, 8).filter(lambda k: k != len(values)))
        return values, [float(e) for e in range(1, size + 1)]
    first = draw(st.floats(0, 100))
    steps = draw(st.lists(st.floats(0, 10), min_size=len(values) - 1, max_size=len(values) - 1))
    return values, list(itertools.accumulate(steps, lambda e, step: e - step, initial=first))


@GRADED
@given(curves_that_make_no_auc())
def test_auc_refuses_a_curve_without_a_span(curve):
    """No values, epochs of another length than the values, or epochs whose last is not after the first (the
    span is 0 or negative: [3, 2, 1], [2, 2]) raise ValueError instead of returning a number."""
    values, epochs = curve
    try:
        got = area_under_curve(values, epochs)
    except ValueError:
        return
    raise AssertionError(f"area_under_curve({values}, {epochs}) returned {got!r}; expected ValueError")


def test_faster_curve_has_smaller_auc():
    """Two curves with the same end point: the one that drops earlier has the smaller AUC (Section 4.1)."""
    assert area_under_curve([2.0, 0.5, 0.5, 0.5]) < area_under_curve([2.0, 2.0, 2.0, 0.5])


# -- exact p-value of Spearman's rho ----------------------------------------------------
def _rho(x, y) -> float:
    n = len(x)
    rank = lambda v: [sorted(v).index(a) + 1 for a in v]  # noqa: E731 - no ties
    d2 = sum((a - b) ** 2 for a, b in zip(rank(x), rank(y)))
    return 1 - 6 * d2 / (n * (n * n - 1))


def brute_force_pvalue(x, y, alternative: str) -> float:
    """Oracle: rho of every reordering of `y` against `x`; the fraction at least as extreme."""
    observed = _rho(x, y)
    rhos = [_rho(x, list(p)) for p in itertools.permutations(y)]
    eps = 1e-9
    if alternative == "greater":
        hits = sum(r >= observed - eps for r in rhos)
    elif alternative == "less":
        hits = sum(r <= observed + eps for r in rhos)
    else:
        hits = sum(abs(r) >= abs(observed) - eps for r in rhos)
    return hits / len(rhos)


distinct = st.integers(3, 6).flatmap(
    lambda n: st.tuples(st.permutations(range(n)), st.lists(st.integers(-50, 50), min_size=n, max_size=n,
                                                            unique=True)))


@GRADED
@given(distinct, st.sampled_from(["greater", "less", "two-sided"]))
def test_exact_pvalue_is_the_brute_force_pvalue(xy, alternative):
    """The exact p-value counts the permutations of y whose rho is at least as extreme as the observed one."""
    x, y = list(xy[0]), xy[1]
    assert close(spearman_exact_pvalue(x, y, alternative), brute_force_pvalue(x, y, alternative))


def test_perfect_ranks_of_five():
    """n = 5 in perfect order: only the identity permutation reaches rho = 1 (reversed: -1), so the one-sided p is
    1/120 ("greater" for the order, "less" for the reverse) and the two-sided p 2/120."""
    x = [1, 2, 3, 4, 5]
    assert close(spearman_exact_pvalue(x, [10, 20, 30, 40, 50], "greater"), 1 / 120)
    assert close(spearman_exact_pvalue(x, [50, 40, 30, 20, 10], "less"), 1 / 120)
    assert close(spearman_exact_pvalue(x, [10, 20, 30, 40, 50], "two-sided"), 2 / 120)


@GRADED
@given(distinct)
def test_one_sided_pvalues_cover_everything(xy):
    """P(rho >= r) + P(rho <= r) = 1 + P(rho = r): the two tails overlap in the observed value only."""
    x, y = list(xy[0]), xy[1]
    greater, less = spearman_exact_pvalue(x, y, "greater"), spearman_exact_pvalue(x, y, "less")
    assert 1.0 - 1e-12 < greater + less <= 2.0
    assert 0 < spearman_exact_pvalue(x, y, "two-sided") <= 1.0
    assert math.isclose(greater, spearman_exact_pvalue([-v for v in x], y, "less"), rel_tol=1e-12)
