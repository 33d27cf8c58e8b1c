"""Write ``results/theory/summary.json``: every theory check (seed 0, full instance sets) with provenance.

Chapter 6 (docs/theory.md) quotes its numbers from this file (``{{ theory:... }}``, :mod:`cellnas_edu.results`).

    python theory/record_results.py [--seed S] [--root results]

Exit status 0 when the file was written; 2 on a bad flag.
"""

import argparse
import sys
import time

from cellnas_edu.results import write_summary
from cellnas_edu.theory.summary import CHECKS, run_check


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the random and hypothesis instances (default 0)")
    parser.add_argument("--root", default=None, help="results folder (default: the checkout's results/)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    started = time.perf_counter()
    data = {name: run_check(name, seed=args.seed) for name in CHECKS}
    command = "python theory/record_results.py" + (f" --seed {args.seed}" if args.seed else "")
    path = write_summary("theory", data, command=command, seconds=time.perf_counter() - started,
                         root=args.root)
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
