"""Chapter 5: does the ranking of cells by gradient variance change between the trace g and the per-parameter g/P?

Appendix B.4 says the z-axis of the gradient-variance plots "has been scaled by 10^-5", which suggests a
per-parameter mean (or a mini-batch gradient) rather than the trace of the per-sample covariance. The two
statistics differ by the parameter count P, and P differs across variants of one cell (dead nodes carry no
parameters, and the reduction cells follow the normal cell's variant), so the ranking can move.

For the three cells of the Chapter 5 CPU run (DARTS and its connection variants C1, C2: cpu-mini preset,
Fashion-MNIST, seed 0) this script builds each network, counts the parameters the evaluation loss depends on
(``landscape_parameters``, the P of ``cellnas landscape --json``), and ranks the cells by the near-optimum g and by
g/P. With ``--comparison out/figure6/comparison.json`` (written by examples/figure7_8_gradient_variance.py) g and
P come from that run; without it g is the near-optimum value of the Chapter 5 run as recorded before results files
existed (its run folders were not committed). Writes results/gradvar_stat/summary.json.

    python examples/gradvar_stat_ranking.py [--comparison PATH] [--root results]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.cells.topology import cell_depth, cell_width
from cellnas_edu.cells.variants import variant_family
from cellnas_edu.data import dataset_info
from cellnas_edu.landscape.surface import landscape_parameters
from cellnas_edu.nets.model import network_for_dataset
from cellnas_edu.results import write_summary
from cellnas_edu.train import make_config

#: near-optimum g (mean over |alpha|, |beta| <= 0.2) of the Chapter 5 CPU run, 9 x 9 grid on 128 test images
#: (examples/figure7_8_gradient_variance.py, seed 0), as the chapter reported it before results files existed.
RECORDED_G = {"DARTS": 594.1, "C1": 678.2, "C2": 792.1}


def family(seed: int = 0) -> dict:
    darts = get_genotype("DARTS")
    cells = {"DARTS": darts}
    for variant in variant_family(darts, kind="connections", count=2, seed=seed):
        cells[variant.label] = variant.genotype
    return cells


def parameter_count(genotype, config) -> tuple[int, int]:
    """(P the evaluation loss depends on, all parameters) of the network ``config`` builds for ``genotype``."""
    torch.manual_seed(0)
    net = network_for_dataset(genotype, config.dataset, C=config.init_channels, layers=config.layers,
                              auxiliary=config.auxiliary, drop_path_prob=0.0).eval()
    info = dataset_info(config.dataset)
    example = torch.zeros(2, info.in_channels, info.image_size, info.image_size)
    used = landscape_parameters(net, example)
    return sum(p.numel() for p in used.values()), sum(p.numel() for p in net.parameters())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparison", default=None, help="comparison.json of examples/figure7_8_gradient_variance.py")
    parser.add_argument("--root", default=None, help="results folder (default: the checkout's results/)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    config = make_config("cpu-mini", arch="DARTS", dataset="fashion-mnist", device="cpu", seed=0)
    rows = []
    if args.comparison:
        path = Path(args.comparison)
        if not path.is_file():
            print(f"gradvar_stat_ranking: error: {path}: no such file", file=sys.stderr)
            return 2
        table = json.loads(path.read_text())
        for run in table["runs"]:
            rows.append({"label": run["label"], "width": run["width"], "depth": run["depth"],
                         "num_parameters": run["num_parameters"], "g": run["near_optimum_grad_var"],
                         "g_source": str(path)})
    else:
        for label, genotype in family().items():
            used, total = parameter_count(genotype, config)
            rows.append({"label": label, "width": float(cell_width(genotype.normal)),
                         "depth": cell_depth(genotype.normal), "num_parameters": used,
                         "all_parameters": total, "g": RECORDED_G[label],
                         "g_source": "Chapter 5 CPU run as recorded (run folders not committed)"})
    for row in rows:
        row["g_per_parameter"] = row["g"] / row["num_parameters"]
        row["g_per_parameter_e5"] = 1e5 * row["g_per_parameter"]
    by_trace = [r["label"] for r in sorted(rows, key=lambda r: r["g"])]
    by_param = [r["label"] for r in sorted(rows, key=lambda r: r["g_per_parameter"])]
    for row in rows:
        row["rank_trace"] = by_trace.index(row["label"]) + 1
        row["rank_per_parameter"] = by_param.index(row["label"]) + 1
    spread = max(r["num_parameters"] for r in rows) / min(r["num_parameters"] for r in rows)
    # P elsewhere: the five popular cells, and operation variants of DARTS's normal cell, in the same network
    others = []
    for name in ("DARTS", "ENAS", "NASNet", "AmoebaNet", "SNAS"):
        genotype = get_genotype(name)
        others.append({"cell": name, "kind": "popular", "width": float(cell_width(genotype.normal)),
                       "depth": cell_depth(genotype.normal), "num_parameters": parameter_count(genotype, config)[0]})
    for variant in variant_family(get_genotype("DARTS"), kind="operations", count=4, seed=0):
        others.append({"cell": f"DARTS {variant.label}", "kind": "operation variant",
                       "width": float(cell_width(variant.genotype.normal)),
                       "depth": cell_depth(variant.genotype.normal),
                       "num_parameters": parameter_count(variant.genotype, config)[0]})
    counts = [o["num_parameters"] for o in others]
    data = {
        "setting": "cpu-mini preset (C = 8, L = 5), Fashion-MNIST, seed 0; near-optimum g = mean over "
                   "|alpha|, |beta| <= span/5 of a 9 x 9 grid on 128 test images",
        "cells": rows,
        "ranking_trace": by_trace,
        "ranking_per_parameter": by_param,
        "ranking_changes": by_trace != by_param,
        "parameter_count_ratio_max_over_min": spread,
        "parameter_counts_elsewhere": others,
        "parameter_count_ratio_elsewhere": max(counts) / min(counts),
    }
    command = "python examples/gradvar_stat_ranking.py" + (f" --comparison {args.comparison}" if args.comparison
                                                            else "")
    path = write_summary("gradvar_stat", data, command=command, seconds=time.perf_counter() - started,
                         root=args.root)
    for r in rows:
        print(f"{r['label']:<6} {r['width']:>4g}c {r['depth']} P={r['num_parameters']:>7} g={r['g']:.1f} "
              f"g/P={r['g_per_parameter']:.3e}  ranks {r['rank_trace']}/{r['rank_per_parameter']}")
    for o in others:
        print(f"{o['cell']:<16} {o['width']:>4g}c {o['depth']} P={o['num_parameters']:>7}")
    print(f"ranking changes: {data['ranking_changes']}; written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
