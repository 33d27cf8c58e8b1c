"""mkdocs hook: replace every ``{{ experiment:path[:format] }}`` quote by the value in ``results/``.

The syntax and its rules are those of :mod:`cellnas_edu.results`; a quote that
names a missing file, key or format stops the build (``mkdocs build --strict``).
"""

from __future__ import annotations

from pathlib import Path

from cellnas_edu.results import render

RESULTS_ROOT = Path(__file__).resolve().parent.parent / "results"


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - mkdocs hook signature
    return render(markdown, RESULTS_ROOT, source=page.file.src_path)
