"""Figure 6: loss contours of DARTS and its random connection variants, side by side, widest cell first.

Trains (or reuses, if already trained in ``--out``) DARTS and ``--variants``
random connection variants of its normal cell (Appendix A.2, labelled C1, C2,
... by width ascending as in Table 2), measures the loss surface
s(alpha, beta) of each around its trained weights (Section 4.2.1,
filter-normalised directions, ``cellnas landscape``) and draws the contours
side by side with a table of sharpness against width and depth
(``cellnas compare-landscapes``).

CPU default (minutes): Fashion-MNIST, the ``cpu-mini`` preset (C = 8, L = 5,
2,000 training images) for ``--epochs 3``, a 9 x 9 grid on 128 test images.
``--paper``: the paper's protocol on a GPU, CIFAR-10, the ``convergence``
preset (600 epochs, C = 36, L = 20), four variants, a 51 x 51 grid on all
10,000 test images (days of GPU time, mostly training).

    python examples/figure6_landscape.py [--out out/figure6] [--variants 2] [--epochs 3]
    python examples/figure6_landscape.py --paper --out out/figure6-paper
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cellnas_edu.cells.genotypes import get_genotype, save_genotype
from cellnas_edu.cells.variants import variant_family
from cellnas_edu.landscape import LandscapeOptions, measure_landscape
from cellnas_edu.landscape.compare import compare_landscapes, format_table, write_comparison_figures, write_table
from cellnas_edu.train import make_config, train

CPU = {"dataset": "fashion-mnist", "preset": "cpu-mini", "variants": 2, "epochs": 3,
       "steps": 9, "span": 1.0, "samples": 128, "chunk": 16, "device": "cpu"}
PAPER = {"dataset": "cifar10", "preset": "convergence", "variants": 4, "epochs": None,
         "steps": 51, "span": 1.0, "samples": 10_000, "chunk": 128, "device": "cuda"}


def family_archs(out: Path, count: int, seed: int) -> dict[str, str]:
    """``{label: arch}``: DARTS and ``count`` connection variants of its normal cell, saved as genotype files."""
    darts = get_genotype("DARTS")
    archs = {"DARTS": "DARTS"}
    for variant in variant_family(darts, kind="connections", count=count, seed=seed):
        path = out / "genotypes" / f"{variant.label}.json"
        save_genotype(variant.genotype.renamed(variant.label), path)
        archs[variant.label] = str(path)
    return archs


def train_family(out: Path, settings: dict, seed: int = 0, progress: bool = True) -> list[Path]:
    """Train (or reuse) every run of the family; returns the run folders."""
    runs = []
    for label, arch in family_archs(out, settings["variants"], seed).items():
        overrides = {"device": settings["device"], "seed": seed}
        if settings["epochs"] is not None:
            overrides["epochs"] = settings["epochs"]
        config = make_config(settings["preset"], arch=arch, dataset=settings["dataset"], **overrides)
        run_dir = out / "runs" / label
        summary = train(config, run_dir, resume=True, progress=progress)
        print(f"{label}: {summary.epochs_done} epochs, test loss {summary.final_test_loss}")
        runs.append(run_dir)
    return runs


def measure_family(runs: list[Path], settings: dict, gradvar: bool, progress: bool = True) -> None:
    options = LandscapeOptions(steps=settings["steps"], span=settings["span"], samples=settings["samples"],
                               chunk=settings["chunk"], device=settings["device"], gradvar=gradvar,
                               plots=True, progress=progress)
    for run in runs:
        summary = measure_landscape(run, options)
        print(f"{run.name}: centre loss {summary['center_loss']:.4f} (eval loss {summary['eval_loss']:.4f}), "
              f"{summary['seconds']:.0f} s")


def parse(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=None, help="experiment folder (default out/figure6[-paper])")
    parser.add_argument("--paper", action="store_true", help="the paper's protocol (CIFAR-10, GPU, 51x51, 10,000)")
    parser.add_argument("--variants", type=int, default=None, help="number of random variants")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: 3 on CPU, 600 --paper)")
    parser.add_argument("--steps", type=int, default=None, help="grid points per axis (odd)")
    parser.add_argument("--samples", type=int, default=None, help="test images per grid point")
    parser.add_argument("--seed", type=int, default=0, help="seed of the variants, training and directions")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args()


def settings_from(args: argparse.Namespace) -> dict:
    settings = dict(PAPER if args.paper else CPU)
    for key in ("variants", "epochs", "steps", "samples"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    return settings


def run_figure(description: str, gradvar: bool) -> None:
    """Train (or reuse) the family, measure its landscapes, write the side-by-side figures and the table.

    Figure 6 measures the loss surface only; Figures 7/8 (``figure7_8_gradient_variance.py``) add the gradient
    variance on the same runs and grid."""
    args = parse(description)
    settings = settings_from(args)
    out = Path(args.out or ("out/figure6-paper" if args.paper else "out/figure6"))
    runs = train_family(out, settings, args.seed, not args.no_progress)
    measure_family(runs, settings, gradvar=gradvar, progress=not args.no_progress)
    table, datas = compare_landscapes(runs)
    files = write_comparison_figures(table, datas, out) + [write_table(table, out)]
    print(format_table(table))
    for f in files:
        print(f"file: {f}")


def main() -> None:
    run_figure(__doc__.splitlines()[0], gradvar=False)


if __name__ == "__main__":
    main()
