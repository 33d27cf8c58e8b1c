"""Does re-estimating BatchNorm at every grid point change how Section 4.2's loss surfaces rank the cells? (Chapter 4)

The surface of Figure 6 is the test loss at weights `w + a d1 + b d2`. Evaluated in evaluation mode, every grid
point uses the running statistics stored with the trained weights; but moving the weights changes the statistics
a network would have, so a surface can look sharp only because its statistics no longer fit. `cellnas landscape
--bn-recalibration N` re-estimates them on N training images at every point. This script measures, on seed 0 of
each of the 11 cells of the Section 4.1 re-test (`runs/section41_retest`, trained with BatchNorm recalibrated, so
the stored statistics fit the trained weights), both surfaces on the same grid and directions, and compares:

* each cell's sharpness = the mean of `loss(a, b) - loss(0, 0)` over the grid;
* the Spearman correlation of the two sharpness rankings over the 11 cells, per learning rate;
* the ranking's correlation with width and depth under each mode;
* the cost: the CPU seconds of the recalibrated surface over those of the fixed one.

    python examples/landscape_recalibration.py [--runs runs/section41_retest/runs] [--steps 5] [--samples 320]

Writes `results/landscape_recalibration/summary.json`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from cellnas_edu import section41_retest as retest
from cellnas_edu.cli import path_arg
from cellnas_edu.landscape.store import LandscapeData
from cellnas_edu.results import write_summary
from cellnas_edu.stats import spearman_rho


def _surface(run: Path, steps: int, samples: int, recalibration: int) -> dict:
    command = [sys.executable, "-m", "cellnas_edu", "landscape", str(run), "--steps", str(steps), "--samples",
               str(samples), "--overwrite", "--no-progress", "--json", "--bn-recalibration", str(recalibration)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = json.loads(result.stdout)
    loss = np.asarray(LandscapeData.load(run / "landscape.npz").loss, dtype=float)  # the surface just written
    if not np.isfinite(loss).all() or loss.shape != (steps, steps):
        raise SystemExit(f"{run / 'landscape.npz'}: the surface is incomplete or not finite")
    return {"center_loss": summary["center_loss"], "eval_loss": summary["eval_loss"],
            "sharpness": float(np.mean(loss - summary["center_loss"])), "max_loss": float(loss.max()),
            "surface": loss.tolist(), "seconds": summary["seconds"], "batchnorm": summary["batchnorm"]}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=path_arg, default="runs/section41_retest/runs")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--samples", type=int, default=320)
    parser.add_argument("--seed-of-runs", type=int, default=0)
    parser.add_argument("--results", type=path_arg, default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from cellnas_edu.cells.genotypes import resolve_genotype
    from cellnas_edu.convergence import experiment_cells

    spec = retest.spec()
    cells = experiment_cells(resolve_genotype(spec.arch), spec.kind, spec.count, spec.variant_seed, spec.family)
    rows = []
    for lr in spec.lrs:
        for cell in cells:
            run = Path(args.runs) / f"{lr:g}" / cell.label / f"seed{args.seed_of_runs}"
            fixed = _surface(run, args.steps, args.samples, 0)
            recalibrated = _surface(run, args.steps, args.samples, spec.overrides["bn_recalibration"])
            rows.append({"lr": lr, "label": cell.label, "width": float(cell.width), "depth": int(cell.depth),
                         "fixed": fixed, "recalibrated": recalibrated})
            print(f"{lr:g} {cell.label}: sharpness {fixed['sharpness']:.3f} fixed, "
                  f"{recalibrated['sharpness']:.3f} recalibrated", file=sys.stderr, flush=True)
    comparison = []
    for lr in spec.lrs:
        mine = [r for r in rows if r["lr"] == lr]
        a = [r["fixed"]["sharpness"] for r in mine]
        b = [r["recalibrated"]["sharpness"] for r in mine]
        entry = {"lr": lr, "cells": len(mine), "rho_fixed_vs_recalibrated": spearman_rho(a, b),
                 "cost_ratio": sum(r["recalibrated"]["seconds"] for r in mine)
                 / sum(r["fixed"]["seconds"] for r in mine),
                 "top_cell_fixed": mine[int(np.argmin(a))]["label"],
                 "top_cell_recalibrated": mine[int(np.argmin(b))]["label"]}
        for mode, values in (("fixed", a), ("recalibrated", b)):
            for prop in ("width", "depth"):
                entry[f"rho_{prop}_{mode}"] = spearman_rho([r[prop] for r in mine], values)
        comparison.append(entry)
    data = {"protocol": {"runs": "section41_retest", "seed_of_runs": args.seed_of_runs, "steps": args.steps,
                         "samples": args.samples, "span": 1.0, "recalibration_images":
                         spec.overrides["bn_recalibration"], "sharpness": "mean of loss - centre loss over the grid"},
            "records": rows, "comparison": comparison}
    command = "python examples/landscape_recalibration.py " + " ".join(shlex.quote(a) for a in argv)
    path = write_summary("landscape_recalibration", data, command=command.strip(),
                         seconds=time.perf_counter() - started, root=Path(args.results) if args.results else None)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
