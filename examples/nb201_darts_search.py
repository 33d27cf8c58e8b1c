"""First-order DARTS on the NAS-Bench-201 space, 10 seeds, and what each found cell is worth (Chapter 9).

    python examples/nb201_darts_search.py plan      # results/nb201_darts_search_plan/: protocol, plan, power
    python examples/nb201_darts_search.py run       # the searches (resumable), then results/nb201_darts_search/
    python examples/nb201_darts_search.py analyze   # recompute the results file from the run folders
    python examples/nb201_darts_search.py figures   # Chapter 9's three figures of the search, from the results file

The study is declared in cellnas_edu.nb201.search_study; each search is `cellnas nb201 search` with the
protocol's settings, one thread each, two at a time. `--tiny` runs the same code at the test scale.
Progress (searches done, rate, ETA) goes to stderr; a killed run continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from cellnas_edu.cli import path_arg
from cellnas_edu.errors import UserError
from cellnas_edu.io import atomic_write_json, read_bounded_text
from cellnas_edu.nb201 import search_study as study
from cellnas_edu.results import write_summary


def _write(name, data, args, seconds, root):
    command = "python examples/nb201_darts_search.py " + " ".join(shlex.quote(a) for a in args.argv)
    path = write_summary(name, data, command=command, seconds=seconds, root=root)
    print(f"wrote {path}", file=sys.stderr)


def _folder(out: Path, seed: int) -> Path:
    return out / f"seed{seed}"


def _search_one(protocol: study.Protocol, seed: int, folder: str) -> float:
    import resource

    from cellnas_edu.nb201.search import NB201_SPACE
    from cellnas_edu.search.darts import run_search
    from cellnas_edu.train.cpu import torch_threads

    before = resource.getrusage(resource.RUSAGE_SELF)
    with torch_threads(protocol.threads_per_search):
        run_search(protocol.search_config(seed), folder, resume=True, progress=False, space=NB201_SPACE)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def plan(args, protocol, root):
    started = time.perf_counter()
    _write(f"{study.NAME}_plan", study.plan(protocol), args, time.perf_counter() - started, root)


def run(args, protocol, root):
    out = Path(args.out)
    seeds = range(protocol.seeds)
    todo = [s for s in seeds if study.run_record(_folder(out, s), s) is None]
    done, started, cpu = protocol.seeds - len(todo), time.time(), 0.0
    timing_path = out / "timing.json"
    timing = json.loads(read_bounded_text(timing_path, what="timing")) if timing_path.exists() else \
        {"cpu_seconds": 0.0, "wall_seconds": 0.0}
    def finished(k: int, seed: int, seconds: float) -> None:
        nonlocal cpu, done
        cpu, done = cpu + seconds, done + 1
        rate = (time.time() - started) / k
        print(f"nb201 search: {done}/{protocol.seeds} seeds (seed {seed} done), {rate / 60:.1f} min a search, "
              f"ETA {rate * (protocol.seeds - done) / 60:.1f} min", file=sys.stderr, flush=True)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(timing_path, {"cpu_seconds": timing["cpu_seconds"] + cpu,
                                        "wall_seconds": timing["wall_seconds"] + time.time() - started})

    jobs = args.jobs or protocol.workers
    if jobs == 1:  # in this process (also what the tests use: a loaded script's functions cannot be pickled)
        for k, seed in enumerate(todo, 1):
            finished(k, seed, _search_one(protocol, seed, str(_folder(out, seed))))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_search_one, protocol, s, str(_folder(out, s))): s for s in todo}
            for k, future in enumerate(as_completed(futures), 1):
                finished(k, futures[future], future.result())
    return analyze(args, protocol, root)


def analyze(args, protocol, root):
    out = Path(args.out)
    records = [study.run_record(_folder(out, s), s) for s in range(protocol.seeds)]
    if any(r is None for r in records):
        print(f"nb201_darts_search.py: error: {sum(r is None for r in records)} searches in {out} are not done; "
              "run the 'run' stage to finish them", file=sys.stderr)
        return 2
    timing = json.loads(read_bounded_text(out / "timing.json", what="timing"))
    data = {"protocol": study.asdict(protocol), "plan": f"results/{study.NAME}_plan/summary.json",
            "records": records, "analysis": study.analyze(records),
            "core_seconds_per_search": round(timing["cpu_seconds"] / len(records), 1),
            "timing": {k: round(v, 1) for k, v in timing.items()}}
    _write(study.NAME, data, args, timing["wall_seconds"], root)
    return 0


def figures(args, protocol, root):
    import matplotlib

    matplotlib.use("Agg")
    from cellnas_edu.results import load_summary

    summary = load_summary(study.NAME, root)
    out = Path(args.figures)
    out.mkdir(parents=True, exist_ok=True)
    from cellnas_edu.nb201.search_figures import cells_figure, margins_figure, worth_figure

    for draw, name in ((cells_figure, "nb201_search_cells.png"), (margins_figure, "nb201_search_margins.png"),
                       (worth_figure, "nb201_search_worth.png")):
        print(f"wrote {draw(summary, out / name)}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("stage", choices=("plan", "run", "analyze", "figures"))
    parser.add_argument("--out", type=path_arg, default="runs/nb201_darts_search", help="folder of the searches")
    parser.add_argument("--results", type=path_arg, default=None, help="results root (default: the repository's)")
    parser.add_argument("--figures", type=path_arg, default="docs/figures", help="where 'figures' draws")
    parser.add_argument("--tiny", action="store_true", help="the test scale: seconds, not minutes")
    parser.add_argument("--jobs", type=int, choices=range(1, 17), default=None, metavar="N",
                        help="searches at a time, one thread each (default: the protocol's 2); the numbers do not "
                             "depend on it")
    args = parser.parse_args(argv)
    args.argv = argv
    protocol = study.PRESETS["tiny" if args.tiny else "cpu"]
    root = Path(args.results) if args.results else None
    stage = {"plan": plan, "run": run, "analyze": analyze, "figures": figures}[args.stage]
    try:
        return stage(args, protocol, root) or 0
    except UserError as exc:  # a damaged run folder or results file: one line naming it
        print(f"nb201_darts_search.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
