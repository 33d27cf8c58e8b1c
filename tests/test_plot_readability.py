"""Readable figures: contour level labels (Fig. 6), a log scale for Fig. 8, colour bars on the
comparison figures (Figs. 6, 7), interval bands clipped to what a loss or an accuracy allows."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from cellnas_edu.landscape.plots import plot_contours, plot_gradvar_surface
from cellnas_edu.landscape.store import LandscapeData


def _bowl(scale: float = 1.0) -> LandscapeData:
    data = LandscapeData.empty({"steps": 9, "span": 1.0}, np.arange(4))
    A, B = np.meshgrid(data.alpha, data.beta, indexing="ij")
    data.loss = scale * (0.1 + A ** 2 + 2 * B ** 2)
    data.loss_done[:] = True
    data.grad_var = scale * (1e-3 + 100 * (A ** 2 + B ** 2) ** 2)
    data.grad_var_done[:] = True
    return data


def test_contours_carry_level_labels_and_can_go_without():
    fig = Figure()
    ax = fig.add_subplot()
    plot_contours(ax, _bowl())
    assert len(ax.texts) > 0
    bare = fig.add_subplot(2, 1, 2)
    plot_contours(bare, _bowl(), label_every=0)
    assert len(bare.texts) == 0


def test_gradvar_surface_on_a_log_scale_keeps_the_small_values_near_the_optimum_apart():
    fig = Figure()
    ax = fig.add_subplot(projection="3d")
    plot_gradvar_surface(ax, _bowl(), log=True)
    assert "log" in ax.get_zlabel()
    std = np.sqrt(_bowl().grad_var)
    z = np.log10(std)
    assert z.min() < -1 < 1 < z.max()  # three decades: a linear axis would flatten the centre


def test_comparison_figures_have_colour_bars(tmp_path):
    from cellnas_edu.landscape.compare import write_comparison_figures

    datas = [_bowl(), _bowl(2.0)]
    table = {"runs": [{"label": "A", "width": 3.5, "depth": 3}, {"label": "B", "width": 2.0, "depth": 5}]}
    written = write_comparison_figures(table, datas, tmp_path)
    assert [p.name for p in written] == ["compare_contours.png", "compare_gradvar_heatmaps.png",
                                         "compare_gradvar3d.png"]


def test_interval_bands_are_clipped_to_the_range_of_the_quantity(tmp_path, monkeypatch):
    """Two seeds far apart give a 95% t-interval wider than the mean: the band must stop at 0 (loss) and at
    0 and 100 (accuracy)."""
    from types import SimpleNamespace

    from cellnas_edu.convergence import plots

    records = {0: ([0.1, 0.05], [1.0, 99.0]), 1: ([3.0, 2.0], [99.0, 1.0])}

    def run_folder(path):
        loss, acc = records[int(str(path)[-1])]
        record = SimpleNamespace(state="finished", test_loss=loss, test_acc=acc, epochs=[1, 2])
        return SimpleNamespace(record=lambda epochs: record)

    monkeypatch.setattr(plots, "RunFolder", run_folder)
    monkeypatch.setattr(plots, "run_dir", lambda out, lr, label, seed: f"{out}/{label}/{seed}")
    bands = []
    original = plots.__dict__.get("np").clip

    def spy(values, low, high):
        out = original(values, low, high)
        bands.append((low, high, out))
        return out

    monkeypatch.setattr(plots.np, "clip", spy)
    cell = SimpleNamespace(width=3.5, label="DARTS", original=True, caption=lambda: "DARTS, 3.5c, 3")
    plots.plot_curves(tmp_path, 0.025, [cell], seeds=2, epochs=2, path=tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert bands and all(np.all(out >= low) and np.all(out <= high) for low, high, out in bands)
    assert any(high == 100.0 for _, high, _ in bands) and any(np.isinf(high) for _, high, _ in bands)


def test_contour_levels_are_geometric_when_the_surface_blows_up():
    """Figure 6 of a small CPU network spans 1 to ~10^4: evenly spaced levels would leave the basin blank."""
    from cellnas_edu.landscape.plots import contour_levels

    loss = np.array([1.0, 2.0, 50.0, 1e4, 1e4, 1e4])
    levels = contour_levels(loss, center=1.0)
    assert levels[0] == 1.0 and levels[-1] == pytest.approx(1e4)
    ratios = levels[1:] / levels[:-1]
    assert np.allclose(ratios, ratios[0])  # geometric
    assert np.sum(levels < 10) >= 4  # the basin gets lines
    gentle = contour_levels(np.array([1.0, 1.5, 2.0, 3.0]), center=1.0)
    assert np.allclose(np.diff(gentle), np.diff(gentle)[0])  # a gentle surface keeps even spacing


def test_gradvar_heatmap_log_scale_separates_the_basin():
    """Figure 7 with a logarithmic colour scale: values 10 and 1000 get clearly different colours."""
    from matplotlib.colors import LogNorm

    from cellnas_edu.landscape.plots import plot_gradvar_heatmap

    data = _bowl()
    fig = Figure()
    image = plot_gradvar_heatmap(fig.add_subplot(), data, vmin=1.0, vmax=1e4, log=True)
    assert isinstance(image.norm, LogNorm)
    assert image.norm(10.0) == pytest.approx(0.25) and image.norm(1000.0) == pytest.approx(0.75)
    linear = plot_gradvar_heatmap(fig.add_subplot(), data, vmin=1.0, vmax=1e4)
    assert not isinstance(linear.norm, LogNorm)
