"""`cellnas analyze FILE.json`: width and depth of the cells in a user's genotype file (Section 3.2).

The file uses the DARTS layout (see [`cellnas_edu.cells.genotypes`][cellnas_edu.cells.genotypes]). A malformed
file is reported on one line that names the file, the cell, the node and the
operation (exit status 2)."""

from __future__ import annotations

from ..cells.genotypes import load_genotype
from ..cells.tables import cell_table, format_cell_table
from . import emit_json, path_arg


def add_arguments(parser) -> None:
    parser.add_argument("file", type=path_arg, metavar="FILE.json", help="genotype file (DARTS layout)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {name, cell, width, depth}")


def run(args) -> int:
    rows = cell_table([load_genotype(args.file)])
    if args.json:
        emit_json([row.to_json() for row in rows])
    else:
        print(format_cell_table(rows))
    return 0
