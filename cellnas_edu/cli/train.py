"""``cellnas train``: train a network with a preset of Appendix A.3/A.4, resumable (Section 4.1, Section 5).

Examples::

    cellnas train --arch DARTS --dataset fashion-mnist --preset cpu-mini --out runs/darts-fm
    cellnas train --arch DARTS --dataset cifar10 --preset convergence --lr 0.25 --out runs/fig4 --resume
    torchrun --nproc_per_node 2 -m cellnas_edu.cli train --arch DARTS --dataset cifar10 --preset generalization --out r

Every flag overrides one field of :class:`~cellnas_edu.train.TrainConfig`;
``--set key=value`` (repeatable) reaches the others. With ``--json`` the
:class:`~cellnas_edu.train.RunSummary` is printed as JSON on stdout.
"""

from __future__ import annotations

import argparse
import os

HELP = "train a network (Appendix A.3/A.4 presets), resumable"

#: flag destination -> TrainConfig field
_FLAG_FIELDS = {
    "arch": "arch", "dataset": "dataset", "epochs": "epochs", "lr": "lr", "seed": "seed", "device": "device",
    "batch_size": "batch_size", "C": "init_channels", "layers": "layers", "train_subset": "train_subset",
    "test_subset": "test_subset", "data_root": "data_root",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", required=True, help="built-in genotype name (e.g. DARTS) or genotype JSON file")
    parser.add_argument("--dataset", required=True,
                        help="cifar10 | cifar100 | tiny-imagenet-200 | fashion-mnist | synthetic")
    parser.add_argument("--preset", required=True,
                        help="convergence (Section 4) | generalization (Section 5) | cpu-mini | smoke")
    parser.add_argument("--out", required=True, help="run folder (config, metrics, checkpoints)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr", type=float, help="initial learning rate (paper: 0.025; Figure 4: 0.0025, 0.25)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--batch-size", type=int, help="global batch size (split over torchrun processes)")
    parser.add_argument("--C", type=int, help="initial channels C (paper: 36)")
    parser.add_argument("--layers", type=int, help="number of cells L (paper: 20)")
    parser.add_argument("--train-subset", type=int, help="number of training images (seeded, stratified)")
    parser.add_argument("--test-subset", type=int, help="number of test images (seeded, stratified)")
    parser.add_argument("--data-root", help="where the datasets are (default: $CELLNAS_DATA or ~/.cache/cellnas/data)")
    parser.add_argument("--compile", action="store_true", default=None, help="torch.compile the network")
    parser.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any other TrainConfig field, e.g. --set cutout=16 --set grad_clip=none")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (CPU runs; default: the idle cores, 1 per process under torchrun "
                             "with several processes; see cellnas_edu.train.cpu.choose_threads)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--json", action="store_true", help="print the run summary as JSON")


def config_from_args(args: argparse.Namespace):
    """The :class:`~cellnas_edu.train.TrainConfig` the flags describe (``ValueError`` on bad values)."""
    from ..train import make_config, parse_field

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key.strip()] = parse_field(key.strip(), value)
    for flag, field in _FLAG_FIELDS.items():
        value = getattr(args, flag)
        if value is not None:
            overrides[field] = value
    if args.compile:
        overrides["compile"] = True
    if args.no_amp:
        overrides["amp"] = False
    return make_config(args.preset, **overrides)


def _cpu_threads(config, threads: int | None):
    """The thread count of a CPU run (:func:`cellnas_edu.train.cpu.choose_threads` unless ``--threads``); CUDA runs
    keep torch's default."""
    from contextlib import nullcontext

    import torch

    from ..train.cpu import choose_threads, torch_threads

    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    on_cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    if not on_cpu:
        return nullcontext()
    if threads is None:
        threads = choose_threads(jobs=max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    return torch_threads(threads)


def run(args: argparse.Namespace) -> int:
    from ..train import train
    from . import emit_json

    config = config_from_args(args)
    with _cpu_threads(config, args.threads):
        summary = train(config, args.out, resume=args.resume, progress=not args.no_progress)
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    if args.json:
        emit_json(summary.to_dict())
        return 0
    if summary.diverged:
        last = summary.metrics[-1]
        print(f"{config.arch} on {config.dataset}: diverged at epoch {last['epoch']} (lr {config.lr:g}); "
              f"recorded in {summary.out_dir}")
        return 0
    accuracy = "not evaluated" if summary.final_test_acc is None else f"{summary.final_test_acc:.2f}%"
    print(f"{config.arch} on {config.dataset}: {summary.epochs_done}/{config.epochs} epochs, "
          f"test accuracy {accuracy}, test loss {summary.final_test_loss}, in {summary.out_dir} "
          f"({summary.seconds:.1f} s)")
    return 0
