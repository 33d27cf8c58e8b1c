"""The shared command line of the scripts in `theory/` (`--json`, `--seed`, `--quick`).

A script is `sys.exit(script_main("theorem_4_2", description))`; it exits 0
whenever the check ran, whatever the verdict, and non-zero only on an error."""

from __future__ import annotations

import argparse
import json
import sys

from .summary import CHECKS, run_check


def script_main(name: str, description: str, argv: list[str] | None = None) -> int:
    """Parse `argv`, run check `name` and print its JSON (`--json`) or its readable report."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random and hypothesis instances (default 0)")
    parser.add_argument("--quick", action="store_true", help="fewer instances (a few seconds)")
    args = parser.parse_args(argv)
    if not 0 <= args.seed <= 2**63 - 1:
        parser.error(f"--seed must be an integer between 0 and 2**63 - 1, got {args.seed}")
    result = run_check(name, seed=args.seed, quick=args.quick)
    try:
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(CHECKS[name][1](result))
            print(f"({result['seconds']:.1f} s, seed {args.seed}{', quick' if args.quick else ''})")
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; not an error of the check
        sys.stdout = None
    return 0
