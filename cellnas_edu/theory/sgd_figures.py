"""The figures of the linear cells trained by SGD (Chapter 6; Section 4.3 in its own setting), drawn from
`results/linear_cells_sgd/summary.json` (`examples/linear_cells_sgd.py` and the chapter's notebook call them).

[`fraction_figure`][cellnas_edu.theory.sgd_figures.fraction_figure]: per objective and initialisation, the fraction
of untied seeds in which the narrowest cell reaches the threshold later than the widest, against the learning rate.
[`curves_figure`][cellnas_edu.theory.sgd_figures.curves_figure]: one objective's normalised excess-loss curves of
both cells. Each returns a `matplotlib.figure.Figure` (no pyplot state)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

__all__ = ["COLORS", "CURVE_FILES", "curves_figure", "fraction_figure"]

COLORS = {2: "tab:blue", 3: "tab:orange", 4: "tab:green", 6: "tab:red"}


def fraction_figure(summary: dict) -> Figure:
    """Per objective (rows) and initialisation (columns): the fraction of untied seeds in which the narrowest cell
    reaches the threshold later than the widest, with its exact 95% interval, against the learning rate; one line
    per width `n`, solid for pairing (a), dashed for (b); filled markers where the Holm-adjusted sign test rejects
    at 0.05."""
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
