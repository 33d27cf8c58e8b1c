"""The site's Markdown made plain, for a notebook that is read outside the site (``scripts/make_notebooks.py``).

The chapter pages are written for mkdocs-material; a notebook shows plain Markdown only. This module turns

* an admonition (``!!! type "title"``, or a collapsible ``??? type "title"`` / ``???+``, body indented four
  spaces) into a bold title line over a blockquote (``structure`` keeps its fenced code as code cells);
* a mkdocstrings cross-reference ``[text][package.module.name]`` into its text (a code span stays one);
* a link to another page (``[text](page.md#anchor)``) into a link to the published site when ``mkdocs.yml``
  names a ``site_url``, else into its text; a link to a heading of the same page into the notebook's own
  anchor for that heading (Jupyter names it by the heading's text);
* an image ``![alt](figures/NAME.png)`` into a notebook attachment (``attachment:NAME.png``, the PNG carried
  base64 inside the cell, so a notebook copied anywhere shows it), its caption numbered as the site numbers
  it (``scripts/mkdocs_figures_hook.py``: **Figure N.** and which figure of the paper it reproduces).

The ``{{ experiment:path }}`` quotes are filled in by the site's own code (``cellnas_edu.results.render``,
what ``scripts/mkdocs_results_hook.py`` calls), in ``make_notebooks.py``.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from markdown.extensions.toc import slugify

ADMONITION = re.compile(r'^(?P<indent> *)(?:!!!|\?\?\?\+?) +(?P<kind>[\w-]+)(?: +"(?P<title>[^"]*)")? *$')
CROSS_REF = re.compile(r"\[(?P<text>[^\[\]]+)\]\[(?P<target>[A-Za-z_]\w*(?:\.\w+)+)?\]")
LINK = re.compile(r"(?<!!)\[(?P<text>[^\[\]]+)\]\((?P<target>[^)\s]+)\)")
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(figures/(?P<name>[^)\s]+)\)(?:\{[^}]*\})?")
HEADING = re.compile(r"^#{1,6} +(?P<text>.+?) *#* *$")


def admonition_title(kind: str, title: str | None) -> str:
    """The bold line an admonition becomes: its title, or its type when it has none (``""`` gives none)."""
    if title is None:
        title = kind.replace("-", " ").capitalize()
    return f"**{title}**" if title.strip() else ""


def quote(markdown: str) -> str:
    """``markdown`` as a blockquote (every line prefixed ``> ``)."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in markdown.strip("\n").splitlines())


def plain_cross_refs(markdown: str) -> str:
    """``[text][a.b.c]`` -> ``text`` (mkdocstrings' autorefs; ``[a.b.c][]`` -> ``a.b.c``)."""
    return CROSS_REF.sub(lambda m: m["text"], markdown)


def notebook_anchor(heading: str) -> str:
    """The anchor Jupyter gives a heading: its text, spaces as hyphens."""
    text = re.sub(r"[`*]", "", heading).strip()
    return re.sub(r"\s+", "-", text)


def heading_anchors(page: str) -> dict[str, str]:
    """``{site anchor: notebook anchor}`` for the headings of one page (``toc``'s slugs, duplicates numbered)."""
    anchors: dict[str, str] = {}
    fence = False
    for line in page.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        match = None if fence else HEADING.match(line)
        if match is None:
            continue
        slug = base = slugify(re.sub(r"[`*]", "", match["text"]), "-")
        count = 0
        while slug in anchors:
            count += 1
            slug = f"{base}_{count}"
        anchors[slug] = notebook_anchor(match["text"])
    return anchors


def plain_links(markdown: str, anchors: dict[str, str], site_url: str | None) -> str:
    """Links into the site become site URLs (with ``site_url``) or plain text; same-page anchors are kept."""

    def link(match: re.Match) -> str:
        text, target = match["text"], match["target"]
        if re.match(r"^[a-z][\w+.-]*:", target):  # http:, https:, mailto:, attachment:, data:
            return match[0]
        if target.startswith("#"):
            anchor = anchors.get(target[1:])
            return f"[{text}](#{anchor})" if anchor else text
        page, _, fragment = target.partition("#")
        if site_url and page.endswith(".md") and "/" not in page.strip("./"):
            url = site_url.rstrip("/") + "/" + page[:-3] + ".html" + (f"#{fragment}" if fragment else "")
            return f"[{text}]({url})"
        return text

    return LINK.sub(link, markdown)


def attach_images(markdown: str, figures: Path, numbers: dict[str, int], label) -> tuple[str, dict]:
    """Images as attachments, captions numbered; returns ``(markdown, {name: {"image/png": base64}})``.

    ``label(name, numbers)`` gives the bold figure label (the figures hook's ``_label``)."""
    attachments: dict[str, dict[str, str]] = {}
    lines = markdown.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = IMAGE.search(line)
        if match is None:
            out.append(line)
            i += 1
            continue
        name = match["name"]
        path = figures / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the page shows a figure that is not in docs/figures/")
        attachments[name] = {"image/png": base64.b64encode(path.read_bytes()).decode("ascii")}
        out.append(line[:match.start()] + f"![{match['alt']}](attachment:{name})" + line[match.end():])
        prefix = line[:match.start()]
        j = i + 1
        while j < len(lines) and not lines[j][len(prefix):].strip() and lines[j].startswith(prefix.rstrip()):
            j += 1
        caption = lines[j][len(prefix):] if j < len(lines) and lines[j].startswith(prefix) else ""
        if caption.startswith("*") and not caption.startswith("**"):
            out.extend(lines[i + 1:j])
            out.append(f"{prefix}*{label(name, numbers)} {caption[1:]}")
            i = j + 1
        else:
            out.extend([prefix.rstrip(), f"{prefix}*{label(name, numbers)}*"])
            i += 1
    return "\n".join(out), attachments
