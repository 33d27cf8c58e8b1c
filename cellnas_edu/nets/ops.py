"""The operations inside NAS cells, exactly as in the DARTS code (Liu et al., 2019).

Appendix A.3 builds every network "following DARTS", so each operation a
published cell uses is the DARTS module of the same name. `C` is the number
of channels (input = output), `stride` is 1 in a normal cell and 2 for an
operation of a reduction cell that reads an input node, `affine` switches the
BatchNorm scale/shift (`True` in the networks trained here).

|  |  |
|---|---|
| `none` | the search-time zero candidate (never in a derived cell) |
| `max_pool_3x3` | 3x3 max pooling, padding 1 |
| `avg_pool_3x3` | 3x3 average pooling, padding 1, padding not counted |
| `skip_connect` | identity at stride 1, [`FactorizedReduce`][cellnas_edu.nets.ops.FactorizedReduce] at stride 2 |
| `sep_conv_kxk` | [`SepConv`][cellnas_edu.nets.ops.SepConv]: (ReLU, depthwise kxk, pointwise 1x1, BN) twice |
| `dil_conv_kxk` | [`DilConv`][cellnas_edu.nets.ops.DilConv]: ReLU, dilated (2) depthwise kxk, pointwise 1x1, BN |
| `conv_7x1_1x7` | ReLU, 1x7 conv, 7x1 conv, BN (NASNet/AmoebaNet operation) |

Every module here is functional in the sense that `torch.func.functional_call`
and `vmap` need: no in-place updates of activations, no host synchronisation,
no control flow on tensor values (only on static shapes)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class ReLUConvBN(nn.Sequential):
    """ReLU, `kernel_size` convolution without bias, BatchNorm (DARTS `ReLUConvBN`).

    With a 1x1 kernel this is the cell's input preprocessing that maps the
    previous cells' channels to `C` (Section 3.1, Appendix A.3)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class DilConv(nn.Sequential):
    """ReLU, dilated depthwise `kernel_size` conv, pointwise 1x1 conv, BatchNorm (DARTS `DilConv`).

    `dil_conv_3x3` and `dil_conv_5x5` use dilation 2 (receptive field 5x5
    and 9x9) with the padding that keeps the spatial size at stride 1."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, dilation: int,
                 affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, dilation=dilation, groups=C_in,
                      bias=False),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class SepConv(nn.Sequential):
    """Two stacked (ReLU, depthwise conv, pointwise 1x1 conv, BatchNorm) blocks (DARTS `SepConv`).

    Only the first depthwise convolution carries the stride, as in DARTS (and
    NASNet, which applies separable convolutions twice)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_in, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=1, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class Conv7x1_1x7(nn.Sequential):  # noqa: N801 - named after the operation
    """ReLU, 1x7 conv, 7x1 conv, BatchNorm: the factorised 7x7 of NASNet/AmoebaNet (DARTS `conv_7x1_1x7`).

    The stride is split between the two convolutions (width first, then
    height), exactly as in the DARTS `OPS` table."""

    def __init__(self, C: int, stride: int, affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, (1, 7), stride=(1, stride), padding=(0, 3), bias=False),
            nn.Conv2d(C, C, (7, 1), stride=(stride, 1), padding=(3, 0), bias=False),
            nn.BatchNorm2d(C, affine=affine),
        )


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing half the pixels (DARTS `FactorizedReduce`).

    ReLU, then two 1x1 stride-2 convolutions with `C_out / 2` channels each,
    one on the even pixel grid and one on the grid shifted by one pixel,
    concatenated along channels, then BatchNorm. It is `skip_connect` at
    stride 2 and the `preprocess0` of a cell that follows a reduction cell.

    Odd sizes: DARTS shifts with `x[:, :, 1:, 1:]`, which for an odd `H`
    gives `floor(H/2)` rows against `ceil(H/2)` from the unshifted branch.
    Here the shifted input is zero-padded by one row and column at the far
    end. For even sizes the stride-2 convolution never reads the padding, so
    the output is identical to DARTS; for odd sizes (small images such as
    Fashion-MNIST's 7x7 deep features) both branches give `ceil(H/2)`, as
    the stride-2 pooling and convolutions of the same reduction cell do."""

    def __init__(self, C_in: int, C_out: int, affine: bool = True):
        super().__init__()
        if C_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels, got {C_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


class Zero(nn.Module):
    """The DARTS `none` candidate: multiply by zero (subsampled at stride 2)."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Drop path (Larsson et al., 2017; NASNet; Appendix A.4): zero whole samples of one operation's output.

    Each sample of the batch keeps the output with probability `1 - drop_prob`;
    kept outputs are scaled by `1 / (1 - drop_prob)` so the expectation is
    unchanged. The mask comes from `torch.bernoulli` on a tensor (no
    explicit generator, no host sync), and the result is a new tensor (DARTS
    modifies `x` in place, which `functional_call`/`vmap` would not allow).
    Callers skip it when `drop_prob == 0` or outside training.

    The probability enters only through tensor arithmetic (`ones * keep_prob`,
    not `torch.full(..., keep_prob)` or `bernoulli_(keep_prob)`), so
    `torch.compile` treats a changing `drop_prob` (the per-epoch schedule)
    as a symbolic float instead of recompiling for every value. The keep
    probability is float32 also under bf16 autocast (0.8 is not a bf16 number)."""
    keep_prob = 1.0 - drop_prob
    mask = torch.bernoulli(x.new_ones(x.shape[0], 1, 1, 1, dtype=torch.float32) * keep_prob).to(x.dtype)
    return x * mask / keep_prob


OPS: dict[str, Callable[[int, int, bool], nn.Module]] = {
    "none": lambda C, stride, affine: Zero(stride),
    "avg_pool_3x3": lambda C, stride, affine: nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False),
    "max_pool_3x3": lambda C, stride, affine: nn.MaxPool2d(3, stride=stride, padding=1),
    "skip_connect": lambda C, stride, affine: nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine),
    "sep_conv_3x3": lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine),
    "sep_conv_5x5": lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine),
    "sep_conv_7x7": lambda C, stride, affine: SepConv(C, C, 7, stride, 3, affine),
    "dil_conv_3x3": lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine),
    "dil_conv_5x5": lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine),
    "conv_7x1_1x7": lambda C, stride, affine: Conv7x1_1x7(C, stride, affine),
}
"""operation name -> constructor `(C, stride, affine) -> nn.Module` (the DARTS `OPS` table)."""
