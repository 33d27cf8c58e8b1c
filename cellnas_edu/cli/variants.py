"""`cellnas variants NAME`: a seeded family of random variants, sorted as in Table 2 (Appendix A.2).

`--kind connections` resamples every operation's source among the preceding
nodes; `--kind operations` resamples every operation among the seven DARTS
candidates. The family is sorted by width ascending, then depth descending,
and labelled C1..CK. The same seed gives the same family on every machine."""

from __future__ import annotations

from pathlib import Path

from ..cells.genotypes import resolve_genotype
from ..cells.topology import Topology, format_width
from ..cells.variants import CELLS, KINDS, variant_family
from ..io import atomic_write_json
from . import emit_json, path_arg, seed_arg

MAX_COUNT = 10_000
"""a family larger than this is no table; (Table 2 uses 13)"""


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", help="built-in architecture (see 'cellnas cells') or genotype .json")
    parser.add_argument("--kind", choices=KINDS, default="connections", help="what to resample (default: connections)")
    parser.add_argument("--count", type=int, default=13, help="number of variants K (default: 13, as in Table 2)")
    parser.add_argument("--seed", type=seed_arg, default=0, help="random seed (default: 0)")
    parser.add_argument("--cell", choices=CELLS, default="normal",
                        help="which cell to resample (default: normal; 'both' measures the normal cell)")
    parser.add_argument("--distinct", action="store_true",
                        help="no duplicates and never the original (Appendix A.2 samples independently)")
    parser.add_argument("-o", "--output", type=path_arg,
                        metavar="FILE.json", help="also write the JSON result to this file")
    parser.add_argument("--json", action="store_true", help="print the family as JSON")


def family_json(genotype, name: str, args, family) -> dict:
    measured = "reduce" if args.cell == "reduce" else "normal"
    original = Topology.of(genotype.cell(measured))
    return {
        "name": name,
        "kind": args.kind,
        "cell": args.cell,
        "seed": args.seed,
        "count": args.count,
        "distinct": args.distinct,
        "original": {"width": float(original.width), "depth": original.depth},
        "variants": [
            {"label": v.label, "width": float(v.width), "depth": v.depth, "draw": v.draw,
             "genotype": v.genotype.to_dict()}
            for v in family
        ],
    }


def run(args) -> int:
    if not 0 <= args.count <= MAX_COUNT:
        raise ValueError(f"--count must be between 0 and {MAX_COUNT}, got {args.count}")
    genotype = resolve_genotype(args.name)
    name = genotype.name or args.name
    family = variant_family(genotype, kind=args.kind, count=args.count, seed=args.seed, cell=args.cell,
                            distinct=args.distinct)
    data = family_json(genotype, name, args, family)
    if args.output:
        atomic_write_json(Path(args.output), data)
    if args.json:
        emit_json(data)
        return 0
    measured = "reduce" if args.cell == "reduce" else "normal"
    print(f"{name}: {args.count} random {args.kind[:-1]} variants of the {args.cell} cell, seed {args.seed}")
    print(f"original {measured} cell: {Topology.of(genotype.cell(measured)).label()}")
    print(f"{'label':<6} {'width':>6} {'depth':>5}  sources / operations of the {measured} cell")
    for v in family:
        detail = v.cell.sources if args.kind == "connections" else v.cell.ops
        print(f"{v.label:<6} {format_width(v.width):>6} {v.depth:>5}  {' '.join(map(str, detail))}")
    if args.output:
        print(f"written: {args.output}")
    return 0
