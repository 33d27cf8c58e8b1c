"""Section 4.3 in its own setting: the widest and narrowest linear cells of Figure 26 trained by plain SGD.

Trains both cells on the same per-seed data sets (regression and softmax classification), n in {2, 3, 4, 6}, four
learning rates per objective, two initialisations, two pairings (same initial function / independent draws),
200 seeds per configuration, and compares steps-to-threshold seed by seed with a paired exact sign test (Holm over
configurations). Along the trajectory it measures both cells' block-Lipschitz constants and gradient variances.

    python theory/linear_cells_sgd.py [--json] [--seed S] [--quick] [--write-results]

--write-results writes results/linear_cells_sgd/summary.json (with provenance), which Chapter 6 quotes; the figure
is made from that file by examples/linear_cells_sgd.py. Exit status 0 whenever the experiment ran (whatever the
verdict), 2 on bad arguments. The logic lives in cellnas_edu.theory.linear_sgd.
"""

import argparse
import json
import sys

from cellnas_edu.errors import UserError
from cellnas_edu.seeds import seed_arg
from cellnas_edu.theory.linear_sgd import format_linear_sgd, run_linear_sgd
from cellnas_edu.theory.runtime import single_thread
from cellnas_edu.theory.script import print_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--seed", type=seed_arg, default=0,
                        help="base seed of data, initialisations and batches, 0 .. 2**63 - 1 (default 0)")
    parser.add_argument("--quick", action="store_true", help="a tiny setting (a few seconds)")
    parser.add_argument("--write-results", action="store_true",
                        help="write results/linear_cells_sgd/summary.json (the file Chapter 6 quotes)")
    args = parser.parse_args(argv)
    with single_thread():
        result = run_linear_sgd(seed=args.seed, quick=args.quick)
    if args.write_results:
        from cellnas_edu.results import write_summary

        command = "python theory/linear_cells_sgd.py --write-results" + (f" --seed {args.seed}" if args.seed else "") \
            + (" --quick" if args.quick else "")
        data = {k: v for k, v in result.items() if k != "seconds"}
        try:
            path = write_summary("linear_cells_sgd", data, command=command, seconds=result["seconds"])
        except UserError as exc:
            print(f"linear_cells_sgd.py: error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        return print_report(json.dumps(result, indent=2), "linear_cells_sgd.py")
    return print_report(f"{format_linear_sgd(result)}\n({result['seconds']:.1f} s CPU, seed {args.seed}"
                        f"{', quick' if args.quick else ''})", "linear_cells_sgd.py")


if __name__ == "__main__":
    sys.exit(main())
