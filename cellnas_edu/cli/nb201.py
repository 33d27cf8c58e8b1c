"""`cellnas nb201`: NAS-Bench-201's 15,625 trained cells, their width and depth, and the thesis on them (Chapter 9).

    cellnas nb201 cell ARCH          validate a cell; its live edges, width, depth, keys and accuracies
    cellnas nb201 section5           final accuracy against width and depth (Section 5 at paper scale)
    cellnas nb201 found [ARCH]       where a found cell sits (Observation 3.1; default: DARTS's all-skip cell)
    cellnas nb201 chapter            every number Chapter 9 quotes (what results/nb201/summary.json holds)
    cellnas nb201 draw ARCH -o FILE  draw a cell (PNG or SVG)
    cellnas nb201 search             first-order DARTS on this space (Fashion-MNIST, CPU), and the found cell's worth
    cellnas nb201 sources            where the shipped numbers come from, and their licences
    cellnas nb201 schedules --nats-dir DIR         12-epoch against 200-epoch ranking, by width and depth
    cellnas nb201 early-selection --nats-dir DIR   select after k epochs of the 200-epoch curves (Chapter 8)

ARCH is an architecture string (``|nor_conv_3x3~0|+|...|+|...|``), a NATS-Bench index (``0`` to ``15624``) or
NASLib's op indices (``naslib:2,2,0,4,2,0``). Everything but ``search``, ``schedules`` and ``early-selection`` reads
the table shipped with the package: no download, no network, no torch; the whole chapter is computed in seconds.
``search`` trains a supernet (torch, minutes on a CPU); ``schedules`` and ``early-selection`` read NATS-Bench's own
per-epoch archive, ``NATS-tss-v1_0-3ffb9-simple/`` (``--nats-dir``), which the package does not ship."""

from __future__ import annotations

from ..nb201 import analysis
from ..nb201.cell import NB201Cell
from ..nb201.data import DATASETS, SOURCES, load_results
from ..nb201.params import network_parameters
from . import emit_json, path_arg

ACTIONS = {
    "cell": "validate a cell: live edges, width, depth, NATS-Bench's key, the canonical form, accuracies",
    "section5": "final test accuracy against width and depth over the trained cells (Section 5 at paper scale)",
    "found": "where a found cell sits in width, depth and accuracy (Observation 3.1; default: DARTS's cell)",
    "chapter": "every number Chapter 9 quotes",
    "draw": "draw a cell as PNG or SVG",
    "search": "run first-order DARTS on this space and look up what the found cell scores after 200 epochs",
    "sources": "where the shipped numbers come from, and their licences",
    "schedules": "rank by the 12-epoch against the 200-epoch schedule, by width and depth (NATS-Bench's files)",
    "early-selection": "pick the best of random candidates after k epochs of the 200-epoch curves (NATS-Bench's files)",
}
NATS_COMMANDS = ("schedules", "early-selection")


def cell_arg(text: str) -> NB201Cell:
    """An architecture string, a NATS-Bench index, or ``naslib:`` followed by six comma-separated op indices."""
    text = text.strip()
    if text.isdigit():
        return load_results().cell(int(text))
    if text.startswith("naslib:"):
        parts = text[len("naslib:"):].strip("()").split(",")
        try:
            return NB201Cell.from_naslib([int(p) for p in parts])
        except ValueError as exc:
            raise ValueError(f"ARCH {text!r}: {exc}") from None
    return NB201Cell.from_arch_string(text)


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    sub.required = True
    for name, help_text in ACTIONS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name in ("cell", "draw"):
            p.add_argument("arch", metavar="ARCH", help="architecture string, NATS-Bench index or naslib:i,i,i,i,i,i")
        if name == "found":
            p.add_argument("arch", metavar="ARCH", nargs="?", default=analysis.DARTS_CELL,
                           help="the found cell (default: the all-skip cell DARTS finds on CIFAR-10)")
        if name == "section5":
            p.add_argument("--dataset", choices=tuple(DATASETS), default=None, help="one dataset (default: all three)")
            p.add_argument("--unit", choices=analysis.UNITS, default=analysis.UNITS[0],
                           help="unit of analysis (default: live-classes, duplicates merged)")
        if name in NATS_COMMANDS:
            _add_nats_arguments(p, name)
        if name == "search":
            from . import search_darts

            search_darts.add_arguments(p, space="nb201")
            continue
        if name == "draw":
            p.add_argument("-o", "--output", type=path_arg,
                           metavar="FILE", required=True, help="output file, .png or .svg")
        if name != "sources":
            p.add_argument("--json", action="store_true", help="print the result as JSON")


