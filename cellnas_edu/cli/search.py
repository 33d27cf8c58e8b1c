"""`cellnas search`: run a search yourself (Chapter 8).

`cellnas search darts` runs first-order DARTS ([`cellnas_edu.search.darts`][cellnas_edu.search.darts]);
`cellnas search random` selects among random connection variants by early evaluation
([`cellnas_edu.search.early_selection`][cellnas_edu.search.early_selection]). Each method's arguments live in
its own module (`search_darts.py`, `search_random.py`), imported only when that method is chosen."""

from __future__ import annotations

import importlib

METHODS: dict[str, tuple[str, str]] = {
    "darts": ("cellnas_edu.cli.search_darts",
              "first-order DARTS on the DARTS search space (Liu et al., 2019), resumable"),
    "random": ("cellnas_edu.cli.search_random",
               "random connection variants selected by their test loss after k epochs (early evaluation)"),
}
"""method -> (module with `add_arguments(parser)` and `run(args)`, one-line help)."""


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="method", metavar="METHOD", parser_class=type(parser))
    sub.required = True
    for name, (module, help_text) in METHODS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)


def run(args) -> int:
    return importlib.import_module(METHODS[args.method][0]).run(args)
