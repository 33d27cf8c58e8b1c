"""Does keeping freed memory in the process speed up CPU training? (`cellnas_edu.train.cpu.keep_freed_memory`)

Times first-order DARTS search steps (`cellnas_edu.search.darts.search_step`: an architecture step and a weight
step) of Chapter 8's CPU supernet (C = 8, 5 cells, batch 64, 1x28x28, channels-last, one thread) in fresh
subprocesses, alternately with glibc's default allocator settings and with `keep_freed_memory()`, and records
per step: wall time, user and system CPU time, minor page faults. Writes results/bench_malloc/summary.json:

    python benchmarks/malloc_reuse.py                  # 3 rounds x 3 steps per setting (a few minutes)
    python benchmarks/malloc_reuse.py --rounds 1 --steps 1 --results /tmp/r   # the harness, quickly
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import torch
from cellnas_edu.search.darts import search_step
from cellnas_edu.search.supernet import SuperNet
from cellnas_edu.train.cpu import keep_freed_memory

keep, steps = sys.argv[1] == "keep", int(sys.argv[2])
if keep:
    assert keep_freed_memory()
torch.set_num_threads(1)
torch.manual_seed(0)
net = SuperNet(C=8, layers=5, num_classes=10, in_channels=1).to(memory_format=torch.channels_last)
w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
a_opt = torch.optim.Adam(net.arch_parameters(), lr=3e-3, betas=(0.5, 0.999), weight_decay=1e-3)
x = torch.randn(64, 1, 28, 28).contiguous(memory_format=torch.channels_last)
y = torch.randint(0, 10, (64,))
search_step(net, w_opt, a_opt, (x, y), (x, y), 5.0)  # warm-up: the first step maps the memory either way
before, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for _ in range(steps):
    search_step(net, w_opt, a_opt, (x, y), (x, y), 5.0)
after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - began
print(json.dumps({"wall": wall / steps, "user": (after.ru_utime - before.ru_utime) / steps,
                  "system": (after.ru_stime - before.ru_stime) / steps,
                  "minor_faults": (after.ru_minflt - before.ru_minflt) / steps,
                  "max_rss_mb": after.ru_maxrss / 1024}))
"""


def measure(setting: str, steps: int, parallel: int) -> dict:
    """`parallel` processes of one setting at once (2 on 2 cores: how the book runs two searches); the row is
    the mean over the processes."""
    processes = [subprocess.Popen([sys.executable, "-c", CHILD, setting, str(steps)], stdout=subprocess.PIPE,
                                  text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
                 for _ in range(parallel)]
    results = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"benchmark child exited {process.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return {"setting": setting, "parallel": parallel,
            **{key: statistics.mean(r[key] for r in results) for key in results[0]}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2],
                        help="processes of one setting at once (default: 1, then 2)")
    parser.add_argument("--results", help="results root (default: the repository's results/)")
    args = parser.parse_args(argv)
    from cellnas_edu.results import write_summary

    began = time.perf_counter()
    rows = []
    for parallel in args.parallel:
        for round_ in range(args.rounds):  # alternate, so that load changes hit both settings alike
            for setting in (("default", "keep") if round_ % 2 == 0 else ("keep", "default")):
                rows.append({"round": round_, **measure(setting, args.steps, parallel)})
                print(rows[-1], file=sys.stderr)
    by_parallel = []
    for parallel in args.parallel:
        median = {}
        for setting in ("default", "keep"):
            mine = [r for r in rows if r["setting"] == setting and r["parallel"] == parallel]
            median[setting] = {key: statistics.median(r[key] for r in mine)
                               for key in ("wall", "user", "system", "minor_faults", "max_rss_mb")}
        cpu = {s: median[s]["user"] + median[s]["system"] for s in median}
        by_parallel.append({"parallel": parallel, "median": median,
                            "cpu_time_ratio": cpu["default"] / cpu["keep"],
                            "wall_ratio": median["default"]["wall"] / median["keep"]["wall"],
                            "fault_ratio": median["default"]["minor_faults"] / max(median["keep"]["minor_faults"], 1)})
    data = {"protocol": {"network": "Chapter 8 supernet, C=8, 5 cells, batch 64, 1x28x28, channels-last, 1 thread",
                         "rounds": args.rounds, "steps_per_process": args.steps, "parallel": args.parallel},
            "rows": rows, "by_parallel": by_parallel, "load_average": list(os.getloadavg())}
    path = write_summary("bench_malloc", data, command="python benchmarks/malloc_reuse.py " + " ".join(argv or []),
                         seconds=time.perf_counter() - began, root=Path(args.results) if args.results else None)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
