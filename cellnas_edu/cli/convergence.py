"""`cellnas convergence`: train a cell and its variant family, compare convergence (Section 4.1).

Examples:

```text
cellnas convergence DARTS --variants connections --count 4 --dataset fashion-mnist \\
    --preset cpu-mini --epochs 4 --out out/conv
cellnas convergence DARTS --variants connections --count 13 --dataset cifar10 --preset convergence \\
    --lrs 0.025 0.0025 0.25 --out out/figure3      # the paper's protocol (GPU)
```

Variants resample the normal cell only; the reduction cell stays the
original's (as in Table 2 and Figures 2-5). See [`cellnas_edu.convergence`][cellnas_edu.convergence]."""

from __future__ import annotations

import sys

from . import emit_json, path_arg, positive_int, results_name_arg, seed_arg


def add_arguments(parser) -> None:
    parser.add_argument("arch", metavar="NAME", help="built-in genotype name (e.g. DARTS) or genotype JSON file")
    parser.add_argument("--variants", choices=("connections", "operations"), default="connections",
                        help="random connection variants (Figures 3, 4) or operation variants (Figure 5)")
    parser.add_argument("--count", type=int, default=4, help="number of variants K (C1..CK; Table 2 uses 13)")
    parser.add_argument("--variant-seed", type=seed_arg, default=0, help="seed of the variant family (default 0)")
    parser.add_argument("--family", choices=("random", "table2"), default="random",
                        help="random: K seeded draws (Appendix A.2); table2: 13 draws with the widths and depths "
                        "of Table 2 (DARTS, ENAS, AmoebaNet, NASNet; --count is ignored)")
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.025], metavar="LR",
                        help="initial learning rates (Figure 4: 0.025 0.0025 0.25); default 0.025")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds per cell (default 3; >= 2 for intervals)")
    parser.add_argument("--dataset", default="cifar10",
                        help="cifar10 | cifar100 | tiny-imagenet-200 | fashion-mnist | synthetic (default cifar10)")
    parser.add_argument("--data-root", default=None, help="folder holding the dataset (default: the usual places)")
    parser.add_argument("--preset", default="convergence",
                        help="trainer preset: convergence (paper, default) | cpu-mini | smoke | generalization")
    parser.add_argument("--epochs", type=int, default=None, help="epochs E (default: the preset's)")
    parser.add_argument("--C", "--channels", dest="channels", type=int, default=None, help="override C (init_channels)")
    parser.add_argument("--layers", type=int, default=None, help="override L (number of cells)")
    parser.add_argument("--batch-size", type=int, default=None, help="override the batch size")
    parser.add_argument("--train-subset", type=int, default=None, help="use this many training images")
    parser.add_argument("--test-subset", type=int, default=None, help="use this many test images")
    parser.add_argument("--device", default=None, help="auto | cpu | cuda (default: the preset's, auto)")
    parser.add_argument("--jobs", type=positive_int, default=1,
                        help="train this many runs at once in worker processes (CPU; default 1)")
    parser.add_argument("--threads-per-job", type=positive_int, default=1,
                        help="torch threads per worker with --jobs > 1")
    parser.add_argument("--out", type=path_arg,
                        required=True, help="experiment folder (runs go to OUT/<lr>/<label>/seed<k>/)")
    parser.add_argument("--resume", action="store_true", help="continue an experiment in OUT (finished runs skipped)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--json", action="store_true", help="print summary.json on stdout")
    parser.add_argument("--results-name", type=results_name_arg, default=None, metavar="NAME",
                        help="also write results/NAME/summary.json in the book's schema (provenance, per-run "
                             "records, exact statistics), e.g. convergence_study to replace the book's CPU numbers")
    parser.add_argument("--results-root", type=path_arg,
                        default=None, help="folder holding results/NAME (default: the repository's)")


def spec_from_args(args):
    from ..convergence import ConvergenceSpec

    overrides = {}
    for option, field in (("channels", "init_channels"), ("layers", "layers"), ("batch_size", "batch_size"),
                          ("train_subset", "train_subset"), ("test_subset", "test_subset"), ("device", "device"),
                          ("data_root", "data_root")):
        value = getattr(args, option)
        if value is not None:
            overrides[field] = value
    return ConvergenceSpec(arch=args.arch, kind=args.variants, count=args.count, variant_seed=args.variant_seed,
                           family=args.family,
                           lrs=tuple(args.lrs), seeds=args.seeds, preset=args.preset, dataset=args.dataset,
                           epochs=args.epochs, overrides=overrides)


def run(args) -> int:
    import time

    from ..convergence import figure_path, format_summary, run_convergence

    spec = spec_from_args(args)
    started = time.perf_counter()
    summary = run_convergence(spec, args.out, resume=args.resume, progress=not args.no_progress, jobs=args.jobs,
                              threads_per_job=args.threads_per_job)
    if args.results_name:
        path = write_results(spec, args.out, args.results_name, time.perf_counter() - started, args.results_root)
        print(f"results: {path}", file=sys.stderr)
    if args.json:
        emit_json(summary)
        return 0
    if spec.seeds < 2:
        print("note: one seed per cell gives no interval; use --seeds 3 or more for a claim", file=sys.stderr)
    print(format_summary(summary))
    print(f"summary: {args.out}/summary.json")
    for lr in spec.lrs:
        print(f"figure:  {figure_path(args.out, lr)}")
    return 0


def write_results(spec, out, name: str, seconds: float, root=None):
    """`results/<name>/summary.json` in the schema of the book's study
    ([`cellnas_edu.section4_study`][cellnas_edu.section4_study])."""
    import shlex
    from pathlib import Path

    from .. import section4_study as s4
    from ..results import write_summary

    records = s4.run_records(out, spec)
    analysis = (s4.analyze_operations(records) if spec.kind == "operations" else s4.analyze_convergence(records))
    data = {"protocol": s4.protocol_json(spec, study=False), "records": records, "analysis": analysis,
            "runs": len(records), "timing": {"wall_seconds": round(seconds, 1)}}
    command = "cellnas convergence " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    return write_summary(name, data, command=command, seconds=seconds, root=Path(root) if root else None)
