"""Parameter count of NATS-Bench's network for a NAS-Bench-201 cell, computed from the cell alone (no torch).

NATS-Bench's topology networks (``TinyNetwork`` in its code, ``C = 16`` channels, ``N = 5`` cells a stage) are

    stem:   conv 3x3 (3 -> C, no bias) + BatchNorm(C)
    stage 1: N cells at C;   ResNet block C -> 2C (stride 2);
    stage 2: N cells at 2C;  ResNet block 2C -> 4C (stride 2);
    stage 3: N cells at 4C;  BatchNorm(4C) + ReLU, global average pooling, linear 4C -> classes.

A cell's ``nor_conv_kxk`` is ReLU-Conv-BN (``k*k*C*C`` weights, no bias, and ``2C`` BatchNorm parameters);
``avg_pool_3x3``, ``skip_connect`` and ``none`` have none. A ResNet block ``a -> b`` has two ReLU-Conv-BN 3x3
(``9ab + 2b`` and ``9b^2 + 2b``) and a shortcut of average pooling and a 1x1 convolution (``ab``).

Every operation counts, live or dead: the network builds all six edges (a dead convolution still holds
parameters), which is how NATS-Bench reports its sizes. For ``C = 16, N = 5`` and 10 classes the count runs from
73,306 (no convolution) to 1,531,546 (six 3x3 convolutions), NATS-Bench's 0.073 MB and 1.531 MB."""

from __future__ import annotations

from .cell import NB201Cell

KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}


def conv_bn(c_in: int, c_out: int, kernel: int) -> int:
    """Parameters of ReLU-Conv-BN: the convolution's weights (no bias) and BatchNorm's scale and shift."""
    return kernel * kernel * c_in * c_out + 2 * c_out


def resnet_block(c_in: int, c_out: int) -> int:
    """Parameters of NATS-Bench's reduction block (two 3x3 ReLU-Conv-BN and a pooled 1x1 shortcut)."""
    return conv_bn(c_in, c_out, 3) + conv_bn(c_out, c_out, 3) + c_in * c_out


def cell_parameters(cell: NB201Cell, channels: int) -> int:
    """Parameters of one cell at `channels` channels."""
    return sum(conv_bn(channels, channels, KERNEL[op]) for op in cell.ops if op in KERNEL)


def network_parameters(cell: NB201Cell, *, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10) -> int:
    """Parameters of NATS-Bench's network built on `cell` (10 classes: CIFAR-10; 100: CIFAR-100;
    120: ImageNet16-120)."""
    widths = (channels, 2 * channels, 4 * channels)
    stem = 3 * channels * 9 + 2 * channels
    cells = cells_per_stage * sum(cell_parameters(cell, c) for c in widths)
    reductions = resnet_block(widths[0], widths[1]) + resnet_block(widths[1], widths[2])
    head = 2 * widths[2] + widths[2] * num_classes + num_classes
    return stem + cells + reductions + head


__all__ = ["cell_parameters", "conv_bn", "network_parameters", "resnet_block"]
