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


# --- text size on the book's page (cellnas_edu.page) ----------------------------------------------------------

def test_page_scale_is_the_smaller_of_the_dpi_and_the_page_width():
    """A 10-inch figure at 110 dpi (1100 px) is shrunk to the 688-px column: 10 pt -> 9.6 px; a 4-inch one
    (440 px) is shown at its own size: 10 pt -> 15.3 px."""
    from cellnas_edu.page import CONTENT_PX, page_scale, points_for

    assert CONTENT_PX == 688
    assert 10 * page_scale(10, 110) == pytest.approx(688 / 72, rel=1e-9)
    assert 10 * page_scale(4, 110) == pytest.approx(1100 / 72, rel=1e-9)
    assert points_for(9, 10, 110) * page_scale(10, 110) == pytest.approx(9)


def test_text_sizes_count_what_is_drawn_and_catch_a_crowded_grid():
    """The old 16-panel grid of Chapter 6 (12 inches, 6-7 pt legends and titles) is caught; tick labels
    outside the view limits and hidden axes are not counted."""
    from cellnas_edu.page import text_sizes, too_small

    fig = Figure(figsize=(12, 9.6))
    axes = fig.subplots(4, 4)
    for ax in axes.flat:
        ax.plot([0, 1], [0, 1], label="wide (0 div.)")
        ax.legend(fontsize=6)
        ax.set_title("quadr gauss lr=0.01", fontsize=7)
    small = too_small(fig, 130)
    assert any("wide (0 div.)" in s for s in small) and any("quadr gauss" in s for s in small)
    assert any("'0.0'" in s for s in small)  # 10-pt tick labels: 10 * 688 / (72 * 12) = 8.0 px

    lone = Figure(figsize=(4, 3))
    ax, hidden = lone.subplots(1, 2)
    ax.set_xticks([0.1, 0.5, 0.9], ["left", "middle", "right"])
    ax.set_xlim(0.3, 0.7)  # the outer two ticks leave the view
    ax.set_yticks([])
    hidden.set_title("never shown", fontsize=3)
    hidden.set_visible(False)
    texts = [t for t, _ in text_sizes(lone, 100)]
    assert "middle" in texts and "left" not in texts and "right" not in texts
    assert "never shown" not in texts
    assert too_small(lone, 100) == []


def _book_figures():
    """(name, figure, dpi) of the small multiples the chapters show, built as the example scripts build them."""
    import matplotlib
    from script_loader import load_script

    from cellnas_edu.cells.adaptation import adapt
    from cellnas_edu.cells.drawing import _RC, caption_of, cells_figure
    from cellnas_edu.cells.genotypes import POPULAR, display_name, get_genotype
    from cellnas_edu.cells.variants import variant_family
    from cellnas_edu.results import load_summary

    genotypes = [get_genotype(name) for name in POPULAR]
    figure1 = [(g.normal, caption_of(g.normal, display_name(g))) for g in genotypes]
    figure25 = [(adapt(g).normal, caption_of(adapt(g).normal, display_name(g))) for g in genotypes]
    darts = get_genotype("DARTS_V2")
    family = [(darts.normal, caption_of(darts.normal, "DARTS"))]
    family += [(v.cell, v.caption()) for v in variant_family(darts, kind="connections", count=13, seed=0)]
    with matplotlib.rc_context(_RC):
        yield "Figure 1 cells (examples/figure1_cells.py)", cells_figure(figure1, 1, True, 150), 150
        yield "Figure 25 cells (examples/figure1_cells.py)", cells_figure(figure25, 2, True, 150), 150
        yield "Table 2 family (examples/table2_variants.py)", cells_figure(family, 2, False, 150), 150
    section4 = load_script("examples/section4_figures.py")
    yield "section4_landscape.png", section4.landscape_figure(load_summary("landscape_study")), 110
    yield "section4_curves.png", section4.curves_figure(load_summary("convergence_study")), 110
    search = load_script("examples/search_figures.py")
    yield "search_darts_seeds.png", search.darts_seeds_plot(load_summary("darts_search")), 110
    yield "search_early_selection.png", search.early_selection_plot(load_summary("early_selection")), 110
    from cellnas_edu.cells.space import connection_space

    spaces = {display_name(g): connection_space(g.normal) for g in genotypes}
    yield "space_histograms.png", load_script("examples/space_histograms.py").histograms_figure(spaces), 100
    theory = load_script("examples/theory_report.py")  # the quick instances: same figure code, fewer points
    yield "theory_bounds.png", theory.bounds_figure(theory.run_theorem_4_2(seed=0, quick=True, keep_records=True),
                                                    theory.run_theorem_4_3(seed=0, quick=True, keep_records=True)), 120
    from cellnas_edu.theory.sgd_figures import CURVE_FILES, curves_figure

    for objective, name in CURVE_FILES.items():
        yield name, curves_figure(load_summary("linear_cells_sgd"), objective), 130


def test_the_chapters_small_multiples_are_readable_at_the_page_width():
    """Every text of Figure 1's and Figure 25's cells (operation labels included), of a Table 2 family, of the
    connection-space heat maps, of the theorem-bound scatter, of the Section 4.2 scatter, of Chapter 3's loss
    curves, of both Chapter 8 figures and of the linear-cell curves is at least MIN_TEXT_PX
    (9 px) when the page shows the figure in its 688-px column."""
    import matplotlib.pyplot as plt

    from cellnas_edu.page import MIN_TEXT_PX, text_sizes, too_small

    checked = 0
    for name, fig, dpi in _book_figures():
        sizes = text_sizes(fig, dpi)
        assert len(sizes) > 10, f"{name}: only {len(sizes)} texts found"
        assert too_small(fig, dpi) == [], f"{name}: text under {MIN_TEXT_PX} px on the page"
        checked += 1
        plt.close("all")
    assert checked == 11


