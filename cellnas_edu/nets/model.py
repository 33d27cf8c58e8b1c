"""Networks built by stacking cells, the DARTS way (Appendix A.3, Table 1).

A network is a stem, `L` cells and a classifier (Appendix A.3: "constructed
by stacking L = 20 cells. Feature maps are down-sampled at the L/3-th and
2L/3-th cell ... A more detailed building scheme can be found in DARTS"):

* stem: 3x3 convolution to `3C` channels + BatchNorm; stride 1 for 32x32
  CIFAR images, stride 2 for 64x64 Tiny-ImageNet-200 so that the cells see
  32x32 feature maps in both cases (Appendix A.3);
* cells `0 .. L-1`; cells `L//3` and `2L//3` are reduction cells that
  halve the resolution and double the channel count `C`;
* an auxiliary head (DARTS `AuxiliaryHeadCIFAR`) on the output of cell
  `2L//3`, used only in training with loss weight 0.4 (Appendix A.4);
* global average pooling and a linear classifier.

Cell semantics (DARTS): the cell's two inputs are the outputs of the two
previous cells, preprocessed to `C` channels (`preprocess0` is a
[`FactorizedReduce`][cellnas_edu.nets.ops.FactorizedReduce] when the previous cell was a
reduction cell, so that both inputs have the same resolution, otherwise a
1x1 [`ReLUConvBN`][cellnas_edu.nets.ops.ReLUConvBN]; `preprocess1` is always the 1x1
`ReLUConvBN`). Each intermediate node sums its two operations applied to its
sources; in a reduction cell an operation that reads an input node (source 0
or 1) has stride 2. The output concatenates the `concat` nodes, so a cell
has `len(concat) * C` output channels.

Dead nodes (intermediate nodes that no path connects to the output, e.g. in
the adapted AmoebaNet cells of Figure 25) are *kept*: they are computed and
their parameters exist, exactly as in the published code, and Table 1's
parameter counts include them. They cannot change the logits.

Parameter counts (Table 1) include the auxiliary head: with it, all 30 counts
of Table 1 (five originals and five adaptations on three datasets, `C = 36`,
`L = 20`) come out exactly, in millions rounded to two decimals (Table 1
rounds: NASNet on CIFAR-10 has 4,288,944 parameters and is printed 4.29).
Without the head (the DARTS script's `count_parameters_in_MB`) DARTS on
CIFAR-10 would be 3.35M instead of 3.83M. See [`cellnas_edu.nets.param_counts`][cellnas_edu.nets.param_counts]
and `tests/test_params.py`.

Small images: the network works for any input size that survives the stem and
two reductions (e.g. 1x28x28 Fashion-MNIST: 28 -> 14 -> 7). Stride-2
operations produce `ceil(H/2)` for odd sizes (see
[`FactorizedReduce`][cellnas_edu.nets.ops.FactorizedReduce]), and the auxiliary head falls back
to adaptive pooling when the map is not 8..10 pixels ([`AuxiliaryHead`][cellnas_edu.nets.model.AuxiliaryHead])."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..cells.cellspec import CellSpec, Genotype
from .ops import OPS, FactorizedReduce, ReLUConvBN, drop_path


class Cell(nn.Module):
    """One cell built from a [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec] (Section 3.1, DARTS `Cell`).

    `C_prev_prev` and `C_prev` are the channel counts of the two previous
    cells' outputs, `C` the channel count inside the cell."""

    def __init__(self, spec: CellSpec, C_prev_prev: int, C_prev: int, C: int, reduction: bool, reduction_prev: bool):
        super().__init__()
        self.spec = spec
        self.reduction = reduction
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(C_prev_prev, C)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        self._ops = nn.ModuleList()
        for op, source in spec.edges:
            stride = 2 if reduction and source < 2 else 1
            self._ops.append(OPS[op](C, stride, True))
        self._sources = spec.sources
        self._concat = spec.concat
        self._droppable = tuple(not isinstance(op, nn.Identity) for op in self._ops)
        self.multiplier = len(spec.concat)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        apply_drop = self.training and drop_prob > 0.0
        for node in range(self.spec.num_intermediate):
            total = None
            for k in (2 * node, 2 * node + 1):
                h = self._ops[k](states[self._sources[k]])
                if apply_drop and self._droppable[k]:
                    h = drop_path(h, drop_prob)
                total = h if total is None else total + h
            states.append(total)
        return torch.cat([states[i] for i in self._concat], dim=1)


