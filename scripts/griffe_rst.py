"""Griffe extension for the API reference: render the package's reStructuredText docstring markup.

The docstrings of ``cellnas_edu`` use a little reST (``:math:`...```, ``..
math::`` blocks, ``:func:``/``:class:``/``:mod:`` roles, section underlines,
simple tables, ``::`` literal blocks) and ``#:`` comments to document module
constants. mkdocstrings renders docstrings as Markdown, so this extension
rewrites that markup into the Markdown the site understands (``$...$`` and
``$$...$$`` for pymdownx.arithmatex, inline code for roles, fenced text for
simple tables) and turns ``#:`` comments into attribute docstrings. It changes
nothing in the package; it only runs when mkdocs builds the site
(``mkdocs.yml``: ``extensions: [scripts/griffe_rst.py]``).
"""

from __future__ import annotations

import re
import textwrap

import griffe

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|data|attr|exc|obj|const):`([^`]+)`")
_UNDERLINE = re.compile(r"^(?:-{3,}|={3,}|~{3,})$")
_TABLE_BORDER = re.compile(r"^=+(?: +=+)+$")


def _xref(match: re.Match) -> str:
    target = match.group(1).strip()
    titled = re.match(r"^(.*?)\s*<([^>]+)>$", target)
    if titled:
        return f"`{titled.group(1)}`"
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target}`"


def rst_to_markdown(text: str) -> str:
    """Rewrite the reST constructs used in this package's docstrings as Markdown."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped == ".. math::":
            block, i = _indented_block(lines, i + 1)
            out += ["", "$$", *textwrap.dedent("\n".join(block)).strip("\n").splitlines(), "$$", ""]
            continue
        if _TABLE_BORDER.match(stripped):
            table = [line]
            i += 1
            borders = 1
            while i < len(lines) and borders < 3:
                table.append(lines[i])
                i += 1
                if _TABLE_BORDER.match(table[-1].strip()):
                    borders += 1
                    if borders == 2 and (i >= len(lines) or not lines[i].strip()):
                        break  # a table without a header row has two borders
            out += ["", *_simple_table(textwrap.dedent("\n".join(table)).splitlines()), ""]
            continue
        if (
            stripped
            and i + 1 < len(lines)
            and _UNDERLINE.match(lines[i + 1].strip())
            and len(lines[i + 1].strip()) >= len(stripped)
        ):
            out += [f"**{stripped}**", ""]
            i += 2
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            head = line[: len(line) - len(line.lstrip())]
            text_part = stripped[:-2].rstrip()
            out.append(f"{head}{text_part}:" if text_part else "")
            i += 1
            continue
        out.append(line)
        i += 1
    result = "\n".join(out)
    result = _MATH_ROLE.sub(lambda m: f"${m.group(1).strip()}$", result)
    return _XREF_ROLE.sub(_xref, result)


def _simple_table(lines: list[str]) -> list[str]:
    """A reST simple table as a Markdown table: cells split at runs of 2+ spaces, each assigned to the
    column whose ``===`` run starts at or before it; rows with an empty first column continue the previous row."""
    starts = [m.start() for m in re.finditer(r"=+", lines[0])]

    def cells(row: str) -> list[str]:
        out = [""] * len(starts)
        for m in re.finditer(r"\S+(?: \S+)*", row):
            column = max(k for k, start in enumerate(starts) if start <= m.start()) if m.start() >= starts[0] else 0
            out[column] = f"{out[column]} {m.group(0)}".strip()
        return out

    sections: list[list[list[str]]] = [[]]
    for row in lines[1:]:
        if _TABLE_BORDER.match(row.strip()):
            sections.append([])
            continue
        if not row.strip():
            continue
        parts = cells(row)
        if sections[-1] and not parts[0]:  # continuation line: extend the previous row's cells
            sections[-1][-1] = [f"{a} {b}".strip() for a, b in zip(sections[-1][-1], parts)]
        else:
            sections[-1].append(parts)
    sections = [section for section in sections if section]
    if len(sections) == 2:
        header, body = sections[0][0], sections[1]
    else:
        header, body = [""] * len(starts), [r for section in sections for r in section]

    def fmt(row: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"

    return [fmt(header), "|" + "---|" * len(starts), *map(fmt, body)]


def _indented_block(lines: list[str], start: int) -> tuple[list[str], int]:
    """The indented lines after a directive (blank lines inside kept), and the index after them."""
    block: list[str] = []
    i = start
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
        block.append(lines[i])
        i += 1
    return block, i


class RstToMarkdown(griffe.Extension):
    """Applies :func:`rst_to_markdown` to every docstring; ``#:`` comments become attribute docstrings."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs) -> None:
        if attr.docstring is not None or attr.lineno is None or attr.filepath is None:
            return
        try:
            source = attr.lines_collection[attr.filepath]
        except KeyError:
            return
        comments: list[str] = []
        k = attr.lineno - 2  # the line above the assignment, 0-based
        while k >= 0 and source[k].lstrip().startswith("#:"):
            comments.insert(0, source[k].lstrip()[2:].strip())
            k -= 1
        if comments:
            attr.docstring = griffe.Docstring(
                rst_to_markdown(" ".join(comments)), lineno=k + 2, parent=attr
            )
