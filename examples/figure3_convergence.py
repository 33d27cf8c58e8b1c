"""Figure 3 (Section 4.1): does the wide and shallow DARTS cell converge faster than its random variants?

Default (CPU, minutes): DARTS and 4 random connection variants of its normal
cell, each trained with 3 seeds on a Fashion-MNIST subset, then the Spearman
correlation between cell width (and depth) and test loss, with a bootstrap
interval over seeds. The scale is tiny next to the paper's (600 epochs of
CIFAR-10 at C = 36, L = 20), so the effect may or may not show; the
interval says how much the numbers can be trusted.

``--paper``: the paper-scale protocol on a GPU: CIFAR-10 (the dataset must be
under ``--data-root`` or ``$CELLNAS_DATA``), the ``convergence`` preset (SGD,
batch 80, 600 epochs, cosine annealing, no regularisation, C = 36, L = 20),
DARTS and 13 connection variants with the widths and depths of Table 2, the
learning rates 0.025 (Figure 3), 0.0025 and 0.25 (Figure 4), 3 seeds. That is
14 x 3 x 3 = 126 runs of 600 epochs: weeks of GPU time; the experiment is
resumable, run it in pieces (``--lrs 0.025`` first).

Usage::

    python examples/figure3_convergence.py                 # CPU, Fashion-MNIST: 12.5 min measured on 2 busy cores
    python examples/figure3_convergence.py --paper --out out/figure3-paper
"""

from __future__ import annotations

import argparse
import sys
import time

from cellnas_edu.convergence import ConvergenceSpec, figure_path, format_summary, run_convergence
from cellnas_edu.errors import UserError

#: The CPU protocol: the cpu-mini network (C = 8, L = 5, batch 64) on 1,000 Fashion-MNIST training images for
#: 4 epochs, tested on 600 test images, with the paper's learning rate 0.025 (cosine annealing) and, as in the
#: paper's convergence protocol, no gradient clipping. Seed k uses the same seeded data subsets for every cell.
#: Variant seed 1 was chosen (before any training) because its four variants spread over widths 2c..3c;
#: seed 0's variants are three 2.5c cells and one 2c cell.
CPU = dict(arch="DARTS", kind="connections", count=4, variant_seed=1, lrs=(0.025,), seeds=3, preset="cpu-mini",
           dataset="fashion-mnist", epochs=4,
           overrides=dict(train_subset=1000, test_subset=600, grad_clip=None, device="cpu"))

#: The paper's protocol (Section 4.1, Appendix A.3, A.4; Figures 3 and 4).
PAPER = dict(arch="DARTS", kind="connections", count=13, family="table2", variant_seed=0,
             lrs=(0.025, 0.0025, 0.25), seeds=3, preset="convergence", dataset="cifar10", epochs=600,
             overrides=dict(device="cuda"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paper", action="store_true", help="paper-scale protocol (CIFAR-10, 600 epochs, GPU)")
    parser.add_argument("--out", default=None, help="experiment folder (default out/figure3 or out/figure3-paper)")
    parser.add_argument("--lrs", type=float, nargs="+", default=None, help="learning rates (default: the protocol's)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per cell (default 3)")
    parser.add_argument("--data-root", default=None, help="where CIFAR-10 is (paper protocol)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks (paper protocol, CUDA)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="runs trained at once, one thread each (default: 2 on the CPU, 1 with --paper)")
    args = parser.parse_args(argv)

    protocol = dict(PAPER if args.paper else CPU)
    protocol["overrides"] = dict(protocol["overrides"])
    if args.lrs:
        protocol["lrs"] = tuple(args.lrs)
    if args.seeds:
        protocol["seeds"] = args.seeds
    if args.data_root:
        protocol["overrides"]["data_root"] = args.data_root
    if args.compile:
        protocol["overrides"]["compile"] = True
    if args.paper:
        import torch

        if not torch.cuda.is_available():
            print("figure3: --paper needs a CUDA GPU (600 epochs x 126 runs); none is available", file=sys.stderr)
            return 2
    out = args.out or ("out/figure3-paper" if args.paper else "out/figure3")
    spec = ConvergenceSpec(**protocol)

    started = time.perf_counter()
    try:
        jobs = args.jobs or (1 if args.paper else 2)
        summary = run_convergence(spec, out, resume=True, jobs=jobs, threads_per_job=1)
    except (UserError, ValueError) as exc:
        print(f"figure3: error: {exc}", file=sys.stderr)
        return 2
    minutes = (time.perf_counter() - started) / 60
    print(format_summary(summary))
    print()
    for lr, block in summary["learning_rates"].items():
        corr = block["correlations"]
        print(f"lr {lr}: the paper predicts rho(width, loss) < 0 and rho(depth, loss) > 0")
        for key in ("width_vs_final_test_loss", "width_vs_auc_test_loss", "depth_vs_final_test_loss",
                    "depth_vs_auc_test_loss"):
            print(f"  {corr[key]['statement']}")
        print(f"  figure: {figure_path(out, float(lr))}")
    print(f"summary: {out}/summary.json; this invocation took {minutes:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
