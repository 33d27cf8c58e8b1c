"""Random connection variants and random operation variants (Appendix A.2, Table 2).

Appendix A.2 samples two kinds of variants of a cell `C`:

* **connection variants**: "we fix the partial order of intermediate nodes and
  their accompanying operations. We then replace the source node of their
  associated operations by uniformly randomly sampling a node from their
  proceeding nodes". Operation `k` of node `j` gets a source drawn
  uniformly from `0 .. j-1`; operations and `concat` stay.
* **operation variants**: "we fix the partial order of intermediate nodes and
  their connection topologies. We then replace the operations coupling each
  connection by uniformly randomly sampling from candidate operations". Every
  operation is drawn uniformly from the seven non-`none` candidates of the
  DARTS space ([`SEARCH_SPACE_OPERATIONS`][cellnas_edu.cells.cellspec.SEARCH_SPACE_OPERATIONS]); sources
  and `concat` stay, so width and depth do not change.

A *family* ([`variant_family`][cellnas_edu.cells.variants.variant_family]) is `K` such samples sorted as in Table 2,
"the width and depth of random variants are in ascending and descending order
respectively from C1 to C13", and labelled `C1 .. CK`.

**Reproducibility**

All randomness comes from one `random.Random(seed)` (Mersenne Twister, integer
seeding) and is consumed only through `getrandbits` with rejection sampling
([`uniform_below`][cellnas_edu.cells.variants.uniform_below]): no floating point is involved, so a seed gives the
same family on every machine, platform and Python version. Draws are consumed
in a fixed order (variant by variant, normal cell before reduction cell,
operation by operation), so the first `k` draws of a family of `K > k` are
the `k` draws of a family of `k` with the same seed.

**Duplicates**

Appendix A.2 samples every variant independently, so by default a family may
contain the same variant twice, or the original cell itself (for the 4-node
DARTS cell that has probability `1/14,400` per draw). `distinct=True`
rejects a draw equal to the original or to an earlier draw and draws again."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from .cellspec import SEARCH_SPACE_OPERATIONS, CellSpec, Genotype, node_of_pair
from .topology import cell_depth, cell_width, format_width

KINDS = ("connections", "operations")
CELLS = ("normal", "reduce", "both")


def uniform_below(rng: random.Random, n: int) -> int:
    """A uniform integer in `0 .. n-1` from `rng.getrandbits` by rejection (no floats)."""
    if n <= 0:
        raise ValueError(f"cannot draw from an empty range (n={n})")
    bits = n.bit_length()
    while True:
        value = rng.getrandbits(bits)
        if value < n:
            return value


def random_connection_cell(cell: CellSpec, rng: random.Random) -> CellSpec:
    """One connection variant: every operation of node `j` reads a uniform source in `0 .. j-1`."""
    return cell.with_sources([uniform_below(rng, node_of_pair(k)) for k in range(len(cell.edges))])


def random_operation_cell(cell: CellSpec, rng: random.Random) -> CellSpec:
    """One operation variant: every operation uniform among the seven non-`none` candidates."""
    ops = SEARCH_SPACE_OPERATIONS
    return cell.with_ops([ops[uniform_below(rng, len(ops))] for _ in cell.edges])


_SAMPLERS = {"connections": random_connection_cell, "operations": random_operation_cell}


@dataclass(frozen=True)
class Variant:
    """One member of a family: `label` `"C1"`.., the resampled `cell` and its width/depth.

    `genotype` is the whole variant genotype (`None` when the family was drawn
    from a bare [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec]); `cell` is the measured cell (the normal cell
    when both were resampled); `draw` is the position in sampling order."""

    label: str
    cell: CellSpec
    genotype: Genotype | None
    width: Fraction
    depth: int
    draw: int

    def caption(self) -> str:
        """`"C1, 2c, 4"` as in Figures 2, 10 and 11."""
        return f"{self.label}, {format_width(self.width)}, {self.depth}"


def space_size(cell: CellSpec, kind: str) -> int:
    """How many distinct cells one draw of `kind` can produce from `cell`."""
    if kind == "connections":
        return math.prod(node_of_pair(k) for k in range(len(cell.edges)))
    return len(SEARCH_SPACE_OPERATIONS) ** len(cell.edges)


def _could_draw_itself(cell: CellSpec, kind: str) -> bool:
    return kind == "connections" or all(op in SEARCH_SPACE_OPERATIONS for op in cell.ops)


def variant_family(
    genotype_or_cell: Genotype | CellSpec,
    kind: str = "connections",
    count: int = 13,
    seed: int = 0,
    cell: str = "normal",
    distinct: bool = False,
) -> list[Variant]:
    """`count` random variants of one kind, sorted by width ascending then depth descending (Table 2).

    `cell` chooses what is resampled: `"normal"` (default, as in Figures 2,
    10, 11 and Table 2), `"reduce"`, or `"both"` (width and depth are then
    those of the normal cell). For a bare [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec] only that cell
    exists and `cell="both"` is an error. Ties keep sampling order."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if isinstance(genotype_or_cell, CellSpec):
        if cell == "both":
            raise ValueError("cell='both' needs a genotype (a normal and a reduction cell), got a single cell")
        genotype, kinds = None, ("normal",)
        originals = {"normal": genotype_or_cell}
    elif isinstance(genotype_or_cell, Genotype):
        genotype = genotype_or_cell
        kinds = ("normal", "reduce") if cell == "both" else (cell,)
        originals = {k: genotype.cell(k) for k in kinds}
    else:
        raise ValueError(f"expected a Genotype or a CellSpec, got {type(genotype_or_cell).__name__}")

    if distinct:
        available = math.prod(space_size(originals[k], kind) for k in kinds)
        if all(_could_draw_itself(originals[k], kind) for k in kinds):
            available -= 1
        if count > available:
            raise ValueError(f"asked for {count} distinct {kind} variants but only {available} exist")

    rng = random.Random(seed)
    sample = _SAMPLERS[kind]
    seen = {tuple(originals[k] for k in kinds)}
    drawn: list[dict[str, CellSpec]] = []
    while len(drawn) < count:
        new = {k: sample(originals[k], rng) for k in kinds}
        key = tuple(new[k] for k in kinds)
        if distinct and key in seen:
            continue
        seen.add(key)
        drawn.append(new)

    measured = "normal" if "normal" in kinds else "reduce"
    rows = sorted(
        ((cell_width(new[measured]), cell_depth(new[measured]), draw, new) for draw, new in enumerate(drawn)),
        key=lambda row: (row[0], -row[1], row[2]),
    )
    family = []
    for i, (width, depth, draw, new) in enumerate(rows, 1):
        label = f"C{i}"
        variant_genotype = None
        if genotype is not None:
            name = f"{genotype.name or 'genotype'}_{kind}_{label}"
            variant_genotype = Genotype(new.get("normal", genotype.normal), new.get("reduce", genotype.reduce), name)
        family.append(Variant(label, new[measured], variant_genotype, width, depth, draw))
    return family

__all__ = [
    "KINDS",
    "CELLS",
    "Variant",
    "random_connection_cell",
    "random_operation_cell",
    "space_size",
    "uniform_below",
    "variant_family",
]
