"""Chapter 6 (Section 4.3, Appendix C): the linear cells, equation (4), J^T H J and Theorem 4.3's bound."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from ...theory.cells import narrowest_nodes
from ...theory.gradients import equation_4_rhs, narrowest_weight_gradients
from ...theory.hessian import chain_jacobian, narrowest_block_hessian, widest_hessian_blocks
from ...theory.strategies import cell_problems
from ...theory.variance import eigenvalue_reading_counterexample, variance_bound, variance_record
from . import GRADED, GRADED_SLOW, close


def chain_by_hand(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Oracle: y_0 = x, y_k = W_k y_{k-1}, one matrix-vector product at a time; returns `(n, d)`."""
    y, out = x, []
    for w in weights:
        y = w @ y
        out.append(y)
    return np.stack(out)


def product(matrices, d) -> np.ndarray:
    """Oracle: M_m ... M_1 for the list [M_1, ..., M_m] (the first matrix acts first)."""
    out = np.eye(d)
    for m in matrices:
        out = m @ out
    return out


# -- the narrowest cell's forward pass ----------------------------------------------------
@GRADED
@given(cell_problems(max_n=4, max_d=3, max_samples=3))
def test_narrowest_nodes_are_the_chain(example):
    """Node k of the narrowest cell is W^(k) ... W^(1) x (Figure 26, case II), for every sample."""
    problem, _ = example
    nodes = narrowest_nodes(problem.weights, problem.inputs)
    w, x = problem.weights.numpy(), problem.inputs.numpy()
    expected = np.stack([chain_by_hand(w, xs) for xs in x])
    assert tuple(nodes.shape) == expected.shape, f"shape {tuple(nodes.shape)}, expected (N, n, d) = {expected.shape}"
    assert np.allclose(nodes.detach().numpy(), expected, rtol=1e-10, atol=1e-10)


@GRADED
@given(cell_problems(max_n=3, max_d=3, max_samples=3), st.integers(0, 2**16))
def test_narrowest_nodes_with_per_sample_weights_and_lists(example, seed):
    """Weights `(N, n, d, d)` (one copy per sample, each its own matrices) give every sample the chain of its own
    copy; a list of `n` matrices gives the same nodes as the `(n, d, d)` tensor."""
    problem, _ = example
    w, x = problem.weights, problem.inputs
    shared = narrowest_nodes(w, x)
    listed = narrowest_nodes(list(w), x)
    assert torch.allclose(listed, shared, rtol=1e-12, atol=1e-12), "a list of matrices gives other nodes"
    g = torch.Generator().manual_seed(seed)
    copies = torch.randn((x.shape[0],) + tuple(w.shape), generator=g, dtype=torch.float64)
    nodes = narrowest_nodes(copies, x)
    expected = np.stack([chain_by_hand(copies[s].numpy(), x[s].numpy()) for s in range(x.shape[0])])
    assert tuple(nodes.shape) == expected.shape, f"shape {tuple(nodes.shape)}, expected (N, n, d) = {expected.shape}"
    assert np.allclose(nodes.detach().numpy(), expected, rtol=1e-10, atol=1e-10), (
        "with per-sample weights, some sample's nodes are not the chain of its own copy")


# -- equation (4) -----------------------------------------------------------------------
@GRADED_SLOW
@given(cell_problems(max_n=3, max_d=3, max_samples=3))
def test_equation_4_equals_autograd_sample_by_sample(example):
    """(4): sum_{k>=i} A_k^T (df/dW^(k)) B^T is the narrowest cell's gradient w.r.t. W^(i), sample by sample."""
    problem, i = example
    rhs = equation_4_rhs(problem, i)
    autograd = narrowest_weight_gradients(problem)[:, i - 1]
    assert tuple(rhs.shape) == tuple(autograd.shape), f"shape {tuple(rhs.shape)}, expected {tuple(autograd.shape)}"
    scale = max(1.0, float(autograd.abs().max()))
    assert torch.allclose(rhs, autograd, rtol=1e-9, atol=1e-9 * scale), (
        f"max |difference| {float((rhs - autograd).abs().max()):.3g}")