class AuxiliaryHead(nn.Module):
    """The auxiliary tower (Szegedy et al., 2015; DARTS `AuxiliaryHeadCIFAR`; Appendix A.4).

    ReLU, 5x5 average pooling with stride 3 (an 8x8 map becomes 2x2), 1x1
    conv to 128 channels + BN + ReLU, 2x2 conv to 768 channels + BN + ReLU,
    linear classifier. The 8x8 map is what cell `2L//3` produces on CIFAR
    (32x32) and on Tiny-ImageNet-200 (64x64, stem stride 2).

    Other image sizes: the 5x5/3 pooling yields 2x2 only for 8..10 pixel maps.
    For any other size (e.g. the 7x7 map of 28x28 Fashion-MNIST) the pooling
    is replaced by adaptive average pooling to 2x2, so the rest of the head
    and its parameter count are unchanged. The choice depends only on the
    static feature-map shape, so it is compatible with `torch.compile` and
    `vmap`."""

    def __init__(self, C: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        if all(8 <= size <= 10 for size in x.shape[-2:]):
            x = F.avg_pool2d(x, 5, stride=3, padding=0, count_include_pad=False)
        else:
            x = F.adaptive_avg_pool2d(x, 2)
        x = self.features(x)
        return self.classifier(x.flatten(1))


class Network(nn.Module):
    """A stack of `layers` cells (Appendix A.3, DARTS `NetworkCIFAR`); see the module docstring.

    `drop_path_prob` is a plain attribute: the trainer sets it every epoch
    (the linear NASNet schedule up to 0.2, Appendix A.4). `genotype` is kept
    for checkpoints. `forward` returns the logits only;
    [`forward_with_aux`][cellnas_edu.nets.model.Network.forward_with_aux] also returns the auxiliary logits in
    training."""

    def __init__(self, genotype: Genotype, *, num_classes: int, C: int = 36, layers: int = 20,
                 auxiliary: bool = True, in_channels: int = 3, stem_stride: int = 1, drop_path_prob: float = 0.0):
        super().__init__()
        for name, value in (("num_classes", num_classes), ("C", C), ("layers", layers), ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if C % 2:
            raise ValueError(f"C must be even (FactorizedReduce splits channels in two), got {C}")
        if stem_stride not in (1, 2):
            raise ValueError(f"stem_stride must be 1 or 2, got {stem_stride!r}")
        if not 0.0 <= drop_path_prob < 1.0:
            raise ValueError(f"drop_path_prob must be in [0, 1), got {drop_path_prob!r}")
        self.genotype = genotype
        self.num_classes = num_classes
        self.C = C
        self.layers = layers
        self.auxiliary = auxiliary
        self.in_channels = in_channels
        self.stem_stride = stem_stride
        self.drop_path_prob = drop_path_prob
        self.reduction_layers = (layers // 3, 2 * layers // 3)
        self.auxiliary_layer = 2 * layers // 3

        stem_multiplier = 3
        C_curr = stem_multiplier * C
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, C_curr, 3, stride=stem_stride, padding=1, bias=False),
            nn.BatchNorm2d(C_curr),
        )
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        C_to_auxiliary = C_prev
        for i in range(layers):
            reduction = i in self.reduction_layers
            if reduction:
                C_curr *= 2
            spec = genotype.reduce if reduction else genotype.normal
            cell = Cell(spec, C_prev_prev, C_prev, C_curr, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
            if i == self.auxiliary_layer:
                C_to_auxiliary = C_prev
        self.auxiliary_head = AuxiliaryHead(C_to_auxiliary, num_classes) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`(logits, aux_logits)`; `aux_logits` is `None` unless training with an auxiliary head."""
        aux_logits = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.auxiliary_layer and self.auxiliary_head is not None and self.training:
                aux_logits = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        return logits, aux_logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits (the auxiliary head is not evaluated)."""
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
        return self.classifier(self.global_pooling(s1).flatten(1))


def build_network(genotype: Genotype, *, num_classes: int, C: int = 36, layers: int = 20, auxiliary: bool = True,
                  in_channels: int = 3, stem_stride: int = 1, drop_path_prob: float = 0.0) -> Network:
    """A [`Network`][cellnas_edu.nets.model.Network] for any genotype (Appendix A.3 defaults: `C = 36`, `L = 20`)."""
    return Network(genotype, num_classes=num_classes, C=C, layers=layers, auxiliary=auxiliary,
                   in_channels=in_channels, stem_stride=stem_stride, drop_path_prob=drop_path_prob)


def network_for_dataset(genotype: Genotype, dataset: str, *, C: int = 36, layers: int = 20, auxiliary: bool = True,
                        drop_path_prob: float = 0.0) -> Network:
    """The network for a dataset of [`cellnas_edu.data.dataset_info`][cellnas_edu.data.dataset_info] (classes,
    channels, stem stride)."""
    from ..data import dataset_info

    info = dataset_info(dataset)
    return build_network(genotype, num_classes=info.num_classes, C=C, layers=layers, auxiliary=auxiliary,
                         in_channels=info.in_channels, stem_stride=info.stem_stride, drop_path_prob=drop_path_prob)


def count_parameters(model: nn.Module, include_auxiliary: bool = True) -> int:
    """Number of parameters (each shared tensor once), with or without the auxiliary head.

    Table 1 counts the auxiliary head (DARTS' `count_parameters_in_MB`
    excludes it; `include_auxiliary=False` gives that number)."""
    return sum(
        p.numel() for name, p in model.named_parameters()
        if include_auxiliary or not name.startswith("auxiliary_head.")
    )
