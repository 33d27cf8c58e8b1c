"""Figure 5 (Section 4.1): do random *operations* change convergence as much as random *connections*?

Section 4.1: "with the same connection topologies as the popular NAS cells but
distinguished operations, all random variants achieve nearly the same
convergence". An operation variant keeps every source of the normal cell
and redraws each operation uniformly from the seven DARTS candidates
(Appendix A.2), so width and depth do not change and a width correlation is
undefined. The question becomes: do the cells differ by more than the seeds
do? The summary answers with a one-way ANOVA over cells of the final test
loss (and lists each cell's parameter count, Table 3).

Default (CPU, minutes): DARTS and 3 operation variants, 3 seeds each, the
Fashion-MNIST protocol of ``figure3_convergence.py``. ``--paper``: DARTS, ENAS,
AmoebaNet and NASNet with 10 operation variants each (Table 3's C1..C10), the
``convergence`` preset on CIFAR-10 for 600 epochs, lr 0.025, 3 seeds, GPU.

Usage::

    python examples/figure5_operation_variants.py
    python examples/figure5_operation_variants.py --paper --out out/figure5-paper
"""

from __future__ import annotations

import argparse
import sys
import time

from cellnas_edu.convergence import ConvergenceSpec, figure_path, format_summary, run_convergence
from cellnas_edu.errors import UserError

CPU = dict(kind="operations", count=3, variant_seed=0, lrs=(0.025,), seeds=3, preset="cpu-mini",
           dataset="fashion-mnist", epochs=4,
           overrides=dict(train_subset=1000, test_subset=600, grad_clip=None, device="cpu"))
PAPER = dict(kind="operations", count=10, variant_seed=0, lrs=(0.025,), seeds=3, preset="convergence",
             dataset="cifar10", epochs=600, overrides=dict(device="cuda"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paper", action="store_true", help="paper-scale protocol (CIFAR-10, 600 epochs, GPU)")
    parser.add_argument("--archs", nargs="+", default=None,
                        help="architectures (default: DARTS on the CPU; DARTS ENAS AmoebaNet NASNet with --paper)")
    parser.add_argument("--out", default=None, help="parent folder (default out/figure5 or out/figure5-paper)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per cell (default 3)")
    parser.add_argument("--data-root", default=None, help="where CIFAR-10 is (paper protocol)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="runs trained at once, one thread each (default: 2 on the CPU, 1 with --paper)")
    args = parser.parse_args(argv)

    protocol = dict(PAPER if args.paper else CPU)
    protocol["overrides"] = dict(protocol["overrides"])
    if args.seeds:
        protocol["seeds"] = args.seeds
    if args.data_root:
        protocol["overrides"]["data_root"] = args.data_root
    if args.paper:
        import torch

        if not torch.cuda.is_available():
            print("figure5: --paper needs a CUDA GPU (600 epochs x 132 runs); none is available", file=sys.stderr)
            return 2
    archs = args.archs or (["DARTS", "ENAS", "AmoebaNet", "NASNet"] if args.paper else ["DARTS"])
    parent = args.out or ("out/figure5-paper" if args.paper else "out/figure5")
    jobs = args.jobs or (1 if args.paper else 2)

    started = time.perf_counter()
    for arch in archs:
        out = f"{parent}/{arch}"
        try:
            summary = run_convergence(ConvergenceSpec(arch=arch, **protocol), out, resume=True, jobs=jobs,
                                      threads_per_job=1)
        except (UserError, ValueError) as exc:
            print(f"figure5: error: {exc}", file=sys.stderr)
            return 2
        print(f"== {arch} and {protocol['count']} random operation variants")
        print(format_summary(summary))
        for lr, block in summary["learning_rates"].items():
            anova = block["anova_final_test_loss"]
            if anova is not None:
                verdict = ("the cells differ by more than seed noise" if anova["p_value"] is not None
                           and anova["p_value"] < 0.05 else "no evidence that the cells differ beyond seed noise")
                f_stat = "n/a" if anova["F"] is None else f"{anova['F']:.3f}"
                p_value = "n/a" if anova["p_value"] is None else f"{anova['p_value']:.3g}"
                print(f"lr {lr}: one-way ANOVA over cells, final test loss: F = {f_stat}, p = {p_value}"
                      f" -> {verdict} (Figure 5 expects nearly the same convergence)")
            print(f"figure: {figure_path(out, float(lr))}")
        print()
    print(f"took {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