def _k_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(k) for k in text.split(","))
    except ValueError:
        raise ValueError(f"--k {text!r}: comma-separated epochs such as 5,12,25") from None


def _add_nats_arguments(p, name: str) -> None:
    from ..nb201.natsbench import ARCHIVE_NAME
    from ..nb201.natsbench import DATASETS as NATS_DATASETS

    p.add_argument("--nats-dir", metavar="DIR", default=None,
                   help=f"NATS-Bench's {ARCHIVE_NAME} folder (or the folder holding it)")
    p.add_argument("--dataset", choices=NATS_DATASETS, default="cifar10", help="NATS-Bench dataset (default: cifar10)")
    if name == "early-selection":
        p.add_argument("--k", type=_k_list, default=(5, 12, 25, 50, 100), metavar="K[,K...]",
                       help="select after these epochs of the 200-epoch run (default: 5,12,25,50,100)")
        p.add_argument("--candidates", type=int, default=10, help="architectures in each random set (default: 10)")
        p.add_argument("--trials", type=int, default=1000, help="random candidate sets (default: 1000)")
        p.add_argument("--seed", type=int, default=0, help="seed of the candidate sets (default: 0)")


def _print_schedules(data: dict) -> None:
    rho = data["spearman_12_vs_200"]
    print(f"{data['dataset']}: {data['n']} trainable architectures ({data['untrainable_left_out']} untrainable left "
          f"out); final test accuracy, hp=12 against hp=200 (separate runs)")
    print(f"Spearman rho, 12 vs 200: {'undefined' if rho is None else f'{rho:+.3f}'}")
    for key in ("width", "depth"):
        for row in data[f"by_{key}"]:
            r = row["spearman_12_vs_200"]
            print(f"  {key} {row[key]} (n = {row['n']}): rho {'undefined' if r is None else f'{r:+.3f}'}, "
                  f"mean rank {row['mean_rank_12']:.1f} at hp=12, {row['mean_rank_200']:.1f} at hp=200")
    c = data["widest_shallowest"]
    verdict = "higher early" if c["ranks_higher_early"] else "not higher early"
    print(f"widest, shallowest (width {c['width']}, depth {c['depth']}, n = {c['n']}): mean rank "
          f"{c['mean_rank_12']:.1f} at hp=12, {c['mean_rank_200']:.1f} at hp=200: ranks {verdict}")


def _print_early_selection(data: dict) -> None:
    print(f"{data['dataset']}: best of {data['candidates']} random architectures ({data['trials']} sets from "
          f"{data['n']} on disk), picked by test accuracy after k of {data['epochs']} epochs vs by final accuracy")
    for row in data["by_k"]:
        r = row["spearman_k_vs_final"]
        print(f"  k = {row['k']:>3}: final {row['mean_final_selected']:.2f}% vs {row['mean_final_best']:.2f}% "
              f"(regret {row['mean_regret']:.2f}), optimal in {100 * row['share_optimal']:.1f}% of sets, "
              f"rho(k, final) {'undefined' if r is None else f'{r:+.3f}'}")


def describe(cell: NB201Cell) -> dict:
    results = load_results()
    index = results.index_of(cell)
    return {
        "arch": cell.to_arch_string(), "index": index, "naslib": list(cell.to_naslib()),
        "live_edges": list(cell.live_edges), "trainable": cell.is_trainable,
        "width": cell.width, "depth": cell.depth, "convs_on_longest_path": cell.convs_on_longest_path,
        "live_convolutions": cell.live_convolutions, "parameters": network_parameters(cell),
        "unique_string": cell.unique_string(), "canonical": cell.canonical().to_arch_string(),
        "test_accuracy_200ep": {d: float(results.test_accuracy(d)[index]) for d in DATASETS},
    }


