"""The numbers printed in the paper, transcribed as data: widths and depths (Figures 1, 2, 10, 11, 25;
Table 2) and parameter counts (Table 1).

Widths are in units of `c` (`3.5` means `3.5c`). Keys of the per-cell
tables are built-in genotype names ([`cellnas_edu.cells.genotypes`][cellnas_edu.cells.genotypes]); the normal
cell is meant everywhere, as in the paper (footnote 3: "We only visualize
normal cells").

These numbers are what [`cellnas_edu.cells.topology`][cellnas_edu.cells.topology],
[`cellnas_edu.cells.space`][cellnas_edu.cells.space]
and [`cellnas_edu.cells.adaptation`][cellnas_edu.cells.adaptation] are checked against. Two captions are
errata (see [`cellnas_edu.cells.topology`][cellnas_edu.cells.topology]): Figure 2(a) prints the original DARTS
cell as `3.5c, 2` and Figure 10(a) prints the original AmoebaNet cell as
`3.5c, 4`; they are kept here verbatim and flagged in [`ERRATA`][cellnas_edu.paper.ERRATA]."""

from __future__ import annotations

TABLE1_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "tiny-imagenet-200")
"""The three datasets of Table 1, in its column order."""

TABLE1_PARAMS_M: dict[str, dict[str, tuple[float, float]]] = {
    "NASNet": {"cifar10": (4.29, 4.32), "cifar100": (4.42, 4.45), "tiny-imagenet-200": (4.57, 4.60)},
    "AmoebaNet": {"cifar10": (3.60, 3.60), "cifar100": (3.71, 3.71), "tiny-imagenet-200": (3.83, 3.83)},
    "ENAS": {"cifar10": (4.32, 4.32), "cifar100": (4.45, 4.45), "tiny-imagenet-200": (4.60, 4.60)},
    "DARTS_V2": {"cifar10": (3.83, 3.90), "cifar100": (3.95, 4.03), "tiny-imagenet-200": (4.08, 4.16)},
    "SNAS_MILD": {"cifar10": (3.14, 3.19), "cifar100": (3.26, 3.31), "tiny-imagenet-200": (3.39, 3.45)},
}
"""Table 1, Params(M) columns, as printed: architecture -> dataset -> (original, adapted)."""

FIGURE1: dict[str, tuple[float, int]] = {
    "NASNet": (5, 2),
    "AmoebaNet": (4, 4),
    "ENAS": (5, 2),
    "DARTS_V2": (3.5, 3),
    "SNAS_MILD": (4, 2),
}
"""Figure 1 (and Section 3.2's text): the five popular normal cells."""

FIGURE25: dict[str, tuple[float, int]] = {
    "NASNet": (5, 2),
    "AmoebaNet": (3, 2),
    "ENAS": (5, 2),
    "DARTS_V2": (4, 2),
    "SNAS_MILD": (4, 2),
}
"""Figure 25: the adapted normal cells, keyed by the *original* architecture."""

TABLE2_BASE: dict[str, tuple[float, int]] = {
    "DARTS_V2": (3.5, 3),
    "ENAS": (5, 2),
    "AmoebaNet": (4, 4),
    "NASNet": (5, 2),
}
"""Table 2: base cell, then C1..C13 (random connection variants of the normal cell)."""
TABLE2_VARIANTS: dict[str, tuple[tuple[float, int], ...]] = {
    "DARTS_V2": ((2, 4), (2, 4), (2, 4), (2.5, 4), (2.5, 4), (2.5, 3), (2.5, 3), (2.5, 3),
                 (3, 3), (3, 3), (3, 3), (3.5, 3), (3.5, 3)),
    "ENAS": ((1.5, 6), (1.5, 5), (2, 6), (2, 6), (2.5, 5), (2.5, 5), (3, 4), (3, 3),
             (3.5, 5), (3.5, 4), (3.5, 4), (3.5, 3), (3.5, 3)),
    "AmoebaNet": ((1.5, 6), (1.5, 5), (1.5, 5), (1.5, 3), (2, 6), (2, 6), (2, 4), (2.5, 5),
                  (2.5, 3), (2.5, 3), (3, 3), (3.5, 4), (3.5, 3)),
    "NASNet": ((1.5, 6), (1.5, 5), (2, 6), (2, 6), (2.5, 5), (2.5, 5), (3, 4), (3, 3),
               (3.5, 5), (3.5, 4), (3.5, 4), (3.5, 3), (3.5, 3)),
}

FIGURE_FAMILIES: dict[str, tuple[str, tuple[tuple[float, int], ...]]] = {
    "Figure 2": ("DARTS_V2", ((3.5, 2), (2.5, 3), (2.5, 3), (2, 4), (2, 4))),
    "Figure 10": ("AmoebaNet", ((3.5, 4), (3.5, 3), (3, 4), (2.5, 5), (2, 6))),
    "Figure 11": ("SNAS_MILD", ((4, 2), (3.5, 3), (3, 3), (2.5, 4), (2, 5))),
}
"""Figures 2, 10 and 11: (cell, [original caption, then the four variants' captions])."""

ERRATA: dict[str, str] = {
    "Figure 2(a)": "DARTS printed as 3.5c, 2: impossible for any cell (half-integer width needs depth >= 3); "
    "Figure 1(d), Table 2 and Section 3.2 give 3.5c, 3",
    "Figure 10(a)": "AmoebaNet printed as 3.5c, 4; Figure 1(b), Table 2 and Section 3.2 give 4c, 4",
}
"""Printed captions that no reading of Section 3.2 reproduces for the given cell."""
