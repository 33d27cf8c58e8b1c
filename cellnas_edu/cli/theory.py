"""`cellnas theory`: equations (1)-(4) and Theorems 4.1-4.3 checked numerically (Section 4.3, Appendix C).

Runs every check of [`cellnas_edu.theory`][cellnas_edu.theory] in-process and prints a summary
(the scripts in `theory/` print the full reports). `--json` prints
`{"gradient_identity": {...}, "theorem_4_2": {...}, "theorem_4_3": {...}, "theorem_4_1": {...}}`.
Exit status 0 whenever the checks ran, whatever their verdicts.

`cellnas theory sgd` instead trains the widest and narrowest linear cells by SGD and compares their speed
seed by seed ([`cellnas_edu.theory.linear_sgd`][cellnas_edu.theory.linear_sgd]; the JSON of
`theory/linear_cells_sgd.py --json`)."""

from __future__ import annotations

from . import emit_json, seed_arg


def add_arguments(parser) -> None:
    parser.add_argument("check", nargs="?", choices=["sgd"],
                        help="'sgd': train the widest and narrowest linear cells by SGD and compare their speed "
                             "(Section 4.3 in its own setting) instead of checking the theorems")
    parser.add_argument("--json", action="store_true", help="print every check's result as one JSON object")
    parser.add_argument("--seed", type=seed_arg, default=0,
                        help="seed of the random and hypothesis instances (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer instances (a few seconds instead of about a minute)")


def run(args) -> int:
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.check == "sgd":
        return _run_sgd(args)
    from ..theory import format_summary, theory_summary

    summary = theory_summary(seed=args.seed, quick=args.quick)
    if args.json:
        emit_json(summary)
    else:
        print(format_summary(summary))
        seconds = sum(result["seconds"] for result in summary.values())
        print(f"({seconds:.1f} s; full reports: python theory/<check>.py)")
    return 0


def _run_sgd(args) -> int:
    from ..theory.linear_sgd import format_linear_sgd, run_linear_sgd
    from ..theory.runtime import single_thread

    with single_thread():
        result = run_linear_sgd(seed=args.seed, quick=args.quick)
    if args.json:
        emit_json(result)
    else:
        print(format_linear_sgd(result))
        print(f"({result['seconds']:.1f} s CPU)")
    return 0
