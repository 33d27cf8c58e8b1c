"""Run the benchmarks: every ``benchmarks/bench_*.py`` module, one after the other.

Usage::

    python benchmarks/run.py                 # all benchmarks, full size, device auto (CUDA if present)
    python benchmarks/run.py --quick         # smaller sizes, fewer steps (minutes on 2 CPU cores)
    python benchmarks/run.py --only train --json
    python benchmarks/run.py --only train --quick --tiny   # seconds: a smoke test of the harness itself
    python benchmarks/run.py --quick --threads 1           # pin torch's CPU threads (shared machines)
    python benchmarks/run.py --only train --cpu-mini-only --threads 1 [--cpu-compile]   # the CPU fast path rows

A benchmark module exposes ``run(quick: bool, device: str) -> dict`` and may
accept ``tiny: bool`` as a keyword (the harness passes it only with
``--tiny``, and only to modules whose ``run`` has that parameter). The dict
it returns should have ``"rows"`` (a list of flat dicts, printed as a table)
and may have ``"notes"`` (lines printed under the table); anything else is
kept in the JSON output. Results go to stdout; ``--json`` prints one JSON
object ``{"device": ..., "quick": ..., "results": {name: dict}}`` and
nothing else on stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(only: list[str] | None = None) -> dict[str, Path]:
    """``{name: path}`` of ``bench_<name>.py`` files next to this script, sorted; ``only`` filters by name."""
    found = {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}
    if only:
        unknown = [n for n in only if n not in found]
        if unknown:
            raise SystemExit(f"run.py: error: no benchmark named {', '.join(unknown)} (have: {', '.join(found)})")
        found = {n: found[n] for n in only}
    return found


def load(name: str, path: Path):
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise SystemExit(f"run.py: error: {path.name} has no run(quick, device) function")
    return module


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("run.py: error: --device cuda but CUDA is not available")
    if device not in ("cpu", "cuda"):
        raise SystemExit(f"run.py: error: --device must be auto, cpu or cuda, got {device!r}")
    return device


def run_all(quick: bool, device: str, only: list[str] | None = None, tiny: bool = False,
            cpu_compile: bool = False, cpu_mini_only: bool = False) -> dict:
    """Run the chosen benchmarks and return ``{name: result dict}`` (each with its wall-clock ``seconds``)."""
    results = {}
    for name, path in discover(only).items():
        module = load(name, path)
        kwargs = {"quick": quick, "device": device}
        parameters = inspect.signature(module.run).parameters
        if tiny and "tiny" in parameters:
            kwargs["tiny"] = True
        for flag, on in (("cpu_compile", cpu_compile), ("cpu_mini_only", cpu_mini_only)):
            if on and flag in parameters:
                kwargs[flag] = True
        started = time.perf_counter()
        result = module.run(**kwargs)
        result["seconds"] = round(time.perf_counter() - started, 2)
        results[name] = result
    return results


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "  (no rows)"
    keys = list(dict.fromkeys(k for row in rows for k in row))

    def cell(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    table = [[cell(row.get(k, "")) for k in keys] for row in rows]
    sizes = [max(len(k), *(len(t[i]) for t in table)) for i, k in enumerate(keys)]
    lines = ["  " + "  ".join(k.ljust(s) for k, s in zip(keys, sizes))]
    lines.append("  " + "  ".join("-" * s for s in sizes))
    lines += ["  " + "  ".join(v.ljust(s) for v, s in zip(t, sizes)) for t in table]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run.py", description="cellnas-edu benchmarks (bench_*.py)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer steps")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (seconds; checks the harness, not speed)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--cpu-compile", action="store_true",
                        help="train: also time torch.compile on cpu-mini (minutes of warm-up, stated in the row)")
    parser.add_argument("--cpu-mini-only", action="store_true",
                        help="train: only the cpu-mini rows (skip the 20-cell DARTS row)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks (e.g. train)")
    parser.add_argument("--device", default="auto", help="auto (default) | cpu | cuda")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice, one per core)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if args.threads is not None:
        import torch

        if args.threads < 1:
            raise SystemExit(f"run.py: error: --threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    results = run_all(args.quick, device, args.only, args.tiny, args.cpu_compile, args.cpu_mini_only)
    if args.json:
        print(json.dumps({"device": device, "quick": args.quick, "tiny": args.tiny, "results": results}, indent=2))
        return 0
    for name, result in results.items():
        print(f"== {name} ({device}{', quick' if args.quick else ''}{', tiny' if args.tiny else ''}; "
              f"{result['seconds']} s)")
        print(format_table(result.get("rows", [{k: v for k, v in result.items() if not isinstance(v, (list, dict))}])))
        for note in result.get("notes", []):
            print(f"  - {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
