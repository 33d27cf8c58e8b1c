"""Mutation testing of the core modules: plausible one-token bugs, each run against that module's own tests.

``make mutants`` (not part of ``make test``) runs this script. For every module of :data:`MODULES` it parses the
source with :mod:`ast`, enumerates mutation points (operator swaps, comparison and boolean swaps, dropped ``not``
and unary minus, numeric constants off by one, ``True``/``False`` flips, ``+=``/``-=`` swaps), and for each mutant

1. copies the package and the tests into a scratch folder (one per worker; the working tree is never touched),
2. writes the mutated module there (``ast.unparse``),
3. runs ``pytest -x -q`` on that module's test files only (optionally ``-k``), with a per-mutant timeout.

A mutant is *killed* when the tests fail (or time out: an infinite loop is a caught bug), *survived* when they
pass. Mutants listed in :data:`EQUIVALENT` (they do not change behaviour; reason given) are reported but left out of
the kill rate. Where a module has more mutation points than ``--max-per-module``, a deterministic sample is run.
The per-module kill rates go to ``results/mutants/summary.json`` with provenance, the survivors to the same file.

    python scripts/mutants.py [--jobs 2] [--max-per-module 40] [--only theory/lipschitz] [--list]

Paths are resolved through candidate lists, so the script keeps working when modules move between packages.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Target:
    name: str
    paths: tuple[str, ...]  # candidate locations, first existing one wins
    tests: tuple[str, ...]
    select: str | None = None  # pytest -k expression
    functions: tuple[str, ...] = ()  # mutate only inside these functions / methods (empty: everywhere)
    path: Path | None = field(default=None, repr=False)


#: module -> its own tests. The train loop is restricted to the resume path (``restore``, ``checkpoint``: the
#: state and RNG hand-over) and the checkpoint module to its fast tests, because the other trainer tests
#: run whole (tiny) trainings.
MODULES = [
    Target("topology", ("cellnas_edu/cells/topology.py",), ("tests/test_topology.py",)),
    Target("space", ("cellnas_edu/cells/space.py",), ("tests/test_space.py",)),
    Target("param_counts", ("cellnas_edu/nets/param_counts.py",), ("tests/test_params.py",)),
    Target("landscape/directions", ("cellnas_edu/landscape/directions.py",), ("tests/test_landscape_math.py",),
           select="filter or direction or keep_bias or landscape_parameters"),
    Target("landscape/gradvar", ("cellnas_edu/landscape/gradvar.py",), ("tests/test_landscape_math.py",),
           select="gradient_variance or chan or affine"),
    Target("landscape/hessian", ("cellnas_edu/landscape/hessian.py",), ("tests/test_landscape_math.py",),
           select="hessian"),
    Target("theory/lipschitz", ("cellnas_edu/theory/lipschitz.py",), ("tests/test_theory_lipschitz.py",)),
    Target("theory/variance", ("cellnas_edu/theory/variance.py",), ("tests/test_theory_variance.py",)),
    Target("train/checkpoint", ("cellnas_edu/train/checkpoint.py",), ("tests/test_train.py",),
           select="round_trip or resume_restores"),
    Target("train/loop resume", ("cellnas_edu/train/loop.py",), ("tests/test_train.py",), select="resume_restores",
           functions=("restore", "checkpoint")),
]

#: (module, line, mutation) -> why the mutant cannot change behaviour. Judged by reading the code; see the
#: ``equivalent`` section of results/mutants/summary.json.
EQUIVALENT: dict[tuple[str, str], str] = {
    ("landscape/directions", "63: + -> -"): "norm + NORM_EPS -> norm - NORM_EPS: the 1e-10 guard only keeps a zero "
    "filter from dividing by zero (0 * anything = 0 either way); elsewhere it changes the factor by ~1e-10 relative, "
    "below float32 resolution",
    ("landscape/directions", "67: + -> -"): "the same guard for the row norms of a filter",
    ("theory/lipschitz", "277: 100 -> 101"): "hypothesis.find's example budget in the counterexample search: the "
    "smallest counterexample is found and shrunk well within 100 examples, one more changes nothing",
    ("theory/lipschitz", "446: 0 -> 1"): "the default seed of the multi-start ascent's random starts: another seed "
    "gives other, equally valid starts (callers pass the run's --seed)",
    ("theory/variance", "177: 1.0 -> 0.0"): "the key that ranks an infinite ratio (bound 0) below every finite one "
    "when picking the worst block: -1.0 and 0.0 differ only in a tie with a ratio of exactly 0",
    ("train/checkpoint", "59: drop call set_rng_state(...)"): "not reachable here: the CUDA generator is restored only "
    "on a CUDA device (tests/test_train_gpu.py runs there); on a CPU-only machine the call never executes",
    ("train/checkpoint", "58: == -> !="): "not reachable here: on a CPU-only machine there is no CUDA state, so the "
    "condition is false either way (tests/test_train_gpu.py covers the CUDA branch)",
    ("train/checkpoint", "58: is not -> is"): "the same CUDA condition (state.get('cuda') is None on a CPU-only "
    "machine); the other 'is not' of the line is killed",
    ("train/loop resume", "322: % -> //"): "not reachable in one process: rank 0 // k = rank 0 % k = 0; the rank's "
    "own state matters only under torchrun (tests/test_train_ddp.py)",
    ("landscape/hessian", "86: 0.0 -> 1.0"): "the eigenvalue's initial value, overwritten by the first iteration, "
    "which always runs (max_iter >= 1 is enforced)",
    ("landscape/hessian", "98: <= -> <"): "the relative stopping test at exact equality: |change| = tol |lambda| "
    "never happens exactly except for lambda = 0, which the zero-Hessian branch returns before",
    ("landscape/hessian", "71: 0 -> 1"): "the default seed of the random start vector: any seed is as good (callers "
    "pass --seed)",
    ("landscape/hessian", "72: 128 -> 129"): "the default chunk size of the Hessian-vector product: the sum over "
    "chunks is the same up to rounding",
    ("theory/lipschitz", "529: 1000 -> 1001"): "the seed offset of the matrix-free cross-check's start vector per "
    "problem: any offset is as good",
    ("theory/lipschitz", "422: 0 -> 1"): "the default seed of estimate_global_constants' random starts (callers pass "
    "their own): any seed is as good",
    ("theory/lipschitz", "305: 2 -> 3"): "the shape of the targets of the cross-product objective, which ignores "
    "its targets (F = <z_1, z_2>); CellProblem checks only their leading dimension",
}

CMP_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
BIN_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
            ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.MatMult: None}
SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is",
          ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
          ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%", ast.And: "and", ast.Or: "or"}


class Mutator(ast.NodeTransformer):
    """Numbers the mutation points in source order; with ``target`` set, applies mutation ``target`` only."""

    def __init__(self, functions=(), target: int | None = None):
        self.functions, self.target = set(functions), target
        self.points: list[tuple[int, str]] = []
        self.stack: list[str] = []
        self.skip_depth = 0

    # -- scoping -------------------------------------------------------------------------------------------------
    def _function(self, node):
        self.stack.append(node.name)
        node.body = [self._strip_docstring_visit(s, i) for i, s in enumerate(node.body)]
        # decorators, defaults and annotations: defaults are mutated, annotations are not
        node.args = self.visit(node.args)
        self.stack.pop()
        return node

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _strip_docstring_visit(self, stmt, index):
        if index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return stmt
        return self.visit(stmt)

    def visit_ClassDef(self, node):
        self.stack.append(node.name)
        node.body = [self._strip_docstring_visit(s, i) for i, s in enumerate(node.body)]
        self.stack.pop()
        return node

    def visit_Expr(self, node):  # a call made for its effect (set_rng_state(...), x.add_(...)) is forgotten
        self.generic_visit(node)
        if isinstance(node.value, ast.Call) and self._point(node, f"drop call {_call_name(node.value)}(...)"):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_arg(self, node):  # annotations are not behaviour
        return node

    def visit_AnnAssign(self, node):
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_JoinedStr(self, node):  # messages
        return node

    def visit_Raise(self, node):  # the exception's message is not a behaviour worth mutating; the condition is
        return node

    def visit_Assert(self, node):
        return node

    def _active(self) -> bool:
        return not self.functions or any(name in self.functions for name in self.stack)

    def _point(self, node, description: str) -> bool:
        """Register a mutation point; True when it is the one to apply."""
        if not self._active():
            return False
        index = len(self.points)
        self.points.append((getattr(node, "lineno", 0), description))
        return index == self.target

    # -- operators -----------------------------------------------------------------------------------------------
    def visit_BinOp(self, node):
        self.generic_visit(node)
        new = BIN_SWAP.get(type(node.op))
        if new is not None and self._point(node, f"{SYMBOL[type(node.op)]} -> {SYMBOL[new]}"):
            node.op = new()
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        new = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}.get(type(node.op))
        if new is not None and self._point(node, f"{SYMBOL[type(node.op)]}= -> {SYMBOL[new]}="):
            node.op = new()
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        for k, op in enumerate(node.ops):
            new = CMP_SWAP.get(type(op))
            if new is not None and self._point(node, f"{SYMBOL[type(op)]} -> {SYMBOL[new]}"):
                node.ops[k] = new()
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._point(node, f"{SYMBOL[type(node.op)]} -> {SYMBOL[new]}"):
            node.op = new()
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._point(node, "drop not"):
            return node.operand
        if isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant) \
                and self._point(node, "drop unary -"):
            return node.operand
        return node

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, bool):
            if self._point(node, f"{value} -> {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int):
            new = value + 1
            if self._point(node, f"{value} -> {new}"):
                return ast.copy_location(ast.Constant(new), node)
        elif isinstance(value, float):
            new = 0.0 if value == 1.0 else (1.0 if value == 0.0 else value * 2)
            if self._point(node, f"{value!r} -> {new!r}"):
                return ast.copy_location(ast.Constant(new), node)
        return node


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "?")


def mutation_points(source: str, functions=()) -> list[tuple[int, str]]:
    mutator = Mutator(functions)
    mutator.visit(ast.parse(source))
    return mutator.points


def mutated_source(source: str, index: int, functions=()) -> str:
    tree = ast.parse(source)
    Mutator(functions, target=index).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


def resolve(target: Target) -> Target:
    for candidate in target.paths:
        if (ROOT / candidate).exists():
            target.path = ROOT / candidate
            return target
    raise SystemExit(f"mutants: none of {', '.join(target.paths)} exists")


def scratch_copy() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cellnas-mutants-"))
    for name in ("cellnas_edu", "tests", "theory", "examples", "docs", "pyproject.toml", "mkdocs.yml", "README.md",
                 "benchmarks", "scripts"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "vendor"))
        elif src.exists():
            shutil.copy2(src, folder / name)
    return folder


def run_tests(folder: Path, target: Target, timeout: float) -> tuple[str, float]:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header",
               *target.tests]
    if target.select:
        command += ["-k", target.select]
    env = dict(os.environ, PYTHONPATH=str(folder), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        return "timeout", time.perf_counter() - started
    finally:
        if proc.poll() is None:  # interrupted: take the test run down with us
            os.killpg(proc.pid, 9)
    seconds = time.perf_counter() - started
    if proc.returncode == 0:
        return "passed", seconds
    if proc.returncode == 5:
        return "no tests", seconds
    return "failed", seconds


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--max-per-module", type=int, default=40, help="sample at most this many mutants per module")
    parser.add_argument("--only", action="append", default=[], help="module name(s) to run (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--list", action="store_true", help="list the mutation points and exit")
    parser.add_argument("--out", default=str(ROOT / "results" / "mutants" / "summary.json"))
    parser.add_argument("--survivors-of", default=None, metavar="SUMMARY",
                        help="rerun only the survivors of an earlier summary.json (matched by module, mutation and "
                             "source line), against today's tests; its killed mutants stay killed (tests only grow)")
    parser.add_argument("--update", action="store_true",
                        help="keep the other modules of an existing --out file (rerun only --only modules)")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.max_per_module < 1:
        print("mutants: --jobs and --max-per-module must be positive integers", file=sys.stderr)
        return 2
    targets = [resolve(copy.copy(t)) for t in MODULES if not args.only or t.name in args.only]
    if not targets:
        print(f"mutants: no module named {', '.join(args.only)}; choose from "
              f"{', '.join(t.name for t in MODULES)}", file=sys.stderr)
        return 2

    plan = []  # (target, index, line, description)
    totals = {}
    earlier = json.loads(Path(args.survivors_of).read_text()) if args.survivors_of else None
    if earlier:
        plan, totals = survivor_plan(earlier, targets)
        targets = [t for t in targets if any(p[0] is t for p in plan)]
    for target in ([] if earlier else targets):
        source = target.path.read_text()
        points = mutation_points(source, target.functions)
        totals[target.name] = len(points)
        chosen = list(range(len(points)))
        if len(chosen) > args.max_per_module:
            chosen = sorted(random.Random(f"{args.seed}:{target.name}").sample(chosen, args.max_per_module))
        plan += [(target, k, *points[k]) for k in chosen]
    if args.list:
        for target, k, line, description in plan:
            print(f"{target.name}:{line}: #{k} {description}")
        return 0

    started = time.perf_counter()
    commit = git_commit()  # the code the mutants are made from (HEAD may move while they run)
    baselines = {}
    folders = [scratch_copy() for _ in range(args.jobs)]
    try:
        for target in targets:  # the unmutated tests must pass, and give the timeout scale
            outcome, seconds = run_tests(folders[0], target, timeout=900)
            if outcome != "passed":
                print(f"mutants: the tests of {target.name} do not pass unmutated ({outcome}); fix that first",
                      file=sys.stderr)
                return 1
            baselines[target.name] = seconds
            print(f"baseline {target.name}: {seconds:.1f} s, {totals[target.name]} mutation points, "
                  f"{sum(p[0] is target for p in plan)} run", flush=True)

        free = list(folders)
        results = []

        def run_one(item):
            target, k, line, description = item
            folder = free.pop()
            relative = target.path.relative_to(ROOT)
            original = (folder / relative).read_text()
            try:
                (folder / relative).write_text(mutated_source(original, k, target.functions))
                outcome, seconds = run_tests(folder, target, timeout=3 * baselines[target.name] + 20)
            finally:
                (folder / relative).write_text(original)
                free.append(folder)
            record = {"module": target.name, "path": str(relative), "line": line, "mutation": description,
                      "index": k, "outcome": outcome, "seconds": round(seconds, 1)}
            reason = EQUIVALENT.get((target.name, f"{line}: {description}"))
            if reason:
                record["equivalent"] = reason
            print(f"{target.name}:{line} {description}: {outcome} ({seconds:.1f} s)", flush=True)
            return record

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(run_one, plan))
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    modules = {}
    for target in targets:
        mine = [r for r in results if r["module"] == target.name]
        equivalent = [r for r in mine if "equivalent" in r and r["outcome"] == "passed"]
        counted = [r for r in mine if r not in equivalent]
        killed = sum(r["outcome"] in ("failed", "timeout") for r in counted)
        modules[target.name] = {
            "path": str(target.path.relative_to(ROOT)),
            "mutation_points": totals[target.name],
            "mutants_run": len(mine),
            "killed": killed,
            "survived": len(counted) - killed,
            "equivalent": len(equivalent),
            "kill_rate": round(killed / len(counted), 4) if counted else None,
            "tests": list(target.tests) + ([f"-k {target.select}"] if target.select else []),
            "baseline_seconds": round(baselines[target.name], 1),
        }
    out = Path(args.out)
    if earlier:  # the earlier counts, with its survivors replaced by today's outcomes
        for name, m in modules.items():
            before = earlier["modules"].get(name)
            if before:
                m.update(mutation_points=before["mutation_points"], mutants_run=before["mutants_run"])
                m["killed"] += before["killed"]
                m["equivalent"] += before["equivalent"]
                m["survived"] = m["mutants_run"] - m["killed"] - m["equivalent"]
                counted = m["killed"] + m["survived"]
                m["kill_rate"] = round(m["killed"] / counted, 4) if counted else None
                m["before"] = first_run_counts(before)
        for name, before in earlier["modules"].items():
            if name not in modules and (not args.only or name in args.only):
                modules[name] = dict(before, before=first_run_counts(before))
        modules = {t.name: modules[t.name] for t in MODULES if t.name in modules}
        results += earlier.get("equivalent", [])
    previous = json.loads(out.read_text()) if args.update and out.exists() else None
    if previous:
        rerun = set(modules)
        modules = {name: m for name, m in previous["modules"].items() if name not in rerun} | modules
        results = [r for r in previous["survivors"] + previous.get("equivalent", [])
                   if r["module"] not in rerun] + results
        modules = {t.name: modules[t.name] for t in MODULES if t.name in modules}
    killed = sum(m["killed"] for m in modules.values())
    counted = sum(m["killed"] + m["survived"] for m in modules.values())
    summary = {
        "provenance": {
            "command": "python scripts/mutants.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "version": _version(), "git_commit": commit,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs, {args.jobs} workers)",
            "seconds": round(time.perf_counter() - started, 1),
            **({"updated_modules": sorted(set(t.name for t in targets)),
                "previous_run": previous["provenance"]} if previous else {}),
            **({"survivors_rerun_of": earlier["provenance"]} if earlier else {}),
            **({"first_run": earlier["provenance"].get("first_run") or earlier["provenance"].get("survivors_rerun_of")
                or earlier["provenance"]} if earlier else {}),
        },
        "operators": "arithmetic swaps (+-, */, ** -> *, // -> *), comparison swaps (< <=, > >=, == !=, is, in), "
                     "and <-> or, dropped not / unary minus, int +1, float x2 (0 <-> 1), True <-> False, += <-> -=, "
                     "a call statement dropped (pass)",
        "max_per_module": args.max_per_module,
        "seed": args.seed,
        "overall": {"killed": killed, "counted": counted,
                    "kill_rate": round(killed / counted, 4) if counted else None},
        "modules": modules,
        "rows": table_rows(modules),
        "survivors": [r for r in results if r["outcome"] in ("passed", "no tests") and "equivalent" not in r],
        "equivalent": [r for r in results if "equivalent" in r],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\n{'module':<22} {'killed':>7} {'run':>5} {'equiv':>6} {'rate':>7}")
    for name, m in modules.items():
        rate = "n/a" if m["kill_rate"] is None else f"{100 * m['kill_rate']:.1f}%"
        print(f"{name:<22} {m['killed']:>7} {m['mutants_run']:>5} {m['equivalent']:>6} {rate:>7}")
    print(f"overall: {killed}/{counted} non-equivalent mutants killed; written {out}")
    return 0


def survivor_plan(earlier: dict, targets: list[Target]) -> tuple[list, dict]:
    """The survivors of an earlier run as mutants of today's sources: same module, same mutation, same source line
    text (looked up at the earlier run's commit, so moved files and shifted lines still match)."""
    commit = earlier["provenance"]["git_commit"].split("-")[0]
    by_name = {t.name: t for t in targets}
    plan, totals = [], {}
    for record in earlier["survivors"]:
        target = by_name.get(record["module"])
        if target is None:
            continue
        old = subprocess.run(["git", "show", f"{commit}:{record['path']}"], cwd=ROOT, capture_output=True,
                             text=True).stdout.splitlines()
        text = old[record["line"] - 1].strip() if 0 < record["line"] <= len(old) else None
        source = target.path.read_text()
        lines = source.splitlines()
        points = mutation_points(source, target.functions)
        totals[target.name] = len(points)
        same = [k for k, (line, description) in enumerate(points)
                if description == record["mutation"] and lines[line - 1].strip() == text]
        seen = sum(p[0] is target and p[3] == record["mutation"] and p[2] in [points[k][0] for k in same]
                   for p in plan)
        if seen < len(same):
            k = same[seen]
            plan.append((target, k, *points[k]))
        else:
            print(f"mutants: survivor {record['module']}:{record['line']} {record['mutation']} not found today",
                  file=sys.stderr)
    return plan, totals


def first_run_counts(module: dict) -> dict:
    """The counts of the first run a chain of ``--survivors-of`` reruns started from."""
    return module.get("before") or {k: module[k] for k in ("killed", "survived", "equivalent", "kill_rate")}


def table_rows(modules: dict) -> list[dict]:
    """One row per module for the docs' table quote (``{{ table mutants:rows:... }}``)."""
    return [{"module": name, "killed": m["killed"], "counted": m["killed"] + m["survived"],
             "survived": m["survived"], "equivalent": m["equivalent"], "mutation_points": m["mutation_points"],
             "kill_rate": m["kill_rate"], "kill_rate_before": m.get("before", {}).get("kill_rate")}
            for name, m in modules.items()]


def _version() -> str:
    sys.path.insert(0, str(ROOT))
    try:
        from cellnas_edu import __version__

        return __version__
    finally:
        sys.path.pop(0)


if __name__ == "__main__":
    sys.exit(main())
