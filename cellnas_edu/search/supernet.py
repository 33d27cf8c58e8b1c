r"""The DARTS supernet: every candidate operation on every edge, mixed by softmax weights (Liu et al., 2019).

DARTS relaxes the choice of an operation on an edge $(i, j)$ into a *mixed operation*

$$
\bar o^{(i,j)}(x) = \sum_{o \in \mathcal{O}} \frac{\exp \alpha_o^{(i,j)}}{\sum_{o'} \exp \alpha_{o'}^{(i,j)}}\, o(x),
$$

over the eight candidates $\mathcal{O}$ of [`SEARCH_OPERATIONS`][cellnas_edu.search.derive.SEARCH_OPERATIONS]
(the seven operations of Chapter 1's search space plus `none`, the zero operation). A search cell has the
DARTS layout of Section 3.1: two input nodes (the outputs of the two previous cells), four intermediate nodes,
and an output that concatenates all four. Intermediate node $j$ (numbered from 2) sums a mixed operation
from **every** earlier node, so a cell has $2 + 3 + 4 + 5 = 14$ edges, and the architecture is two
$14 \times 8$ matrices of logits: $\alpha_\text{normal}$ shared by every normal cell and
$\alpha_\text{reduce}$ shared by the two reduction cells.
[`derive_genotype`][cellnas_edu.search.derive.derive_genotype] turns them into a discrete cell.

Everything follows the DARTS search code: BatchNorm without affine parameters (so that the scale of an
operation's output cannot stand in for its architecture weight), a BatchNorm after each pooling candidate,
the stem of `3C` channels, reduction cells at layers `L//3` and `2L//3`. Two implementation choices
differ from a literal transcription and do not change any number:

* `none` contributes $w_\text{none} \cdot 0$; it is left out of the sum instead of being computed (its
  weight still takes part in the softmax, so the gradient with respect to $\alpha_\text{none}$ is the
  same).
* Operations come from Chapter 1's table ([`OPS`][cellnas_edu.nets.ops.OPS]) with `affine=False`;
  `FactorizedReduce` keeps `ceil(H/2)` rows for odd sizes (28x28 Fashion-MNIST: 28, 14, 7), as in the
  networks that train the found cells.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..cells.cellspec import NUM_INPUTS
from ..nets.ops import OPS, FactorizedReduce, ReLUConvBN
from .derive import NONE_INDEX, SEARCH_OPERATIONS

__all__ = ["NONE_INDEX", "SEARCH_OPERATIONS", "STEPS", "MixedOp", "SearchCell", "SuperNet", "edge_sources",
           "edges_per_cell", "weighted_sum"]

STEPS = 4
"""Intermediate nodes per search cell (DARTS: 4; Section 3.1)."""


def edges_per_cell(steps: int = STEPS) -> int:
    """Edges of a search cell: node `j` (from `NUM_INPUTS`) reads every earlier node, so `2 + 3 + ... `."""
    return sum(NUM_INPUTS + i for i in range(steps))


def edge_sources(steps: int = STEPS) -> list[tuple[int, int]]:
    """`(node, source)` of every edge, in the order of the rows of an architecture matrix."""
    return [(NUM_INPUTS + i, source) for i in range(steps) for source in range(NUM_INPUTS + i)]


def weighted_sum(x: torch.Tensor, weights: torch.Tensor, columns, candidates) -> torch.Tensor:
    r"""$\sum_k w_{c_k}\, o_k(x)$ over the computed candidates `o_k` and their columns `c_k` of `weights` (the
    mixed operation of an edge; `none` has no candidate, so it adds nothing)."""
    total = None
    for column, op in zip(columns, candidates):
        term = weights[column] * op(x)
        total = term if total is None else total + term
    return total


class MixedOp(nn.Module):
    """All eight candidates on one edge; `forward(x, weights)` is their weighted sum (`none` skipped)."""

    def __init__(self, C: int, stride: int):
        super().__init__()
        self.candidates = nn.ModuleDict()
        for name in SEARCH_OPERATIONS:
            if name == "none":
                continue
            op = OPS[name](C, stride, False)
            if "pool" in name:
                op = nn.Sequential(op, nn.BatchNorm2d(C, affine=False))
            self.candidates[name] = op
        self._columns = [SEARCH_OPERATIONS.index(name) for name in self.candidates]

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return weighted_sum(x, weights, self._columns, self.candidates.values())


class SearchCell(nn.Module):
    """A DARTS search cell: `steps` intermediate nodes, each summing a [`MixedOp`][cellnas_edu.search.supernet.MixedOp]
    from every earlier node; the output concatenates the intermediate nodes."""

    def __init__(self, C_prev_prev: int, C_prev: int, C: int, reduction: bool, reduction_prev: bool,
                 steps: int = STEPS):
        super().__init__()
        self.reduction = reduction
        self.steps = steps
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(C_prev_prev, C, affine=False)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0, affine=False)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0, affine=False)
        self.edges = nn.ModuleList(
            MixedOp(C, 2 if reduction and source < NUM_INPUTS else 1) for _, source in edge_sources(steps)
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        edge = 0
        for _ in range(self.steps):
            node = None
            for h in states:
                term = self.edges[edge](h, weights[edge])
                node = term if node is None else node + term
                edge += 1
            states.append(node)
        return torch.cat(states[NUM_INPUTS:], dim=1)


class SuperNet(nn.Module):
    """The DARTS search network: stem, `layers` search cells, global pooling, classifier.

    `alphas_normal` and `alphas_reduce` (each `edges_per_cell() x 8`, initialised as
    `1e-3 * N(0, 1)` as in DARTS) are parameters of the module so that checkpoints carry them;
    [`weight_parameters`][cellnas_edu.search.supernet.SuperNet.weight_parameters] and
    [`arch_parameters`][cellnas_edu.search.supernet.SuperNet.arch_parameters] give the two sets that the two
    optimisers of DARTS update."""

    def __init__(self, *, C: int, layers: int, num_classes: int, in_channels: int = 3, stem_stride: int = 1,
                 steps: int = STEPS, stem_multiplier: int = 3):
        super().__init__()
        for name, value in (("C", C), ("layers", layers), ("num_classes", num_classes), ("steps", steps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if C % 2:
            raise ValueError(f"C must be even (FactorizedReduce splits channels in two), got {C}")
        if layers < 3:
            raise ValueError(f"a search network needs at least 3 cells (two of them reduction cells), got {layers}")
        self.C, self.layers, self.steps = C, layers, steps
        self.reduction_layers = (layers // 3, 2 * layers // 3)
        C_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C_curr, 3, stride=stem_stride, padding=1, bias=False),
                                  nn.BatchNorm2d(C_curr))
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in self.reduction_layers
            if reduction:
                C_curr *= 2
            self.cells.append(SearchCell(C_prev_prev, C_prev, C_curr, reduction, reduction_prev, steps))
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, steps * C_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)
        shape = (edges_per_cell(steps), len(SEARCH_OPERATIONS))
        self.alphas_normal = nn.Parameter(1e-3 * torch.randn(shape))
        self.alphas_reduce = nn.Parameter(1e-3 * torch.randn(shape))

    def arch_parameters(self) -> list[nn.Parameter]:
        """$\\alpha_\\text{normal}$ and $\\alpha_\\text{reduce}$ (updated by Adam on the validation half)."""
        return [self.alphas_normal, self.alphas_reduce]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every other parameter (updated by SGD on the training half)."""
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def operation_weights(self) -> dict[str, torch.Tensor]:
        """The softmax of each architecture matrix over its eight candidates (rows sum to 1), detached."""
        return {"normal": F.softmax(self.alphas_normal.detach(), dim=-1),
                "reduce": F.softmax(self.alphas_reduce.detach(), dim=-1)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights_normal = F.softmax(self.alphas_normal, dim=-1)
        weights_reduce = F.softmax(self.alphas_reduce, dim=-1)
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, weights_reduce if cell.reduction else weights_normal)
        return self.classifier(self.global_pooling(s1).flatten(1))
