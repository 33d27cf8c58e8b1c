"""The curves of Figures 3, 4, 5 and 12-16: mean test loss and accuracy per cell, shaded 95% interval."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..io import atomic_save
from ..train.runfolder import RunFolder
from .spec import ExperimentCell, lr_key, run_dir


def plot_curves(out_dir: Path, lr: float, cells: list[ExperimentCell], seeds: int, epochs: int, path: Path) -> Path:
    """Figures 3/4/13-16 style: test loss and test accuracy per epoch, mean over seeds, shaded 95% interval.

    Colour encodes the cell width (viridis, narrow = dark; cells of equal
    width differ by line style; when every cell has the same width, as for
    operation variants, each cell gets its own colour); the original cell
    is drawn thicker. Diverged seeds are drawn as thin dotted lines up to
    their last finite epoch and counted in the legend."""
    import matplotlib
    from matplotlib import cm, colors, ticker
    from matplotlib.figure import Figure

    from ..stats import t_half_width

    widths = [float(c.width) for c in cells]
    by_width = len(set(widths)) > 1  # operation variants all share the original's width: colour by cell then
    norm = colors.Normalize(vmin=min(widths), vmax=max(widths) if by_width else min(widths) + 1)
    cmap = matplotlib.colormaps["viridis"]
    styles = ("-", "--", "-.", (0, (1, 1)))
    seen_widths: dict[float, int] = {}
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(11, 4.2), layout="constrained")
        ax_loss, ax_acc = fig.subplots(1, 2)
        for index, cell in enumerate(cells):
            colour = cmap(norm(float(cell.width))) if by_width else matplotlib.colormaps["tab10"](index % 10)
            same_width = seen_widths.get(float(cell.width), 0) if by_width else 0
            seen_widths[float(cell.width)] = same_width + 1
            curves_loss, curves_acc, n_diverged, x = [], [], 0, None
            for seed in range(seeds):
                record = RunFolder(run_dir(out_dir, lr, cell.label, seed)).record(epochs)
                if record.state == "finished":
                    curves_loss.append(record.test_loss)
                    curves_acc.append(record.test_acc)
                    x = np.asarray(record.epochs)  # the same evaluation epochs for every finished run
                elif record.state == "diverged":
                    n_diverged += 1
                    for ax, values in ((ax_loss, record.test_loss), (ax_acc, record.test_acc)):
                        xs = [e for e, v in zip(record.epochs, values) if math.isfinite(v)]
                        ys = [v for v in values if math.isfinite(v)]
                        if xs:
                            ax.plot(xs, ys, ":", color=colour, lw=0.8)
                            ax.plot(xs[-1:], ys[-1:], "x", color=colour)
            label = cell.caption() + (f" [{n_diverged} diverged]" if n_diverged else "")
            if not curves_loss:
                if n_diverged:
                    ax_loss.plot([], [], ":", color=colour, label=label)
                continue
            width_kw = {"lw": 2.6 if cell.original else 1.3, "zorder": 3 if cell.original else 2,
                        "linestyle": styles[same_width % len(styles)]}
            # interval bands clipped to what the quantity allows: no loss below 0, accuracy within [0, 100] %
            for ax, curves, (floor, ceiling) in ((ax_loss, curves_loss, (0.0, np.inf)),
                                                 (ax_acc, curves_acc, (0.0, 100.0))):
                data = np.asarray(curves, dtype=float)
                mean = data.mean(axis=0)
                ax.plot(x, mean, color=colour, label=label if ax is ax_loss else None, **width_kw)
                if data.shape[0] >= 2:
                    half = t_half_width(data, axis=0, level=0.95)
                    ax.fill_between(x, np.clip(mean - half, floor, ceiling), np.clip(mean + half, floor, ceiling),
                                    color=colour, alpha=0.18, lw=0)
        ax_loss.set(xlabel="epoch", ylabel="test loss", title=f"test loss, lr {lr_key(lr)}")
        ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title=f"test accuracy, lr {lr_key(lr)}")
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax_loss.legend(fontsize=7, ncol=2 if len(cells) > 7 else 1)
        if by_width:
            mappable = cm.ScalarMappable(norm=norm, cmap=cmap)
            fig.colorbar(mappable, ax=[ax_loss, ax_acc], label="cell width (units of c)", shrink=0.9)
        fig.suptitle(f"{cells[0].label} and its random variants: mean over {seeds} seed(s), shaded 95% interval",
                     fontsize=10)
        atomic_save(Path(path), lambda handle: fig.savefig(handle, format="png", dpi=120,
                                                           metadata={"Software": "cellnas-edu"}))
    return Path(path)


def figure_path(out_dir: Path, lr: float) -> Path:
    return Path(out_dir) / "figures" / f"test_curves_lr{lr_key(lr)}.png"
