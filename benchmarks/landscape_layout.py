"""Channels-last against the default memory format for the landscape passes on the CPU.

The loss surface is one evaluation pass per grid point and the gradient
variance one vmap per-sample-gradient pass per chunk: both are timed on the
``cpu-mini`` network (DARTS cell, C = 8, 5 cells, 1x28x28 inputs), one thread,
contenders alternating within every round, process CPU time, medians. Both
layouts must give the same values to float32 rounding (printed too).

    python benchmarks/landscape_layout.py [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch

from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.landscape.gradvar import gradient_variance
from cellnas_edu.landscape.surface import mean_loss
from cellnas_edu.nets.model import network_for_dataset


def cpu_seconds(fn):
    start = time.process_time()
    value = fn()
    return time.process_time() - start, value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    plain = network_for_dataset(get_genotype("DARTS"), "fashion-mnist", C=8, layers=5, auxiliary=False).eval()
    fast = copy.deepcopy(plain).to(memory_format=torch.channels_last)
    images, labels = torch.randn(256, 1, 28, 28), torch.randint(0, 10, (256,))
    layouts = {"contiguous": (plain, images),
               "channels_last": (fast, images.contiguous(memory_format=torch.channels_last))}
    passes = {
        "loss_surface_point": lambda m, x: float(mean_loss(m, x, labels, 128)),
        "gradient_variance_64": lambda m, x: gradient_variance(m, dict(m.named_parameters()), x[:64], labels[:64],
                                                               chunk=16).trace,
    }
    rows = []
    for name, run in passes.items():
        times = {layout: [] for layout in layouts}
        values = {}
        for r in range(args.rounds):
            order = list(layouts) if r % 2 == 0 else list(reversed(layouts))
            for layout in order:
                model, x = layouts[layout]
                seconds, values[layout] = cpu_seconds(lambda model=model, x=x, run=run: run(model, x))
                times[layout].append(seconds)
        medians = {layout: statistics.median(t) for layout, t in times.items()}
        rows.append({"pass": name, "cpu_seconds": medians, "speedup": medians["contiguous"] / medians["channels_last"],
                     "values": values})
    result = {"network": "cpu-mini", "threads": 1, "rounds": args.rounds, "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for row in rows:
            print(f"{row['pass']:22} channels-last speedup {row['speedup']:.2f}x  values {row['values']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
