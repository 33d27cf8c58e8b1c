"""The JSON side of ``benchmarks/gpu_check.sh``: record each step, compare two landscapes, assemble one report.

Usage (the shell script calls these; each prints nothing on success unless noted)::

    python benchmarks/gpu_check_report.py step DIR NAME RC SECONDS LOG [--figures FILE] [--skipped REASON]
    python benchmarks/gpu_check_report.py pytest-figures LOG              # prints {"passed": n, ...} as JSON
    python benchmarks/gpu_check_report.py bench-figures BENCH_JSON         # prints the train speedup figures
    python benchmarks/gpu_check_report.py compare-landscapes A.npz B.npz   # prints figures; exit 1 if not equal
    python benchmarks/gpu_check_report.py assemble DIR OUT.json            # one JSON of every step

A step record is ``{"name", "ok", "rc", "seconds", "timed_out", "skipped", "figures", "log_tail"}``:
``ok`` is ``rc == 0`` and not skipped; ``timed_out`` is ``rc`` 124 or 137 (``timeout``'s codes).
Only the standard library and NumPy are used, so the report is written even where torch is broken.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

#: tolerances of the CUDA-vs-CPU landscape check: the CUDA grid runs in fp32 but cuDNN may use TF32 convolutions
#: (10-bit mantissa, like bf16's 8 bits it is not bitwise); relative, on finite points
LOSS_RTOL = 1e-2
GRAD_VAR_RTOL = 5e-2


def tail(path: Path, lines: int = 25) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line[:300] for line in text.splitlines()[-lines:]]


def record_step(folder: Path, name: str, rc: int, seconds: float, log: Path, figures: Path | None,
                skipped: str | None) -> dict:
    data = {}
    if figures is not None and Path(figures).is_file():
        try:
            data = json.loads(Path(figures).read_text())
        except (OSError, ValueError) as exc:
            data = {"figures_error": f"{type(exc).__name__}: {exc}"}
    record = {"name": name, "ok": skipped is None and rc == 0, "rc": rc, "seconds": round(seconds, 1),
              "timed_out": rc in (124, 137), "skipped": skipped, "figures": data, "log_tail": tail(log)}
    folder.mkdir(parents=True, exist_ok=True)
    order = len(list(folder.glob("*.json")))
    (folder / f"{order:02d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.json").write_text(json.dumps(record, indent=2))
    return record


def pytest_figures(log: Path) -> dict:
    """``{"passed": n, "failed": n, "skipped": n, "errors": n, "deselected": n}`` from pytest's summary line."""
    counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0, "deselected": 0}
    lines = tail(log, 400)
    for line in reversed(lines):
        found = re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", line)
        if found:
            for number, word in found:
                counts["errors" if word.startswith("error") else word] = int(number)
            break
    counts["failed_tests"] = [line.split(" ", 1)[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return counts


def bench_figures(bench_json: Path) -> dict:
    """The rows of ``benchmarks/run.py --only train --json``: images/s of ours and plain, and the speedup."""
    data = json.loads(Path(bench_json).read_text())
    result = data["results"]["train"]
    figures = {"device": data.get("device"), "quick": data.get("quick"), "rows": result.get("rows", []),
               "seconds": result.get("seconds")}
    for key in ("speedup", "ours_images_per_s", "plain_images_per_s"):
        if key in result:
            figures[key] = result[key]
    speedups = [row["speedup"] for row in result.get("rows", []) if isinstance(row.get("speedup"), (int, float))]
    if speedups and "speedup" not in figures:
        figures["speedup"] = speedups[0]
    if "speedup" in figures:
        figures["goal_2x_met"] = bool(figures["speedup"] >= 2.0)
    return figures


def compare_landscapes(a: Path, b: Path) -> tuple[dict, bool]:
    """Figures comparing the grids of two ``landscape.npz`` files (``a`` the reference), and whether they agree."""
    import numpy as np

    with np.load(a, allow_pickle=False) as fa, np.load(b, allow_pickle=False) as fb:
        figures, agree = {}, True
        for key, rtol in (("loss", LOSS_RTOL), ("grad_var", GRAD_VAR_RTOL)):
            done_key = f"{key}_done"
            if not (fa[done_key].any() or fb[done_key].any()):
                continue
            both = fa[done_key] & fb[done_key]
            x, y = fa[key][both], fb[key][both]
            finite = np.isfinite(x) & np.isfinite(y)
            same_nonfinite = bool(np.array_equal(np.isfinite(x), np.isfinite(y)))
            rel = np.abs(x[finite] - y[finite]) / np.maximum(np.abs(x[finite]), 1e-12)
            worst = float(rel.max()) if rel.size else 0.0
            ok = bool(both.all() and np.array_equal(fa[done_key], fb[done_key]) and same_nonfinite
                      and worst <= rtol)
            c = tuple(s // 2 for s in fa[key].shape)
            figures[key] = {"points": int(both.sum()), "max_rel_diff": worst, "rtol": rtol, "agree": ok,
                            "center_reference": float(fa[key][c]), "center_other": float(fb[key][c])}
            agree = agree and ok
    return figures, agree


def assemble(folder: Path, out: Path) -> dict:
    steps = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]
    report = {
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "python": platform.python_version(),
        "all_ok": bool(steps) and all(s["ok"] or s["skipped"] for s in steps),
        "steps": {s["name"]: s for s in steps},
        "total_seconds": round(sum(s["seconds"] for s in steps), 1),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gpu_check_report.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("step")
    p.add_argument("folder", type=Path)
    p.add_argument("name")
    p.add_argument("rc", type=int)
    p.add_argument("seconds", type=float)
    p.add_argument("log", type=Path)
    p.add_argument("--figures", type=Path)
    p.add_argument("--skipped")
    p = sub.add_parser("pytest-figures")
    p.add_argument("log", type=Path)
    p = sub.add_parser("bench-figures")
    p.add_argument("bench_json", type=Path)
    p = sub.add_parser("compare-landscapes")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p = sub.add_parser("assemble")
    p.add_argument("folder", type=Path)
    p.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.what == "step":
        record_step(args.folder, args.name, args.rc, args.seconds, args.log, args.figures, args.skipped)
    elif args.what == "pytest-figures":
        print(json.dumps(pytest_figures(args.log)))
    elif args.what == "bench-figures":
        print(json.dumps(bench_figures(args.bench_json)))
    elif args.what == "compare-landscapes":
        figures, agree = compare_landscapes(args.a, args.b)
        print(json.dumps(figures))
        return 0 if agree and figures else 1
    else:
        report = assemble(args.folder, args.out)
        print(f"gpu_check: {sum(s['ok'] for s in report['steps'].values())}/{len(report['steps'])} steps ok, "
              f"all_ok={report['all_ok']}; report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
