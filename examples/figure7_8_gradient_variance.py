"""Figures 7 and 8: the gradient variance of DARTS and its random variants as heat maps and 3-D surfaces.

Uses the same family, runs and grid as ``figure6_landscape.py`` (it trains
them if they are missing, and reuses the loss grid if Figure 6 was made
first) and adds the gradient variance g(alpha, beta) of Section 4.2.2: the
trace of the per-sample gradient covariance over the test sample, plotted as
its square root as in the paper. Writes ``compare_gradvar_heatmaps.png``
(Figure 7), ``compare_gradvar3d.png`` (Figure 8), the contours, and a table
of near-optimum gradient variance against width and depth.

    python examples/figure7_8_gradient_variance.py [--out out/figure6] [--variants 2]
    python examples/figure7_8_gradient_variance.py --paper --out out/figure6-paper
"""

from __future__ import annotations

from pathlib import Path

from figure6_landscape import measure_family, parse, settings_from, train_family

from cellnas_edu.landscape.compare import compare_landscapes, format_table, write_comparison_figures, write_table


def main() -> None:
    args = parse(__doc__.splitlines()[0])
    settings = settings_from(args)
    out = Path(args.out or ("out/figure6-paper" if args.paper else "out/figure6"))
    runs = train_family(out, settings, args.seed, not args.no_progress)
    measure_family(runs, settings, gradvar=True, progress=not args.no_progress)
    table, datas = compare_landscapes(runs)
    files = write_comparison_figures(table, datas, out) + [write_table(table, out)]
    print(format_table(table))
    for f in files:
        print(f"file: {f}")


if __name__ == "__main__":
    main()
