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


def measure(setting: str, steps: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, setting, str(steps)], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return {"setting": setting, **json.loads(out.stdout.strip().splitlines()[-1])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--results", help="results root (default: the repository's results/)")
    args = parser.parse_args(argv)
    from cellnas_edu.results import write_summary

    began = time.perf_counter()
    rows = []
    for round_ in range(args.rounds):  # alternate, so that load changes hit both settings alike
        for setting in (("default", "keep") if round_ % 2 == 0 else ("keep", "default")):
            rows.append({"round": round_, **measure(setting, args.steps)})
            print(rows[-1], file=sys.stderr)
    summary = {}
    for setting in ("default", "keep"):
        mine = [r for r in rows if r["setting"] == setting]
        summary[setting] = {key: statistics.median(r[key] for r in mine)
                            for key in ("wall", "user", "system", "minor_faults", "max_rss_mb")}
    cpu = {s: summary[s]["user"] + summary[s]["system"] for s in summary}
    data = {"protocol": {"network": "Chapter 8 supernet, C=8, 5 cells, batch 64, 1x28x28, channels-last, 1 thread",
                         "rounds": args.rounds, "steps_per_process": args.steps},
            "rows": rows, "median": summary,
            "cpu_time_ratio": cpu["default"] / cpu["keep"],
            "wall_ratio": summary["default"]["wall"] / summary["keep"]["wall"],
            "load_average": list(__import__("os").getloadavg())}
    path = write_summary("bench_malloc", data, command="python benchmarks/malloc_reuse.py " + " ".join(argv or []),
                         seconds=time.perf_counter() - began, root=Path(args.results) if args.results else None)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
