"""Parameter counts of the networks of Table 1 (Section 5, Appendix A.3).

Table 1 reports, for each popular architecture and its adaptation, the size
of the whole network trained on CIFAR-10, CIFAR-100 and Tiny-ImageNet-200
(`C = 36` initial channels, `L = 20` cells, auxiliary head included, in
millions with two decimals).

Two ways to count, which the tests check against each other:

* [`network_parameters`][cellnas_edu.nets.param_counts.network_parameters] builds the
  [`cellnas_edu.nets.model`][cellnas_edu.nets.model] network on
  PyTorch's `meta` device (shapes only, no memory) and sums its tensors;
* [`analytic_parameters`][cellnas_edu.nets.param_counts.analytic_parameters] adds up closed-form counts, operation by
  operation, and shows where the parameters are: with `C` channels a
  `sep_conv_kxk` has `2 (k^2 C + C^2 + 2C)` parameters (two depthwise
  `k x k` and two pointwise convolutions, two BatchNorms with scale and
  shift), a `dil_conv_kxk` half of that, `conv_7x1_1x7` `14 C^2 + 2C`,
  `skip_connect` `C^2 + 2C` at stride 2 (a `FactorizedReduce`) and 0 at
  stride 1, pooling 0.

[`parameter_table`][cellnas_edu.nets.param_counts.parameter_table] (behind `cellnas params`) uses the closed form
(no network is built, so all 33 rows take milliseconds) and places the
paper's number next to each count where Table 1 has one.

The counts match all 30 entries of Table 1 (`tests/test_params.py`), in
millions rounded (not truncated) to two decimals. Two facts make them match:

* the auxiliary head is counted (the DARTS script's `count_parameters_in_MB`
  leaves it out, which gives 3.35M instead of 3.83M for DARTS on CIFAR-10);
* dead nodes keep their operations ([`cellnas_edu.nets.model`][cellnas_edu.nets.model]). The adapted
  cells have dead nodes (AmoebaNet_ADAPT: nodes 2, 3 of the normal and 2, 5
  of the reduction cell; NASNet_ADAPT and ENAS_ADAPT: two in the reduction
  cell); without their operations AmoebaNet_ADAPT would have 2.78M
  parameters on CIFAR-10, not Table 1's 3.60M (NASNet_ADAPT 4.10M, not
  4.32M; ENAS_ADAPT 4.20M, not 4.32M)."""

from __future__ import annotations

from dataclasses import dataclass

from ..cells.cellspec import CellSpec, Genotype
from ..cells.genotypes import ADAPTED, builtin_names, get_genotype
from ..paper import TABLE1_DATASETS, TABLE1_PARAMS_M  # noqa: F401  (re-exported)


def paper_params_m(name: str, dataset: str) -> float | None:
    """Table 1's Params(M) for a built-in genotype name on a dataset, or `None` if the table has no entry."""
    for original, adapted in ADAPTED.items():
        if name in (original, adapted) and dataset in TABLE1_PARAMS_M[original]:
            return TABLE1_PARAMS_M[original][dataset][0 if name == original else 1]
    return None


@dataclass(frozen=True)
class ParamRow:
    """One network: genotype name, dataset, exact parameter count and Table 1's value (millions) if any."""

    name: str
    dataset: str
    params: int
    paper_params_m: float | None

    @property
    def params_m(self) -> float:
        """Millions, rounded to two decimals as in Table 1."""
        return round(self.params / 1e6, 2)

    def to_json(self) -> dict:
        return {"name": self.name, "dataset": self.dataset, "params_m": self.params_m, "params": self.params,
                "paper_params_m": self.paper_params_m}


def network_parameters(genotype: Genotype | str, dataset: str, *, C: int = 36, layers: int = 20,
                       auxiliary: bool = True) -> int:
    """Parameter count of the network built by [`cellnas_edu.nets.model`][cellnas_edu.nets.model] (on the meta
    device)."""
    import torch

    from .model import count_parameters, network_for_dataset

    genotype = get_genotype(genotype) if isinstance(genotype, str) else genotype
    with torch.device("meta"):
        network = network_for_dataset(genotype, dataset, C=C, layers=layers, auxiliary=auxiliary)
    return count_parameters(network)


