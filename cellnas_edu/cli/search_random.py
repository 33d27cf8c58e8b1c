"""`cellnas search random`: select among random connection variants by their test loss after `k` epochs.

Examples:

```text
cellnas search random --tiny --out out/early-tiny            # seconds: the pipeline at test scale
cellnas search random --jobs 2                               # the default study: 96 runs, ~10 min on 2 cores
cellnas search random --arch ENAS --candidates 8 --epochs 6 --select-at 1,3,6 --lrs 0.025 --out out/enas
```

Every repetition draws its own candidates and trains each once for
`--epochs` epochs; the search at budget `k` picks the candidate with the
lowest test loss after epoch `k`. The report says whether the selected
width falls as `k` grows (H1) and whether the early selection is wider than
the average candidate (H2). See
[`cellnas_edu.search.early_selection`][cellnas_edu.search.early_selection]."""

from __future__ import annotations

import argparse
import sys

from . import emit_json, path_arg, positive_int


def _list_of(kind, name: str):
    """argparse type of a comma-separated list (`1,2,4,8`)."""

    def parse(text: str):
        items = [item.strip() for item in text.split(",")]
        try:
            return tuple(kind(item) for item in items)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a comma-separated list of {kind.__name__}s, "
                                             f"got {text!r}") from None

    return parse


def add_arguments(parser) -> None:
    parser.add_argument("--arch", default=None,
                        help="built-in genotype name or genotype JSON file whose normal cell is varied (default DARTS)")
    parser.add_argument("--candidates", type=positive_int, default=None,
                        help="connection variants drawn per repetition (default 6)")
    parser.add_argument("--repetitions", type=positive_int, default=None,
                        help="repetitions R; repetition r uses variant seed and training seed r (default 8, at "
                             "most 20)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="epochs K each candidate trains (default 8)")
    parser.add_argument("--select-at", type=_list_of(int, "--select-at"), default=None, metavar="K1,K2,...",
                        help="epochs after which the search selects, increasing, ending at --epochs "
                             "(default 1,2,4,...,K)")
    parser.add_argument("--lrs", type=_list_of(float, "--lrs"), default=None, metavar="LR1,LR2,...",
                        help="initial learning rates (default 0.025,0.25)")
    parser.add_argument("--dataset", default=None,
                        help="fashion-mnist (default) | synthetic | cifar10 | cifar100 | tiny-imagenet-200")
    parser.add_argument("--data-root", default=None, help="folder holding the dataset (default: the usual places)")
    parser.add_argument("--train-images", type=positive_int, default=None, help="training images (default 640)")
    parser.add_argument("--test-images", type=positive_int, default=None,
                        help="test images the selection reads (default 320)")
    parser.add_argument("--preset", default=None,
                        help="trainer preset under the network flags (default cpu-mini; 'convergence' is Appendix "
                             "A.3's protocol, for a GPU)")
    parser.add_argument("--channels", type=positive_int, default=None, dest="init_channels",
                        help="C of every candidate's network (default 4)")
    parser.add_argument("--layers", type=positive_int, default=None, help="cells per network (default 5)")
    parser.add_argument("--batch-size", type=positive_int, default=None, help="batch size (default 32)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None,
                        help="where the candidates train (default auto)")
    parser.add_argument("--jobs", type=positive_int, default=1,
                        help="train this many runs at once in worker processes, one thread each (default 1)")
    parser.add_argument("--out", type=path_arg, default="runs/search_random",
                        help="experiment folder; runs go to OUT/lr<lr>/rep<r>/<label>/ (default runs/search_random)")
    parser.add_argument("--resume", action="store_true", help="continue the experiment in OUT (finished runs skipped)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print summary.json on stdout")
    parser.add_argument("--tiny", action="store_true",
                        help="test scale, seconds: synthetic data, C=2, L=4, 64/40 images, 3 candidates, "
                             "2 repetitions, 2 epochs (flags still override)")


def spec_from_args(args):
    """The [`EarlySelectionSpec`][cellnas_edu.search.early_selection.EarlySelectionSpec] of the flags (`--tiny`
    changes the defaults; explicit flags win)."""
    from ..search.early_selection import EarlySelectionSpec

    fields = EarlySelectionSpec.preset_fields("tiny" if args.tiny else "cpu")
    overrides = dict(fields.pop("overrides", None) or EarlySelectionSpec().overrides)
    for option, field in (("arch", "arch"), ("candidates", "candidates"), ("repetitions", "repetitions"),
                          ("epochs", "epochs"), ("select_at", "select_at"), ("lrs", "lrs"), ("dataset", "dataset"),
                          ("preset", "preset")):
        value = getattr(args, option)
        if value is not None:
            fields[field] = value
    for option, field in (("train_images", "train_subset"), ("test_images", "test_subset"),
                          ("data_root", "data_root"), ("init_channels", "init_channels"), ("layers", "layers"),
                          ("batch_size", "batch_size"), ("device", "device")):
        value = getattr(args, option)
        if value is not None:
            overrides[field] = value
    return EarlySelectionSpec(**fields, overrides=overrides)


def run(args) -> int:
    from ..search.early_selection import format_early_selection, run_early_selection

    spec = spec_from_args(args)
    summary = run_early_selection(spec, args.out, resume=args.resume, progress=not args.no_progress, jobs=args.jobs)
    if args.json:
        emit_json(summary)
        return 0
    print(format_early_selection(summary))
    print(f"summary: {args.out}/summary.json")
    if spec.repetitions < 5:
        print(f"note: with {spec.repetitions} repetitions the sign and sign-flip p-values cannot fall below "
              f"1/{2 ** spec.repetitions}; use 5 or more for a claim", file=sys.stderr)
    return 0
