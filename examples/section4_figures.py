"""Draw the Section 4 study's figures from the committed results files (no training, seconds).

    python examples/section4_figures.py            # reads results/, writes docs/figures/section4_*.png
    python examples/section4_figures.py --followup # the follow-up at lr 0.025: section4_followup_auc_vs_width.png

Every figure is drawn from the per-run records of ``results/<experiment>/summary.json``,
so a GPU user who drops in a paper-scale ``summary.json`` gets the same figures at paper scale.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib import cm, colors  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cellnas_edu.results import load_summary  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _cells(records):
    seen = {}
    for r in records:
        seen.setdefault(r["label"], r)
    return list(seen.values())


def curves_figure(summary) -> Figure:
    """Mean test-loss curve per cell (colour = width), one panel per learning rate, one above the other, each
    with its legend beside it (cell, width, depth, diverged seeds); sized so every text is at least
    ``cellnas_edu.page.MIN_TEXT_PX`` on the book's page."""
    records = summary["records"]
    lrs = sorted({r["lr"] for r in records})
    widths = [r["width"] for r in records]
    norm = colors.Normalize(vmin=min(widths), vmax=max(widths))
    cmap = matplotlib.colormaps["viridis"]
    fig = Figure(figsize=(8, 3.6 * len(lrs) + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(lrs), 1))
    for ax, lr in zip(axes, lrs):
        for cell in _cells([r for r in records if r["lr"] == lr]):
            runs = [r for r in records if r["lr"] == lr and r["label"] == cell["label"]]
            finished = [r["metrics"]["test_loss_curve"] for r in runs if not r["diverged"]]
            diverged = sum(r["diverged"] for r in runs)
            colour = cmap(norm(cell["width"]))
            if finished:
                data = np.asarray(finished, dtype=float)
                x = np.arange(1, data.shape[1] + 1)
                ax.plot(x, data.mean(axis=0), color=colour, lw=2.6 if cell.get("original") else 1.2,
                        label=f"{cell['label']} ({cell['width']:g}c, {cell['depth']})"
                        + (f" [{diverged} div.]" if diverged else ""))
            elif diverged:
                ax.plot([], [], color=colour, ls=":", label=f"{cell['label']} [all {diverged} diverged]")
        ax.set(xlabel="epoch", ylabel="test loss\n(mean over finished seeds)", title=f"lr {lr:g}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(axes), label="cell width (units of c)",
                 location="bottom", shrink=0.6)
    return fig


def curves(summary, out: Path) -> Path:
    path = out / "section4_curves.png"
    curves_figure(summary).savefig(path, dpi=110)
    return path


def auc_vs_width(summary, out: Path, name: str = "section4_auc_vs_width", note: str = "") -> Path:
    """AUC of every run against width (jittered), cell means as bars; diverged runs drawn at the top."""
    records = summary["records"]
    lrs = sorted({r["lr"] for r in records})
    fig = Figure(figsize=(5.2 * len(lrs), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(lrs)))
    rng = np.random.default_rng(0)
    for ax, lr in zip(axes, lrs):
        recs = [r for r in records if r["lr"] == lr]
        finite = [r["metrics"]["auc_test_loss"] for r in recs if r["metrics"]["auc_test_loss"] is not None]
        top = max(finite) * 1.08 if finite else 1.0
        for r in recs:
            y = r["metrics"]["auc_test_loss"]
            x = r["width"] + rng.uniform(-0.08, 0.08)
            if y is None:
                ax.plot(x, top, "x", color="crimson")
            else:
                ax.plot(x, y, "o", ms=3, color="black" if r.get("original") else "steelblue", alpha=0.6)
        for cell in _cells(recs):
            vals = [r["metrics"]["auc_test_loss"] for r in recs if r["label"] == cell["label"]]
            if all(v is not None for v in vals):
                ax.hlines(np.mean(vals), cell["width"] - 0.12, cell["width"] + 0.12, color="darkorange", lw=2)
        if finite and max(finite) > 20 * min(finite):
            ax.set_yscale("log")  # the large learning rate's loss blow-ups span orders of magnitude
        ax.set(xlabel="cell width (units of c)", ylabel="AUC of test loss", title=f"lr {lr:g}{note} (x: diverged)")
        ax.grid(alpha=0.3)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=110)
    return path


