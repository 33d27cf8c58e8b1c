"""Write ``results/bench_cpu/summary.json``: the train benchmark's ``cpu-mini`` rows with provenance.

Usage::

    python benchmarks/cpu_summary.py [--full] [--compile] [--out results/bench_cpu/summary.json]

One torch thread (the rows that compare threads set their own), ``--quick``
sizes unless ``--full``; ``--compile`` also times ``torch.compile`` (minutes
of warm-up).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="cpu_summary.py")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--out", default=str(HERE.parent / "results" / "bench_cpu" / "summary.json"))
    args = parser.parse_args(argv)
    import torch

    sys.path.insert(0, str(HERE))
    import run as harness

    import cellnas_edu

    torch.set_num_threads(1)
    started = time.perf_counter()
    results = harness.run_all(not args.full, "cpu", ["train"], cpu_compile=args.compile, cpu_mini_only=True)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    summary = {
        "provenance": {
            "command": "python benchmarks/cpu_summary.py" + (" --full" if args.full else "")
                       + (" --compile" if args.compile else ""),
            "version": getattr(cellnas_edu, "__version__", None),
            "torch": torch.__version__,
            "git_commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{_cpu_model()}, {os.cpu_count()} CPUs ({platform.machine()}), shared with other jobs",
            "threads": 1,
            "seconds": round(time.perf_counter() - started, 1),
        },
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    for row in results["train"]["rows"]:
        print(f"{row['speedup']:.3f}  cpu {row.get('speedup_cpu_time', float('nan')):.3f}  {row['what']}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
