"""The `cellnas` command: one subcommand per module in this package.

Each subcommand module defines `add_arguments(parser)` (its one-line help is in [`COMMANDS`][cellnas_edu.cli.COMMANDS])
and `run(args) -> int`. Only the module of the chosen subcommand is imported,
so `cellnas cells` starts without importing torch.

Errors: every error of input or environment (a [`UserError`][cellnas_edu.errors.UserError],
`ValueError`, any `OSError`, a corrupt file, a too deeply nested JSON file,
running out of memory: see [`one_line_message`][cellnas_edu.errors.one_line_message]) and
any argument error print one line on stderr and exit 2. Other exceptions are
bugs of the package and keep their traceback (exit 1)."""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import one_line_message
from ..seeds import MAX_SEED, seed_arg  # noqa: F401  (re-exported: every --seed of the subcommands)


def path_arg(text: str) -> str:
    """argparse type of every file or folder argument: a non-empty path (an empty one would silently mean the
    current folder, or write nothing)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: give a file or folder name")
    if "\0" in text:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL character")
    return text


def results_name_arg(text: str) -> str:
    """argparse type of `--results-name`: the name of one folder under `results/` (letters, digits, `_`, `-`,
    `.`; not empty, no `/`)."""
    import re

    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name: give the name of a folder under results/")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", text):
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} is not a results name: letters, digits, '_', '-' and '.', e.g. convergence_study")
    return text


def positive_int(text: str) -> int:
    """argparse type of counts that must be at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value

def positive_float(text: str) -> float:
    """argparse type of rates and sizes that must be finite and above 0."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


COMMANDS: dict[str, tuple[str, str]] = {
    "tour": ("cellnas_edu.cli.tour", "the guided tour: cell table, theorem checks, a short training run"),
    "cells": ("cellnas_edu.cli.cells", "width and depth of every built-in cell (Figure 1, Figure 25)"),
    "analyze": ("cellnas_edu.cli.analyze", "width and depth of the cells in a genotype JSON file"),
    "variants": ("cellnas_edu.cli.variants", "a seeded family of random connection/operation variants (Table 2)"),
    "adapt": ("cellnas_edu.cli.adapt", "the widest-and-shallowest adaptation of a cell (Section 5, Figure 25)"),
    "draw": ("cellnas_edu.cli.draw", "draw a cell's topology as PNG or SVG (Figure 1 style)"),
    "space": ("cellnas_edu.cli.space", "enumerate a cell's whole connection space (Appendix A.2)"),
    "theory": ("cellnas_edu.cli.theory", "check equations (1)-(4) and Theorems 4.2, 4.3 numerically (Appendix C)"),
    "params": ("cellnas_edu.cli.params", "parameter counts of the built-in networks (Table 1)"),
    "train": ("cellnas_edu.cli.train", "train a network (Appendix A.3/A.4 presets), resumable"),
    "convergence": (
        "cellnas_edu.cli.convergence",
        "train a cell and its variant family and compare convergence (Section 4.1)",
    ),
    "landscape": (
        "cellnas_edu.cli.landscape",
        "loss surface, gradient variance and Hessian sharpness of a run (Section 4.2)",
    ),
    "compare-landscapes": (
        "cellnas_edu.cli.compare_landscapes",
        "side-by-side landscapes of several runs against width and depth",
    ),
    "search": (
        "cellnas_edu.cli.search",
        "run a search yourself: first-order DARTS, or random search by early evaluation (Chapter 8)",
    ),
    "nb201": (
        "cellnas_edu.cli.nb201",
        "NAS-Bench-201's 15,625 trained cells: width, depth and the thesis at paper scale (Chapter 9)",
    ),
    "exercises": (
        "cellnas_edu.cli.exercises",
        "write the package's functions yourself; its property tests grade them",
    ),
}
"""subcommand -> (module, one-line help). The order is the order of `cellnas --help`."""


class OneLineParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are a single line on stderr (exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="cellnas",
        description="cellnas-edu: cells found by NAS, their width and depth, convergence and theory "
        "(Shu, Wang & Cai, ICLR 2020).",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"cellnas-edu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    if chosen not in COMMANDS:
        chosen = None
    try:
        args = build_parser(chosen).parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or one-line usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print(f"cellnas {args.command}: interrupted; results written so far are kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        message = one_line_message(exc)
        if message is None:  # a bug of the package: keep the traceback
            raise
        print(f"cellnas {args.command}: error: {message}", file=sys.stderr)
        return 2


def emit_json(obj) -> None:
    """Print `obj` as JSON on stdout (the `--json` output of every subcommand)."""
    import json

    print(json.dumps(obj, indent=2))
