"""`cellnas exercises`: write the package's functions yourself; its property tests grade them.

`list` shows the exercises per chapter and your progress, `next` starts the first unfinished
exercise in catalog order (or names the file to open), `start NAME` writes a stub into the
workspace (default `./cellnas-exercises/`), `check [NAME]` grades it (every started exercise
without a name; the last line counts the passed exercises of the whole course), `watch [NAME]`
re-checks the file each time it is saved, `hint NAME` gives a hint, `solution NAME` prints the
package's implementation (`--write` puts it into your file), `reset NAME` starts over.

No command destroys your file: `reset`, `solution --write` and `start --force` first copy it to
`DIR/NAME.py.~N~` (the next free number; see [`Workspace.replace`][cellnas_edu.exercises.workspace.Workspace.replace])
and say so. `reset` asks before it overwrites (`--force` skips the question; without a terminal it
refuses unless `--force` is given).

Exit status of `check`: 0 when every check passes, 1 when one fails, 2 for bad input. `watch` ends
with 0 on Ctrl-C; with `--max-checks N` it stops after N checks with the status of the last one."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import emit_json

ACTIONS = {
    "list": "the exercises per chapter, with your progress",
    "next": "start the first unfinished exercise (or say which file to open)",
    "start": "write the stub of an exercise into the workspace",
    "check": "grade your function(s) with the package's property and example tests",
    "watch": "re-check your file each time you save it (Ctrl-C ends)",
    "hint": "a hint for an exercise",
    "solution": "print the package's own implementation (--write: into your file, old file backed up)",
    "reset": "overwrite your file with a fresh stub (old file backed up) and forget its progress",
}


EPILOG = """actions (each has --help):
  list [--dir DIR] [--json]             the exercises per chapter, with your progress
  next [--dir DIR]                      start the first unfinished exercise, or name the file to open
  start NAME [--dir DIR] [--force]      write DIR/NAME.py: signature, statement, raise NotImplementedError
  check [NAME] [--dir DIR] [--json] [--timeout S]
                                        grade NAME (default: every started one); exit 0 if all pass, else 1;
                                        the last line counts the passed exercises of the whole course
  watch [NAME] [--dir DIR] [--interval S] [--max-checks N] [--timeout S]
                                        check NAME (default: the one 'next' names) now and after every save
  hint NAME                             a hint
  solution NAME [--write] [--dir DIR]   the package's implementation (--write: into DIR/NAME.py)
  reset NAME [--dir DIR] [--force]      a fresh stub; the exercise's progress is forgotten; asks first

The workspace DIR defaults to ./cellnas-exercises; progress is kept in DIR/.progress.json.
Backups: reset, solution --write and start --force first copy DIR/NAME.py to DIR/NAME.py.~N~
(N = 1, 2, ...: the next free number, so no backup is overwritten) and name the backup."""


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
        elif action == "watch":
            p.add_argument("name", metavar="NAME", nargs="?",
                           help="the exercise (default: the first unfinished one, as 'next' names it)")
        if action != "hint":
            p.add_argument("--dir", type=Path, default=None,
                           help="the workspace folder (default: ./cellnas-exercises)")
        if action in ("list", "check"):
            p.add_argument("--json", action="store_true", help="print JSON instead of text")
        if action == "start":
            p.add_argument("--force", action="store_true",
                           help="overwrite an existing file (it is first copied to NAME.py.~N~)")
        if action == "reset":
            p.add_argument("--force", action="store_true",
                           help="do not ask (needed when stdin is not a terminal); the old file is still backed up")
        if action == "solution":
            p.add_argument("--write", action="store_true",
                           help="write the solution into your file (your old file is first copied to NAME.py.~N~)")
        if action in ("check", "watch"):
            p.add_argument("--timeout", type=_seconds, default=None,
                           help="seconds one call of your function may take (default: 5)")
        if action == "watch":
            p.add_argument("--interval", type=_seconds, default=0.5, metavar="S",
                           help="seconds between looks at the file's modification time and size (default: 0.5)")
            p.add_argument("--max-checks", type=_count, default=None, metavar="N",
                           help="stop after N checks (the first one included), with the last check's exit "
                                "status (default: until Ctrl-C, exit 0)")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _workspace(args):
    from ..exercises.workspace import DEFAULT_DIR, Workspace

    return Workspace(args.dir if getattr(args, "dir", None) is not None else DEFAULT_DIR)


def run(args) -> int:
    return {"list": run_list, "next": run_next, "start": run_start, "check": run_check, "watch": run_watch,
            "hint": run_hint, "solution": run_solution, "reset": run_reset}[args.action](args)


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
          "('cellnas exercises next' starts the next one)")
    return 0


def _statement_line(exercise) -> str:
    return exercise.statement.strip().splitlines()[0]


def run_next(args) -> int:
    from ..exercises.catalog import EXERCISES

    ws = _workspace(args)
    exercise = ws.next_unfinished()
    if exercise is None:
        print(f"all {len(EXERCISES)} exercises passed; workspace {ws.root}/")
        return 0
    position = f"{EXERCISES.index(exercise) + 1}/{len(EXERCISES)}, Chapter {exercise.chapter}"
    path = ws.path(exercise)
    if path.is_file():
        print(f"next: {exercise.name} ({position}, {ws.status(exercise)}): open {path}")
    else:
        ws.start(exercise)
        print(f"next: {exercise.name} ({position}): wrote {path}")
    print(f"  {_statement_line(exercise)}")
    print(f"  write {exercise.function_name}(), then 'cellnas exercises check {exercise.name}' "
          f"(or 'cellnas exercises watch {exercise.name}')")
    return 0


def _kept(backup) -> str:
    return f"; your old file is kept as {backup}" if backup is not None else ""


def run_start(args) -> int:
    from ..exercises.catalog import get_exercise

    exercise = get_exercise(args.name)
    path, backup = _workspace(args).start(exercise, force=args.force)
    print(f"wrote {path}: write {exercise.function_name}(), then 'cellnas exercises check {exercise.name}'"
          + _kept(backup))
    return 0


def _confirm(question: str) -> bool:
    """Ask on the terminal; `False` for anything but y/yes (and for end of input)."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def run_reset(args) -> int:
    from ..errors import UserError
    from ..exercises.catalog import get_exercise

    exercise = get_exercise(args.name)
    ws = _workspace(args)
    path = ws.path(exercise)
    ws.progress()  # a corrupt record is reported before anything is asked or written
    if not args.force:
        if not sys.stdin.isatty():
            raise UserError(f"reset overwrites {path} and forgets its progress; stdin is not a terminal, "
                            "so pass --force to confirm")
        what = f"overwrite {path} with a fresh stub (the old file is backed up)" if path.is_file() \
            else f"write a fresh stub to {path}"
        if not _confirm(f"{what} and forget the progress of {exercise.name}?"):
            print(f"nothing changed: {path} is as it was")
            return 1
    path, backup = ws.reset(exercise)
    if backup is not None:
        print(f"wrote a fresh stub to {path}; your old file is kept as {backup}; its progress is forgotten")
    else:
        print(f"wrote a fresh stub to {path} (no backup: there was no edited file to keep); "
              "its progress is forgotten")
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
        path, backup = _workspace(args).write_solution(exercise)
        print(f"wrote the package's {exercise.function_name}() to {path}{_kept(backup)}; "
              f"'cellnas exercises check {exercise.name}' now passes")
        return 0
    print(f"# {exercise.target}, {solution_location(exercise)}")
    print(solution_source(exercise), end="")
    return 0


