"""Figure 1 and Figure 25 of the paper, redrawn and re-measured.

Draws the normal cells of the five popular architectures (Figure 1: NASNet,
AmoebaNet, ENAS, DARTS, SNAS) and their widest-and-shallowest adaptations
(Figure 25, Section 5), and prints each cell's width and depth (Section 3.2)
next to the caption the paper prints.

    python examples/figure1_cells.py [--out out/figures] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cellnas_edu.cells.adaptation import adapt
from cellnas_edu.cells.drawing import caption_of, draw_cells
from cellnas_edu.cells.genotypes import POPULAR, display_name, get_genotype
from cellnas_edu.cells.topology import Topology, format_width
from cellnas_edu.paper import FIGURE1, FIGURE25


def rows() -> list[dict]:
    out = []
    for figure, printed, adapted in (("Figure 1", FIGURE1, False), ("Figure 25", FIGURE25, True)):
        for name in POPULAR:
            genotype = get_genotype(name)
            cell = adapt(genotype).normal if adapted else genotype.normal
            topology = Topology.of(cell)
            width, depth = printed[name]
            out.append({"figure": figure, "name": display_name(genotype), "width": float(topology.width),
                        "depth": topology.depth, "paper_width": float(width), "paper_depth": depth,
                        "cell": cell})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/figures", help="folder for the drawings (default: out/figures)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    args = parser.parse_args()
    out = Path(args.out)
    table = rows()
    files = []
    # Figure 1's cells are up to six columns deep: one a row keeps the operation labels readable on the page;
    # the adapted cells of Figure 25 are all two deep and fit two a row.
    for figure, ncols in (("Figure 1", 1), ("Figure 25", 2)):
        panels = [(r["cell"], caption_of(r["cell"], r["name"])) for r in table if r["figure"] == figure]
        stem = figure.lower().replace(" ", "")
        for suffix in (".png", ".svg"):
            files.append(str(draw_cells(panels, out / f"{stem}_cells{suffix}", ncols=ncols, op_labels=True)))
    records = [{k: v for k, v in r.items() if k != "cell"} for r in table]
    if args.json:
        print(json.dumps({"rows": records, "files": files}, indent=2))
        return
    print(f"{'figure':<10} {'cell':<10} {'ours':>9} {'paper':>9}")
    for r in records:
        ours = f"{format_width(r['width'])}, {r['depth']}"
        paper = f"{format_width(r['paper_width'])}, {r['paper_depth']}"
        mark = "" if ours == paper else "  <- differs"
        print(f"{r['figure']:<10} {r['name']:<10} {ours:>9} {paper:>9}{mark}")
    print("\nwritten: " + ", ".join(files))


if __name__ == "__main__":
    main()
