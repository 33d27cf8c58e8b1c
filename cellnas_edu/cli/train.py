"""`cellnas train`: train a network with a preset of Appendix A.3/A.4, resumable (Section 4.1, Section 5).

Examples:

```text
cellnas train --arch DARTS --dataset fashion-mnist --preset cpu-mini --out runs/darts-fm
cellnas train --arch DARTS --dataset cifar10 --preset convergence --lr 0.25 --out runs/fig4 --resume
torchrun --nproc_per_node 2 -m cellnas_edu.cli train --arch DARTS --dataset cifar10 --preset generalization --out r
```

Every flag overrides one field of [`TrainConfig`][cellnas_edu.train.TrainConfig];
`--set key=value` (repeatable) reaches the others. With `--json` the
[`RunSummary`][cellnas_edu.train.RunSummary] is printed as JSON on stdout."""

from __future__ import annotations

import argparse
import os

from . import path_arg, positive_float, seed_arg

FLAGS: dict[str, tuple[str, str | None]] = {
    "arch": ("--arch", "built-in genotype name (e.g. DARTS) or genotype JSON file"),
    "dataset": ("--dataset", None),
    "epochs": ("--epochs", None),
    "lr": ("--lr", "initial learning rate (paper: 0.025; Figure 4: 0.0025, 0.25)"),
    "seed": ("--seed", None),
    "device": ("--device", None),
    "batch_size": ("--batch-size", "global batch size (split over torchrun processes)"),
    "init_channels": ("--C", "initial channels C (paper: 36)"),
    "layers": ("--layers", "number of cells L (paper: 20)"),
    "train_subset": ("--train-subset", "number of training images (seeded, stratified)"),
    "test_subset": ("--test-subset", "number of test images (seeded, stratified)"),
    "bn_recalibration": ("--bn-recalibration", "re-estimate BatchNorm statistics on this many training images "
                                               "before each evaluation (default 0: the running statistics)"),
    "data_root": ("--data-root", "where the datasets are (default: $CELLNAS_DATA or ~/.cache/cellnas/data)"),
}
"""TrainConfig fields with a flag of their own: field -> (flag, help). The flag's type (and, for `dataset`
and `device`, its choices) comes from the dataclass; `--set key=value` reaches every other field."""
_LEADING = ("arch", "dataset")
"""Flags that come before the remaining TrainConfig flags in `--help`."""


def _field_flag(parser: argparse.ArgumentParser, field: str) -> None:
    from ..train.config import DATASETS, DEVICES, field_type

    flag, help_text = FLAGS[field]
    kwargs: dict = {"dest": field, "help": help_text, "metavar": flag.lstrip("-").replace("-", "_").upper()}
    base = field_type(field)
    if field == "dataset":
        kwargs.update(required=True, help=" | ".join(DATASETS))
    elif field == "arch":
        kwargs["required"] = True
    elif field == "device":
        kwargs.update(choices=DEVICES[1:] + DEVICES[:1], metavar=None)  # cpu, cuda, auto
    elif field == "seed":
        kwargs["type"] = seed_arg  # 0 .. 2**63 - 1
    elif base in (int, float):
        kwargs["type"] = base
    parser.add_argument(flag, **kwargs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for field in _LEADING:
        _field_flag(parser, field)
    parser.add_argument("--preset", required=True,
                        help="convergence (Section 4) | generalization (Section 5) | cpu-mini | smoke")
    parser.add_argument("--out", type=path_arg, required=True, help="run folder (config, metrics, checkpoints)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    for field in FLAGS:
        if field not in _LEADING:
            _field_flag(parser, field)
    parser.add_argument("--compile", action="store_true", default=None, help="torch.compile the network")
    parser.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any other TrainConfig field, e.g. --set cutout=16 --set grad_clip=none")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (CPU runs; default 1, fixed for the run: recorded in config.json "
                             "and reused by --resume; see cellnas_edu.train.determinism)")
    parser.add_argument("--max-memory", type=positive_float, metavar="GIB",
                        help="refuse a network whose memory lower bound exceeds GIB gibibytes (default: the memory "
                             "free on the device)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--json", action="store_true", help="print the run summary as JSON")


def config_from_args(args: argparse.Namespace):
    """The [`TrainConfig`][cellnas_edu.train.TrainConfig] the flags describe (`ValueError` on bad values)."""
    from ..train import make_config, parse_field

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key.strip()] = parse_field(key.strip(), value)
    for field in FLAGS:
        value = getattr(args, field)
        if value is not None:
            overrides[field] = value
    if args.compile:
        overrides["compile"] = True
    if args.no_amp:
        overrides["amp"] = False
    if getattr(args, "resume", False) and "genotype" not in overrides:
        saved = _saved_genotype(args.out, overrides.get("arch"))
        if saved is not None:
            overrides["genotype"] = saved
    return make_config(args.preset, **overrides)


def _cpu_threads(config, threads: int | None, out: str, resume: bool):
    """The thread count of a CPU run: `--threads`, else
    [`DEFAULT_THREADS`][cellnas_edu.train.determinism.DEFAULT_THREADS]; on `--resume` the count recorded in the
    folder's config.json (a different `--threads` is refused). CUDA runs keep torch's default."""
    from contextlib import nullcontext

    import torch

    from ..train.cpu import torch_threads
    from ..train.determinism import DEFAULT_THREADS, NUMERICS_KEY, resume_threads
    from ..train.runfolder import RunFolder

    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    on_cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    if not on_cpu:
        return nullcontext()
    folder = RunFolder(out)
    if resume and folder.config_path.is_file():
        threads = resume_threads(folder.read_config().get(NUMERICS_KEY), threads, f"run folder {folder.path}")
    return torch_threads(DEFAULT_THREADS if threads is None else threads)


def _saved_genotype(out: str, arch: str | None) -> dict | None:
    """On `--resume`: the genotype in the run folder's config when `--arch` (its label) no longer resolves.

    A run folder carries its genotype as data, so a moved folder resumes even
    when the genotype file named by `--arch` is gone; a file that still
    exists is read and must match (the config check of the trainer)."""
    from ..cells.genotypes import resolve_genotype
    from ..train.runfolder import RunFolder

    if not arch:
        return None
    try:
        resolve_genotype(arch)
        return None
    except (ValueError, OSError):
        pass
    try:
        saved = RunFolder(out).read_config()
    except Exception:  # noqa: BLE001  (no readable run there: the trainer reports it)
        return None
    return saved.get("genotype") if saved.get("arch") == arch else None


def run(args: argparse.Namespace) -> int:
    from ..train import train
    from . import emit_json

    config = config_from_args(args)
    with _cpu_threads(config, args.threads, args.out, args.resume):
        limit = None if args.max_memory is None else int(args.max_memory * 2**30)
        summary = train(config, args.out, resume=args.resume, progress=not args.no_progress, memory_limit=limit)
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
