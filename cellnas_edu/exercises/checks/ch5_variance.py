"""Chapter 5 (Section 4.2.2): Chan's merge of chunked variances and the per-sample gradient variance."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from ...landscape.gradvar import ChanAccumulator
from ...theory.variance import gradient_variance
from . import GRADED, close


def two_pass(samples: torch.Tensor) -> float:
    """Oracle: the population variance (trace of the covariance) with the mean subtracted first, in float64."""
    s = samples.double().flatten(1)
    return float(((s - s.mean(0)) ** 2).sum(1).mean())


# -- Chan's merge -----------------------------------------------------------------------
@GRADED
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=6),
    offset=st.floats(-1e4, 1e4),
    seed=st.integers(0, 2**16),
)
def test_chan_merge_equals_two_pass_variance(sizes, offset, seed):
    """Exercise (Section 4.2.2, how g is accumulated): merging chunk means and chunk sums of squared
    deviations with Chan et al.'s update gives exactly the two-pass population variance, for any split of
    the samples into chunks, even when a large common mean (`offset`) dominates the spread; `count` and the
    running mean end as the number of samples and their mean."""
    g = torch.Generator().manual_seed(seed)
    samples = torch.randn(sum(sizes), 3, generator=g, dtype=torch.float64) + offset
    acc = ChanAccumulator({"w": torch.zeros(3, dtype=torch.float64)})
    for chunk in torch.split(samples, sizes):
        acc.update({"w": chunk.clone()})
    assert acc.count == sum(sizes), f"count {acc.count}, expected {sum(sizes)}"
    assert close(acc.trace(), two_pass(samples), rel=1e-9, abs_tol=1e-12), (
        f"trace {acc.trace()!r}, two-pass variance {two_pass(samples)!r}")
    assert acc.trace() >= 0.0
    assert torch.allclose(acc.mean["w"], samples.mean(0), rtol=1e-12, atol=1e-9), "the running mean is off"


@GRADED
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.integers(0, 999))
def test_chan_merge_over_several_tensors(sizes, seed):
    """Several parameter tensors: the trace adds the squared deviations of all of them."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(sum(sizes), 2, 2, generator=g, dtype=torch.float64)
    b = torch.randn(sum(sizes), 3, generator=g, dtype=torch.float64) * 3
    acc = ChanAccumulator({"a": torch.zeros(2, 2, dtype=torch.float64), "b": torch.zeros(3, dtype=torch.float64)})
    for ca, cb in zip(torch.split(a, sizes), torch.split(b, sizes)):
        acc.update({"a": ca.clone(), "b": cb.clone()})
    assert close(acc.trace(), two_pass(a) + two_pass(b), rel=1e-9, abs_tol=1e-9)


def test_chan_is_stable_where_the_shortcut_formula_fails():
    """float32 samples with mean 100 and spread 0.01: the shortcut E||g||^2 - ||E g||^2 loses the variance,
    Chan's update (deviations only) keeps it to float32 accuracy."""
    g = torch.Generator().manual_seed(0)
    samples = (torch.randn(64, 100, generator=g) * 1e-2 + 1e2).float()
    acc = ChanAccumulator({"w": torch.zeros(100)})
    for chunk in torch.split(samples, 16):
        acc.update({"w": chunk.clone()})
    exact = two_pass(samples)
    shortcut = (samples.square().sum(1).mean() - samples.mean(0).square().sum()).item()
    assert abs(shortcut - exact) > 0.1 * exact  # the shortcut formula really does fail here
    assert abs(acc.trace() - exact) <= 1e-5 * exact, f"trace {acc.trace()!r}, exact {exact!r}"


# -- per-sample gradient variance -------------------------------------------------------
@st.composite
def per_sample_gradients(draw):
    shape = (draw(st.integers(1, 6)),) + tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    g = torch.Generator().manual_seed(draw(st.integers(0, 999)))
    return torch.randn(shape, generator=g, dtype=torch.float64) * draw(st.sampled_from([0.1, 1.0, 10.0]))


@GRADED
@given(per_sample_gradients())
def test_gradient_variance_is_the_trace_of_the_covariance(grads):
    """(1/N) sum_s ||g_s - mean g||_F^2: population variance (divisor N), summed over coordinates."""
    assert close(gradient_variance(grads), two_pass(grads), rel=1e-9, abs_tol=1e-12)


@GRADED
@given(per_sample_gradients(), st.floats(-100, 100))
def test_gradient_variance_ignores_a_common_shift(grads, shift):
    """Adding the same vector to every sample's gradient changes the mean, not the variance."""
    assert close(gradient_variance(grads + shift), gradient_variance(grads), rel=1e-6, abs_tol=1e-6)


def test_gradient_variance_by_hand():
    """Two samples, gradients (0, 0) and (2, 2): mean (1, 1), squared deviations 2 and 2, variance 2; a single
    sample has variance 0."""
    assert close(gradient_variance(torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=torch.float64)), 2.0)
    assert close(gradient_variance(torch.ones(1, 3, dtype=torch.float64)), 0.0)
