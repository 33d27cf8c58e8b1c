"""How large a figure's text is on the book's page.

The site shows every figure at most as wide as its content column: 688 CSS
pixels in a 1280-pixel-wide browser window (mkdocs-material's grid of 61 rem
less the two 12.1-rem sidebars and the column's margins, at 20 px a rem;
`tests/test_docs_site.py` measures it in Chromium). A figure saved
`width_in` inches wide at `dpi` dots per inch is therefore shown at
``min(1, CONTENT_PX / (width_in * dpi))`` of its size, and a label of `s`
points lands on the page at ``s * min(dpi, CONTENT_PX / width_in) / 72``
pixels. Small multiples (Figure 1's five cells, the 14 panels of a Table 2
family) are unreadable when that number drops to 4 or 5; this module measures
it so the tests can hold every figure the chapters show to
[`MIN_TEXT_PX`][cellnas_edu.page.MIN_TEXT_PX], and tells the drawing code
which point size reaches a pixel size.

Only a `matplotlib.figure.Figure` is inspected; nothing is drawn or saved.
"""

from __future__ import annotations

CONTENT_PX = 688
"""Width in CSS pixels of the site's content column in a 1280-px-wide window (what a figure is shown at)."""

MIN_TEXT_PX = 9.0
"""The smallest text, in CSS pixels on the page, a figure of the book may carry (the body text is 16 px)."""


def page_scale(width_in: float, dpi: float, content_px: float = CONTENT_PX) -> float:
    """Screen pixels on the page per point of text, for a figure `width_in` inches wide saved at `dpi`."""
    return min(float(dpi), content_px / float(width_in)) / 72.0


def points_for(px: float, width_in: float, dpi: float, content_px: float = CONTENT_PX) -> float:
    """The font size in points that shows as `px` pixels on the page (inverse of `page_scale`)."""
    return px / page_scale(width_in, dpi, content_px)


def text_sizes(fig, dpi: float, content_px: float = CONTENT_PX) -> list[tuple[str, float]]:
    """``(text, pixels on the page)`` of every text `fig` draws (titles, labels, tick labels, legends, colour
    bars, annotations), smallest first.

    The figure is drawn once on an off-screen canvas, and exactly the texts
    that draw something non-empty are counted: a tick label outside the view
    limits or a hidden axes' title is not."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    drawn: list[Text] = []
    original = Text.draw

    def recording(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    canvas = FigureCanvasAgg(fig) if not isinstance(fig.canvas, FigureCanvasAgg) else fig.canvas
    Text.draw = recording
    try:
        canvas.draw()
    finally:
        Text.draw = original
    scale = page_scale(fig.get_figwidth(), dpi, content_px)
    return sorted(((t.get_text(), t.get_fontsize() * scale) for t in drawn), key=lambda item: item[1])


def too_small(fig, dpi: float, minimum: float = MIN_TEXT_PX, content_px: float = CONTENT_PX) -> list[str]:
    """``"'label': 6.2 px"`` for every text of `fig` smaller than `minimum` pixels on the page."""
    return [f"{text!r}: {px:.1f} px" for text, px in text_sizes(fig, dpi, content_px) if px < minimum - 1e-9]
