"""A lower bound on the memory a training run needs, checked before anything is allocated.

`--C 100000` or `--layers 100000` would otherwise start allocating and
fail deep inside torch (or swap for minutes). [`check_training_memory`][cellnas_edu.train.memory.check_training_memory]
adds up what the run must hold at least: the weights, their gradients and the
SGD momentum (`3 x 4` bytes per parameter, the closed-form count of
[`cellnas_edu.nets.param_counts.analytic_parameters`][cellnas_edu.nets.param_counts.analytic_parameters]) and, for one
batch, the
output of the stem and of every cell, kept for the backward pass (`4` bytes
per value). The true peak is higher (every operation keeps intermediate
tensors), so a run refused by this bound could never have fitted."""

from __future__ import annotations

from ..errors import refuse_if_too_big


def training_memory_estimate(genotype, dataset: str, *, C: int, layers: int, auxiliary: bool,
                             batch_size: int) -> tuple[int, int]:
    """`(parameter bytes, activation bytes)`: lower bounds for one process with `batch_size` images."""
    from ..data import dataset_info
    from ..nets.param_counts import analytic_parameters

    info = dataset_info(dataset)
    parameters = analytic_parameters(genotype, num_classes=info.num_classes, C=C, layers=layers,
                                     auxiliary=auxiliary, in_channels=info.in_channels)
    side = info.image_size // info.stem_stride
    values = 3 * C * side * side  # the stem's output
    C_curr = C
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        if reduction:
            C_curr, side = 2 * C_curr, (side + 1) // 2
        cell = genotype.reduce if reduction else genotype.normal
        values += len(cell.concat) * C_curr * side * side
    return 3 * 4 * parameters, 4 * batch_size * values


def check_training_memory(config, genotype, device, world_size: int = 1) -> None:
    """Refuse (one-line `UserError`) a configuration whose lower bound exceeds the memory of `device`."""
    param_bytes, activation_bytes = training_memory_estimate(
        genotype, config.dataset, C=config.init_channels, layers=config.layers, auxiliary=config.auxiliary,
        batch_size=max(1, config.batch_size // max(1, world_size)))
    available = None
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        try:
            available = torch.cuda.mem_get_info(device)[0]
        except (RuntimeError, AssertionError):
            available = None
    refuse_if_too_big(param_bytes + activation_bytes,
                      f"a network with C = {config.init_channels} and {config.layers} cells "
                      f"(batch {config.batch_size})", available=available)
