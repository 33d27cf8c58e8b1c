r"""Figures 6, 7 and 8 for one run, and 1-D slices.

* [`plot_contours`][cellnas_edu.landscape.plots.plot_contours] -- Figure 6: contour lines of $s(\alpha, \beta)$;
  lighter lines are larger losses, dense lines a steep surface. Levels run
  from the minimum up to `minimum + level_range` (default: up to the
  larger of the centre loss's tenfold and the 75th percentile), so that, as
  in the paper, the corners with "extremely large" loss stay blank.
* [`plot_gradvar_heatmap`][cellnas_edu.landscape.plots.plot_gradvar_heatmap] -- Figure 7: heat map of the standard
  deviation $\sqrt{g(\alpha, \beta)}$ ("to avoid extremely large
  values"); lighter is larger. The colour scale stops at `vmax` (default
  the 95th percentile) so the region around the optimum is visible.
* [`plot_gradvar_surface`][cellnas_edu.landscape.plots.plot_gradvar_surface] -- Figure 8: the same as a 3-D surface.
* [`plot_slices`][cellnas_edu.landscape.plots.plot_slices] -- $s(\alpha, 0)$ and $s(0, \beta)$.

All figures are drawn with `matplotlib.figure.Figure` (no global
pyplot state, no display needed) and written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..io import atomic_save
from .gradvar import GRADVAR_STATS
from .store import LandscapeData


def save_figure(fig: Figure, path: Path, dpi: int = 120) -> Path:
    atomic_save(Path(path), lambda handle: fig.savefig(handle, format="png", dpi=dpi, bbox_inches="tight"))
    return Path(path)


def contour_levels(loss: np.ndarray, center: float, count: int = 20) -> np.ndarray:
    """Contour levels from the minimum finite loss to a cap that leaves the extreme corners blank.

    Evenly spaced, unless the levels span more than two decades (a surface that blows up away from the
    trained weights, as small CPU networks do at span 1): then geometrically spaced, so that the basin
    around the optimum, which the comparison is about, gets most of the lines.
    """
    finite = loss[np.isfinite(loss)]
    if finite.size == 0:
        return np.linspace(0.0, 1.0, count)
    low = float(finite.min())
    high = float(min(finite.max(), max(10 * max(center, 1e-12), np.percentile(finite, 75))))
    if not high > low:
        high = low + max(abs(low), 1.0) * 1e-3
    if low > 0 and high / low > 100:
        return np.geomspace(low, high, count)
    return np.linspace(low, high, count)


def plot_contours(ax, data: LandscapeData, levels: np.ndarray | None = None, title: str | None = None,
                  label_every: int = 4, label_size: float = 6):
    """Figure 6: contours of the loss surface on `ax`; every `label_every`-th level is labelled with its
    loss (0: no labels) in `label_size`-point type."""
    loss = np.where(data.loss_done, data.loss, np.nan)
    levels = contour_levels(loss, data.center_loss) if levels is None else levels
    A, B = np.meshgrid(data.alpha, data.beta, indexing="ij")
    cs = ax.contour(A, B, np.ma.masked_invalid(loss), levels=levels, cmap="viridis")
    if label_every and len(cs.levels):
        ax.clabel(cs, cs.levels[::label_every], inline=True, fontsize=label_size, fmt="%.3g")
    ax.plot([0], [0], marker="*", color="red", markersize=8)
    ax.set_xlabel(r"$\alpha$")
    ax.set_ylabel(r"$\beta$")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=9)
    return cs




def gradvar_scale(data: LandscapeData, stat: str = "trace") -> float:
    """The divisor of `g` for `stat`: 1 for the trace, `P` (parameters the loss depends on) per parameter."""
    if stat not in GRADVAR_STATS:
        raise ValueError(f"gradient-variance statistic must be one of {', '.join(GRADVAR_STATS)}, got {stat!r}")
    if stat == "trace":
        return 1.0
    count = data.info.get("grad_var_num_parameters")
    if not count:
        raise ValueError("this landscape file does not record the parameter count; recompute it with --gradvar")
    return float(count)


def gradvar_label(stat: str = "trace") -> str:
    return r"$\sqrt{g}$" if stat == "trace" else r"$\sqrt{g/P}$"


def gradvar_std(data: LandscapeData, stat: str = "trace") -> np.ndarray:
    """$\\sqrt{g}$ (`stat='trace'`) or $\\sqrt{g/P}$ (`'per-parameter'`) where computed, NaN
    elsewhere."""
    scale = gradvar_scale(data, stat)
    with np.errstate(invalid="ignore"):
        return np.where(data.grad_var_done, np.sqrt(np.maximum(data.grad_var, 0.0) / scale), np.nan)


def plot_gradvar_heatmap(ax, data: LandscapeData, vmin: float | None = None, vmax: float | None = None,
                         title: str | None = None, stat: str = "trace", log: bool = False):
    """Figure 7: heat map of $\\sqrt{g(\\alpha, \\beta)}$ (or $\\sqrt{g/P}$) on `ax`; `log` uses a logarithmic
    colour scale (for surfaces whose corners are orders of magnitude above the basin)."""
    from matplotlib.colors import LogNorm, Normalize

    std = gradvar_std(data, stat)
    finite = std[np.isfinite(std)]
    if vmax is None and finite.size:
        vmax = float(np.percentile(finite, 95))
    if vmin is None and finite.size:
        vmin = float(finite.min())
    norm = LogNorm(vmin=vmin, vmax=vmax) if log and vmin and vmin > 0 else Normalize(vmin=vmin, vmax=vmax)
    extent = (data.alpha[0], data.alpha[-1], data.beta[0], data.beta[-1])
    image = ax.imshow(std.T, origin="lower", extent=extent, cmap="viridis", norm=norm,
                      interpolation="bilinear", aspect="equal")
    ax.set_xlabel(r"$\alpha$")
    ax.set_ylabel(r"$\beta$")
    if title:
        ax.set_title(title, fontsize=9)
    return image


def plot_gradvar_surface(ax3d, data: LandscapeData, zmax: float | None = None, title: str | None = None,
                         stat: str = "trace", log: bool = False):
    """Figure 8: $\\sqrt{g(\\alpha, \\beta)}$ (or $\\sqrt{g/P}$) as a 3-D surface on a 3-D axis.

    `zmax` clips the surface; `log=True` plots $\\log_{10}$ of the values instead, so the small
    values near the optimum (the ones the comparison table reports) stay distinguishable next to the large
    ones at the corners."""
    std = gradvar_std(data, stat)
    if zmax is not None:
        std = np.minimum(std, zmax)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            std = np.log10(np.where(std > 0, std, np.nan))
    A, B = np.meshgrid(data.alpha, data.beta, indexing="ij")
    surface = ax3d.plot_surface(A, B, std, cmap="viridis", linewidth=0, antialiased=True)
    ax3d.set_xlabel(r"$\alpha$")
    ax3d.set_ylabel(r"$\beta$")
    ax3d.set_zlabel(r"$\log_{10}$ " + gradvar_label(stat) if log else gradvar_label(stat))
    if title:
        ax3d.set_title(title, fontsize=9)
    return surface


def plot_loss_surface(ax3d, data: LandscapeData, title: str | None = None):
    """$s(\\alpha, \\beta)$ as a 3-D surface (clipped at the contour cap)."""
    loss = np.where(data.loss_done, data.loss, np.nan)
    cap = contour_levels(loss, data.center_loss)[-1]
    A, B = np.meshgrid(data.alpha, data.beta, indexing="ij")
    surface = ax3d.plot_surface(A, B, np.minimum(loss, cap), cmap="viridis", linewidth=0, antialiased=True)
    ax3d.set_xlabel(r"$\alpha$")
    ax3d.set_ylabel(r"$\beta$")
    ax3d.set_zlabel("loss")
    if title:
        ax3d.set_title(title, fontsize=9)
    return surface


def plot_slices(ax, data: LandscapeData, title: str | None = None):
    """The 1-D slices $s(\\alpha, 0)$ and $s(0, \\beta)$ through the optimum."""
    i0, j0 = data.center
    ax.plot(data.alpha, np.where(data.loss_done[:, j0], data.loss[:, j0], np.nan), label=r"$s(\alpha, 0)$")
    ax.plot(data.beta, np.where(data.loss_done[i0, :], data.loss[i0, :], np.nan), label=r"$s(0, \beta)$")
    ax.set_xlabel("step along the direction")
    ax.set_ylabel("test loss")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)


def _label(data: LandscapeData) -> str:
    name = data.info.get("genotype_name") or data.info.get("arch") or "run"
    width, depth = data.info.get("normal_width"), data.info.get("normal_depth")
    if width is None:
        return str(name)
    return f"{name} ({width:g}c, {depth})"


def write_landscape_plots(data: LandscapeData, out_dir: Path, gradvar_stat: str = "trace") -> list[Path]:
    """`landscape_contour.png` (Fig. 6), `landscape_slices.png`, `landscape_loss3d.png` and, with the
    gradient variance, `landscape_gradvar_heatmap.png` (Fig. 7) and `landscape_gradvar3d.png` (Fig. 8)."""
    out_dir = Path(out_dir)
    label = _label(data)
    written = []

    fig = Figure(figsize=(4.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    cs = plot_contours(ax, data, title=f"{label}: loss contours (Figure 6)")
    fig.colorbar(cs, ax=ax, shrink=0.8, label="test loss")
    written.append(save_figure(fig, out_dir / "landscape_contour.png"))

    fig = Figure(figsize=(4.5, 3.4), layout="constrained")
    plot_slices(fig.add_subplot(), data, title=f"{label}: 1-D slices")
    written.append(save_figure(fig, out_dir / "landscape_slices.png"))

    fig = Figure(figsize=(5, 4.2), layout="constrained")
    plot_loss_surface(fig.add_subplot(projection="3d"), data, title=f"{label}: loss surface")
    written.append(save_figure(fig, out_dir / "landscape_loss3d.png"))

    if data.grad_var_done.any():
        fig = Figure(figsize=(4.5, 4.2), layout="constrained")
        ax = fig.add_subplot()
        image = plot_gradvar_heatmap(ax, data, title=f"{label}: {gradvar_label(gradvar_stat)} (Figure 7)",
                                     stat=gradvar_stat)
        fig.colorbar(image, ax=ax, shrink=0.8, label=gradvar_label(gradvar_stat))
        written.append(save_figure(fig, out_dir / "landscape_gradvar_heatmap.png"))

        fig = Figure(figsize=(5, 4.2), layout="constrained")
        plot_gradvar_surface(fig.add_subplot(projection="3d"), data, stat=gradvar_stat,
                             title=f"{label}: {gradvar_label(gradvar_stat)} (Figure 8)")
        written.append(save_figure(fig, out_dir / "landscape_gradvar3d.png"))
    return written
