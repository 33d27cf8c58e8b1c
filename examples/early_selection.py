"""Chapter 8's pre-registered study: does selecting candidates by their early test loss favour wide cells?

The default spec of ``cellnas_edu.search.early_selection.EarlySelectionSpec``:
for each of 8 repetitions, 6 random connection variants of the DARTS normal cell
(variant seed = repetition), each trained once for 8 epochs (training seed =
repetition) on 640 Fashion-MNIST images with C = 4, L = 5 (the network of the
Section 4 follow-up study), at learning rates 0.025 and 0.25; the search with
budget k = 1, 2, 4, 8 selects the candidate with the lowest test loss (320
images) after epoch k. That is 2 x 8 x 6 = 96 runs of about 12 core-seconds:
about 10 minutes with ``--jobs 2`` on two free cores. Resumable: finished runs
are skipped.

Usage::

    python examples/early_selection.py                      # the study: runs/early_selection, results/early_selection
    python examples/early_selection.py --tiny --out /tmp/es --results /tmp/results   # seconds

``--bn-recalibration 640`` is the same study with every BatchNorm's statistics re-estimated on the 640
training images before each evaluation (Chapter 3 explains why); it writes
``results/early_selection_recalibrated`` from ``runs/early_selection_recalibrated``.

Writes ``results/early_selection/summary.json`` (``--results DIR``: under DIR):
provenance, the spec and protocol, every run's per-epoch test losses (``records``)
and the analysis recomputed from them (``cellnas_edu.search.early_selection.analyze``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from cellnas_edu.errors import UserError
from cellnas_edu.results import write_summary
from cellnas_edu.search.early_selection import (
    EarlySelectionSpec,
    format_early_selection,
    run_early_selection,
)

EXPERIMENT = "early_selection"


def accuracy_by_k(records: list[dict], analysis: dict) -> list[dict]:
    """Mean, lowest and highest test accuracy of all candidates after each checkpoint `k`, per learning rate:
    how far from chance (10%) the networks were when the search selected among them."""
    rows = []
    for key in analysis["learning_rates"]:
        mine = [r for r in records if r["lr"] == key]
        for row in analysis["learning_rates"][key]["per_k"]:
            accs = [r["test_acc"][row["k"] - 1] for r in mine if r["test_acc"][row["k"] - 1] is not None]
            rows.append({"lr": float(key), "k": row["k"], "mean_test_acc": sum(accs) / len(accs),
                         "min_test_acc": min(accs), "max_test_acc": max(accs)})
    return rows


def quotable(analysis: dict) -> dict:
    """The analysis in the shape the book's quotes can address: learning rates are dictionary keys with a dot
    (`"0.025"`), which a quote path cannot name, so each learning rate becomes a list element with an `lr` field
    (`by_lr[lr=0.025]...`), and the per-`k` results become flat rows for a table."""
    by_lr, rows = [], []
    for key, block in analysis["learning_rates"].items():
        primary, secondary = block["primary"], block["secondary"]
        by_lr.append({"lr": float(key), "H1": primary["H1"], "H2": primary["H2"],
                      "depth_trend": secondary["depth_trend"], "depth_excess": secondary["depth_excess"],
                      "complete_repetitions": block["complete_repetitions"],
                      "diverged_runs": sum(len(rep["diverged"]) for rep in block["repetitions"])})
        for row in block["per_k"]:
            width, depth = row["width_excess"], row["depth_excess"]
            rows.append({"lr": float(key), "k": row["k"], "mean_selected_width": row["mean_selected_width"],
                         "mean_width_excess": width["sign_flip"]["mean"],
                         "width_excess_p": width["sign_flip"]["p_value"],
                         "width_excess_p_uniform": width["uniform_selection"]["p_value"],
                         "wider_in": f"{width['sign_test']['successes']}/{width['sign_test']['trials']}",
                         "mean_depth_excess": depth["sign_flip"]["mean"],
                         "depth_excess_p": depth["sign_flip"]["p_value"],
                         "widest_selected": row["widest_selected"]["count"],
                         "widest_by_chance": row["widest_selected"]["expected_by_chance"]})
    return {"by_lr": by_lr, "per_k": rows}


def train_seconds(out: Path) -> float:
    """The training time of every run of the study (the sum of the epochs' `seconds` in the run folders)."""
    from cellnas_edu.train.runfolder import RunFolder

    folders = sorted(p for p in out.glob("lr*/rep*/*") if p.is_dir())
    return sum(float(m["seconds"]) for folder in folders for m in RunFolder(folder).metrics())


def study_spec(tiny: bool = False, data_root: str | None = None, bn_recalibration: int = 0) -> EarlySelectionSpec:
    """The pre-registered spec (the library's defaults), or its test-scale version; `bn_recalibration` images
    re-estimate the BatchNorm statistics before every evaluation (0: not at all, the first study)."""
    fields = EarlySelectionSpec.preset_fields("tiny" if tiny else "cpu")
    overrides = dict(fields.pop("overrides", None) or EarlySelectionSpec().overrides)
    if data_root:
        overrides["data_root"] = data_root
    if bn_recalibration:
        overrides["bn_recalibration"] = bn_recalibration
    return EarlySelectionSpec(**fields, overrides=overrides)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="test scale: seconds, synthetic data")
    parser.add_argument("--out", default=None, help="runs folder (default runs/early_selection; runs/early_tiny "
                                                    "with --tiny)")
    parser.add_argument("--results", default=None, help="results root (default: the repository's results/)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes, one thread each (default 2)")
    parser.add_argument("--data-root", default=None, help="where Fashion-MNIST is (default: the usual places)")
    parser.add_argument("--bn-recalibration", type=int, default=0, metavar="N",
                        help="re-estimate BatchNorm statistics on N training images before each evaluation "
                             "(writes results/early_selection_recalibrated)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    name = EXPERIMENT + ("_recalibrated" if args.bn_recalibration else "")
    out = Path(args.out or ("runs/early_tiny" if args.tiny else f"runs/{name}"))

    started = time.perf_counter()
    try:
        spec = study_spec(args.tiny, args.data_root, args.bn_recalibration)
        summary = run_early_selection(spec, out, resume=True, progress=not args.no_progress, jobs=args.jobs)
    except (UserError, ValueError) as exc:
        print(f"early_selection: error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    command = "python examples/early_selection.py " + " ".join(shlex.quote(a) for a in argv)
    data = {**summary, "quotable": {**quotable(summary["analysis"]),
                                    "accuracy": accuracy_by_k(summary["records"], summary["analysis"])},
            "timing": {"wall_seconds": round(seconds, 1), "jobs": args.jobs, "runs_total": summary["runs_total"],
                       "train_seconds_total": round(train_seconds(out), 1)}}
    path = write_summary(name, data, command=command.strip(), seconds=seconds,
                         root=Path(args.results) if args.results else None)
    print(format_early_selection(summary))
    print(f"wrote {path}; this invocation took {seconds / 60:.1f} min", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
