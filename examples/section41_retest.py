"""The pre-registered re-test of Section 4.1 with BatchNorm recalibrated (Chapter 3; cellnas_edu.section41_retest).

Three stages, in this order (the plan is committed before the runs exist):

    python examples/section41_retest.py plan      # results/section41_retest_plan/: protocol, plan, power (seconds)
    python examples/section41_retest.py run       # trains 11 cells x 8 seeds x 2 learning rates, resumable,
                                                  # then writes results/section41_retest/summary.json
    python examples/section41_retest.py analyze   # recompute the results file from the run folders
    python examples/section41_retest.py landscape # Section 4.2 on the new runs: top Hessian eigenvalue and
                                                  # gradient variance of seeds 0-2 of every cell, both rates

`--tiny` runs the same code at the test scale in seconds. Runs go to `--out` (default runs/section41_retest);
an interrupted `run` continues where it stopped. Progress (runs done, rate, ETA) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from cellnas_edu import section4_study as s4
from cellnas_edu import section41_retest as retest
from cellnas_edu.cli import path_arg
from cellnas_edu.convergence import run_convergence
from cellnas_edu.results import load_summary, write_summary


def _command(argv) -> str:
    return "python examples/section41_retest.py " + " ".join(shlex.quote(a) for a in argv)


def _write(name, data, args, seconds, root):
    path = write_summary(name, data, command=_command(args.argv), seconds=seconds, root=root)
    print(f"wrote {path}", file=sys.stderr)


def plan(args, root):
    started = time.perf_counter()
    pilot = load_summary("convergence_followup", root)["records"]
    data = retest.plan(pilot, simulations=200 if args.tiny else 2000)
    _write(f"{retest.NAME}_plan", data, args, time.perf_counter() - started, root)


def run(args, root):
    spec = retest.spec(tiny=args.tiny)
    out = Path(args.out)
    clock = s4.Clock(out / "timing.json")
    # plot=False: the chapter draws its figures from results/
    run_convergence(spec, out / "runs", resume=True, progress=not args.no_progress, jobs=args.jobs, n_boot=100,
                    plot=False)
    clock.add("run")
    analyze(args, root)


def analyze(args, root):
    spec = retest.spec(tiny=args.tiny)
    out = Path(args.out)
    timing = json.loads((out / "timing.json").read_text())["run"]
    records = retest.records(out / "runs", spec)
    expected = len(spec.lrs) * (spec.count + 1) * spec.seeds
    if len(records) != expected:
        print(f"section41_retest.py: error: {len(records)} of {expected} runs are done in {out / 'runs'}; "
              "run the 'run' stage to finish them", file=sys.stderr)
        return 2
    data = {"protocol": retest.PROTOCOL if not args.tiny else {**retest.PROTOCOL, **retest.TINY},
            "plan": f"results/{retest.NAME}_plan/summary.json", "records": records,
            "analysis": retest.analyze(records, n_boot=200 if args.tiny else s4.N_BOOT), "runs": len(records),
            "core_seconds_per_run": round(timing["cpu_seconds"] / len(records), 1),
            "timing": {k: round(v, 1) for k, v in timing.items()}}
    _write(retest.NAME, data, args, timing["wall_seconds"], root)
    return 0


def landscape(args, root):
    """Section 4.2's measurements (the study's settings: 64 test images, power iteration to 1e-2, at most 20
    products) at the final weights, whose BatchNorm statistics were re-estimated before the last evaluation."""
    spec = retest.spec(tiny=args.tiny)
    runs = Path(args.out) / "runs"
    started = time.perf_counter()
    seeds = 2 if args.tiny else s4.LANDSCAPE_SEEDS
    conv = retest.records(runs, spec)
    by_lr = []
    for lr in spec.lrs:
        measured = s4.measure_landscape_runs(runs, spec, lr=lr, seeds=seeds, jobs=args.jobs)
        records = s4.landscape_records(measured, [r for r in conv if r["lr"] == lr])
        by_lr.append({"lr": lr, "records": records, "analysis": s4.analyze_landscape(
            records, n_boot=200 if args.tiny else s4.N_BOOT)})
    data = {"protocol": {"runs_of": retest.NAME, "seeds": seeds, "samples": s4.LANDSCAPE_SAMPLES,
                         "hessian_tol": s4.HESSIAN_TOL, "hessian_max_iter": s4.HESSIAN_MAX_ITER, "weights": "final",
                         "batchnorm": "the statistics stored with the final weights (re-estimated on the training "
                                      "images before the last evaluation)"},
            "by_lr": by_lr}
    _write(f"{retest.NAME}_landscape", data, args, time.perf_counter() - started, root)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("stage", choices=("plan", "run", "analyze", "landscape"))
    parser.add_argument("--out", type=path_arg, default="runs/section41_retest", help="folder of the runs")
    parser.add_argument("--results", type=path_arg, default=None, help="results root (default: the repository's)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes, one thread each (default 2)")
    parser.add_argument("--tiny", action="store_true", help="the test scale: seconds, not minutes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    args.argv = argv
    root = Path(args.results) if args.results else None
    return {"plan": plan, "run": run, "analyze": analyze, "landscape": landscape}[args.stage](args, root) or 0


if __name__ == "__main__":
    sys.exit(main())