def operations(summary, out: Path) -> Path:
    records = summary["records"]
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    cells = _cells(records)
    for i, cell in enumerate(cells):
        vals = [r["metrics"]["auc_test_loss"] for r in records if r["label"] == cell["label"]
                and r["metrics"]["auc_test_loss"] is not None]
        ax.plot([i] * len(vals), vals, "o", ms=4, color="black" if cell.get("original") else "steelblue", alpha=0.7)
        if vals:
            ax.hlines(np.mean(vals), i - 0.25, i + 0.25, color="darkorange", lw=2)
    ax.set_xticks(range(len(cells)), [c["label"] for c in cells])
    ax.set(ylabel="AUC of test loss", title="operation variants, lr 0.025 (dots: seeds, bar: mean)")
    ax.grid(alpha=0.3)
    path = out / "section4_operations.png"
    fig.savefig(path, dpi=110)
    return path


def landscape_figure(summary) -> Figure:
    """Top Hessian eigenvalue and gradient variance per run against width and against AUC; colour = the
    cell's depth, named in the figure's legend."""
    records = summary["records"]
    depths = sorted({r["depth"] for r in records})
    cmap = matplotlib.colormaps["plasma"]
    colour = {d: cmap(k / max(1, len(depths) - 1) * 0.85) for k, d in enumerate(depths)}
    fig = Figure(figsize=(8, 6.6), layout="constrained")
    axes = fig.subplots(2, 2)
    for row, (key, name) in enumerate((("top_hessian_eigenvalue", "top Hessian eigenvalue"),
                                       ("grad_var_per_parameter", "gradient variance\nper parameter"))):
        for col, (xkey, xname) in enumerate((("width", "cell width (units of c)"),
                                             ("auc_test_loss", "AUC of test loss (speed)"))):
            ax = axes[row, col]
            for depth in depths:
                pts = []
                for r in records:
                    x = r[xkey] if xkey == "width" else r["metrics"][xkey]
                    y = r["metrics"][key]
                    if r["depth"] == depth and x is not None and y is not None and math.isfinite(y):
                        pts.append((x, y))
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=16, color=colour[depth],
                           label=f"depth {depth}")
            ax.set(xlabel=xname, ylabel=name)
            ax.set_yscale("log")
            ax.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(depths), title="colour = cell depth")
    fig.suptitle("Section 4.2 at the end of training (lr 0.025, seeds 0-2)", fontsize=11)
    return fig


def landscape(summary, out: Path) -> Path:
    path = out / "section4_landscape.png"
    landscape_figure(summary).savefig(path, dpi=110)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", default=None, help="results root (default: the repository's results/)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "figures"))
    parser.add_argument("--followup", action="store_true",
                        help="draw the follow-up at lr 0.025 (results/convergence_followup) instead of the study")
    args = parser.parse_args(argv)
    root = Path(args.results) if args.results else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    drawn = []

    def followup_auc(summary, out_):
        epochs = summary["protocol"]["epochs"]
        return auc_vs_width(summary, out_, "section4_followup_auc_vs_width", f", follow-up, {epochs} epochs")

    study = (("convergence_followup", (followup_auc,)),) if args.followup else (
        ("convergence_study", (curves, auc_vs_width)), ("operation_variants_study", (operations,)),
        ("landscape_study", (landscape,)))
    for name, draw in study:
        try:
            summary = load_summary(name, root)
        except Exception as exc:  # a missing study is skipped, not fatal
            print(f"skip {name}: {exc}")
            continue
        for fn in draw:
            drawn.append(fn(summary, out))
    for path in drawn:
        print(path)
    return drawn


if __name__ == "__main__":
    main()
