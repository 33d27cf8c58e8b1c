"""`cellnas params`: parameter counts of the built-in networks next to Table 1 (Section 5)."""

from __future__ import annotations

from . import emit_json

_COLUMNS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "tiny-imagenet-200": "Tiny-ImageNet-200"}


def _layers(text: str) -> int:
    import argparse

    from ..train.config import MAX_LAYERS

    value = _positive(text)
    if value > MAX_LAYERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_LAYERS} cells (the paper uses 20), got {value}")
    return value


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {name, dataset, params_m, params, paper_params_m}")
    parser.add_argument("--C", type=_positive, default=36, help="initial channels (default 36, Appendix A.3)")
    parser.add_argument("--layers", type=_layers, default=20, help="number of cells L (default 20, Appendix A.3)")
    parser.add_argument("--no-auxiliary", dest="auxiliary", action="store_false",
                        help="leave out the auxiliary head (Table 1 counts it)")


def format_param_table(rows) -> str:
    """Rows of [`parameter_table`][cellnas_edu.nets.param_counts.parameter_table] as a text table, one line per
    genotype."""
    datasets = list(dict.fromkeys(row.dataset for row in rows))
    names = list(dict.fromkeys(row.name for row in rows))
    cell = {(row.name, row.dataset): row for row in rows}
    width = max(len(n) for n in names) + 2
    header = "architecture".ljust(width) + "".join(_COLUMNS.get(d, d).rjust(22) for d in datasets)
    lines = [header, "-" * len(header)]
    for name in names:
        parts = []
        for dataset in datasets:
            row = cell[(name, dataset)]
            paper = "" if row.paper_params_m is None else f" ({row.paper_params_m:.2f})"
            parts.append(f"{row.params_m:.2f}{paper}".rjust(22))
        lines.append(name.ljust(width) + "".join(parts))
    return "\n".join(lines)


def run(args) -> int:
    from ..nets.param_counts import parameter_table

    if args.C % 2:
        raise ValueError(f"--C must be even (FactorizedReduce splits channels in two), got {args.C}")
    rows = parameter_table(C=args.C, layers=args.layers, auxiliary=args.auxiliary)
    if args.json:
        emit_json([row.to_json() for row in rows])
        return 0
    print(format_param_table(rows))
    aux = "with" if args.auxiliary else "without"
    print(f"\nparameters in millions, C={args.C}, L={args.layers}, {aux} the auxiliary head; "
          "Table 1's value in parentheses where the paper reports one.")
    return 0
