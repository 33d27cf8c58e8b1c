"""Figure 1-style drawings: files, formats, determinism, captions (Figures 1, 2, 25)."""

import pytest

from cellnas_edu.cells.drawing import caption_of, cell_arrows, draw_cells, draw_family, draw_genotype, node_positions
from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.cells.variants import variant_family

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_png_and_svg_by_extension(tmp_path):
    darts = get_genotype("DARTS_V2")
    png = draw_genotype(darts, tmp_path / "darts.png")
    svg = draw_genotype(darts, tmp_path / "sub" / "darts.svg")
    assert png.read_bytes().startswith(PNG_MAGIC)
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "DARTS, 3.5c, 3" in text  # Figure 1(d)'s caption, as searchable text
    assert "dil_conv_3x3" in text  # operation labels
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]  # atomic: no temporaries left


def test_svg_is_deterministic(tmp_path):
    amoeba = get_genotype("AmoebaNet")
    first = draw_genotype(amoeba, tmp_path / "a.svg").read_bytes()
    second = draw_genotype(amoeba, tmp_path / "b.svg").read_bytes()
    assert first == second
    assert b"<dc:date>" not in first


def test_family_grid_has_every_caption(tmp_path):
    """Figure 2 style: the original first, then C1..CK with their widths and depths."""
    darts = get_genotype("DARTS_V2")
    family = variant_family(darts, count=4, seed=0)
    text = draw_family(darts.normal, family, tmp_path / "family.svg", name="DARTS").read_text(encoding="utf-8")
    assert "DARTS, 3.5c, 3" in text
    for v in family:
        assert v.caption() in text
    assert text.index("DARTS, 3.5c, 3") < text.index(family[0].caption())


def test_adapted_amoebanet_draws_dead_nodes_grey(tmp_path):
    """Figure 25(b): nodes 2 and 3 of the adapted AmoebaNet cell are dead and drawn dashed in grey."""
    cell = get_genotype("AmoebaNet_ADAPT").normal
    assert caption_of(cell, "AmoebaNet") == "AmoebaNet, 3c, 2"
    arrows = cell_arrows(cell, node_positions(cell))
    assert {a.dst for a in arrows if a.dead} == {2, 3}
    text = draw_cells([(cell, "AmoebaNet, 3c, 2")], tmp_path / "x.svg").read_text(encoding="utf-8")
    assert "#9a9a9a" in text and "AmoebaNet, 3c, 2" in text


def test_layout_columns_follow_depth():
    """Intermediate nodes sit in the column of their depth; the output is right of every node."""
    cell = get_genotype("DARTS_V2").normal
    pos = node_positions(cell)
    assert pos[0][0] == pos[1][0] < pos[2][0] == pos[3][0] == pos[4][0] < pos[5][0] < pos["output"][0]
    assert len(cell_arrows(cell, pos)) == 8 + len(cell.concat)


def test_bad_extension(tmp_path):
    with pytest.raises(ValueError, match="use .png or .svg"):
        draw_genotype(get_genotype("DARTS_V2"), tmp_path / "x.pdf")
    with pytest.raises(ValueError, match="nothing to draw"):
        draw_cells([], tmp_path / "x.png")
