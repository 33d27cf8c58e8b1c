"""Table 2 of the paper, resampled, and placed inside the whole connection space.

For DARTS, ENAS, AmoebaNet and NASNet, draws 13 random connection variants of
the normal cell (Appendix A.2; sorted by width up, depth down, labelled
C1..C13), prints them next to the row the paper prints, and summarises the
cell's whole connection space (enumerated exhaustively): its size, the widest
and shallowest variants, and how many variants are at least as wide as the
original cell. The families are drawn Figure 2-style to ``--out``.

The paper does not publish its seed, so the sampled rows differ from the
printed ones; every printed (width, depth) occurs in the space (see
tests/test_space.py), and the printed rows of ENAS and NASNet are identical,
as one seed gives two 5-node, fully concatenated cells here.

    python examples/table2_variants.py [--seed 0] [--out out/figures] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cellnas_edu.cells.drawing import draw_family
from cellnas_edu.cells.genotypes import display_name, get_genotype
from cellnas_edu.cells.space import connection_space
from cellnas_edu.cells.topology import Topology, format_width
from cellnas_edu.cells.variants import variant_family
from cellnas_edu.io import atomic_write_json
from cellnas_edu.paper import TABLE2_BASE, TABLE2_VARIANTS


def pair(width, depth) -> str:
    return f"{format_width(width)},{depth}"


def table(seed: int) -> list[dict]:
    out = []
    for name in TABLE2_BASE:
        genotype = get_genotype(name)
        family = variant_family(genotype, kind="connections", count=13, seed=seed)
        space = connection_space(genotype.normal)
        out.append({
            "name": display_name(genotype),
            "genotype": genotype,
            "family": family,
            "original": Topology.of(genotype.normal),
            "sampled": [(float(v.width), v.depth) for v in family],
            "paper": [(float(w), d) for w, d in TABLE2_VARIANTS[name]],
            "paper_base": TABLE2_BASE[name],
            "space": space.to_json(name, "normal"),
        })
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the families (default: 0)")
    parser.add_argument("--out", default="out/figures", help="folder for the drawings and table2.json")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    out = Path(args.out)
    rows = table(args.seed)
    files = []
    for row in rows:
        path = out / f"table2_{row['name'].lower()}_seed{args.seed}.png"
        draw_family(row["genotype"].normal, row["family"], path, name=row["name"], ncols=2)
        files.append(str(path))
    records = [{k: v for k, v in r.items() if k not in ("genotype", "family", "original")} for r in rows]
    summary = {"seed": args.seed, "rows": records, "files": files}
    atomic_write_json(out / f"table2_seed{args.seed}.json", summary)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"Table 2, 13 random connection variants per cell, seed {args.seed} (paper's printed row below ours)\n")
    for row in rows:
        base = pair(row["original"].width, row["original"].depth)
        print(f"{row['name']} ({base}; paper {pair(*row['paper_base'])})")
        print("  ours : " + " ".join(f"{pair(w, d):>7}" for w, d in row["sampled"]))
        print("  paper: " + " ".join(f"{pair(w, d):>7}" for w, d in row["paper"]))
        s = row["space"]
        print(f"  space: {s['count']:,} variants; max width {s['max_width']:g}c, min depth {s['min_depth']}; "
              f"shallowest of the widest {pair(**s['shallowest_of_widest'])}; "
              f"at least as wide as the original: {100 * s['fraction_at_least_as_wide']:.2f}%\n")
    print("written: " + ", ".join(files + [str(out / f"table2_seed{args.seed}.json")]))


if __name__ == "__main__":
    main()
