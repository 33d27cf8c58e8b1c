"""`cellnas exercises`: write the package's functions yourself; its property tests grade them.

`list` shows the exercises per chapter and your progress, `start NAME` writes a stub into
the workspace (default `./cellnas-exercises/`), `check [NAME]` grades it (every started
exercise without a name), `hint NAME` gives a hint, `solution NAME` prints the package's
implementation (`--write` puts it into your file), `reset NAME` starts over.
Exit status of `check`: 0 when every check passes, 1 when one fails, 2 for bad input."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import emit_json

ACTIONS = {
    "list": "the exercises per chapter, with your progress",
    "start": "write the stub of an exercise into the workspace",
    "check": "grade your function(s) with the package's property and example tests",
    "hint": "a hint for an exercise",
    "solution": "print the package's own implementation (--write: into your file)",
    "reset": "overwrite your file with a fresh stub and forget its progress",
}


EPILOG = """actions (each has --help):
  list [--dir DIR] [--json]             the exercises per chapter, with your progress
  start NAME [--dir DIR] [--force]      write DIR/NAME.py: signature, statement, raise NotImplementedError
  check [NAME] [--dir DIR] [--json] [--timeout S]
                                        grade NAME (default: every started one); exit 0 if all pass, else 1
  hint NAME                             a hint
  solution NAME [--write] [--dir DIR]   the package's implementation (--write: into DIR/NAME.py)
  reset NAME [--dir DIR]                a fresh stub; the exercise's progress is forgotten

The workspace DIR defaults to ./cellnas-exercises; progress is kept in DIR/.progress.json."""


def add_arguments(parser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    sub = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    sub.required = True
    for action, help_text in ACTIONS.items():
        p = sub.add_parser(action, help=help_text, description=help_text)
        if action in ("start", "hint", "solution", "reset"):
            p.add_argument("name", metavar="NAME", help="exercise name (see 'cellnas exercises list')")
        elif action == "check":
            p.add_argument("name", metavar="NAME", nargs="?", help="one exercise (default: every started one)")
        if action != "hint":
            p.add_argument("--dir", type=Path, default=None,
                           help="the workspace folder (default: ./cellnas-exercises)")
        if action in ("list", "check"):
            p.add_argument("--json", action="store_true", help="print JSON instead of text")
        if action == "start":
            p.add_argument("--force", action="store_true", help="overwrite an existing file")
        if action == "solution":
            p.add_argument("--write", action="store_true", help="write the solution into your file")
        if action == "check":
            p.add_argument("--timeout", type=_seconds, default=None,
                           help="seconds one call of your function may take (default: 5)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _workspace(args):
    from ..exercises.workspace import DEFAULT_DIR, Workspace

    return Workspace(args.dir if getattr(args, "dir", None) is not None else DEFAULT_DIR)


def run(args) -> int:
    return {"list": run_list, "start": run_start, "check": run_check, "hint": run_hint,
            "solution": run_solution, "reset": run_reset}[args.action](args)


def run_list(args) -> int:
    from ..exercises.catalog import CHAPTERS, EXERCISES

    ws = _workspace(args)
    rows = [{"name": e.name, "chapter": e.chapter, "title": e.title, "target": e.target,
             "checks": list(e.checks), "status": ws.status(e)} for e in EXERCISES]
    if args.json:
        emit_json({"workspace": str(ws.root), "exercises": rows})
        return 0
    width = max(len(r["name"]) for r in rows)
    title_width = max(len(r["title"]) for r in rows)
    for chapter, heading in CHAPTERS.items():
        print(f"Chapter {chapter}: {heading}")
        for r in rows:
            if r["chapter"] == chapter:
                print(f"  {r['name']:<{width}}  {r['title']:<{title_width}}  {r['status']}")
    done = sum(r["status"].startswith("passed") for r in rows)
    print(f"\n{done}/{len(rows)} passed; workspace {ws.root}/ "
          "('cellnas exercises start NAME' to begin one)")
    return 0


def run_start(args) -> int:
    from ..exercises.catalog import get_exercise

    exercise = get_exercise(args.name)
    path = _workspace(args).start(exercise, force=args.force)
    print(f"wrote {path}: write {exercise.function_name}(), then 'cellnas exercises check {exercise.name}'")
    return 0


def run_reset(args) -> int:
    from ..exercises.catalog import get_exercise

    exercise = get_exercise(args.name)
    path = _workspace(args).reset(exercise)
    print(f"wrote a fresh stub to {path}; its progress is forgotten")
    return 0


def run_hint(args) -> int:
    from ..exercises.catalog import get_exercise

    exercise = get_exercise(args.name)
    print(f"{exercise.name}: {exercise.hint}")
    return 0


def run_solution(args) -> int:
    from ..exercises.catalog import get_exercise
    from ..exercises.workspace import solution_location, solution_source

    exercise = get_exercise(args.name)
    if args.write:
        path = _workspace(args).write_solution(exercise)
        print(f"wrote the package's {exercise.function_name}() to {path}; "
              f"'cellnas exercises check {exercise.name}' now passes")
        return 0
    print(f"# {exercise.target}, {solution_location(exercise)}")
    print(solution_source(exercise), end="")
    return 0


def run_check(args) -> int:
    from ..errors import UserError
    from ..exercises.catalog import get_exercise
    from ..exercises.grader import DEFAULT_CALL_TIMEOUT, format_result
    from ..exercises.isolated import grade_file

    ws = _workspace(args)
    timeout = args.timeout or DEFAULT_CALL_TIMEOUT
    if args.name:
        exercises = [get_exercise(args.name)]
    else:
        exercises = ws.started()
        if not exercises:
            raise UserError(f"no exercise started in {ws.root}/; 'cellnas exercises start NAME' writes one")
    for exercise in exercises:
        if not ws.path(exercise).is_file():
            raise UserError(f"{ws.path(exercise)} does not exist; run 'cellnas exercises start {exercise.name}' first")
    results = []
    for exercise in exercises:
        result = grade_file(exercise, ws.path(exercise), timeout)  # the learner's code runs in a child process
        ws.record(exercise.name, passed=result.passed, num_passed=result.num_passed,
                  num_tests=len(result.tests), checked=_now())
        results.append(result)
        if not args.json:
            print(format_result(result))
    done = sum(r.passed for r in results)
    if args.json:
        emit_json({"workspace": str(ws.root), "passed": all(r.passed for r in results),
                   "num_passed": done, "num_exercises": len(results), "results": [r.to_json() for r in results]})
    else:
        print(f"{done}/{len(results)} passed")
    return 0 if all(r.passed for r in results) else 1


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")