def _print_cell(data: dict) -> None:
    print(data["arch"])
    print(f"NATS-Bench index {data['index']}; NASLib op indices {tuple(data['naslib'])}")
    if not data["trainable"]:
        print("not trainable: no live path joins the input to the output")
    print(f"width {data['width']}, depth {data['depth']}, convolutions on the longest path "
          f"{data['convs_on_longest_path']}, live convolutions {data['live_convolutions']}, "
          f"{data['parameters']:,} parameters (C=16, N=5, 10 classes)")
    print(f"live-graph canonical form: {data['canonical']}")
    print(f"NATS-Bench UniqueString:   {data['unique_string']}")
    accuracy = ", ".join(f"{d} {a:.2f}%" for d, a in data["test_accuracy_200ep"].items())
    print(f"200-epoch test accuracy: {accuracy}")


def _print_section5(rows: list[dict], unit: str) -> None:
    print(f"Section 5 at paper scale: Spearman's rho with final test accuracy ({unit}; "
          "95% intervals and p-values asymptotic)")
    for r in rows:
        print(f"\n{r['dataset']} (n = {r['n']:,})")
        for name in ("width", "depth", "live_convolutions"):
            c = r[name]
            p = f"{c['p_asymptotic']:.1e}" if c["p_asymptotic"] > 0 else "< 1e-300"
            print(f"  {name:<18} rho = {c['rho']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}], p = {p} (asymptotic)")
        pooled = r["pooled_within_strata"]
        print(f"  within strata of live convolutions: width {pooled['width']:+.3f}, depth {pooled['depth']:+.3f}")
        d = r["widest_shallowest_minus_rest"]
        print(f"  width 3, depth 2 minus the rest: {d['mean']:+.2f} points [{d['low']:+.2f}, {d['high']:+.2f}]")


def run(args) -> int:
    if args.action == "sources":
        print(SOURCES)
        return 0
    if args.action == "search":
        from . import search_darts

        return search_darts.run(args, space="nb201")
    if args.action == "cell":
        data = describe(cell_arg(args.arch))
        emit_json(data) if args.json else _print_cell(data)
    elif args.action == "draw":
        from ..nb201.drawing import caption_of, draw_cell

        cell = cell_arg(args.arch)
        draw_cell(cell, args.output)
        if args.json:
            emit_json({"path": str(args.output), "caption": caption_of(cell)})
        else:
            print(f"wrote {args.output}")
    elif args.action == "section5":
        u = analysis.units(args.unit)
        rows = [analysis.section5(u, d) for d in ([args.dataset] if args.dataset else DATASETS)]
        emit_json(rows) if args.json else _print_section5(rows, args.unit)
    elif args.action == "found":
        data = analysis.observation31(arch=cell_arg(args.arch).to_arch_string())
        if args.json:
            emit_json(data)
        else:
            print(f"{data['arch']} (index {data['index']}): width {data['width']}, depth {data['depth']}")
            print(f"trainable cells at least as wide: {100 * data['share_at_least_as_wide']:.1f}%; "
                  f"at most as deep: {100 * data['share_at_most_as_deep']:.1f}%")
            for d, a in data["accuracy"].items():
                print(f"{d}: {a['test_accuracy']:.2f}% test accuracy, percentile {a['percentile']:.1f}")
    elif args.action in NATS_COMMANDS:
        from ..nb201 import schedules
        from ..nb201.natsbench import open_archive

        archive = open_archive(args.nats_dir)
        if args.action == "schedules":
            data = schedules.schedules(archive, args.dataset)
            emit_json(data) if args.json else _print_schedules(data)
        else:
            data = schedules.early_selection(archive, args.dataset, args.k, args.candidates, args.trials, args.seed)
            emit_json(data) if args.json else _print_early_selection(data)
    elif args.action == "chapter":
        data = analysis.chapter()
        if args.json:
            emit_json(data)
        else:
            print(f"verdict (live-graph classes, committed rule): {data['verdict']}")
            _print_section5(data["section5"]["live-classes"], "live-classes")
    return 0
