"""`cellnas compare-landscapes`: a family's landscapes side by side, against cell width and depth.

Example:

```text
cellnas compare-landscapes runs/darts runs/C1 runs/C2 --out out/figure6
```

Every RUN_DIR needs a complete `landscape.npz` (`cellnas landscape`).
Writes `OUT/compare_contours.png` (Figure 6), with gradient variance also
`compare_gradvar_heatmaps.png` (Figure 7) and `compare_gradvar3d.png`
(Figure 8), and `OUT/comparison.json`. See [`cellnas_edu.landscape.compare`][cellnas_edu.landscape.compare]."""

from __future__ import annotations

from . import emit_json, path_arg


def add_arguments(parser) -> None:
    parser.add_argument("run_dirs", type=path_arg,
                        metavar="RUN_DIR", nargs="+", help="run folders holding landscape.npz")
    parser.add_argument("--out", type=path_arg, default="landscape-comparison",
                        help="folder for the figures and comparison.json (default ./landscape-comparison)")
    parser.add_argument("--no-plots", action="store_true", help="only the table")
    parser.add_argument("--json", action="store_true", help="print the table as JSON on stdout")


def run(args) -> int:
    from ..landscape.compare import compare_landscapes, format_table, write_comparison_figures, write_table

    table, datas = compare_landscapes(args.run_dirs)
    files = [] if args.no_plots else write_comparison_figures(table, datas, args.out)
    files.append(write_table(table, args.out))
    table["files"] = [str(f) for f in files]
    if args.json:
        emit_json(table)
    else:
        print(format_table(table))
        for f in files:
            print(f"file: {f}")
    return 0
