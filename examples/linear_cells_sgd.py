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

import numpy as np
from matplotlib.figure import Figure

from cellnas_edu.io import atomic_save
from cellnas_edu.results import load_summary

ROOT = Path(__file__).resolve().parents[1]
COLORS = {2: "tab:blue", 3: "tab:orange", 4: "tab:green", 6: "tab:red"}


def fraction_figure(summary: dict) -> Figure:
    configs = summary["configs"]
    objectives = sorted({c["objective"] for c in configs}, key=["quadratic", "cross_entropy"].index)
    inits = sorted({c["init"] for c in configs}, key=["gaussian", "identity"].index)
    fig = Figure(figsize=(4.2 * len(inits), 3.3 * len(objectives)), layout="constrained")
    axes = fig.subplots(len(objectives), len(inits), squeeze=False)
    for r, objective in enumerate(objectives):
        for col, init in enumerate(inits):
            ax = axes[r, col]
            for n in sorted({c["n"] for c in configs}):
                for pairing, style in (("same_function", "-"), ("independent", "--")):
                    rows = sorted((c for c in configs if (c["objective"], c["init"], c["n"], c["pairing"])
                                   == (objective, init, n, pairing)), key=lambda c: c["lr"])
                    rows = [c for c in rows if c["sign_test"]["fraction_narrow_slower"] is not None]
                    if not rows:
                        continue
                    shift = 1.0 + 0.03 * (n - 3.5) + (0.01 if pairing == "independent" else 0.0)
                    lr = np.array([c["lr"] for c in rows]) * shift
                    frac = np.array([c["sign_test"]["fraction_narrow_slower"] for c in rows])
                    ci = np.array([c["sign_test"]["fraction_ci95"] for c in rows])
                    ax.errorbar(lr, frac, yerr=[frac - ci[:, 0], ci[:, 1] - frac], color=COLORS.get(n, "k"),
                                ls=style, lw=1, capsize=2, label=f"n={n}" if pairing == "same_function" else None)
                    sig = np.array([c["sign_test"]["p_holm"] < 0.05 for c in rows])
                    ax.scatter(lr[sig], frac[sig], color=COLORS.get(n, "k"), s=14, zorder=3)
                    ax.scatter(lr[~sig], frac[~sig], facecolor="white", edgecolor=COLORS.get(n, "k"), s=14, zorder=3)
            ax.axhline(0.5, color="grey", lw=0.8)
            ax.set_xscale("log")
            ax.set_ylim(-0.03, 1.03)
            ax.set_title(f"{objective.replace('_', '-')}, {init} init", fontsize=10)
            ax.set_xlabel("learning rate")
            if col == 0:
                ax.set_ylabel("fraction of seeds: narrow slower")
            if r == 0 and col == 0:
                ax.legend(fontsize=8, title="solid (a), dashed (b)", title_fontsize=8)
    return fig


CURVE_FILES = {"quadratic": "linear_cells_sgd_curves_quadratic.png",
               "cross_entropy": "linear_cells_sgd_curves_cross_entropy.png"}


def curves_figure(summary: dict, objective: str, n: int = 4, pairing: str = "same_function") -> Figure:
    """One objective's curves: a row per initialisation, a column per learning rate; every text at least
    ``cellnas_edu.page.MIN_TEXT_PX`` on the book's page (the 16 panels of both objectives in one figure were not)."""
    configs = [c for c in summary["configs"] if c["n"] == n and c["pairing"] == pairing and c["objective"] == objective]
    steps = np.array(summary["curve_steps"])
    inits = [i for i in ("gaussian", "identity") if any(c["init"] == i for c in configs)]
    lrs = sorted({c["lr"] for c in configs})
    fig = Figure(figsize=(2.3 * len(lrs), 2.6 * len(inits) + 0.6), layout="constrained")
    axes = fig.subplots(len(inits), len(lrs), squeeze=False, sharex=True, sharey=True)

    def fmt(v):
        return "-" if v is None else f"{v:.2g}"

    for r, init in enumerate(inits):
        for col, lr in enumerate(lrs):
            ax = axes[r, col]
            c = next(c for c in configs if (c["init"], c["lr"]) == (init, lr))
            for cell, color in (("wide", "tab:blue"), ("narrow", "tab:red")):
                curve = c[cell]["curve"]

                def series(key, curve=curve):
                    return np.array([np.nan if v is None else v for v in curve[key]], dtype=float)

                ax.plot(steps, series("median"), color=color, lw=1.2, label=f"{cell}: median, quartiles")
                ax.fill_between(steps, series("q25"), series("q75"), color=color, alpha=0.2, lw=0)
                ax.plot(steps, series("mean"), color=color, lw=0.7, ls="--", label=f"{cell}: mean of the live runs")
            ax.axhline(0.1, color="grey", ls=":", lw=0.8, label="threshold")
            ax.set_yscale("log")
            ax.set_ylim(1e-3, 1e2)
            start = {cell: c[cell]["trajectory"][0] for cell in ("wide", "narrow")}
            ax.set_title(f"{init}, lr {lr:g}\ndiverged w/n {c['wide']['diverged']}/{c['narrow']['diverged']}\n"
                         f"L w/n {fmt(start['wide']['lipschitz_max_median'])}/"
                         f"{fmt(start['narrow']['lipschitz_max_median'])}\nvar w/n "
                         f"{fmt(start['wide']['variance_total_median'])}/{fmt(start['narrow']['variance_total_median'])}",
                         fontsize=9)
            ax.tick_params(labelsize=9)
            if r == len(inits) - 1:
                ax.set_xlabel("SGD step", fontsize=9)
            if col == 0:
                ax.set_ylabel("(f - f*)/(f0 - f*)", fontsize=9)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9)
    fig.suptitle(f"{objective.replace('_', '-')} objective, n = {n}", fontsize=10)
    return fig


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
