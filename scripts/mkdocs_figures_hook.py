"""mkdocs hook: number the book's figures and make each one open full size on a click.

Every image ``![alt](figures/NAME.png)`` on a page gets a caption that starts
with **Figure N.** and says which figure of the paper it reproduces
(:data:`PAPER_FIGURE`). N runs in book order (the nav: chapters first, then
the other pages); an image shown again on another page (the home page, the
figure gallery) keeps the number of its first appearance. The caption is the
italic paragraph right under the image when there is one; otherwise one is
added. Each image is wrapped in a link to itself, so a click opens it at full
resolution (click-to-zoom for the wide panel grids).

The pages stay plain Markdown; numbering happens at build time only, so a
figure added to any chapter is numbered without renumbering by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

#: docs/figures/<file> -> what of the paper it reproduces (said in its caption)
PAPER_FIGURE: dict[str, str] = {
    "figure1_cells.png": "paper: Figure 1",
    "figure25_cells.png": "paper: Figure 25",
    "space_histograms.png": "paper: Appendix A.2, Observation 3.1",
    "table2_darts_seed0.png": "paper: Table 2 and Figure 2, resampled",
    "table2_amoebanet_seed0.png": "paper: Table 2 and Figure 10, resampled",
    "figure3_test_curves.png": "paper: Figure 3, CPU analogue",
    "section4_curves.png": "paper: Figures 3 and 4, CPU study",
    "section4_auc_vs_width.png": "paper: Section 4.1, Figures 3 and 4, CPU study",
    "section4_followup_auc_vs_width.png": "paper: Section 4.1, Figure 3, CPU follow-up at lr 0.025",
    "section4_operations.png": "paper: Figure 5, CPU study",
    "section4_landscape.png": "paper: Section 4.2, Figures 6-8, CPU study",
    "figure5_operation_variants.png": "paper: Figure 5, CPU analogue",
    "figure6_contours.png": "paper: Figure 6, CPU analogue",
    "figure7_gradvar_heatmaps.png": "paper: Figure 7, CPU analogue",
    "figure8_gradvar3d.png": "paper: Figure 8, CPU analogue",
    "theory_bounds.png": "paper: Theorems 4.2 and 4.3, Figure 26",
    "linear_cells_sgd.png": "paper: Theorem 4.1 and Section 4.3, linear cells of Figure 26",
    "linear_cells_sgd_curves_quadratic.png": "paper: Theorem 4.1 and Section 4.3, linear cells of Figure 26",
    "linear_cells_sgd_curves_cross_entropy.png": "paper: Theorem 4.1 and Section 4.3, linear cells of Figure 26",
    "search_darts_seeds.png": "paper: Observation 3.1 and Table 2, for a DARTS search run on the CPU",
    "nb201_cells.png": "paper: Figure 1 and Section 3.2, on NAS-Bench-201 cells",
    "nb201_accuracy_width_depth.png": "paper: Section 5 and Figure 9, at paper scale on NAS-Bench-201",
    "nb201_search_cells.png": "paper: Observation 3.1 (Section 3), our own DARTS search on NAS-Bench-201",
    "nb201_search_margins.png": "paper: Observation 3.1 and Section 4's argument, how decisive the search was",
    "nb201_search_worth.png": "paper: Section 5, the found cells' accuracy at 200 epochs on NAS-Bench-201",
    "nb201_width_within_convolutions.png": "paper: Section 5, the convolution confound on NAS-Bench-201",
    "search_early_selection.png": "paper: Sections 4.1 and 6, the explanation tested by early evaluation",
}

IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>figures/(?P<name>[^)\s]+))\)(?P<attrs>\{[^}]*\})?\s*$")

#: figure file -> its number, built from the nav in book order (on_nav)
NUMBERS: dict[str, int] = {}


def number_figures(pages: list[str]) -> dict[str, int]:
    """``{figure file: N}`` for the Markdown of ``pages`` in book order (first appearance wins)."""
    numbers: dict[str, int] = {}
    for markdown in pages:
        for line in markdown.splitlines():
            match = IMAGE.match(line)
            if match and match["name"] not in numbers:
                numbers[match["name"]] = len(numbers) + 1
    return numbers


def _label(name: str, numbers: dict[str, int]) -> str:
    paper = PAPER_FIGURE.get(name)
    number = numbers.get(name)
    head = f"Figure {number}." if number else "Figure."
    return f"**{head}**" + (f" ({paper})" if paper else "")


def rewrite(markdown: str, numbers: dict[str, int]) -> str:
    """Number the captions and link each figure to its full-size file (outside fenced code only)."""
    lines = markdown.splitlines()
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else IMAGE.match(line)
        if match is None:
            out.append(line)
            i += 1
            continue
        attrs = match["attrs"] or ""
        out.append(f"[![{match['alt']}]({match['src']}){attrs}]({match['src']})")
        label = _label(match["name"], numbers)
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        caption = lines[j] if j < len(lines) else ""
        if caption.startswith("*") and not caption.startswith("**"):
            out.extend(lines[i + 1:j])
            out.append(f"*{label} {caption[1:]}")
            i = j + 1
        else:
            out.extend(["", f"*{label} Click the figure to open it full size.*"])
            i += 1
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")


def on_nav(nav, config, files):  # noqa: ARG001 - mkdocs hook signature
    sources = []
    for page in nav.pages:
        path = Path(page.file.abs_src_path or "")
        if path.suffix == ".md" and path.is_file():
            sources.append(path.read_text(encoding="utf-8"))
    NUMBERS.clear()
    NUMBERS.update(number_figures(sources))
    return nav


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - mkdocs hook signature
    return rewrite(markdown, NUMBERS)
