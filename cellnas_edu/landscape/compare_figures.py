r"""Figures 6, 7 and 8 for a family of runs, sized for the book's page (Section 4.2, Appendix B.3/B.4).

One panel per run, widest cell first, at most
[`MAX_COLUMNS`][cellnas_edu.landscape.compare_figures.MAX_COLUMNS] panels a row
(the paper's Figures 17-24 show one run a panel in the same way), sharing
contour levels, colour scales and the z range so that the panels compare.
Every text is given the pixel size it should have on the page
([`cellnas_edu.page.points_for`][cellnas_edu.page.points_for] at the figure's
width and dpi), so that the figure stays readable in the site's 688-px column
however many runs it shows: at least
[`MIN_TEXT_PX`][cellnas_edu.page.MIN_TEXT_PX]. Each builder returns an unsaved
`matplotlib.figure.Figure`."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..page import points_for
from .plots import contour_levels, gradvar_std, plot_contours, plot_gradvar_heatmap, plot_gradvar_surface
from .store import LandscapeData

DPI = 120
"""The dpi the figures are saved at (the default of `save_figure` in [`plots`][cellnas_edu.landscape.plots])."""
MAX_COLUMNS = 3
"""Panels a row: three 3.2-inch panels fill the page's column with 10-px tick labels."""
PANEL_IN = 3.2
"""Width of one flat panel (contours, heat map), inches; a 3-D panel is 3.4."""
TEXT_PX, TITLE_PX, SUPTITLE_PX, CLABEL_PX = 10.0, 11.0, 12.0, 9.5
"""Pixel sizes on the page of tick and axis labels, of panel titles, of the figure title and of the contour
level labels."""
LABEL_EVERY = 5
"""Every fifth contour level carries its loss (four labels of the 20 levels: at 9.5 px more would crowd a panel)."""


def _grid(n: int, panel_in: float, height_in: float) -> tuple[Figure, int, int]:
    ncols = min(n, MAX_COLUMNS)
    nrows = math.ceil(n / ncols)
    return Figure(figsize=(panel_in * ncols, height_in * nrows), layout="constrained"), nrows, ncols


def _pt(fig: Figure, px: float, dpi: float = DPI) -> float:
    return points_for(px, fig.get_figwidth(), dpi)


def _style(ax, fig: Figure, title: str, three_d: bool = False) -> None:
    """Tick labels, axis labels and the title at their page sizes."""
    text = _pt(fig, TEXT_PX)
    ax.tick_params(axis="both", labelsize=text)
    ax.xaxis.label.set_size(text)
    ax.yaxis.label.set_size(text)
    if three_d:
        from matplotlib.ticker import MaxNLocator

        ax.tick_params(axis="z", labelsize=text)
        ax.zaxis.label.set_size(text)
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.set_major_locator(MaxNLocator(4))
    ax.set_title(title, fontsize=_pt(fig, TITLE_PX))


def _colorbar(fig: Figure, mappable, axes, label: str, **kwargs) -> None:
    bar = fig.colorbar(mappable, ax=axes, shrink=0.8, **kwargs)
    bar.set_label(label, size=_pt(fig, TEXT_PX))
    bar.ax.tick_params(labelsize=_pt(fig, TEXT_PX))
    bar.ax.yaxis.get_offset_text().set_fontsize(_pt(fig, TEXT_PX))


def panel_titles(table: dict) -> list[str]:
    """``"DARTS (3.5c, 3)"``: the run's name, its normal cell's width and depth (Section 3.2)."""
    return [f"{r['label']} ({r['width']:g}c, {r['depth']})" for r in table["runs"]]


