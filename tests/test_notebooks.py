"""The chapters as Jupyter notebooks (scripts/make_notebooks.py): committed copies are current, and chapter 1 runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from script_loader import load_script

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "docs" / "notebooks"


def _make_notebooks():
    return load_script("scripts/make_notebooks.py")


def test_every_chapter_has_a_current_notebook_linked_from_its_page(capsys):
    pytest.importorskip("nbformat")
    make = _make_notebooks()
    assert make.main(["--check"]) == 0, capsys.readouterr().err
    for name in make.CHAPTERS:
        page = (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8")
        assert f"](notebooks/{name}.ipynb)" in page.splitlines()[2], f"{name}.md: no notebook link under the title"


def test_pycon_examples_become_code_and_shell_blocks_are_guarded():
    make = _make_notebooks()
    page = ("# T\n\nText ![f](figures/a.png) [c](cells.md#x)\n\n"
            "```pycon\n>>> x = 1\n>>> for i in []:\n...     pass\n>>> x\n1\n```\n\n```bash\nmake figures\n```\n")
    kinds = make.blocks(page)
    assert kinds[0] == ("markdown", "# T\n\nText ![f](../figures/a.png) [c](../cells.html#x)")
    assert kinds[1] == ("code", "x = 1\nfor i in []:\n    pass\nx")
    assert kinds[2] == ("shell", "make figures")


CHAPTERS = ("cells", "space", "convergence", "landscape", "gradient-variance", "theory", "generalization", "search",
            "nb201")
#: something each executed notebook prints (chapters 3-5 only show their shell commands on the quick path)
PRINTS = {"cells": "3.5c", "space": "14,400", "theory": "stated_bound", "generalization": "c,2"}


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_notebook_runs_its_quick_path(name):
    """Executes docs/notebooks/<name>.ipynb top to bottom with RUN_SLOW = False (seconds each): no cell fails
    except those whose page example shows a traceback."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    outputs = [o for cell in code for o in cell.get("outputs", [])]
    unexpected = [o["evalue"] for cell in code if "raises-exception" not in cell.metadata.get("tags", [])
                  for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not unexpected
    assert all(any(o.get("output_type") == "error" for o in cell.get("outputs", []))
               for cell in code if "raises-exception" in cell.metadata.get("tags", []))
    text = json.dumps([o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs])
    assert PRINTS.get(name, "not run: set RUN_SLOW") in text


def test_an_example_that_raises_gets_its_own_tagged_cell():
    make = _make_notebooks()
    page = "```pycon\n>>> a = 1\n>>> f(a)\nTraceback (most recent call last):\nValueError: no\n>>> a\n1\n```\n"
    assert make.blocks(page) == [("code", "a = 1"), ("raises", "f(a)"), ("code", "a")]
