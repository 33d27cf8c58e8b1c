"""Each chapter of the textbook as a Jupyter notebook: ``docs/<chapter>.md`` -> ``docs/notebooks/<chapter>.ipynb``.

The notebook is the chapter itself, cell by cell: prose becomes Markdown cells
(with the ``{{ experiment:path }}`` quotes filled in from ``results/``, image
and page links pointing into the site), every ``pycon`` example becomes a code
cell (the ``>>>`` / ``...`` lines; the printed output is what running the cell
shows), and every ``bash`` block becomes a code cell that runs the commands only
when ``RUN_SLOW = True`` (they train networks: minutes to hours). A first code
cell moves to the repository root so that ``examples/`` and ``results/`` resolve.

Run without arguments to regenerate the committed notebooks (``make notebooks``);
``--check`` fails when a committed notebook differs from what its page gives
(``tests/test_notebooks.py`` runs that check and executes chapter 1).

    python scripts/make_notebooks.py [--out docs/notebooks] [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: chapter pages in book order
CHAPTERS = ("cells", "space", "convergence", "landscape", "gradient-variance", "theory", "generalization", "search",
            "nb201")

#: the line each chapter carries under its title (not copied into the notebook)
LINK_PATTERN = re.compile(r"^\*?\[Download this chapter as a Jupyter notebook\]\(notebooks/[\w-]+\.ipynb\).*$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)")

SETUP = '''\
# Setup (added by scripts/make_notebooks.py): run from the repository root, so that
# cellnas_edu, examples/ and results/ resolve as they do on the page.
import os
import subprocess
import sys
from pathlib import Path

ROOT = next((p for p in [Path.cwd(), *Path.cwd().parents]
             if (p / "cellnas_edu").is_dir() and (p / "pyproject.toml").is_file()), Path.cwd())
os.chdir(ROOT)
sys.path.insert(0, str(ROOT))

RUN_SLOW = False  # True also runs the chapter's shell commands (they train networks: minutes to hours)


def run_shell(script: str) -> None:
    """Show the page's shell commands; run them with bash only when RUN_SLOW is True."""
    print(script.strip())
    if RUN_SLOW:
        subprocess.run(["bash", "-c", script], check=True)
    else:
        print("(not run: set RUN_SLOW = True to run these commands)")
'''


def _markdown(text: str) -> str:
    text = re.sub(r"\]\((figures/[^)\s]+)\)", r"](../\1)", text)
    text = re.sub(r"\]\(([\w-]+)\.md(#[^)]*)?\)", lambda m: f"](../{m.group(1)}.html{m.group(2) or ''})", text)
    return text.strip("\n")


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


def blocks(markdown: str) -> list[tuple[str, str]]:
    """``[(kind, source)]``: kind is "markdown", "code", "raises" (code whose example raises) or "shell"."""
    out: list[tuple[str, str]] = []
    prose: list[str] = []
    lines = markdown.splitlines()
    i = 0

    def flush():
        text = _markdown("\n".join(prose))
        if text.strip():
            out.append(("markdown", text))
        prose.clear()

    while i < len(lines):
        line = lines[i]
        if LINK_PATTERN.match(line.strip()):
            i += 1
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


def notebook(page: Path):
    """The notebook of one chapter page (an ``nbformat`` v4 node, outputs empty, ids deterministic)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from cellnas_edu.results import render

    text = render(page.read_text(encoding="utf-8"), source=str(page.name))
    cells = [new_markdown_cell(f"*This notebook is generated from `docs/{page.name}` by `scripts/make_notebooks.py`; "
                               "edit the page, not the notebook. The first code cell sets up the paths; the "
                               "chapter's shell commands run only with `RUN_SLOW = True`.*"),
             new_code_cell(SETUP.rstrip())]
    for kind, source in blocks(text):
        if kind == "markdown":
            cells.append(new_markdown_cell(source))
        elif kind == "code":
            cells.append(new_code_cell(source))
        elif kind == "raises":
            cells.append(new_code_cell(source, metadata={"tags": ["raises-exception"]}))
        else:
            cells.append(new_code_cell(f'run_shell("""\n{source}\n""")'))
    for index, cell in enumerate(cells):
        cell["id"] = f"{page.stem}-{index:03d}"
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(nb)
    return nb


def render_all(out: Path) -> dict[Path, str]:
    import nbformat

    return {out / f"{name}.ipynb": nbformat.writes(notebook(ROOT / "docs" / f"{name}.md")) + "\n"
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
