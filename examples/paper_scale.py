"""What the paper's experiments cost at full scale: runs, epochs, images and estimated GPU-hours.

For each experiment of the paper (Figures 3, 4, 5/12, 13-16 and 9, 6-8 and
17-24, Table 1; Tables 2 and 3 need no training) this counts the runs
(cells x seeds x learning rates x datasets), the epochs and images per epoch,
and estimates the GPU-hours from the forward FLOPs per image of the package's
own network (DARTS, ENAS, AmoebaNet, NASNet at C = 36, L = 20; counted with
``torch.utils.flop_counter``) under two stated assumptions:

* a training step costs 3x the forward FLOPs (forward + backward), and so does
  one image of the per-sample gradient variance (Figures 7/8);
* one GPU sustains :data:`ASSUMED_GPU_TFLOPS` on these networks (depthwise
  separable convolutions on 32x32 maps keep utilisation far below peak; the
  same assumption as ``benchmarks/bench_landscape.py``).

The FLOP counts are measured; the hours are **estimates**, not measurements.
Writes ``results/paper_scale/summary.json``.

    python examples/paper_scale.py [--json] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

ASSUMED_GPU_TFLOPS = 5.0
TRAIN_FACTOR = 3.0  # forward + backward ~ 3 forward passes
GRADVAR_FACTOR = 3.0  # one per-sample gradient ~ forward + backward
SEEDS = 3  # the paper does not state its seed count; the package's --paper protocols use 3
#: training and test images per epoch (Appendix A.1); Tiny-ImageNet-200's validation set is its test set
IMAGES = {"cifar10": (50_000, 10_000), "cifar100": (50_000, 10_000), "tiny-imagenet-200": (100_000, 10_000)}
EPOCHS = {"cifar10": 600, "cifar100": 600, "tiny-imagenet-200": 300}
ARCHS = ("DARTS", "ENAS", "AmoebaNet", "NASNet", "SNAS")
GRID_POINTS = 51 * 51
GRID_IMAGES = 10_000


def forward_gflops(arch: str, dataset: str) -> float:
    """Forward GFLOPs per image of ``arch``'s C = 36, L = 20 network for ``dataset`` (no auxiliary head)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.data import dataset_info
    from cellnas_edu.nets.model import network_for_dataset

    info = dataset_info(dataset)
    model = network_for_dataset(get_genotype(arch), dataset, auxiliary=False).eval()
    x = torch.zeros(1, info.in_channels, info.image_size, info.image_size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / 1e9


def gpu_hours(flops: float) -> float:
    return flops / (ASSUMED_GPU_TFLOPS * 1e12) / 3600


def training_runs(name, what, command, archs_cells, seeds, lrs, datasets, gflops, note=""):
    """One row: ``archs_cells`` is ``{arch: cells trained}``; cost = runs x epochs x (3 x train + test) images."""
    runs, flops = 0, 0.0
    for arch, cells in archs_cells.items():
        for dataset in datasets:
            n = cells * seeds * len(lrs)
            train, test = IMAGES[dataset]
            per_run = EPOCHS[dataset] * (TRAIN_FACTOR * train + test) * gflops[(arch, dataset)] * 1e9
            runs += n
            flops += n * per_run
    epochs = sorted({EPOCHS[d] for d in datasets})
    return {"experiment": name, "what": what, "command": command, "runs": runs,
            "cells": sum(archs_cells.values()), "seeds": seeds, "lrs": len(lrs), "datasets": ", ".join(datasets),
            "epochs": "/".join(str(e) for e in epochs),
            "train_images": "/".join(f"{IMAGES[d][0]:,}" for d in dict.fromkeys(datasets)),
            "pflops": flops / 1e15, "gpu_hours": gpu_hours(flops), "note": note}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-write", action="store_true", help="do not write results/paper_scale/summary.json")
    args = parser.parse_args()
    started = time.perf_counter()
    pairs = [(a, "cifar10") for a in ARCHS] + [(a, "cifar100") for a in ARCHS] + [
        (a, "tiny-imagenet-200") for a in ARCHS]
    gflops = {pair: forward_gflops(*pair) for pair in pairs}
    lr = (0.025,)
    rows = [
        training_runs("Figure 3", "DARTS and 13 connection variants (Table 2), test curves", "python "
                      "examples/figure3_convergence.py --paper", {"DARTS": 14}, SEEDS, lr, ("cifar10", "cifar100"),
                      gflops),
        training_runs("Figure 4", "the same 14 cells at lr 0.0025 and 0.25", "python examples/figure3_convergence.py "
                      "--paper", {"DARTS": 14}, SEEDS, (0.0025, 0.25), ("cifar10", "cifar100"), gflops),
        training_runs("Figures 5, 12", "4 cells and 10 operation variants each", "python "
                      "examples/figure5_operation_variants.py --paper",
                      {a: 11 for a in ARCHS[:4]}, SEEDS, lr, ("cifar10",), gflops),
        training_runs("Figures 13-16, 9", "ENAS, AmoebaNet, NASNet and 13 connection variants each (DARTS's runs "
                      "are Figure 3's)", "cellnas convergence ARCH --variants connections ...",
                      {a: 14 for a in ("ENAS", "AmoebaNet", "NASNet")}, SEEDS, lr, ("cifar10",), gflops,
                      note="Figure 9 reads the final accuracies of these runs and Figure 3's: no extra training"),
        training_runs("Table 1", "5 cells, original and adapted (Figure 25), with cutout, auxiliary tower, drop path",
                      "cellnas train ARCH --preset generalization --dataset DATASET", {a: 2 for a in ARCHS}, 1, lr,
                      ("cifar10", "cifar100", "tiny-imagenet-200"), gflops,
                      note="one run per entry; the auxiliary tower's small extra cost is not counted"),
    ]
    # Figures 6-8 and 17-24: a 51 x 51 grid on 10,000 test images per trained network (networks from the runs above)
    grids = {"cifar10": {a: 5 for a in ARCHS[:4]}, "cifar100": {"DARTS": 5}}
    flops = sum(cells * GRID_POINTS * GRID_IMAGES * GRADVAR_FACTOR * gflops[(a, d)] * 1e9
                for d, archs in grids.items() for a, cells in archs.items())
    count = sum(sum(a.values()) for a in grids.values())
    rows.append({"experiment": "Figures 6-8, 17-24", "what": "loss and gradient variance on a 51x51 grid, "
                 "10,000 test images, per network (the cell and 4 connection variants)",
                 "command": "python examples/figure6_landscape.py --paper; examples/figure7_8_gradient_variance.py",
                 "runs": count, "cells": count, "seeds": 1, "lrs": 1, "datasets": "cifar10, cifar100",
                 "epochs": "-", "train_images": "-", "pflops": flops / 1e15, "gpu_hours": gpu_hours(flops),
                 "note": "grids only; the networks come from the training runs above (Figure 8 needs 5 CIFAR-100 "
                         "DARTS networks, trained in Figure 3)"})
    rows.append({"experiment": "Tables 2, 3", "what": "widths, depths and parameter counts", "command":
                 "python examples/table2_variants.py; cellnas params", "runs": 0, "cells": 0, "seeds": 0, "lrs": 0,
                 "datasets": "-", "epochs": "-", "train_images": "-", "pflops": 0.0, "gpu_hours": 0.0,
                 "note": "counting only: seconds on a CPU"})
    total = sum(r["gpu_hours"] for r in rows)
    summary = {
        "assumptions": {"gpu_tflops": ASSUMED_GPU_TFLOPS, "train_factor": TRAIN_FACTOR,
                        "gradvar_factor": GRADVAR_FACTOR, "seeds": SEEDS, "grid_points": GRID_POINTS,
                        "grid_images": GRID_IMAGES},
        "forward_gflops": [{"arch": a, "dataset": d, "gflops": round(g, 4)} for (a, d), g in gflops.items()],
        "experiments": [{**r, "pflops": round(r["pflops"], 1), "gpu_hours": round(r["gpu_hours"], 1)} for r in rows],
        "total_gpu_hours": round(total, 1),
        "total_gpu_days": round(total / 24, 1),
    }
    if not args.no_write:
        from cellnas_edu.results import write_summary

        write_summary("paper_scale", summary, command="python examples/paper_scale.py",
                      seconds=round(time.perf_counter() - started, 1))
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        print()
        return
    print(f"{'experiment':<20}{'runs':>6}{'PFLOP':>10}{'GPU-h (est.)':>14}")
    for r in summary["experiments"]:
        print(f"{r['experiment']:<20}{r['runs']:>6}{r['pflops']:>10.1f}{r['gpu_hours']:>14.1f}")
    print(f"total: {summary['total_gpu_hours']:.0f} GPU-hours ({summary['total_gpu_days']:.0f} GPU-days) at an "
          f"assumed {ASSUMED_GPU_TFLOPS:g} TFLOP/s")


if __name__ == "__main__":
    main()
