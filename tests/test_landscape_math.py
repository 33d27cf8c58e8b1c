"""The measurements of Section 4.2 checked against independent computations on small networks.

Filter normalisation (Li et al., 2018), the loss surface s(alpha, beta) of
Section 4.2.1, the gradient variance g of Section 4.2.2 (against a naive
per-sample loop), the top Hessian eigenvalue (against a dense Hessian) and
the resumable grid.
"""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, hessian

# Chan's merge is graded by `cellnas exercises check chan_update`; the suite collects the same checks (one source):
from cellnas_edu.exercises.checks.ch5_variance import (  # noqa: F401 - collected here
    test_chan_is_stable_where_the_shortcut_formula_fails,
    test_chan_merge_equals_two_pass_variance,
)
from cellnas_edu.landscape import (
    DirectionSpec,
    LandscapeData,
    PerturbedWeights,
    affine_batchnorm,
    compute_grid,
    filter_normalize_,
    filter_normalized_direction,
    gradient_variance,
    grid_axis,
    landscape_parameters,
    loss_at,
    mean_loss,
    random_direction_pair,
    top_hessian_eigenvalue,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_bn_net(dtype=torch.float64, seed=0) -> nn.Module:
    """A conv net with BatchNorm whose running statistics are not the defaults, in eval mode."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 5),
    ).to(dtype)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(16, 2, 6, 6, dtype=dtype) * 2 + 0.5)
    return net.eval()


def sample_data(n=23, dtype=torch.float64, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, 6, 6, generator=g, dtype=dtype), torch.randint(0, 5, (n,), generator=g)


# ---------------------------------------------------------------- directions


def test_filter_normalization_matches_weight_filter_norms():
    """Li et al. (2018): each filter of the direction has the norm of the same filter of the weights;
    1-D tensors (biases, BatchNorm) get a zero direction by default."""
    net = small_bn_net(torch.float32)
    x, _ = sample_data(4, torch.float32)
    weights = landscape_parameters(net, x)
    d = filter_normalized_direction(weights, torch.Generator().manual_seed(3))
    assert d.keys() == weights.keys()
    for name, w in weights.items():
        if w.dim() <= 1:
            assert torch.count_nonzero(d[name]) == 0, name
        else:
            d_norms = d[name].reshape(w.shape[0], -1).norm(dim=1)
            w_norms = w.detach().reshape(w.shape[0], -1).norm(dim=1)
            torch.testing.assert_close(d_norms, w_norms, rtol=1e-5, atol=1e-6)
            assert not torch.equal(d[name], w.detach())  # a random direction, not the weights


def test_keep_bias_bn_gives_elementwise_weight_magnitudes():
    """With ignore_bias_bn=False a 1-D tensor is normalised element by element: |d_i| = |w_i|."""
    net = small_bn_net(torch.float32)
    weights = {name: p for name, p in net.named_parameters()}
    d = filter_normalized_direction(weights, torch.Generator().manual_seed(0), ignore_bias_bn=False)
    for name, w in weights.items():
        if w.dim() == 1:
            torch.testing.assert_close(d[name].abs(), w.detach().abs())
            assert torch.count_nonzero(d[name]) == torch.count_nonzero(w)


def test_filter_normalization_rescales_whole_filters_not_entries():
    """filter_normalize_ multiplies each filter (row) of the Gaussian by one factor ||w_row|| / ||d_row||: the
    direction is a row-scaled copy of the draw, not the weights' magnitudes entry by entry -- also for matrices when
    biases are kept. A 0-D tensor is one filter: |d| becomes |w| with d's sign. The defaults: seed 0, filter
    normalisation, biases and BatchNorm ignored."""
    g = torch.Generator().manual_seed(5)
    weight = torch.randn(3, 4, generator=g)
    draw = torch.randn(3, 4, generator=g)
    out = filter_normalize_(draw.clone(), weight)
    factors = weight.norm(dim=1) / (draw.norm(dim=1) + 1e-10)
    torch.testing.assert_close(out, draw * factors[:, None], rtol=1e-6, atol=1e-7)
    assert not torch.allclose(out.abs(), weight.abs())
    scalar = filter_normalize_(torch.tensor(-0.5), torch.tensor(2.0))
    assert scalar.item() == pytest.approx(-2.0, rel=1e-8)
    assert DirectionSpec() == DirectionSpec(seed=0, ignore_bias_bn=True, normalization="filter")
    net = small_bn_net(torch.float32)
    weights = dict(net.named_parameters())
    d1, _ = random_direction_pair(weights)
    assert all(torch.count_nonzero(d1[n]) == 0 for n, w in weights.items() if w.dim() <= 1)
    kept = filter_normalized_direction(weights, torch.Generator().manual_seed(0), ignore_bias_bn=False)
    matrix = [n for n, w in weights.items() if w.dim() == 2][0]  # the Linear layer: filter-normalised, not |w|
    assert not torch.allclose(kept[matrix].abs(), weights[matrix].detach().abs())
    torch.testing.assert_close(kept[matrix].norm(dim=1), weights[matrix].detach().norm(dim=1), rtol=1e-5, atol=1e-6)


def test_directions_regenerate_bit_identically_from_the_seed():
    """The file stores only the seed and options: the same seed must give the same bits, another seed other bits."""
    net = small_bn_net(torch.float32)
    weights = dict(net.named_parameters())
    a1, a2 = random_direction_pair(weights, DirectionSpec(seed=7))
    b1, b2 = random_direction_pair(weights, DirectionSpec(seed=7))
    c1, _ = random_direction_pair(weights, DirectionSpec(seed=8))
    for name in weights:
        assert torch.equal(a1[name], b1[name]) and torch.equal(a2[name], b2[name])
    assert any(not torch.equal(a1[n], c1[n]) for n in weights if weights[n].dim() > 1)
    assert any(not torch.equal(a1[n], a2[n]) for n in weights if weights[n].dim() > 1)


def test_landscape_parameters_skip_what_the_eval_loss_ignores():
    """Parameters outside the evaluation graph (here an unused head) have no direction and no gradient."""

    class WithUnusedHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = small_bn_net()
            self.unused_head = nn.Linear(3, 3).double()

        def forward(self, x):
            return self.body(x)

    net = WithUnusedHead().eval()
    x, _ = sample_data(2)
    names = set(landscape_parameters(net, x))
    assert names == {f"body.{n}" for n, _ in net.body.named_parameters()}


# ---------------------------------------------------------------- surface


def test_grid_axis_contains_zero_exactly_and_is_symmetric():
    np.testing.assert_array_equal(grid_axis(1, 1.0), [0.0])
    for steps, span in [(3, 0.3), (51, 1.0), (21, 0.7)]:
        axis = grid_axis(steps, span)
        assert axis.size == steps and axis[steps // 2] == 0.0
        assert axis[0] == -span and axis[-1] == span
        np.testing.assert_array_equal(axis, -axis[::-1])
    for bad in [(4, 1.0), (0, 1.0), (-3, 1.0), (3, 0.0), (3, float("nan")), (3, -1.0)]:
        with pytest.raises(ValueError):
            grid_axis(*bad)


def test_surface_point_equals_an_independent_perturbed_copy():
    """s(alpha, beta) computed in place equals the loss of a deep copy whose weights are w* + a d1 + b d2."""
    net = small_bn_net()
    x, y = sample_data()
    params = landscape_parameters(net, x[:2])
    d1, d2 = random_direction_pair(params, DirectionSpec(seed=2))
    center = {n: p.detach().clone() for n, p in params.items()}
    alpha, beta = 0.3, -0.45
    with PerturbedWeights(params, d1, d2) as weights:
        value = loss_at(net, weights, alpha, beta, x, y, batch_size=5)
    for n, p in params.items():  # w* is back
        assert torch.equal(p, center[n])
    other = copy.deepcopy(net)
    with torch.no_grad():
        for n, p in other.named_parameters():
            if n in params:
                p.add_(alpha * d1[n] + beta * d2[n])
        expected = F.cross_entropy(other(x), y).item()
    assert value == pytest.approx(expected, rel=1e-12)
    assert value != pytest.approx(F.cross_entropy(net(x), y).item(), rel=1e-6)  # it did move


def test_centre_of_the_grid_is_the_trained_network_bit_for_bit():
    net = small_bn_net(torch.float32)
    x, y = sample_data(dtype=torch.float32)
    params = landscape_parameters(net, x[:2])
    plain = mean_loss(net, x, y, batch_size=7)
    with PerturbedWeights(params, *random_direction_pair(params)) as weights:
        weights.set(0.5, 0.5)
        weights.set(0.0, 0.0)
        assert torch.equal(mean_loss(net, x, y, batch_size=7), plain)


# ---------------------------------------------------------------- gradient variance


def naive_per_sample_gradients(net, params, x, y):
    rows = []
    for i in range(len(y)):
        net.zero_grad()
        F.cross_entropy(net(x[i:i + 1]), y[i:i + 1]).backward()
        rows.append(torch.cat([p.grad.flatten() for p in params.values()]))
    return torch.stack(rows)


@pytest.mark.parametrize("chunk", [1, 4, 23, 64])
def test_gradient_variance_equals_naive_per_sample_loop(chunk):
    """Section 4.2.2: g = (1/M) sum_i ||g_i - mean g||^2 (trace of the covariance), any chunk size, float64."""
    net = small_bn_net()
    x, y = sample_data()
    params = landscape_parameters(net, x[:2])
    G = naive_per_sample_gradients(net, params, x, y)
    trace = ((G - G.mean(0)) ** 2).sum(1).mean().item()
    result = gradient_variance(net, params, x, y, chunk=chunk)
    assert result.num_samples == 23 and result.num_parameters == G.shape[1]
    assert result.trace == pytest.approx(trace, rel=1e-10)
    assert result.per_parameter == pytest.approx(G.var(0, unbiased=False).mean().item(), rel=1e-10)
    assert result.std == pytest.approx(trace ** 0.5, rel=1e-10)
    assert result.mean_loss == pytest.approx(F.cross_entropy(net(x), y).item(), rel=1e-12)


def test_affine_batchnorm_is_the_same_function_and_is_undone():
    """Evaluation-mode BatchNorm is the affine map x * gamma / sqrt(var + eps) + (beta - mean * gamma / sqrt(...))."""
    net = small_bn_net()
    x, _ = sample_data(5)
    expected = net(x)
    with affine_batchnorm(net):
        assert all("forward" in m.__dict__ for m in net.modules() if isinstance(m, nn.BatchNorm2d))
        torch.testing.assert_close(net(x), expected, rtol=1e-12, atol=1e-12)
    assert not any("forward" in m.__dict__ for m in net.modules())
    assert torch.equal(net(x), expected)


def test_gradient_variance_refuses_training_mode():
    net = small_bn_net().train()
    x, y = sample_data(4)
    with pytest.raises(ValueError, match="evaluation mode"):
        gradient_variance(net, dict(net.named_parameters()), x, y)


# ---------------------------------------------------------------- Hessian


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")  # raised inside torch.func
def test_top_hessian_eigenvalue_matches_dense_hessian():
    """Power iteration with Hessian-vector products finds the eigenvalue of largest magnitude of the dense Hessian."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Tanh(), nn.Flatten(), nn.Linear(8, 3)).double()
    net.train()
    net(torch.randn(8, 1, 4, 4, dtype=torch.float64))
    net.eval()
    x = torch.randn(17, 1, 4, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (17,))
    params = landscape_parameters(net, x[:2])
    names = list(params)
    shapes = [params[n].shape for n in names]
    sizes = [params[n].numel() for n in names]

    def loss_of_flat(flat):
        pieces = dict(zip(names, (t.view(s) for t, s in zip(torch.split(flat, sizes), shapes))))
        return F.cross_entropy(functional_call(net, pieces, (x,)), y)

    flat = torch.cat([params[n].detach().flatten() for n in names])
    eigenvalues = torch.linalg.eigvalsh(hessian(loss_of_flat)(flat))
    expected = eigenvalues[eigenvalues.abs().argmax()].item()
    result = top_hessian_eigenvalue(net, params, x, y, tol=1e-12, max_iter=2000, batch_size=17)
    assert result.converged
    assert result.eigenvalue == pytest.approx(expected, rel=1e-7)
    assert result.residual < 1e-3


class SaddleNet(nn.Module):
    """Logits ``(3 w_1^2 - w_2^2, 0)`` for every image: with label 0 the loss is softplus(-a), whose Hessian at
    ``w = 0`` is ``-sigmoid(0) * diag(6, -2) = diag(-3, 1)``: a saddle whose largest-magnitude eigenvalue is -3."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(2, dtype=torch.float64))

    def forward(self, x):
        a = 3 * self.w[0] ** 2 - self.w[1] ** 2
        return torch.stack([a, torch.zeros_like(a)]).expand(x.shape[0], 2) + 0 * x.flatten(1)[:, :1]


def test_top_hessian_eigenvalue_keeps_the_sign_of_negative_curvature():
    """At a saddle the eigenvalue of largest magnitude is negative (-3 here, the other one +1) and power iteration
    must report it with its sign: |lambda| would claim a minimum where there is a direction of descent."""
    net = SaddleNet().eval()
    x = torch.zeros(4, 1, dtype=torch.float64)
    y = torch.zeros(4, dtype=torch.long)
    result = top_hessian_eigenvalue(net, dict(net.named_parameters()), x, y, tol=1e-12, max_iter=500)
    assert result.converged
    assert result.eigenvalue == pytest.approx(-3.0, rel=1e-9)
    assert result.residual < 1e-6
    params = dict(net.named_parameters())
    for bad in ({"tol": 0.0}, {"tol": -1e-3}, {"max_iter": 0}):  # tol = 0 would never stop before max_iter
        with pytest.raises(ValueError, match="tol > 0 and max_iter >= 1"):
            top_hessian_eigenvalue(net, params, x, y, **bad)
    one = top_hessian_eigenvalue(net, params, x, y, tol=1e-12, max_iter=1)
    assert one.iterations == 1 and not one.converged
    net.w.requires_grad_(False)  # the caller's requires_grad flags come back afterwards
    top_hessian_eigenvalue(net, params, x, y, tol=1e-6, max_iter=5)
    assert not net.w.requires_grad


def test_top_hessian_eigenvalue_of_a_zero_hessian_is_zero_at_once():
    """Logits that do not depend on the parameters (0 * sum w): the Hessian vanishes, Hv = 0 for the start vector,
    and the iteration stops after one product with eigenvalue 0 (not a division by a zero norm)."""
    x = torch.zeros(3, 1, dtype=torch.float64)
    y = torch.zeros(3, dtype=torch.long)

    class Constant(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.tensor([0.5, 1.5], dtype=torch.float64))

        def forward(self, inputs):
            logits = torch.stack([self.w.sum() * 0, torch.zeros((), dtype=torch.float64)])
            return logits.expand(inputs.shape[0], 2)

    flat = Constant().eval()
    result = top_hessian_eigenvalue(flat, dict(flat.named_parameters()), x, y, tol=1e-9, max_iter=50)
    assert result.eigenvalue == 0.0 and result.converged and result.iterations == 1


# ---------------------------------------------------------------- the resumable grid


class Interrupt(Exception):
    pass


def grid_setup(steps=5, gradvar=True):
    net = small_bn_net(torch.float32)
    x, y = sample_data(12, torch.float32)
    params = landscape_parameters(net, x[:2])
    settings = {"steps": steps, "span": 0.4, "samples": 12, "seed": 0, "ignore_bias_bn": True,
                "normalization": "filter", "dataset": "test", "weights_fingerprint": "x"}
    data = LandscapeData.empty(settings, np.arange(12))
    return net, params, random_direction_pair(params), x, y, data


def test_interrupted_grid_resumes_to_the_uninterrupted_result(tmp_path):
    net, params, directions, x, y, full = grid_setup()
    compute_grid(net, params, directions, x, y, full, gradvar=True, chunk=5, progress=False)
    assert full.loss_done.all() and full.grad_var_done.all()

    path = tmp_path / "landscape.npz"
    net, params, directions, x, y, data = grid_setup()

    def stop_after_7(n):
        if n == 7:
            raise Interrupt

    with pytest.raises(Interrupt):
        compute_grid(net, params, directions, x, y, data, gradvar=True, chunk=5, progress=False,
                     save=lambda d: d.save(path), save_every_s=1e9, on_point=stop_after_7)
    partial = LandscapeData.load(path)
    assert partial.loss_done.sum() == 6  # row 1 saved by the loop, point 6 by the interrupted loop on its way out
    assert np.isnan(partial.loss[~partial.loss_done]).all()
    computed = []
    compute_grid(net, params, directions, x, y, partial, gradvar=True, chunk=5, progress=False,
                 save=lambda d: d.save(path), on_point=computed.append)
    assert len(computed) == 25 - 6  # only the missing points
    resumed = LandscapeData.load(path)
    np.testing.assert_array_equal(resumed.loss, full.loss)
    np.testing.assert_array_equal(resumed.grad_var, full.grad_var)
    assert resumed.loss[resumed.center] == pytest.approx(mean_loss(net, x, y).item(), rel=1e-6)


@pytest.mark.gpu
def test_cuda_grid_matches_cpu_grid():
    """The same grid (loss and gradient variance) on CUDA as on the CPU, in float64; directions are drawn on
    the CPU, so they are bit-identical on both devices."""
    net, params, directions, x, y, data = grid_setup(steps=3)
    net = net.double()
    x = x.double()
    params = landscape_parameters(net, x[:2])
    directions = random_direction_pair(params)
    compute_grid(net, params, directions, x, y, data, gradvar=True, chunk=5, progress=False)
    gpu_net = copy.deepcopy(net).cuda()
    gpu_params = landscape_parameters(gpu_net, x[:2].cuda())
    gpu_directions = random_direction_pair(gpu_params)
    for name in params:
        assert torch.equal(gpu_directions[0][name].cpu(), directions[0][name])
    _, _, _, _, _, gpu_data = grid_setup(steps=3)
    compute_grid(gpu_net, gpu_params, gpu_directions, x.cuda(), y.cuda(), gpu_data, gradvar=True, chunk=5,
                 progress=False)
    np.testing.assert_allclose(gpu_data.loss, data.loss, rtol=1e-9)
    np.testing.assert_allclose(gpu_data.grad_var, data.grad_var, rtol=1e-7)
