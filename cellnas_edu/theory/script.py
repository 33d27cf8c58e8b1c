"""The shared command line of the scripts in `theory/` (`--json`, `--seed`, `--quick`).

A script is `sys.exit(script_main("theorem_4_2", description))`; it exits 0
whenever the check ran, whatever the verdict, and non-zero only on an error."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import describe_os_error
from ..seeds import seed_arg
from .summary import CHECKS, run_check


def print_report(text: str, script: str) -> int:
    """Print `text` on stdout: 0 when written; 0 too when the reader left (`... | head`); 2 with one line on
    stderr when stdout cannot be written (`> /dev/full`: the disk is full)."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left; not an error of the check
        sys.stdout = None
    except OSError as exc:
        sys.stdout = None  # nothing more can be written there; do not fail again at exit
        print(f"{script}: error: cannot write the output: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    return 0


def script_main(name: str, description: str, argv: list[str] | None = None) -> int:
    """Parse `argv`, run check `name` and print its JSON (`--json`) or its readable report."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--seed", type=seed_arg, default=0,
                        help="seed of the random and hypothesis instances, 0 .. 2**63 - 1 (default 0)")
    parser.add_argument("--quick", action="store_true", help="fewer instances (a few seconds)")
    args = parser.parse_args(argv)
    result = run_check(name, seed=args.seed, quick=args.quick)
    if args.json:
        return print_report(json.dumps(result, indent=2), name)
    return print_report(f"{CHECKS[name][1](result)}\n({result['seconds']:.1f} s, seed {args.seed}"
                        f"{', quick' if args.quick else ''})", name)
