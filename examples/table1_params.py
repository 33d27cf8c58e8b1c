"""Table 1's parameter columns next to the counts of this package's networks (Section 5, Appendix A.3).

Run: ``python examples/table1_params.py`` (a text table) or ``--json``.
Every network has C = 36 initial channels, L = 20 cells and the auxiliary
head; "paper" is Table 1's Params(M), "ours" the exact count in millions.
"""

from __future__ import annotations

import argparse
import json

from cellnas_edu.cells.genotypes import ADAPTED, DISPLAY_NAMES
from cellnas_edu.nets.param_counts import TABLE1_DATASETS, TABLE1_PARAMS_M, parameter_table


def table1_rows() -> list[dict]:
    names = [n for pair in ADAPTED.items() for n in pair]
    counts = {(row.name, row.dataset): row for row in parameter_table(names, TABLE1_DATASETS)}
    rows = []
    for original, adapted in ADAPTED.items():
        for dataset in TABLE1_DATASETS:
            paper = TABLE1_PARAMS_M[original][dataset]
            ours = counts[(original, dataset)], counts[(adapted, dataset)]
            rows.append({
                "architecture": DISPLAY_NAMES.get(original, original),
                "dataset": dataset,
                "paper_params_m": list(paper),
                "params_m": [row.params_m for row in ours],
                "params": [row.params for row in ours],
                "match": all(row.params_m == p for row, p in zip(ours, paper)),
            })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    rows = table1_rows()
    if parser.parse_args().json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'architecture':<14}{'dataset':<20}{'paper (orig/adapt)':>20}{'ours (orig/adapt)':>20}"
          f"{'exact counts':>24}")
    for row in rows:
        paper = "{:.2f}/{:.2f}".format(*row["paper_params_m"])
        ours = "{:.2f}/{:.2f}".format(*row["params_m"])
        exact = "{:,}/{:,}".format(*row["params"])
        flag = "" if row["match"] else "  MISMATCH"
        print(f"{row['architecture']:<14}{row['dataset']:<20}{paper:>20}{ours:>20}{exact:>24}{flag}")
    matched = sum(row["match"] for row in rows)
    print(f"\n{2 * matched}/{2 * len(rows)} Table 1 parameter counts reproduced (millions, two decimals).")


if __name__ == "__main__":
    main()
