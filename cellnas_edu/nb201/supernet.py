r"""The DARTS supernet on the NAS-Bench-201 space: every operation on every edge, in NATS-Bench's skeleton.

The space is the one of [`operations`][cellnas_edu.nb201.operations]: a cell of four nodes, node 0 its input
and node 3 its output, and an edge $(i, j)$ for every pair $j < i$ (six edges), each carrying one of five
operations. DARTS relaxes the choice on edge $(i, j)$ into the mixed operation

$$
x_i = \sum_{j < i} \sum_{o \in \mathcal{O}} \frac{\exp \alpha^{(i,j)}_o}{\sum_{o'} \exp \alpha^{(i,j)}_{o'}}\,
o(x_j), \qquad \mathcal{O} = (\texttt{none}, \texttt{skip\_connect}, \texttt{nor\_conv\_1x1},
\texttt{nor\_conv\_3x3}, \texttt{avg\_pool\_3x3}),
$$

so the architecture is one $6 \times 5$ matrix of logits $\alpha$, shared by every cell of the network
(NAS-Bench-201 has no separate reduction cell: its network reduces with fixed ResNet blocks). Unlike the
DARTS space of Chapter 8 (where `none` is left out of the search and two inputs feed every node), here every
node is fed by every earlier one and `none` competes like any other operation, as in NATS-Bench's own DARTS
baseline. The derived cell takes the largest weight on each edge, `none` included
([`derive_arch`][cellnas_edu.nb201.supernet.derive_arch]).

The skeleton is NATS-Bench's (see [`params`][cellnas_edu.nb201.params]): a 3x3 stem, `N` cells at `C`
channels, a ResNet block to `2C` (stride 2), `N` cells, a ResNet block to `4C`, `N` cells, BatchNorm and
ReLU, global pooling and a linear classifier. As in DARTS' search, the operations inside the cells use
BatchNorm without affine parameters, so that the scale of an operation's output cannot stand in for its
architecture weight.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nets.ops import ReLUConvBN
from ..search.supernet import weighted_sum
from .cell import NB201Cell
from .operations import EDGES, OPERATIONS

__all__ = ["MixedEdge", "NB201SearchCell", "NB201SuperNet", "ResNetBlock", "derive_arch", "edge_margins"]


def _operation(name: str, C: int) -> nn.Module | None:
    """One candidate of an edge at `C` channels, stride 1 (`None` for `none`: it adds nothing)."""
    if name == "none":
        return None
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(C, C, 1, 1, 0, affine=False)
    if name == "nor_conv_3x3":
        return ReLUConvBN(C, C, 3, 1, 1, affine=False)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NAS-Bench-201 operation {name!r}")


class MixedEdge(nn.Module):
    """The five candidates of one edge; `forward(x, weights)` is $\\sum_o w_o\\, o(x)$ (`none` adds $w \\cdot 0$,
    so it is left out of the sum; its weight still takes part in the softmax)."""

    def __init__(self, C: int):
        super().__init__()
        self.candidates = nn.ModuleDict()
        self._columns = []
        for column, name in enumerate(OPERATIONS):
            op = _operation(name, C)
            if op is not None:
                self.candidates[name] = op
                self._columns.append(column)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return weighted_sum(x, weights, self._columns, self.candidates.values())


class NB201SearchCell(nn.Module):
    """Four nodes; node `i` sums a [`MixedEdge`][cellnas_edu.nb201.supernet.MixedEdge] from every node `j < i`,
    in the edge order of [`EDGES`][cellnas_edu.nb201.operations.EDGES]; the cell's output is node 3."""

    def __init__(self, C: int):
        super().__init__()
        self.edges = nn.ModuleList(MixedEdge(C) for _ in EDGES)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for to in range(1, 4):
            total = None
            for e, (i, j) in enumerate(EDGES):
                if i == to:
                    term = self.edges[e](nodes[j], weights[e])
                    total = term if total is None else total + term
            nodes.append(total)
        return nodes[3]


class ResNetBlock(nn.Module):
    """NATS-Bench's reduction between stages: two 3x3 ReLU-Conv-BN (the first of stride 2) plus a shortcut of
    2x2 average pooling and a 1x1 convolution."""

    def __init__(self, C_in: int, C_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2, ceil_mode=True),
                                      nn.Conv2d(C_in, C_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201SuperNet(nn.Module):
    """The search network: stem, three stages of `cells_per_stage` search cells joined by ResNet blocks, head.

    `alphas` (`6 x 5`, initialised as `1e-3 * N(0, 1)` as in DARTS) is a parameter of the module, so that
    checkpoints carry it; [`weight_parameters`][cellnas_edu.nb201.supernet.NB201SuperNet.weight_parameters] and
    [`arch_parameters`][cellnas_edu.nb201.supernet.NB201SuperNet.arch_parameters] give the two sets that the two
    optimisers of DARTS update."""

    def __init__(self, *, C: int, cells_per_stage: int, num_classes: int, in_channels: int = 3,
                 stem_stride: int = 1):
        super().__init__()
        for name, value in (("C", C), ("cells_per_stage", cells_per_stage), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.C, self.cells_per_stage = C, cells_per_stage
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, stride=stem_stride, padding=1, bias=False),
                                  nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        for stage, channels in enumerate((C, 2 * C, 4 * C)):
            if stage:
                layers.append(ResNetBlock(channels // 2, channels))
            layers.extend(NB201SearchCell(channels) for _ in range(cells_per_stage))
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(4 * C, num_classes)
        self.alphas = nn.Parameter(1e-3 * torch.randn(len(EDGES), len(OPERATIONS)))

    def arch_parameters(self) -> list[nn.Parameter]:
        """$\\alpha$ (updated by Adam on the architecture half of the images)."""
        return [self.alphas]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every other parameter (updated by SGD on the weights' half)."""
        return [p for p in self.parameters() if p is not self.alphas]

    def operation_weights(self) -> torch.Tensor:
        """The softmax of $\\alpha$ over the five operations of each edge (rows sum to 1), detached."""
        return F.softmax(self.alphas.detach(), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = F.softmax(self.alphas, dim=-1)
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, weights) if isinstance(layer, NB201SearchCell) else layer(x)
        return self.classifier(self.head(x).flatten(1))


def derive_arch(weights) -> NB201Cell:
    """The derived cell: on each edge the operation of largest weight, `none` included (NATS-Bench's DARTS);
    ties go to the first operation in NATS-Bench's order."""
    rows = [list(map(float, row)) for row in weights]
    if len(rows) != len(EDGES) or any(len(row) != len(OPERATIONS) for row in rows):
        raise ValueError(f"weights must be {len(EDGES)} rows of {len(OPERATIONS)}, got "
                         f"{[len(row) for row in rows]}")
    return NB201Cell(OPERATIONS[max(range(len(row)), key=lambda k: (row[k], -k))] for row in rows)


def edge_margins(weights) -> list[float]:
    """How decisive each edge's choice is: the largest weight minus the second largest (0 = a tie; the
    uniform start gives about 0, a one-hot choice 1)."""
    out = []
    for row in weights:
        top = sorted(map(float, row), reverse=True)
        out.append(top[0] - top[1])
    return out
