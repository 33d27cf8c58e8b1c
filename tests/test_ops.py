"""The DARTS operations (cellnas_edu.nets.ops; Appendix A.3 builds networks "following DARTS")."""

import pytest
import torch

from cellnas_edu.cells.cellspec import OPERATIONS
from cellnas_edu.nets.ops import OPS, DilConv, FactorizedReduce, SepConv, drop_path

torch.set_num_threads(1)


def test_ops_table_covers_every_operation():
    assert set(OPS) == set(OPERATIONS)


@pytest.mark.parametrize("name", OPERATIONS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("size", [8, 7])
def test_op_shapes(name, stride, size):
    """Every operation keeps the channels; stride 2 gives ceil(H/2), also for odd sizes (small images)."""
    op = OPS[name](6, stride, True)
    x = torch.randn(2, 6, size, size)
    expected = size if stride == 1 else (size + 1) // 2
    assert op(x).shape == (2, 6, expected, expected)


def test_skip_connect_is_identity_at_stride_1_and_learnable_at_stride_2():
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(OPS["skip_connect"](4, 1, True)(x), x)
    assert isinstance(OPS["skip_connect"](4, 2, True), FactorizedReduce)


def test_avg_pool_does_not_count_padding():
    """count_include_pad=False: a constant image stays constant at the corners."""
    x = torch.ones(1, 1, 4, 4)
    assert torch.allclose(OPS["avg_pool_3x3"](1, 1, True)(x), x)


def test_operation_structure_matches_darts():
    """SepConv = two (ReLU, depthwise, pointwise, BN) blocks; DilConv one block with dilation 2."""
    sep = OPS["sep_conv_5x5"](4, 2, True)
    assert isinstance(sep, SepConv)
    convs = [m for m in sep if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size, c.stride, c.groups) for c in convs] == [
        ((5, 5), (2, 2), 4), ((1, 1), (1, 1), 1), ((5, 5), (1, 1), 4), ((1, 1), (1, 1), 1)]
    dil = OPS["dil_conv_5x5"](4, 1, True)
    assert isinstance(dil, DilConv)
    assert [m.dilation for m in dil if isinstance(m, torch.nn.Conv2d)] == [(2, 2), (1, 1)]
    factorised = [m for m in OPS["conv_7x1_1x7"](4, 2, True) if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in factorised] == [((1, 7), (1, 2)), ((7, 1), (2, 1))]


def test_factorized_reduce_matches_darts_on_even_sizes():
    """The zero padding of the shifted branch is never read for even sizes: same output as DARTS' x[:, :, 1:, 1:]."""
    torch.manual_seed(0)
    fr = FactorizedReduce(4, 6).eval()
    x = torch.randn(2, 4, 8, 8)
    r = torch.relu(x)
    darts = fr.bn(torch.cat([fr.conv_1(r), fr.conv_2(r[:, :, 1:, 1:])], dim=1))
    assert torch.allclose(fr(x), darts)


def test_drop_path_keeps_or_zeroes_whole_samples_and_preserves_the_mean():
    torch.manual_seed(0)
    x = torch.ones(20000, 2, 2, 2)
    y = drop_path(x, 0.2)
    per_sample = y.flatten(1)
    assert torch.all((per_sample == 0).all(1) | torch.isclose(per_sample, torch.tensor(1 / 0.8)).all(1))
    assert abs(y.mean().item() - 1.0) < 0.02
    assert abs((per_sample[:, 0] == 0).float().mean().item() - 0.2) < 0.01


def test_drop_path_schedule_does_not_recompile():
    """The trainer changes the drop-path probability every epoch (Appendix A.4): torch.compile must treat it as a
    symbolic float, not recompile for each value (torch.full(..., p) or bernoulli_(p) would force that)."""
    from torch._dynamo.utils import counters

    class ConvDropPath(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 2, 1)
            self.drop_path_prob = 0.0

        def forward(self, x):
            h = self.conv(x)
            return drop_path(h, self.drop_path_prob) if self.training and self.drop_path_prob > 0 else h

    torch._dynamo.reset()
    counters.clear()
    module = ConvDropPath()
    compiled = torch.compile(module, backend="aot_eager", fullgraph=True)
    x = torch.randn(4, 2, 3, 3)
    for epoch in range(6):
        module.drop_path_prob = 0.2 * epoch / 6
        compiled(x).sum().backward()
    assert counters["stats"]["unique_graphs"] <= 3  # p = 0, possibly the first p > 0, then a symbolic p
    torch._dynamo.reset()
