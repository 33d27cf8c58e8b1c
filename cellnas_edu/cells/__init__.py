"""Cells (Section 3 and Appendix A.2 of the paper): what a cell is, its width and depth, its variants.

The chapter's modules: [`cellspec`][cellnas_edu.cells.cellspec] (the validated
[`CellSpec`][cellnas_edu.cells.cellspec.CellSpec] and [`Genotype`][cellnas_edu.cells.cellspec.Genotype]),
[`genotypes`][cellnas_edu.cells.genotypes]
(the built-in cells, JSON files, the caption names), [`topology`][cellnas_edu.cells.topology]
(width and depth, Section 3.2), [`variants`][cellnas_edu.cells.variants] and
[`space`][cellnas_edu.cells.space] (random variants and the whole connection
space), [`adaptation`][cellnas_edu.cells.adaptation] (Section 5), [`drawing`][cellnas_edu.cells.drawing]
and [`tables`][cellnas_edu.cells.tables] (pictures and text tables).

This package is pure Python and numpy: it never imports torch nor the
`nets`, `train`, `convergence` or `landscape` packages (`tests/test_layering.py`)."""

from .adaptation import adapt, adapt_cell
from .cellspec import OPERATIONS, CellSpec, Genotype
from .genotypes import (
    ADAPTED,
    ALIASES,
    DISPLAY_NAMES,
    POPULAR,
    builtin_names,
    display_name,
    genotype_from_dict,
    get_genotype,
    load_genotype,
    resolve_genotype,
    save_genotype,
)
from .topology import Topology, cell_depth, cell_width, format_width
from .variants import Variant, variant_family

__all__ = [
    "ADAPTED", "ALIASES", "DISPLAY_NAMES", "OPERATIONS", "POPULAR", "CellSpec", "Genotype", "Topology", "Variant",
    "adapt", "adapt_cell", "builtin_names", "cell_depth", "cell_width", "display_name", "format_width",
    "genotype_from_dict", "get_genotype", "load_genotype", "resolve_genotype", "save_genotype", "variant_family",
]
