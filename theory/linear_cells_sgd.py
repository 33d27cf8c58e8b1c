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

from cellnas_edu.theory.linear_sgd import format_linear_sgd, run_linear_sgd
from cellnas_edu.theory.runtime import single_thread


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--seed", type=int, default=0,
                        help="base seed of data, initialisations and batches (default 0)")
    parser.add_argument("--quick", action="store_true", help="a tiny setting (a few seconds)")
    parser.add_argument("--write-results", action="store_true",
                        help="write results/linear_cells_sgd/summary.json (the file Chapter 6 quotes)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    with single_thread():
        result = run_linear_sgd(seed=args.seed, quick=args.quick)
    if args.write_results:
        from cellnas_edu.results import write_summary

        command = "python theory/linear_cells_sgd.py --write-results" + (f" --seed {args.seed}" if args.seed else "") \
            + (" --quick" if args.quick else "")
        data = {k: v for k, v in result.items() if k != "seconds"}
        path = write_summary("linear_cells_sgd", data, command=command, seconds=result["seconds"])
        print(f"wrote {path}", file=sys.stderr)
    try:
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(format_linear_sgd(result))
            print(f"({result['seconds']:.1f} s CPU, seed {args.seed}{', quick' if args.quick else ''})")
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stdout = None
    return 0


if __name__ == "__main__":
    sys.exit(main())
