"""The widest and narrowest linear cells trained by SGD (Section 4.3 in its own setting): the figures of Chapter 6.

Reads the committed results file ``results/linear_cells_sgd/summary.json`` (written by
``python theory/linear_cells_sgd.py --write-results``; nothing is re-run here) and writes into ``--out``:

* ``linear_cells_sgd.png`` -- per objective and initialisation, the fraction of untied seeds in which the narrowest
  cell reaches the threshold later than the widest cell, with its exact 95 % interval, against the learning rate;
  one line per width ``n``, solid for pairing (a) (same initial function), dashed for (b) (independent draws);
  filled markers where the Holm-adjusted sign test rejects at 0.05. Above 0.5: the narrow cell is slower.
* ``linear_cells_sgd_curves_quadratic.png``, ``linear_cells_sgd_curves_cross_entropy.png`` -- one figure per
  objective: median normalised excess loss ``(f - f*) / (f0 - f*)`` with its quartiles (a diverged run counts as
  +infinity; the line stops where half the runs have diverged) and, dashed, the mean over the runs not yet
  diverged, for both cells, ``n = 4``, pairing (a), every learning rate (columns) and initialisation (rows); the
  dotted line is the threshold (0.1); the titles give the diverged runs and the median block-Lipschitz constant
  and gradient variance of both cells at step 0.

    python examples/linear_cells_sgd.py [--out DIR] [--results DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cellnas_edu.io import atomic_save
from cellnas_edu.results import load_summary
from cellnas_edu.theory.sgd_figures import CURVE_FILES, curves_figure, fraction_figure

ROOT = Path(__file__).resolve().parents[1]
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "figures", help="output folder")
    parser.add_argument("--results", type=Path, default=None, help="results root (default: the repository's results/)")
    args = parser.parse_args(argv)
    summary = load_summary("linear_cells_sgd", args.results)
    args.out.mkdir(parents=True, exist_ok=True)
    figures = [("linear_cells_sgd.png", fraction_figure(summary))]
    figures += [(name, curves_figure(summary, objective)) for objective, name in CURVE_FILES.items()]
    for name, fig in figures:
        atomic_save(args.out / name, lambda handle, fig=fig: fig.savefig(handle, format="png", dpi=130))
    print("wrote " + ", ".join(str(args.out / name) for name, _ in figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