# -- J^T H J ----------------------------------------------------------------------------
@GRADED
@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_chain_jacobian_maps_a_change_of_w_i_to_the_changes_of_v_k(n, d, data):
    """J vec(Delta) stacks vec(A_k Delta B), k = i..n (row-major vec), because V^(k) = A_k W^(i) B."""
    i = data.draw(st.integers(1, n))
    entries = st.integers(-2, 2)
    w = np.array(data.draw(st.lists(entries, min_size=n * d * d, max_size=n * d * d)), float).reshape(n, d, d)
    delta = np.array(data.draw(st.lists(entries, min_size=d * d, max_size=d * d)), float).reshape(d, d)
    jac = chain_jacobian(torch.tensor(w), i)
    b = product(list(w[: i - 1]), d)
    expected = np.concatenate([(product(list(w[i:k]), d) @ delta @ b).reshape(-1) for k in range(i, n + 1)])
    assert np.shape(jac) == (expected.size, d * d), f"shape {np.shape(jac)}, expected {(expected.size, d * d)}"
    assert np.allclose(np.asarray(jac) @ delta.reshape(-1), expected, atol=1e-10)


@GRADED_SLOW
@given(cell_problems(max_n=3, max_d=2, max_samples=3))
def test_block_hessian_is_j_transpose_h_j(example):
    """The narrowest cell's block Hessian w.r.t. W^(i) is exactly J^T H J (no curvature term: J is linear)."""
    problem, i = example
    jac = np.asarray(chain_jacobian(problem.weights, i))
    blocks = widest_hessian_blocks(problem, i)
    m, dd = blocks.shape[0], blocks.shape[2]
    h = blocks.transpose(0, 2, 1, 3).reshape(m * dd, m * dd)
    expected = narrowest_block_hessian(problem, i)
    got = jac.T @ h @ jac
    scale = max(1.0, float(np.abs(expected).max()))
    assert np.allclose(got, expected, rtol=1e-8, atol=1e-9 * scale), (
        f"max |J^T H J - Hessian| {float(np.abs(got - expected).max()):.3g}")


# -- Theorem 4.3's bound ------------------------------------------------------------------
@GRADED
@given(st.integers(1, 4), st.data())
def test_variance_bound_is_equation_13(n, data):
    """n sum_{k=i}^n (sigma_k prod_{j<=k, j != i} lambda_j)^2, written as a double loop; a leading factor passed
    as `n` replaces the default n = len(norms)."""
    i = data.draw(st.integers(1, n))
    lambdas = data.draw(st.lists(st.integers(0, 3).map(float), min_size=n, max_size=n))
    sigmas = data.draw(st.lists(st.integers(0, 3).map(float), min_size=n - i + 1, max_size=n - i + 1))
    leading = data.draw(st.one_of(st.none(), st.integers(1, 6)), label="leading factor passed as n")
    expected = 0.0
    for k in range(i, n + 1):
        factor = 1.0
        for j in range(1, k + 1):
            if j != i:
                factor *= lambdas[j - 1]
        expected += (sigmas[k - i] * factor) ** 2
    if leading is None:
        assert close(variance_bound(lambdas, i, sigmas), n * expected)
    else:
        assert close(variance_bound(lambdas, i, sigmas, n=leading), leading * expected)


@GRADED_SLOW
@given(cell_problems(max_n=3, max_d=3, max_samples=4))
def test_theorem_4_3_holds_with_spectral_norms(example):
    """The measured variance of the narrowest cell's gradient never exceeds the bound (spectral-norm reading)."""
    problem, i = example
    record = variance_record(problem, i)
    assert not record["spectral_violated"], (
        f"measured {record['measured']!r} > bound {record['bound_spectral_norm']!r}")


def test_variance_bound_of_the_jordan_block():
    """W_1 = [[0, 1], [0, 0]] (norm 1, spectral radius 0), block 2, sigma_2 = 1.5: with the norm, 2 * (1.5 * 1)^2
    = 4.5; with the spectral radius 0 in its place, 0."""
    problem, i = eigenvalue_reading_counterexample()
    assert i == 2
    assert close(variance_bound([1.0, 1.0], 2, [1.5]), 4.5)
    assert close(variance_bound([0.0, 1.0], 2, [1.5]), 0.0)


def test_variance_bound_of_block_1_by_hand():
    """Block 1 of two, lambda = (2, 3), sigma = (1, 1): 2 * (1^2 + (1 * 3)^2) = 20 (lambda^(1) is left out of
    every product)."""
    assert close(variance_bound([2.0, 3.0], 1, [1.0, 1.0]), 2 * (1.0 + 3.0**2))
