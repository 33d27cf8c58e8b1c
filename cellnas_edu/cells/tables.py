"""Width/depth tables of cells (Figure 1, Figure 25), shared by `cellnas cells`, `analyze` and the tour.

[`cell_table`][cellnas_edu.cells.tables.cell_table] measures both cells of every genotype with Section 3.2's
width and depth ([`cellnas_edu.cells.topology`][cellnas_edu.cells.topology]);
[`format_cell_table`][cellnas_edu.cells.tables.format_cell_table]
prints the rows as a fixed-width text table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from .cellspec import Genotype
from .genotypes import DISPLAY_NAMES, display_name  # noqa: F401  (re-exported: they live with the aliases)
from .topology import cell_depth, cell_width, format_width


def format_table(header, rows, indent: str = "") -> str:
    """Column-aligned plain text: `header` (strings), a dashed rule, then `rows` (tuples of strings).

    The one table printer of the package (`cellnas cells`, `analyze`, the
    tour and the convergence summary all use it)."""
    rows = [tuple(str(v) for v in row) for row in rows]
    sizes = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    out = [indent + "  ".join(h.ljust(s) for h, s in zip(header, sizes)).rstrip()]
    out.append(indent + "  ".join("-" * s for s in sizes))
    out.extend(indent + "  ".join(v.ljust(s) for v, s in zip(row, sizes)).rstrip() for row in rows)
    return "\n".join(out)


@dataclass(frozen=True)
class CellRow:
    """One row: a genotype name, which cell, its width (units of `c`) and depth."""

    name: str
    cell: str
    width: Fraction
    depth: int
    dead: tuple[int, ...] = ()

    def to_json(self) -> dict:
        return {"name": self.name, "cell": self.cell, "width": float(self.width), "depth": self.depth}


def cell_table(genotypes: Iterable[Genotype | str] | None = None, cells: Iterable[str] = ("normal", "reduce")):
    """Rows for `genotypes` (built-in names or [`Genotype`][cellnas_edu.cells.cellspec.Genotype] objects; default:
    every built-in)."""
    from .genotypes import builtin_names, get_genotype

    if genotypes is None:
        genotypes = builtin_names()
    rows = []
    for item in genotypes:
        genotype = get_genotype(item) if isinstance(item, str) else item
        for kind in cells:
            cell = genotype.cell(kind)
            dead = tuple(sorted(cell.dead_nodes()))
            rows.append(CellRow(genotype.name or "cell", kind, cell_width(cell), cell_depth(cell), dead))
    return rows


def format_cell_table(rows: list[CellRow]) -> str:
    """A plain-text table: name, cell, width, depth and the dead nodes (ignored by the width)."""
    header = ("architecture", "cell", "width", "depth", "dead nodes")
    lines = [
        (row.name, row.cell, format_width(row.width), str(row.depth), ", ".join(map(str, row.dead)) or "-")
        for row in rows
    ]
    return format_table(header, lines)
