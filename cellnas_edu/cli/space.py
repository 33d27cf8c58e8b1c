"""`cellnas space NAME`: every connection variant of a cell, tabulated by width and depth (Appendix A.2).

Enumerates the whole space that Appendix A.2 samples random connection
variants from ([`cellnas_edu.cells.space`][cellnas_edu.cells.space]) and places the original cell in it.
Imports numpy only (no torch), so it answers in about a second."""

from __future__ import annotations

from ..cells.genotypes import resolve_genotype
from ..cells.space import connection_space
from ..cells.topology import format_width
from . import emit_json


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", help="built-in architecture (see 'cellnas cells') or genotype .json")
    parser.add_argument("--cell", choices=("normal", "reduce"), default="normal", help="which cell (default: normal)")
    parser.add_argument("--json", action="store_true", help="print the histogram and the original's place as JSON")


def histogram_grid(space) -> str:
    """Counts as a text grid: one row per width (widest first), one column per depth."""
    widths = sorted({b.width for b in space.histogram}, reverse=True)
    depths = sorted({b.depth for b in space.histogram})
    cells = {(b.width, b.depth): b.count for b in space.histogram}
    size = max(len(f"{b.count:,}") for b in space.histogram) + 1
    lines = ["width\\depth" + "".join(f"{d:>{size + 1}}" for d in depths)]
    for w in widths:
        marks = []
        for d in depths:
            text = f"{cells[(w, d)]:,}" if (w, d) in cells else "."
            mark = "*" if (w, d) == (space.original.width, space.original.depth) else " "
            marks.append(f"{text:>{size}}{mark}")
        lines.append(f"{format_width(w):>11}" + "".join(marks))
    return "\n".join(lines)


def run(args) -> int:
    genotype = resolve_genotype(args.name)
    name = genotype.name or args.name
    space = connection_space(genotype.cell(args.cell))
    if args.json:
        emit_json(space.to_json(name, args.cell))
        return 0
    data = space.to_json(name, args.cell)
    formula = data["paper_formula"]
    print(f"{name} {args.cell} cell: {space.count:,} connection variants "
          f"(= ({formula['value']:,})^2, Appendix A.2's (N-2)!/(M-1)! with N={formula['N']}, M={formula['M']}, "
          "squared for two operations per node)")
    print(f"original: {space.original.label()}; max width {format_width(space.max_width)}, "
          f"min depth {space.min_depth}")
    widest, shallowest = space.shallowest_of_widest(), space.widest_of_shallowest()
    print(f"shallowest of the widest: {format_width(widest.width)}, {widest.depth}; "
          f"widest of the shallowest: {format_width(shallowest.width)}, {shallowest.depth}")
    print(f"at least as wide as the original: {100 * space.fraction_at_least_as_wide():.2f}% of the space; "
          f"at most as deep: {100 * space.fraction_at_most_as_deep():.2f}%; "
          f"variants that dominate it: {space.dominating():,}")
    print()
    print(histogram_grid(space))
    print("(* = the original cell's width and depth)")
    return 0
