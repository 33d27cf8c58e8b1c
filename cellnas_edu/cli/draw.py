"""`cellnas draw NAME -o FILE`: a Figure 1-style drawing of a cell, or a Figure 2-style variant family.

The output format follows the extension (`.png` or `.svg`). With
`--variants K` the original cell is drawn first, then a seeded family of K
random variants C1..CK with their widths and depths (Figures 2, 10, 11)."""

from __future__ import annotations

from ..cells.drawing import MAX_PANELS, caption_of, draw_cells, draw_family
from ..cells.genotypes import display_name, resolve_genotype
from ..cells.topology import Topology
from ..cells.variants import KINDS, variant_family
from . import emit_json, path_arg, seed_arg


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", help="built-in architecture (see 'cellnas cells') or genotype .json")
    parser.add_argument("-o", "--output", type=path_arg,
                        metavar="FILE", required=True, help="output file, .png or .svg")
    parser.add_argument("--cell", choices=("normal", "reduce"), default="normal", help="which cell (default: normal)")
    parser.add_argument("--variants", type=int, default=0, metavar="K",
                        help="also draw K random variants (a Figure 2-style family)")
    parser.add_argument("--kind", choices=KINDS, default="connections", help="variant kind (default: connections)")
    parser.add_argument("--seed", type=seed_arg, default=0, help="seed of the variant family (default: 0)")
    parser.add_argument("--columns", type=int, default=3,
                        help="panels per row of a family grid (default: 3, readable at text width)")
    parser.add_argument("--op-labels", dest="op_labels", action="store_true", default=None,
                        help="label arrows with operation names (default: on for one cell, off for a family)")
    parser.add_argument("--no-op-labels", dest="op_labels", action="store_false")
    parser.add_argument("--json", action="store_true", help="print the file written and the captions as JSON")


def run(args) -> int:
    if not 0 <= args.variants < MAX_PANELS:
        raise ValueError(f"--variants must be between 0 and {MAX_PANELS - 1} (one panel each), got {args.variants}")
    if args.columns < 1:
        raise ValueError(f"--columns must be >= 1, got {args.columns}")
    genotype = resolve_genotype(args.name)
    cell = genotype.cell(args.cell)
    name = display_name(genotype)
    panels = [{"caption": caption_of(cell, name), **_topology(cell)}]
    if args.variants:
        family = variant_family(genotype, kind=args.kind, count=args.variants, seed=args.seed, cell=args.cell)
        draw_family(cell, family, args.output, name=name, ncols=args.columns, op_labels=bool(args.op_labels))
        panels += [{"caption": v.caption(), **_topology(v.cell)} for v in family]
    else:
        labels = True if args.op_labels is None else args.op_labels
        draw_cells([(cell, panels[0]["caption"])], args.output, ncols=1, op_labels=labels)
    if args.json:
        emit_json({"path": str(args.output), "panels": panels})
    else:
        print(f"written: {args.output} ({len(panels)} panel{'s' if len(panels) > 1 else ''})")
    return 0


def _topology(cell) -> dict:
    topology = Topology.of(cell)
    return {"width": float(topology.width), "depth": topology.depth}