def test_cell_drawings_label_every_operation_at_a_readable_size():
    """Figure 1's DARTS cell: its 8 operation labels are drawn, at 9 px on the page (they were 4.5 px)."""
    import matplotlib

    from cellnas_edu.cells.drawing import _RC, EDGE_PX, caption_of, cells_figure
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.page import text_sizes

    darts = get_genotype("DARTS_V2").normal
    with matplotlib.rc_context(_RC):
        sizes = dict(text_sizes(cells_figure([(darts, caption_of(darts, "DARTS"))], 1, True, 150), 150))
    ops = [op for op, _ in darts.node_inputs(2) + darts.node_inputs(3) + darts.node_inputs(4) + darts.node_inputs(5)]
    assert set(ops) <= set(sizes)
    assert all(sizes[op] == pytest.approx(EDGE_PX) for op in ops)
    assert sizes["DARTS, 3.5c, 3"] > sizes["sep_conv_3x3"]


def test_section4_landscape_names_the_depth_of_every_colour():
    """Figure 8 (Section 4.2 scatter): a legend titled 'colour = cell depth' names every depth, and every
    point of a depth has that depth's legend colour."""
    from matplotlib.colors import to_hex
    from script_loader import load_script

    from cellnas_edu.results import load_summary

    summary = load_summary("landscape_study")
    fig = load_script("examples/section4_figures.py").landscape_figure(summary)
    assert len(fig.legends) == 1
    legend = fig.legends[0]
    assert legend.get_title().get_text() == "colour = cell depth"
    depths = sorted({r["depth"] for r in summary["records"]})
    assert [t.get_text() for t in legend.get_texts()] == [f"depth {d}" for d in depths]
    colours = [to_hex(h.get_facecolor()[0]) for h in legend.legend_handles]
    assert len(set(colours)) == len(depths)
    for ax in fig.axes:
        for depth, collection, colour in zip(depths, ax.collections, colours):
            assert collection.get_label() == f"depth {depth}"
            assert {to_hex(c) for c in collection.get_facecolor()} == {colour}
        assert sum(len(c.get_offsets()) for c in ax.collections) == len(summary["records"])


def test_a_grid_too_wide_for_the_page_keeps_its_node_numbers_inside_the_nodes():
    """`cellnas draw DARTS --variants 9 --columns 5`: text sized for the page would need 33-pt node numbers in
    25-pt circles; the drawing caps them at 80 % of a node's diameter instead (and is then small on the page)."""
    import matplotlib

    from cellnas_edu.cells.drawing import _RC, MAX_NODE_FONT_PT, NODE_PX, caption_of, cells_figure
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.cells.variants import variant_family
    from cellnas_edu.page import page_scale, text_sizes

    darts = get_genotype("DARTS_V2")
    panels = [(darts.normal, caption_of(darts.normal, "DARTS"))]
    panels += [(v.cell, v.caption()) for v in variant_family(darts, count=9, seed=0)]
    with matplotlib.rc_context(_RC):
        fig = cells_figure(panels, 5, False, 150)
    scale = page_scale(fig.get_figwidth(), 150)
    node_pt = max(px / scale for text, px in text_sizes(fig, 150) if text.isdigit())
    assert node_pt == pytest.approx(MAX_NODE_FONT_PT)
    assert NODE_PX / scale > 1.3 * MAX_NODE_FONT_PT  # uncapped, the numbers would not fit


@pytest.mark.parametrize("runs", [3, 5])
def test_the_landscape_comparison_figures_are_readable_at_the_page_width(runs):
    """Figures 6, 7 and 8 of a family (the book's three runs; the paper's five, on two rows): every text, the
    contour level labels included (they were 6 px), is at least MIN_TEXT_PX on the page."""
    from cellnas_edu.landscape.compare_figures import (
        DPI,
        MAX_COLUMNS,
        contours_figure,
        gradvar_heatmaps_figure,
        gradvar_surfaces_figure,
    )
    from cellnas_edu.page import MIN_TEXT_PX, text_sizes, too_small

    datas = [_bowl(1.0 + k) for k in range(runs)]
    table = {"runs": [{"label": f"C{k}", "width": 4.0 - 0.5 * k, "depth": 2 + k} for k in range(runs)]}
    for build in (contours_figure, gradvar_heatmaps_figure, gradvar_surfaces_figure):
        fig = build(table, datas)
        texts = [t for t, _ in text_sizes(fig, DPI)]
        assert all(f"C{k} ({4.0 - 0.5 * k:g}c, {2 + k})" in texts for k in range(runs)), build.__name__
        assert len(texts) > 6 * runs, f"{build.__name__}: only {len(texts)} texts"
        assert too_small(fig, DPI) == [], f"{build.__name__}: text under {MIN_TEXT_PX} px on the page"
        rows = {round(ax.get_position().y0, 3) for ax in fig.axes if ax.get_title()}
        assert len(rows) == -(-runs // MAX_COLUMNS), build.__name__
    labels = [t for t in contours_figure(table, datas).axes[0].texts if t.get_text()]
    assert len(labels) >= 2  # fewer, larger level labels, but still some
