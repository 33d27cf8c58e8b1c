"""A lower bound on the memory a training run needs, checked before anything is allocated.

`--C 100000` or `--layers 100000` would otherwise start allocating and
fail deep inside torch (or swap for minutes). [`check_training_memory`][cellnas_edu.train.memory.check_training_memory]
adds up what the run must hold at least: the weights, their gradients and the
SGD momentum (`3 x 4` bytes per parameter, the closed-form count of
[`cellnas_edu.nets.param_counts.analytic_parameters`][cellnas_edu.nets.param_counts.analytic_parameters]) and, for one
batch, the
output of the stem and of every cell, kept for the backward pass (`4` bytes
per value). Inside each cell it counts, for one batch, the output of every
operation that allocates one (all but `skip_connect` at stride 1 and `none`)
and every intermediate node's sum: a cell of 10,000 nodes is refused in well
under a second, where counting only the cell's output let it grow to 12 GB.
The true peak is higher (every operation keeps intermediate tensors), so a
run refused by this bound could never have fitted. `limit_bytes` (the
`--max-memory` flag of `cellnas train`) replaces the memory found free, for a
machine whose swap or other devices the estimate cannot see."""

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
        allocating = sum(1 for op, source in cell.edges
                         if op != "none" and not (op == "skip_connect" and not (reduction and source < 2)))
        values += (allocating + cell.num_intermediate + len(cell.concat)) * C_curr * side * side
    return 3 * 4 * parameters, 4 * batch_size * values


def check_training_memory(config, genotype, device, world_size: int = 1, limit_bytes: int | None = None) -> None:
    """Refuse (one-line `UserError`) a configuration whose lower bound exceeds the memory of `device` (or
    `limit_bytes` where given)."""
    param_bytes, activation_bytes = training_memory_estimate(
        genotype, config.dataset, C=config.init_channels, layers=config.layers, auxiliary=config.auxiliary,
        batch_size=max(1, config.batch_size // max(1, world_size)))
    available = limit_bytes
    if available is None and getattr(device, "type", str(device)) == "cuda":
        import torch

        try:
            available = torch.cuda.mem_get_info(device)[0]
        except (RuntimeError, AssertionError):
            available = None
    refuse_if_too_big(param_bytes + activation_bytes,
                      f"a network with C = {config.init_channels} and {config.layers} cells "
                      f"(batch {config.batch_size}, {genotype.normal.num_intermediate} nodes in the normal cell)",
                      available=available, hint="" if limit_bytes is not None else
                      "; or raise the limit with --max-memory GIB if the machine has more (swap, another device)")
