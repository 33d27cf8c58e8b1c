"""mkdocs hook: show a page's ``pycon`` examples as a reader would see them in Python.

The chapters' ``>>>`` examples are run by ``tests/test_docs_examples.py``
with :mod:`doctest`, which needs ``<BLANKLINE>`` for an empty line of output
(a real empty line would end the expected output). On the site that marker
is a doctest artefact, so inside ``pycon`` blocks it is shown as the empty
line it stands for. The Markdown source, and so the doctest, is unchanged.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*pycon\b.*?^(?P=indent)(?P=fence)[ \t]*$", re.S | re.M)


def show_blank_lines(markdown: str) -> str:
    """Replace every ``<BLANKLINE>`` line inside a ``pycon`` fence by an empty line."""
    return FENCE.sub(lambda m: re.sub(r"^([ \t]*)<BLANKLINE>[ \t]*$", "", m.group(0), flags=re.M), markdown)


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - mkdocs hook signature
    return show_blank_lines(markdown)
