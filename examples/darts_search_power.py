"""The power of Chapter 8's null result: what the six found cells would have had to average for the exact tests to
reject (the connection space and the derivable cells as nulls, at alpha 0.05 and at Holm's first step 0.025).

    python examples/darts_search_power.py      # seconds; writes results/darts_search_power/summary.json
"""

from __future__ import annotations

import sys
import time

from cellnas_edu.results import load_summary, write_summary
from cellnas_edu.search.against_space import NULLS, critical_values


def main() -> int:
    started = time.perf_counter()
    found = load_summary("darts_search")["analysis"]["found"]
    rows = [critical_values(null, len(found), alpha) for null in NULLS for alpha in (0.05, 0.025)]
    data = {"found_cells": len(found), "found_mean_width": sum(f["width"] for f in found) / len(found),
            "found_mean_depth": sum(f["depth"] for f in found) / len(found), "critical": rows}
    path = write_summary("darts_search_power", data, command="python examples/darts_search_power.py",
                         seconds=time.perf_counter() - started)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
