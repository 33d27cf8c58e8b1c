"""Each chapter of the textbook as a Jupyter notebook: ``docs/<chapter>.md`` -> ``docs/notebooks/<chapter>.ipynb``.

The notebook is the chapter itself, cell by cell, in plain Markdown that reads the same outside the site
(``scripts/notebook_markdown.py``): admonitions become bold titles over blockquotes, mkdocstrings
cross-references their text, links to other pages site URLs or text, and every figure a base64 attachment of
its PNG (a notebook copied anywhere shows it), numbered as on the site. The ``{{ experiment:path }}`` quotes are
filled in from ``results/`` by the site's own renderer (``cellnas_edu.results.render``).

Code cells: every ``pycon`` example becomes one (the ``>>>`` / ``...`` lines; the printed output is what running
it shows); every ``bash`` block becomes one that runs the commands only when ``RUN_SLOW = True`` (they train
networks: minutes to hours); every figure is followed by the code that draws it, ``scripts/notebook_figures/
<figure>.py`` (library functions, or a short matplotlib cell over the results file); every table that quotes
results is followed by a cell that renders it again from the results files. The first code cell finds the
results (``SETUP``: ``$CELLNAS_RESULTS``, else the checkout holding the working folder, else the checkout the
installed package lives in) and says where it looked.

Run without arguments to regenerate the committed notebooks (``make notebooks``); ``--check`` fails when a
committed notebook differs from what its page gives (``tests/test_notebooks.py`` runs that check and executes
every notebook copied outside the checkout).

    python scripts/make_notebooks.py [--out docs/notebooks] [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
FIGURES = ROOT / "docs" / "figures"
FIGURE_CODE = SCRIPTS / "notebook_figures"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPTS))

#: chapter pages in book order
CHAPTERS = ("cells", "space", "convergence", "landscape", "gradient-variance", "theory", "generalization", "search",
            "nb201")

#: the line each chapter carries under its title (not copied into the notebook)
LINK_PATTERN = re.compile(r"^\*?\[Download this chapter as a Jupyter notebook\]\(notebooks/[\w-]+\.ipynb\).*$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)")
IMAGE_LINE = re.compile(r"^!\[[^\]]*\]\(figures/(?P<name>[^)\s]+)\)")

INTRO = """\
*This notebook is generated from `docs/{page}` by `scripts/make_notebooks.py`; edit the page, not the notebook.*

**Running it.** It needs the `cellnas_edu` package (`pip install -e ".[dev]"` in a checkout of the repository)
and the committed results files `results/<experiment>/summary.json`, from which its figures and tables are drawn.
The first code cell finds them, in this order: the folder named by the environment variable `CELLNAS_RESULTS`;
the `results/` folder of the checkout holding the working folder; the `results/` folder of the checkout the
installed `cellnas_edu` package lives in (an editable install). So a copy of this notebook opened anywhere works
with an editable install; with any other install, set `CELLNAS_RESULTS=/path/to/cellnas-edu/results`. The
figures are embedded and show without running anything. The chapter's shell commands train networks (minutes
to hours) and run only with `RUN_SLOW = True` in that cell; everything else takes seconds."""

SETUP = '''\
# Setup (added by scripts/make_notebooks.py): find the package and the results files, and work from the
# checkout's root so that the page's paths (examples/, results/, out/) resolve as they do on the page.
import os
import subprocess
import sys
from pathlib import Path

RUN_SLOW = False  # True also runs the chapter's shell commands (they train networks: minutes to hours)


def _checkout(start: Path):
    """The repository checkout holding `start`, or None."""
    return next((p for p in [start, *start.parents]
                 if (p / "cellnas_edu").is_dir() and (p / "pyproject.toml").is_file()), None)


ROOT = _checkout(Path.cwd().resolve())
if ROOT is not None:
    sys.path.insert(0, str(ROOT))
try:
    import cellnas_edu
except ImportError:
    raise SystemExit('cellnas_edu is not installed: pip install -e ".[dev]" in a checkout of the repository') from None
ROOT = ROOT or _checkout(Path(cellnas_edu.__file__).resolve().parent)
if ROOT is not None:
    os.chdir(ROOT)
if not os.environ.get("CELLNAS_RESULTS") and ROOT is not None:
    os.environ["CELLNAS_RESULTS"] = str(ROOT / "results")  # what cellnas_edu.results.load_summary reads
RESULTS = Path(os.environ.get("CELLNAS_RESULTS", "results")).resolve()
print(f"package: {Path(cellnas_edu.__file__).parent}")
print(f"results: {RESULTS}" + ("" if RESULTS.is_dir() else
                               "  (missing: set CELLNAS_RESULTS to a checkout's results/ folder)"))


def run_shell(script: str) -> None:
    """Show the page's shell commands; run them with bash only when RUN_SLOW is True."""
    print(script.strip())
    if RUN_SLOW:
        subprocess.run(["bash", "-c", script], check=True, cwd=ROOT)
    else:
        print("(not run: set RUN_SLOW = True to run these commands)")
