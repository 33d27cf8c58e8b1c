"""Section 5 at student scale: the five popular cells against their adaptations (Chapter 7; cellnas_edu.section5_study).

    python examples/section5_study.py plan      # results/section5_study_plan/: protocol, plan, power (a minute)
    python examples/section5_study.py run       # 5 pairs x 8 seeds, resumable, then results/section5_study/
    python examples/section5_study.py analyze   # recompute the results file from the run folders

`--tiny` runs the same code at the test scale. Progress (runs done, rate, ETA) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from cellnas_edu import section5_study as s5
from cellnas_edu.cli import path_arg
from cellnas_edu.results import load_summary, write_summary


def _command(argv) -> str:
    return "python examples/section5_study.py " + " ".join(shlex.quote(a) for a in argv)


def _write(name, data, args, seconds, root):
    path = write_summary(name, data, command=_command(args.argv), seconds=seconds, root=root)
    print(f"wrote {path}", file=sys.stderr)


def _folder(out: Path, arch: str, seed: int) -> Path:
    return out / "runs" / arch / f"seed{seed}"


def _train_one(arch: str, seed: int, folder: str, tiny: bool) -> float:
    import resource

    import torch

    from cellnas_edu.train import train

    torch.set_num_threads(1)
    before = resource.getrusage(resource.RUSAGE_SELF)
    train(s5.config(arch, seed, tiny=tiny), folder, resume=True, progress=False)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def plan(args, root):
    started = time.perf_counter()
    pilot = load_summary("convergence_followup", root)["records"]
    data = s5.plan(pilot, simulations=100 if args.tiny else 2000)
    _write(f"{s5.NAME}_plan", data, args, time.perf_counter() - started, root)


def run(args, root):
    out = Path(args.out)
    todo = [(a, s) for a, s in s5.runs(args.tiny) if s5.run_record(_folder(out, a, s), a, s) is None]
    total, done, started, cpu = len(s5.runs(args.tiny)), len(s5.runs(args.tiny)) - len(todo), time.time(), 0.0
    timing_path = out / "timing.json"
    timing = json.loads(timing_path.read_text()) if timing_path.exists() else {"cpu_seconds": 0.0,
                                                                               "wall_seconds": 0.0}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(_train_one, a, s, str(_folder(out, a, s)), args.tiny): (a, s) for a, s in todo}
        for k, future in enumerate(as_completed(futures), 1):
            cpu += future.result()
            done += 1
            rate = (time.time() - started) / k
            print(f"section5: {done}/{total} runs ({futures[future][0]} seed {futures[future][1]}), "
                  f"{rate:.1f} s/run, ETA {rate * (total - done) / 60:.1f} min", file=sys.stderr, flush=True)
    timing = {"cpu_seconds": timing["cpu_seconds"] + cpu, "wall_seconds": timing["wall_seconds"] + time.time()
              - started}
    out.mkdir(parents=True, exist_ok=True)
    timing_path.write_text(json.dumps(timing))
    return analyze(args, root)


def analyze(args, root):
    out = Path(args.out)
    timing = json.loads((out / "timing.json").read_text())
    records = [s5.run_record(_folder(out, a, s), a, s) for a, s in s5.runs(args.tiny)]
    if any(r is None for r in records):
        print(f"section5_study.py: error: {sum(r is None for r in records)} runs in {out / 'runs'} are not done; "
              "run the 'run' stage to finish them", file=sys.stderr)
        return 2
    data = {"protocol": s5.protocol(args.tiny), "plan": f"results/{s5.NAME}_plan/summary.json",
            "records": records, "analysis": s5.analyze(records), "runs": len(records),
            "core_seconds_per_run": round(timing["cpu_seconds"] / len(records), 1),
            "timing": {k: round(v, 1) for k, v in timing.items()}}
    _write(s5.NAME, data, args, timing["wall_seconds"], root)
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("stage", choices=("plan", "run", "analyze"))
    parser.add_argument("--out", type=path_arg, default="runs/section5_study", help="folder of the runs")
    parser.add_argument("--results", type=path_arg, default=None, help="results root (default: the repository's)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes, one thread each (default 2)")
    parser.add_argument("--tiny", action="store_true", help="the test scale: seconds, not minutes")
    args = parser.parse_args(argv)
    args.argv = argv
    root = Path(args.results) if args.results else None
    return {"plan": plan, "run": run, "analyze": analyze}[args.stage](args, root) or 0


if __name__ == "__main__":
    sys.exit(main())