def _grade(ws, exercise, timeout):
    """Grade the learner's file in a child process and record the result in the progress."""
    from ..exercises.isolated import grade_file

    result = grade_file(exercise, ws.path(exercise), timeout)  # the learner's code runs in a child process
    ws.record(exercise.name, passed=result.passed, num_passed=result.num_passed,
              num_tests=len(result.tests), checked=_now())
    return result


def run_check(args) -> int:
    from ..errors import UserError
    from ..exercises.catalog import EXERCISES, get_exercise
    from ..exercises.grader import DEFAULT_CALL_TIMEOUT, format_result

    ws = _workspace(args)
    timeout = args.timeout or DEFAULT_CALL_TIMEOUT
    ws.progress()  # a corrupt record is reported before any grading
    if args.name:
        exercises = [get_exercise(args.name)]
    else:
        exercises = ws.started()
        if not exercises:
            raise UserError(f"no exercise started in {ws.root}/; 'cellnas exercises next' starts one")
    for exercise in exercises:
        if not ws.path(exercise).is_file():
            raise UserError(f"{ws.path(exercise)} does not exist; run 'cellnas exercises start {exercise.name}' first")
    results = []
    for exercise in exercises:
        result = _grade(ws, exercise, timeout)
        results.append(result)
        if not args.json:
            print(format_result(result))
    done = sum(r.passed for r in results)
    total_passed = len(ws.passed())
    if args.json:
        emit_json({"workspace": str(ws.root), "passed": all(r.passed for r in results),
                   "num_passed": done, "num_exercises": len(results),
                   "total_passed": total_passed, "total_exercises": len(EXERCISES),
                   "results": [r.to_json() for r in results]})
    else:
        print(f"checked: {done}/{len(results)} passed")
        print(f"{total_passed}/{len(EXERCISES)} exercises passed")
    return 0 if all(r.passed for r in results) else 1


def _signature(path: Path):
    """What changes when the file is saved: modification time, size and inode (`None` while it is missing)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def run_watch(args) -> int:
    from ..errors import UserError, one_line_message
    from ..exercises.catalog import get_exercise
    from ..exercises.grader import DEFAULT_CALL_TIMEOUT, format_result

    ws = _workspace(args)
    timeout = args.timeout or DEFAULT_CALL_TIMEOUT
    if args.name:
        exercise = get_exercise(args.name)
    else:
        exercise = ws.next_unfinished()
        if exercise is None:
            raise UserError(f"every exercise in {ws.root}/ has passed; name one to watch it")
    path = ws.path(exercise)
    if not path.is_file():
        raise UserError(f"{path} does not exist; run 'cellnas exercises start {exercise.name}' "
                        "(or 'cellnas exercises next') first")
    checks = 0
    code = 1
    try:
        print(f"watching {path} (Ctrl-C ends)", flush=True)
        seen = _signature(path)
        while True:
            try:
                result = _grade(ws, exercise, timeout)
            except Exception as exc:  # a file that does not load: say so and wait for the next save
                message = one_line_message(exc)
                if message is None:
                    raise
                print(f"{exercise.name}: error: {message}", flush=True)
                code = 2
            else:
                print(format_result(result), flush=True)
                code = 0 if result.passed else 1
                if result.passed:
                    print(f"{exercise.name} passed; 'cellnas exercises next' goes on to the next exercise", flush=True)
            checks += 1
            if args.max_checks is not None and checks >= args.max_checks:
                return code
            print(f"-- waiting for {path} to change", flush=True)
            while True:
                time.sleep(args.interval)
                now = _signature(path)
                if now is not None and now != seen:  # saved (a missing file is waited for)
                    seen = now
                    break
            print(f"-- {path} changed", flush=True)
    except KeyboardInterrupt:
        print(f"\nstopped watching {path} after {checks} check{'s' if checks != 1 else ''}", flush=True)
        return 0


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")