def contours_figure(table: dict, datas: list[LandscapeData]) -> Figure:
    """Figure 6: the loss contours of every run on shared levels, with one colour bar."""
    titles = panel_titles(table)
    fig, nrows, ncols = _grid(len(datas), PANEL_IN, 3.4)
    levels = contour_levels(np.concatenate([d.loss.ravel() for d in datas]), min(d.center_loss for d in datas))
    axes = [fig.add_subplot(nrows, ncols, k + 1) for k in range(len(datas))]
    for ax, data, title in zip(axes, datas, titles):
        contours = plot_contours(ax, data, levels=levels, label_every=LABEL_EVERY, label_size=_pt(fig, CLABEL_PX))
        _style(ax, fig, title)
    _colorbar(fig, contours, axes, "test loss (shared levels)")
    fig.suptitle("Loss contours, widest cell first (Figure 6)", fontsize=_pt(fig, SUPTITLE_PX))
    return fig


def gradvar_range(datas: list[LandscapeData]) -> tuple[float, float, bool, float, float]:
    """``(vmin, vmax, log_colours, zlow, zhigh)`` shared by the panels of Figures 7 and 8.

    The colour scale runs from the smallest $\\sqrt{g}$ to its 95th percentile, logarithmic when that is over
    100 times the minimum (the basin, which the table compares, would otherwise be one flat colour); the z range
    of Figure 8 is the $\\log_{10}$ range of the positive values."""
    stds = np.concatenate([gradvar_std(d).ravel() for d in datas])
    stds = stds[np.isfinite(stds)]
    vmin, vmax = float(stds.min()), float(np.percentile(stds, 95))
    positive = stds[stds > 0]
    log_colours = vmin > 0 and vmax / vmin > 100
    zlow, zhigh = (float(np.log10(positive.min())), float(np.log10(positive.max()))) if positive.size else (0, 1)
    if not zhigh > zlow:
        zhigh = zlow + 1.0
    return vmin, vmax, log_colours, zlow, zhigh


def gradvar_heatmaps_figure(table: dict, datas: list[LandscapeData]) -> Figure:
    """Figure 7: heat maps of $\\sqrt{g(\\alpha, \\beta)}$ on one colour scale."""
    vmin, vmax, log_colours, _, _ = gradvar_range(datas)
    fig, nrows, ncols = _grid(len(datas), PANEL_IN, 3.4)
    axes = [fig.add_subplot(nrows, ncols, k + 1) for k in range(len(datas))]
    for ax, data, title in zip(axes, datas, panel_titles(table)):
        image = plot_gradvar_heatmap(ax, data, vmin=vmin, vmax=vmax, log=log_colours)
        _style(ax, fig, title)
    _colorbar(fig, image, axes, r"$\sqrt{g}$ (" + ("log scale, " if log_colours else "")
              + "clipped at the 95th percentile)", extend="max")
    fig.suptitle(r"$\sqrt{g(\alpha,\beta)}$, shared colour scale (Figure 7)", fontsize=_pt(fig, SUPTITLE_PX))
    return fig


def gradvar_surfaces_figure(table: dict, datas: list[LandscapeData]) -> Figure:
    """Figure 8: $\\log_{10}\\sqrt{g}$ as 3-D surfaces on one z range (the values near the optimum, which the
    table compares, stay visible next to the corners')."""
    _, _, _, zlow, zhigh = gradvar_range(datas)
    fig, nrows, ncols = _grid(len(datas), 3.4, 3.6)
    for k, (data, title) in enumerate(zip(datas, panel_titles(table))):
        ax = fig.add_subplot(nrows, ncols, k + 1, projection="3d")
        plot_gradvar_surface(ax, data, log=True)
        ax.set_zlim(zlow, zhigh)
        _style(ax, fig, title, three_d=True)
        if (k + 1) % ncols and k + 1 < len(datas):
            ax.set_zlabel("")  # the z label would run into the next panel: the row's last panel carries it
    fig.suptitle(r"$\log_{10}\sqrt{g(\alpha,\beta)}$, shared z range (Figure 8)", fontsize=_pt(fig, SUPTITLE_PX))
    return fig