'''

TABLE_CODE = '''\
# The table above, rendered again from the results files: each {{{{ experiment:path:format }}}} quote is read
# from results/<experiment>/summary.json by the package's own quote renderer (what the site build uses).
from IPython.display import Markdown

from cellnas_edu.results import render

Markdown(render(r"""
{table}
""", source="table"))'''


def _pycon_cells(lines: list[str]) -> list[tuple[str, bool]]:
    """``[(code, raises)]`` of a pycon block: the ``>>>`` / ``...`` lines, one cell per run of statements; a
    statement whose printed output is a traceback gets a cell of its own, tagged to raise."""
    statements: list[tuple[list[str], bool]] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(">>>"):
            statements.append(([stripped[4:] if stripped.startswith(">>> ") else stripped[3:]], False))
        elif statements and not statements[-1][1] and (stripped == "..." or stripped.startswith("... ")) \
                and len(statements[-1][0]) >= 1:
            statements[-1][0].append(stripped[4:])
        elif statements and stripped.startswith("Traceback"):
            statements[-1] = (statements[-1][0], True)
    cells: list[tuple[str, bool]] = []
    run: list[str] = []
    for code, raises in statements:
        if raises:
            if run:
                cells.append(("\n".join(run).rstrip(), False))
                run = []
            cells.append(("\n".join(code).rstrip(), True))
        else:
            run.extend(code)
    if run:
        cells.append(("\n".join(run).rstrip(), False))
    return [(code, raises) for code, raises in cells if code]


def _admonition(lines: list[str], i: int) -> tuple[int, str, list[str]] | None:
    """``(end, title line, body lines dedented)`` of the admonition that opens at line ``i``, else None."""
    from notebook_markdown import ADMONITION, admonition_title

    match = ADMONITION.match(lines[i])
    if match is None:
        return None
    inner = match["indent"] + "    "
    end = i + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith(inner)):
        end += 1
    while end > i + 1 and not lines[end - 1].strip():
        end -= 1
    body = [line[len(inner):] for line in lines[i + 1:end]]
    return end, admonition_title(match["kind"], match["title"]), body


def blocks(markdown: str) -> list[tuple[str, str]]:
    """``[(kind, source)]`` of a page, its Markdown still as on the site. kind: "markdown"; "code"; "raises"
    (code whose example raises); "shell"; "figure" (source: the image file's name, right after the Markdown that
    shows it and its caption); "table" (source: a table that quotes results, right after the Markdown holding it).
    An admonition's prose becomes a blockquote under its bold title; the code in it still becomes code cells."""
    from notebook_markdown import quote

    out: list[tuple[str, str]] = []
    prose: list[str] = []
    lines = markdown.splitlines()
    i = 0

    def flush():
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(prose).strip("\n"))
        if text.strip():
            out.append(("markdown", text))
        prose.clear()

    while i < len(lines):
        line = lines[i]
        if LINK_PATTERN.match(line.strip()):
            i += 1
            continue
        admonition = _admonition(lines, i)
        if admonition is not None:
            end, title, body = admonition
            inner = blocks("\n".join(body))
            if title and (not inner or inner[0][0] != "markdown"):
                inner.insert(0, ("markdown", ""))
            for k, (kind, source) in enumerate(inner):
                if kind == "markdown":
                    text = "\n\n".join(part for part in (title if k == 0 else "", source) if part)
                    prose.extend(["", quote(text), ""])
                else:
                    flush()
                    out.append((kind, source))
            i = end
            continue
        image = IMAGE_LINE.match(line)
        if image is not None:
            prose.append(line)
            i += 1
            while i < len(lines) and not lines[i].strip():
                prose.append(lines[i])
                i += 1
            if i < len(lines) and lines[i].startswith("*") and not lines[i].startswith("**"):
                while i < len(lines) and lines[i].strip():  # the caption paragraph
                    prose.append(lines[i])
                    i += 1
            flush()
            out.append(("figure", image["name"]))
            continue
        if line.startswith("|"):
            end = i
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            table = lines[i:end]
            prose.extend(table)
            i = end
            if any("{{" in row for row in table):
                flush()
                out.append(("table", "\n".join(table)))
            continue
        fence = FENCE.match(line)
        if fence is None:
            prose.append(line)
            i += 1
            continue
        indent, lang = fence.group("indent"), fence.group("lang")
        end = i + 1
        while end < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[end]):
            end += 1
        body = [b[len(indent):] if b.startswith(indent) else b for b in lines[i + 1:end]]
        if lang == "pycon":
            flush()
            out.extend(("raises" if raises else "code", code) for code, raises in _pycon_cells(body))
        elif lang in ("bash", "sh", "console"):
            flush()
            out.append(("shell", "\n".join(body)))
        else:
            prose.extend(lines[i:end + 1])
        i = end + 1
    flush()
    return out


def site_url() -> str | None:
    """``site_url`` of mkdocs.yml, if it names one (page links then point at the published site)."""
    match = re.search(r"^site_url:\s*(\S+)\s*$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    return match.group(1).strip("'\"") if match else None


def figure_numbers() -> dict[str, int]:
    """``{figure file: N}`` as the site numbers them (the figures hook, over the pages in nav order)."""
    import yaml
    from mkdocs_figures_hook import number_figures

    def pages(nav):
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            if isinstance(value, list):
                yield from pages(value)
            elif isinstance(value, str) and value.endswith(".md"):
                yield value

    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    return number_figures([(ROOT / "docs" / page).read_text(encoding="utf-8") for page in pages(config["nav"])
                           if (ROOT / "docs" / page).is_file()])


def plain_markdown(text: str, page_text: str, source: str, numbers: dict[str, int], url: str | None):
    """``(markdown, attachments)``: one Markdown cell of a page made plain (see notebook_markdown)."""
    from mkdocs_figures_hook import _label
    from notebook_markdown import attach_images, heading_anchors, plain_cross_refs, plain_links

    from cellnas_edu.results import render

    text = render(text, source=source)
    text = plain_links(plain_cross_refs(text), heading_anchors(page_text), url)
    return attach_images(text, FIGURES, numbers, _label)


def figure_code(name: str) -> str | None:
    """The code cell that draws figure ``name`` (``scripts/notebook_figures/<stem>.py``), if there is one."""
    path = FIGURE_CODE / f"{Path(name).stem}.py"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def notebook(page: Path, numbers: dict[str, int] | None = None, url: str | None = None):
    """The notebook of one chapter page (an ``nbformat`` v4 node, outputs empty, ids deterministic)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    numbers = figure_numbers() if numbers is None else numbers
    page_text = page.read_text(encoding="utf-8")
    cells = [new_markdown_cell(INTRO.format(page=page.name)), new_code_cell(SETUP.rstrip())]
    for kind, source in blocks(page_text):
        if kind == "markdown":
            text, attachments = plain_markdown(source, page_text, page.name, numbers, url)
            cell = new_markdown_cell(text)
            if attachments:
                cell["attachments"] = attachments
            cells.append(cell)
        elif kind == "code":
            cells.append(new_code_cell(source))
        elif kind == "raises":
            cells.append(new_code_cell(source, metadata={"tags": ["raises-exception"]}))
        elif kind == "figure":
            code = figure_code(source)
            if code is not None:
                cells.append(new_code_cell(code))
        elif kind == "table":
            if "'''" in source or '"""' in source:
                raise ValueError(f"{page.name}: a quoted table holds triple quotes")
            cells.append(new_code_cell(TABLE_CODE.format(table=source)))
        else:
            cells.append(new_code_cell(f'run_shell("""\n{source}\n""")'))
    for index, cell in enumerate(cells):
        cell["id"] = f"{page.stem}-{index:03d}"
        if "{{" in cell["source"] and not (cell["cell_type"] == "code" and "render(" in cell["source"]):
            raise ValueError(f"{page.name}: cell {index} keeps an unrendered quote")
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(nb)
    return nb


def render_all(out: Path) -> dict[Path, str]:
    import nbformat

    numbers, url = figure_numbers(), site_url()
    return {out / f"{name}.ipynb": nbformat.writes(notebook(ROOT / "docs" / f"{name}.md", numbers, url)) + "\n"
            for name in CHAPTERS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "notebooks", help="folder (default docs/notebooks)")
    parser.add_argument("--check", action="store_true", help="fail if a committed notebook is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in render_all(args.out).items():
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"written: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python scripts/make_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
