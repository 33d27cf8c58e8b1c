"""The theory report: Theorems 4.2 and 4.3 measured against their bounds (Section 4.3, Appendix C).

Runs every check of :mod:`cellnas_edu.theory` and writes, into ``--out`` (default ``out/figures``):

* ``theory_report.json`` -- the results of equations (1)-(4) and Theorems 4.1-4.3 (what ``cellnas theory --json``
  prints);
* ``theory_bounds.png`` -- left: the narrowest cell's measured block-Lipschitz constant against the stated bound of
  Theorem 4.2 (points above the diagonal violate it) and against the corrected bound (all on or below); right: the
  measured gradient variance against bound (13) with spectral norms (all below) and with spectral radii, the
  "largest eigenvalue" reading (violations above the diagonal). Log axes; values below 1e-12 are left out of the
  plot (not out of the counts).

    python examples/theory_report.py [--out DIR] [--seed S] [--quick]

Takes about a minute on one CPU core (``--quick``: a few seconds).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cellnas_edu.io import atomic_save, atomic_write_json
from cellnas_edu.theory.gradient_identity import run_gradient_identity
from cellnas_edu.theory.lipschitz import run_theorem_4_2
from cellnas_edu.theory.runtime import single_thread
from cellnas_edu.theory.sgd_convergence import check_theorem_4_1
from cellnas_edu.theory.variance import run_theorem_4_3

FLOOR = 1e-12


def positive_pairs(records, x_key, y_key):
    """``(bound, measured)`` pairs of the records where both are finite and above ``FLOOR`` (log axes; degenerate
    instances with zero blocks or tiny hypothesis floats are left out of the picture, not out of the counts)."""
    pairs = [(r[x_key], r["measured"] if y_key is None else r[y_key]) for r in records]
    pairs = [(x, y) for x, y in pairs if x > FLOOR and y > FLOOR and np.isfinite(x) and np.isfinite(y)]
    return np.array(pairs).reshape(-1, 2)


def diagonal(ax, arrays):
    values = np.concatenate([a.ravel() for a in arrays if a.size])
    low, high = values.min() / 2, values.max() * 2
    ax.plot([low, high], [low, high], color="black", lw=1, label="measured = bound")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)


def bounds_figure(t42: dict, t43: dict):
    fig = Figure(figsize=(7.5, 9.6))  # one panel above the other: every text at least 9 px on the page
    left, right = fig.subplots(2, 1)
    stated = positive_pairs(t42["records"], "stated_bound", None)
    corrected = positive_pairs(t42["records"], "corrected_bound", None)
    left.scatter(stated[:, 0], stated[:, 1], s=14, alpha=0.6, color="tab:red", label="stated bound (Theorem 4.2)")
    left.scatter(corrected[:, 0], corrected[:, 1], s=14, alpha=0.6, color="tab:blue", label="corrected bound")
    diagonal(left, [stated, corrected])
    left.set(xscale="log", yscale="log", xlabel="bound", ylabel="measured block-Lipschitz\nconstant",
             title=f"Theorem 4.2: {t42['stated_bound_violations']}/{t42['instances']} blocks violate the stated bound")
    left.legend(fontsize=8, loc="upper left")

    spectral = positive_pairs(t43["records"], "bound_spectral_norm", None)
    eigen = positive_pairs(t43["records"], "bound_eigenvalue", None)
    right.scatter(eigen[:, 0], eigen[:, 1], s=14, alpha=0.6, color="tab:orange",
                  label="lambda = spectral radius (largest |eigenvalue|)")
    right.scatter(spectral[:, 0], spectral[:, 1], s=14, alpha=0.6, color="tab:green",
                  label="lambda = spectral norm")
    diagonal(right, [spectral, eigen])
    zero_bound = sum(r["bound_eigenvalue"] == 0 and r["eigenvalue_violated"] for r in t43["records"])
    right.set(xscale="log", yscale="log", xlabel="bound (13)", ylabel="measured gradient variance",
              title=f"Theorem 4.3: {t43['stated_bound_violations']} / {t43['eigenvalue_reading_violations']} "
                    f"violations (norm / eigenvalue reading)")
    if zero_bound:
        right.text(0.98, 0.02, f"+{zero_bound} eigenvalue-reading violations with bound 0 (not drawn)",
                   transform=right.transAxes, ha="right", fontsize=8)
    right.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/figures"), help="output folder (default out/figures)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the instances (default 0)")
    parser.add_argument("--quick", action="store_true", help="fewer instances")
    args = parser.parse_args(argv)
    with single_thread():
        report = {
            "gradient_identity": run_gradient_identity(seed=args.seed, quick=args.quick),
            "theorem_4_2": run_theorem_4_2(seed=args.seed, quick=args.quick, keep_records=True),
            "theorem_4_3": run_theorem_4_3(seed=args.seed, quick=args.quick, keep_records=True),
            "theorem_4_1": check_theorem_4_1(seed=args.seed, quick=args.quick),
        }
    fig = bounds_figure(report["theorem_4_2"], report["theorem_4_3"])
    figure_path = args.out / "theory_bounds.png"
    atomic_save(figure_path, lambda handle: fig.savefig(handle, format="png", dpi=120))
    for key in ("theorem_4_2", "theorem_4_3"):
        report[key].pop("records")
    json_path = args.out / "theory_report.json"
    atomic_write_json(json_path, report)
    print(f"wrote {json_path} and {figure_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
