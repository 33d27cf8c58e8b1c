"""`cellnas cells`: width and depth of every built-in cell (Figure 1, Figure 25, Section 3.2)."""

from __future__ import annotations

from ..cells.tables import cell_table, format_cell_table
from . import emit_json


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list of {name, cell, width, depth}")


def run(args) -> int:
    rows = cell_table()
    if args.json:
        emit_json([row.to_json() for row in rows])
    else:
        print(format_cell_table(rows))
        print("\nwidth in units of c (every intermediate node c wide); dead nodes feed nothing and do not count.")
    return 0
