"""The figures hook (scripts/mkdocs_figures_hook.py): book-wide "Figure N." captions and click-to-zoom links."""

from __future__ import annotations

import re
from pathlib import Path

from script_loader import load_script

ROOT = Path(__file__).resolve().parents[1]
hook = load_script("scripts/mkdocs_figures_hook.py")


def test_numbers_follow_book_order_and_repeats_keep_their_number():
    pages = ["![a](figures/one.png)\n", "![b](figures/two.png)\n\n![a again](figures/one.png)\n"]
    assert hook.number_figures(pages) == {"one.png": 1, "two.png": 2}


def test_captions_get_the_number_and_the_paper_figure_and_images_link_to_themselves():
    page = "Text\n\n![cells](figures/figure1_cells.png)\n\n*The cells, drawn.*\n\n![x](figures/other.png)\n\nMore\n"
    out = hook.rewrite(page, {"figure1_cells.png": 1, "other.png": 2})
    assert "[![cells](figures/figure1_cells.png)](figures/figure1_cells.png)" in out
    assert "*" + "**Figure 1.** (paper: Figure 1) The cells, drawn.*" in out
    assert "**Figure 2.** Click the figure to open it full size." in out
    assert "```\n![c](figures/x.png)\n```" in hook.rewrite("```\n![c](figures/x.png)\n```\n", {})


def test_every_figure_the_site_shows_says_which_paper_figure_it_reproduces():
    shown = {m for page in (ROOT / "docs").glob("*.md")
             for m in re.findall(r"^!\[[^\]]*\]\(figures/([^)\s]+)\)", page.read_text(encoding="utf-8"), re.M)}
    assert shown and shown <= set(hook.PAPER_FIGURE), sorted(shown - set(hook.PAPER_FIGURE))
