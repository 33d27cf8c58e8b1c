"""`cellnas search darts`: first-order DARTS on the DARTS search space.

The work is done by [`cellnas_edu.search.darts`][cellnas_edu.search.darts].

Writes the run folder described in that module (the found genotype as `genotype.json`, which
`cellnas analyze`, `train --arch`, `convergence --arch`, `space` ... accept) and prints the found cell's
width and depth, where they lie in Chapter 2's connection space, and the derived cell after each epoch.
`--json` prints `result.json`. `--preset paper` is DARTS' CIFAR-10 search (for CUDA; `--data-root` holds
`cifar-10-batches-py`)."""

from __future__ import annotations

from . import emit_json, path_arg, positive_float, positive_int, seed_arg

PRESET_HELP = {
    "darts": "search size: 'cpu' (C=8, 5 cells, Fashion-MNIST, 160 steps: minutes on a CPU; default) or 'paper' "
             "(DARTS: C=16, 8 cells, CIFAR-10, 50 epochs; needs a GPU)",
    "nb201": "search size: 'cpu' (C=8, one cell a stage, 10,240 Fashion-MNIST images, 800 steps: minutes on a CPU; "
             "default) or 'paper' (NATS-Bench's DARTS: C=16, five cells a stage, CIFAR-10, 50 epochs; needs a GPU)",
}
PRESET_NAMES = {"darts": {"cpu": "cpu", "paper": "paper"}, "nb201": {"cpu": "nb201-cpu", "paper": "nb201-paper"}}
"""`--preset` names to the presets of [`cellnas_edu.search.darts.PRESETS`][cellnas_edu.search.darts.PRESETS]."""


def add_arguments(parser, space: str = "darts") -> None:
    """The flags of `cellnas search darts` (`space="darts"`) and of `cellnas nb201 search` (`"nb201"`)."""
    parser.add_argument("--preset", choices=["cpu", "paper"], default="cpu", help=PRESET_HELP[space])
    parser.add_argument("--dataset", choices=["fashion-mnist", "cifar10", "cifar100", "tiny-imagenet-200",
                                              "synthetic"], help="images to search on (default: the preset's)")
    parser.add_argument("--data-root", help="folder holding the dataset (see 'cellnas train --help')")
    parser.add_argument("--search-images", type=positive_int,
                        help="training images used, split half for the weights and half for the architecture "
                             "(default: the preset's; the whole split for 'paper')")
    parser.add_argument("--epochs", type=positive_int, help="search epochs (default: the preset's)")
    parser.add_argument("--batch-size", type=positive_int, help="images per step in each half (default 64)")
    parser.add_argument("--channels", type=positive_int, dest="init_channels",
                        help="C, the channels of the first cells (default: the preset's)")
    if space == "nb201":
        parser.add_argument("--cells-per-stage", type=positive_int, dest="layers",
                            help="search cells in each of the three stages (default: the preset's)")
    else:
        parser.add_argument("--layers", type=positive_int, help="cells in the supernet (default: the preset's)")
    parser.add_argument("--lr", type=positive_float, help="initial learning rate of the weights (default 0.025)")
    parser.add_argument("--arch-lr", type=positive_float,
                        help="Adam learning rate of the architecture (default: the preset's)")
    parser.add_argument("--seed", type=seed_arg, default=0, help="seed of the initialisation and data order")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=positive_int,
                        help="torch threads on the CPU (default 1, fixed for the search: recorded in search.json and "
                             "reused by --resume)")
    parser.add_argument("--out", type=path_arg, help=f"run folder (default {DEFAULT_OUT[space]}/seed<SEED>)")
    parser.add_argument("--resume", action="store_true", help="continue the search in --out")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print result.json")


DEFAULT_OUT = {"darts": "runs/search_darts", "nb201": "runs/nb201_search"}


def run(args, space: str = "darts") -> int:
    from ..search.darts import DARTS_SPACE, make_search_config, run_search
    from ..train.cpu import torch_threads
    from ..train.determinism import DEFAULT_THREADS

    config = make_search_config(
        PRESET_NAMES[space][args.preset], dataset=args.dataset, data_root=args.data_root,
        search_images=args.search_images,
        epochs=args.epochs, batch_size=args.batch_size, init_channels=args.init_channels, layers=args.layers,
        lr=args.lr, arch_lr=args.arch_lr, seed=args.seed, device=args.device,
    )
    out = args.out or f"{DEFAULT_OUT[space]}/seed{args.seed}"
    if space == "nb201":
        from ..nb201.search import NB201_SPACE as search_space
    else:
        search_space = DARTS_SPACE
    threads = _recorded_threads(out, args.threads) if args.resume else args.threads
    with torch_threads(DEFAULT_THREADS if threads is None else threads):
        result = run_search(config, out, resume=args.resume, progress=not args.no_progress,
                            space=search_space)
    if args.json:
        emit_json(result)
    else:
        print(search_space.report(result))
        print(f"(run folder: {out}; found genotype: {out}/genotype.json)" if space == "darts" else
              f"(run folder: {out}; the found cell's string is in {out}/result.json)")
    return 0


def _recorded_threads(out: str, requested: int | None) -> int | None:
    """On `--resume`: the thread count recorded in `OUT/search.json` (a different `--threads` is refused)."""
    import json
    from pathlib import Path

    from ..train.determinism import NUMERICS_KEY, resume_threads

    manifest = Path(out) / "search.json"
    try:
        from ..io import read_bounded_text

        old = json.loads(read_bounded_text(manifest, what="manifest"))
    except (OSError, ValueError):
        return requested  # nothing readable: the search's own checks report it
    recorded = old.get(NUMERICS_KEY) if isinstance(old, dict) else None
    return resume_threads(recorded, requested, f"search folder {out}")
