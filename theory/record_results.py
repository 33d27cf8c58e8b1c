"""Write ``results/theory/summary.json``: every theory check (seed 0, full instance sets) with provenance.

Chapter 6 (docs/theory.md) quotes its numbers from this file (``{{ theory:... }}``, :mod:`cellnas_edu.results`).

    python theory/record_results.py [--seed S] [--root results]

Exit status 0 when the file was written; 2 on a bad flag.
"""

import argparse
import sys
import time

from cellnas_edu.cli import path_arg
from cellnas_edu.errors import UserError
from cellnas_edu.results import write_summary
from cellnas_edu.seeds import seed_arg
from cellnas_edu.theory.script import print_report
from cellnas_edu.theory.summary import CHECKS, run_check


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=seed_arg, default=0,
                        help="seed of the random and hypothesis instances, 0 .. 2**63 - 1 (default 0)")
    parser.add_argument("--root", type=path_arg, default=None, help="results folder (default: the checkout's results/)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = {name: run_check(name, seed=args.seed) for name in CHECKS}
    command = "python theory/record_results.py" + (f" --seed {args.seed}" if args.seed else "")
    try:
        path = write_summary("theory", data, command=command, seconds=time.perf_counter() - started,
                             root=args.root)
    except UserError as exc:
        print(f"record_results.py: error: {exc}", file=sys.stderr)
        return 2
    return print_report(f"written {path}", "record_results.py")


if __name__ == "__main__":
    sys.exit(main())
