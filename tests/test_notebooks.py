"""The chapters as Jupyter notebooks (scripts/make_notebooks.py): plain Markdown with the figures embedded, the
code that draws every figure and results table, committed copies current, and every notebook runs when copied
outside the checkout."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from script_loader import load_script

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "docs" / "notebooks"
CHAPTERS = ("cells", "space", "convergence", "landscape", "gradient-variance", "theory", "generalization", "search",
            "nb201")
#: something each executed notebook prints
PRINTS = {"cells": "3.5c", "space": "14,400", "theory": "stated_bound", "generalization": "c,2",
          "convergence": "not run: set RUN_SLOW", "landscape": "not run: set RUN_SLOW",
          "gradient-variance": "not run: set RUN_SLOW", "search": "180",
          "nb201": "(True, True, True, True, True, True)"}
#: figures whose drawing needs trained networks: their cell runs only with RUN_SLOW = True
TRAINED = {"figure6_contours.png", "figure7_gradvar_heatmaps.png", "figure8_gradvar3d.png"}


def _make_notebooks():
    sys.path.insert(0, str(ROOT / "scripts"))
    return load_script("scripts/make_notebooks.py")


def _markdown():
    sys.path.insert(0, str(ROOT / "scripts"))
    return load_script("scripts/notebook_markdown.py")


def _page_figures(name: str) -> list[str]:
    text = (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8")
    return re.findall(r"^!\[[^\]]*\]\(figures/([^)\s]+)\)", text, re.M)


def test_every_chapter_has_a_current_notebook_linked_from_its_page(capsys):
    pytest.importorskip("nbformat")
    make = _make_notebooks()
    assert make.CHAPTERS == CHAPTERS
    assert make.main(["--check"]) == 0, capsys.readouterr().err
    for name in make.CHAPTERS:
        page = (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8")
        assert f"](notebooks/{name}.ipynb)" in page.splitlines()[2], f"{name}.md: no notebook link under the title"


def test_pycon_examples_become_code_and_shell_blocks_are_guarded():
    make = _make_notebooks()
    page = ("# T\n\nText [c](cells.md#x)\n\n"
            "```pycon\n>>> x = 1\n>>> for i in []:\n...     pass\n>>> x\n1\n```\n\n```bash\nmake figures\n```\n")
    kinds = make.blocks(page)
    assert kinds[0] == ("markdown", "# T\n\nText [c](cells.md#x)")
    assert kinds[1] == ("code", "x = 1\nfor i in []:\n    pass\nx")
    assert kinds[2] == ("shell", "make figures")


def test_an_example_that_raises_gets_its_own_tagged_cell():
    make = _make_notebooks()
    page = "```pycon\n>>> a = 1\n>>> f(a)\nTraceback (most recent call last):\nValueError: no\n>>> a\n1\n```\n"
    assert make.blocks(page) == [("code", "a = 1"), ("raises", "f(a)"), ("code", "a")]


def test_admonitions_become_titled_blockquotes_and_keep_their_code_as_cells():
    make = _make_notebooks()
    page = ('Before.\n\n!!! abstract "The claim"\n    "Wide cells."\n\n    - a list\n\nAfter.\n\n'
            '???+ example "Try it"\n    Run:\n\n    ```pycon\n    >>> 1 + 1\n    2\n    ```\n\n'
            '    Done.\n\n!!! note\n    Untitled.\n\n??? tip ""\n    No title.\n')
    assert make.blocks(page) == [
        ("markdown", 'Before.\n\n> **The claim**\n>\n> "Wide cells."\n>\n> - a list\n\nAfter.\n\n'
                     "> **Try it**\n>\n> Run:"),
        ("code", "1 + 1"),
        ("markdown", "> Done.\n\n> **Note**\n>\n> Untitled.\n\n> No title."),
    ]


def test_cross_references_and_page_links_become_plain():
    md = _markdown()
    text = ("See [`adapt`][cellnas_edu.cells.adaptation.adapt], [the trainer][cellnas_edu.train], "
            "[cellnas_edu.results][] and $a[i][j]$; [Chapter 2](space.md), [its page](exercises.md#1-width), "
            "[below](#the-reading-dead-nodes), [gone](#nowhere), [docs](https://docs.python.org/3/).")
    anchors = md.heading_anchors("# Title\n\n## The reading: dead nodes\n\n```text\n# not a heading\n```\n")
    assert anchors == {"title": "Title", "the-reading-dead-nodes": "The-reading:-dead-nodes"}
    plain = md.plain_links(md.plain_cross_refs(text), anchors, None)
    assert plain == ("See `adapt`, the trainer, cellnas_edu.results and $a[i][j]$; Chapter 2, its page, "
                     "[below](#The-reading:-dead-nodes), gone, [docs](https://docs.python.org/3/).")
    sited = md.plain_links("[Chapter 2](space.md#top) [x](../examples/a.py)", {}, "https://example.org/book/")
    assert sited == "[Chapter 2](https://example.org/book/space.html#top) x"


def test_images_become_attachments_with_the_sites_figure_numbers(tmp_path):
    md = _markdown()
    (tmp_path / "a.png").write_bytes(b"\x89PNG fake")
    text = "Intro.\n\n![A](figures/a.png){ width=50% }\n\n*What it shows.*\n\n> ![B](figures/a.png)\n\nEnd."

    def label(name, numbers):
        return f"**Figure {numbers[name]}.**"

    out, attachments = md.attach_images(text, tmp_path, {"a.png": 7}, label)
    assert out == ("Intro.\n\n![A](attachment:a.png)\n\n***Figure 7.** What it shows.*\n\n"
                   "> ![B](attachment:a.png)\n>\n> ***Figure 7.***\n\nEnd.")
    assert base64.b64decode(attachments["a.png"]["image/png"]) == b"\x89PNG fake"
    with pytest.raises(FileNotFoundError, match="missing.png"):
        md.attach_images("![x](figures/missing.png)", tmp_path, {}, label)


def test_notebook_figure_numbers_are_the_sites():
    make = _make_notebooks()
    hook = load_script("scripts/mkdocs_figures_hook.py")
    numbers = make.figure_numbers()
    assert numbers["figure1_cells.png"] == 1
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
    first = [name for chapter in CHAPTERS for name in _page_figures(chapter)]
    assert set(first) <= set(numbers)
    assert hook._label("figure1_cells.png", numbers).startswith("**Figure 1.**")


def test_every_chapter_figure_has_the_code_that_draws_it():
    make = _make_notebooks()
    shown = {name for chapter in CHAPTERS for name in _page_figures(chapter)}
    missing = sorted(name for name in shown if make.figure_code(name) is None)
    assert not missing, f"no scripts/notebook_figures/<name>.py for {missing}"
    unused = sorted(p.stem for p in make.FIGURE_CODE.glob("*.py") if f"{p.stem}.png" not in shown)
    assert not unused, f"scripts/notebook_figures/ files no chapter shows: {unused}"


def test_committed_notebooks_are_plain_markdown_with_embedded_figures():
    nbformat = pytest.importorskip("nbformat")
    for name in CHAPTERS:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        markdown = [c for c in nb.cells if c.cell_type == "markdown"]
        text = "\n".join(c.source for c in markdown)
        for leftover in ("!!!", "???", "{{", "](figures/", "][cellnas_edu", ".md)", ".md#"):
            assert leftover not in text, f"{name}: {leftover!r} left in the Markdown"
        attached = {key for c in markdown for key in c.get("attachments", {})}
        assert attached == set(_page_figures(name)), name
        for c in markdown:
            for key, data in c.get("attachments", {}).items():
                assert base64.b64decode(data["image/png"]) == (ROOT / "docs" / "figures" / key).read_bytes()
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        tables = [s for s in code if "from cellnas_edu.results import render" in s]
        page = (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8")
        quoted_tables = sum("{{" in table for table in re.findall(r"(?:^[ >]*\|.*\n)+", page, re.M))
        assert len(tables) == quoted_tables, name
        assert "CELLNAS_RESULTS" in nb.cells[0].source and "CELLNAS_RESULTS" in nb.cells[1].source


def test_the_setup_cell_finds_the_results_from_anywhere(tmp_path):
    make = _make_notebooks()
    script = tmp_path / "setup.py"
    script.write_text(make.SETUP, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CELLNAS_RESULTS"}
    env["PYTHONPATH"] = str(ROOT)
    found = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                           check=True, timeout=120).stdout
    assert f"results: {ROOT / 'results'}\n" in found
    elsewhere = tmp_path / "copied-results"
    elsewhere.mkdir()
    found = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env={**env, "CELLNAS_RESULTS": str(elsewhere)},
                           capture_output=True, text=True, check=True, timeout=120).stdout
    assert f"results: {elsewhere.resolve()}\n" in found
    gone = tmp_path / "nothing-here"
    found = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env={**env, "CELLNAS_RESULTS": str(gone)},
                           capture_output=True, text=True, check=True, timeout=120).stdout
    assert "(missing: set CELLNAS_RESULTS" in found


def _outputs(cell) -> list[dict]:
    return cell.get("outputs", [])


def _text(cell) -> str:
    return json.dumps([o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in _outputs(cell)])


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_notebook_runs_when_copied_outside_the_checkout(name, tmp_path):
    """Copies docs/notebooks/<name>.ipynb to a folder outside the checkout and executes it top to bottom with
    RUN_SLOW = False (seconds each): no cell fails except those whose page example shows a traceback; every figure
    cell draws an image (those that need trained networks say they did not run); every table cell renders the
    table the Markdown above it shows."""
    nbformat = pytest.importorskip("nbformat", reason="notebooks need nbformat (the docs extras)")
    nbclient = pytest.importorskip("nbclient", reason="executing notebooks needs nbclient (the docs extras)")
    pytest.importorskip("ipykernel", reason="executing notebooks needs ipykernel (the docs extras)")
    copy = tmp_path / f"{name}.ipynb"
    shutil.copy(NOTEBOOKS / f"{name}.ipynb", copy)
    assert ROOT not in copy.resolve().parents
    nb = nbformat.read(copy, as_version=4)
    env = {k: v for k, v in os.environ.items() if k not in ("CELLNAS_RESULTS", "MPLBACKEND")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env, cwd=str(tmp_path))

    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    unexpected = [o["evalue"] for cell in code if "raises-exception" not in cell.metadata.get("tags", [])
                  for o in _outputs(cell) if o.get("output_type") == "error"]
    assert not unexpected
    assert all(any(o.get("output_type") == "error" for o in _outputs(cell))
               for cell in code if "raises-exception" in cell.metadata.get("tags", []))
    assert f"results: {ROOT / 'results'}" in _text(code[0])
    assert PRINTS[name] in "".join(_text(cell) for cell in code)

    figures = _page_figures(name)
    make = _make_notebooks()
    drawn = [cell for cell in code if any(cell.source == make.figure_code(f) for f in figures)]
    assert len(drawn) == len(figures)
    for figure, cell in zip(figures, drawn):
        images = [o for o in _outputs(cell) if "image/png" in o.get("data", {})]
        if figure in TRAINED:
            assert not images and "RUN_SLOW = True" in _text(cell), figure
        else:
            assert images, f"{figure}: its cell drew nothing"
            assert base64.b64decode(images[0]["data"]["image/png"])[:4] == b"\x89PNG"

    plain = _markdown().plain_cross_refs
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "from cellnas_edu.results import render" in cell.source:
            shown = next(o for o in _outputs(cell) if "text/markdown" in o.get("data", {}))["data"]["text/markdown"]
            shown = plain(shown)
            above = re.sub(r"^> ?", "", nb.cells[index - 1].source, flags=re.M)
            assert shown.strip() and shown.strip() in above, f"cell {index}: the table differs from the page's"