def batchnorm(C: int) -> int:
    """A BatchNorm with scale and shift (running statistics are buffers, not parameters)."""
    return 2 * C


def operation_parameters(op: str, C: int, stride: int) -> int:
    """Parameters of one operation of [`cellnas_edu.nets.ops.OPS`][cellnas_edu.nets.ops.OPS] with `C` channels."""
    if op in ("none", "max_pool_3x3", "avg_pool_3x3"):
        return 0
    if op == "skip_connect":
        return 0 if stride == 1 else factorized_reduce(C, C)
    if op.startswith("sep_conv_"):
        k = int(op[-1])
        return 2 * (k * k * C + C * C + batchnorm(C))
    if op.startswith("dil_conv_"):
        k = int(op[-1])
        return k * k * C + C * C + batchnorm(C)
    if op == "conv_7x1_1x7":
        return 2 * 7 * C * C + batchnorm(C)
    raise ValueError(f"unknown operation {op!r}")


def factorized_reduce(C_in: int, C_out: int) -> int:
    """Two 1x1 convolutions `C_in -> C_out / 2` and a BatchNorm; same count as a 1x1 `ReLUConvBN`."""
    return C_in * C_out + batchnorm(C_out)


def cell_parameters(cell: CellSpec, C_prev_prev: int, C_prev: int, C: int, reduction: bool) -> int:
    """Preprocessing (`C_prev_prev -> C`, `C_prev -> C`, 1x1) plus every operation, dead nodes included."""
    preprocess = factorized_reduce(C_prev_prev, C) + C_prev * C + batchnorm(C)
    ops = sum(operation_parameters(op, C, 2 if reduction and source < 2 else 1) for op, source in cell.edges)
    return preprocess + ops


def analytic_parameters(genotype: Genotype, *, num_classes: int, C: int = 36, layers: int = 20,
                        auxiliary: bool = True, in_channels: int = 3) -> int:
    """Closed-form parameter count of [`cellnas_edu.nets.model.build_network`][cellnas_edu.nets.model.build_network]'s
    network (the stride of the
    stem does not matter)."""
    total = in_channels * 3 * C * 9 + batchnorm(3 * C)  # stem: 3x3 conv to 3C channels, BatchNorm
    C_prev_prev, C_prev, C_curr = 3 * C, 3 * C, C
    C_aux = C_prev
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        C_curr = 2 * C_curr if reduction else C_curr
        cell = genotype.reduce if reduction else genotype.normal
        total += cell_parameters(cell, C_prev_prev, C_prev, C_curr, reduction)
        C_prev_prev, C_prev = C_prev, len(cell.concat) * C_curr
        if i == 2 * layers // 3:
            C_aux = C_prev
    if auxiliary:  # 1x1 conv to 128 + BN, 2x2 conv to 768 + BN, linear
        total += C_aux * 128 + batchnorm(128) + 128 * 768 * 4 + batchnorm(768) + (768 + 1) * num_classes
    return total + (C_prev + 1) * num_classes  # classifier


def _count(name: str, dataset: str, C: int, layers: int, auxiliary: bool) -> int:
    from ..data import dataset_info

    info = dataset_info(dataset)
    return analytic_parameters(get_genotype(name), num_classes=info.num_classes, C=C, layers=layers,
                               auxiliary=auxiliary, in_channels=info.in_channels)


def parameter_table(names: list[str] | None = None, datasets: tuple[str, ...] = TABLE1_DATASETS, *, C: int = 36,
                    layers: int = 20, auxiliary: bool = True) -> list[ParamRow]:
    """Rows for every (genotype, dataset); the paper's value only for Table 1's own setting (C=36, L=20, aux)."""
    names = builtin_names() if names is None else names
    table_setting = C == 36 and layers == 20 and auxiliary
    return [
        ParamRow(name, dataset, _count(name, dataset, C, layers, auxiliary),
                 paper_params_m(name, dataset) if table_setting else None)
        for name in names
        for dataset in datasets
    ]
