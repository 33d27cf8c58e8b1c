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

from figure6_landscape import run_figure


def main() -> None:
    run_figure(__doc__.splitlines()[0], gradvar=True)


if __name__ == "__main__":
    main()
