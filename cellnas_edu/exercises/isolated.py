r"""Grade in a child process, so that the learner's code can neither stop nor fool the grader.

The grader's own process never imports the learner's file. It starts `python -m
cellnas_edu.exercises.isolated` with the write end of a pipe; the child loads the learner's file,
runs each check (as [`grade`][cellnas_edu.exercises.grader.grade] does) and writes one JSON line per
check to that pipe, never to stdout, so a learner's `print("passed")` is not a report. The parent
counts the reports: a check that did not report (the learner's code called `sys.exit`/`os._exit`,
crashed the interpreter, or the whole run passed its time limit) is a failure saying so. A pass means
every check of the exercise ran in the child and held."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

from ..errors import UserError
from .catalog import Exercise, get_exercise
from .grader import IMPORT_TIMEOUT, ExerciseResult, TestResult

RUN_TIMEOUT_PER_CHECK = 120.0
"""Seconds of wall-clock time the child may use per check (on top of loading the learner's file)."""


def _child_env() -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def grade_file(exercise: Exercise, path: Path, timeout: float, run_timeout: float | None = None) -> ExerciseResult:
    """Grade the learner's file `path` for `exercise` in a child process (module docstring)."""
    check_ids = exercise.check_ids()
    limit = run_timeout if run_timeout is not None else IMPORT_TIMEOUT + RUN_TIMEOUT_PER_CHECK * len(check_ids)
    read_fd, write_fd = os.pipe()
    command = [sys.executable, "-m", "cellnas_edu.exercises.isolated", exercise.name, str(path), str(timeout),
               str(write_fd)]
    try:
        child = subprocess.Popen(command, pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, env=_child_env())
    finally:
        os.close(write_fd)
    timed_out = False
    with os.fdopen(read_fd, "rb") as pipe:
        import threading

        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.append(pipe.read()), daemon=True)
        reader.start()
        try:
            child.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            child.kill()
            child.wait()
        except KeyboardInterrupt:  # Ctrl-C (cellnas exercises watch): no grading child outlives its parent
            child.kill()
            child.wait()
            raise
        reader.join(timeout=5)
    stderr = child.stderr.read().decode("utf-8", "replace") if child.stderr else ""
    reports: dict[int, dict] = {}
    load_error = None
    for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("load_error"):
            load_error = message["load_error"]
        elif isinstance(message.get("index"), int):
            reports[message["index"]] = message["result"]
    if load_error:
        raise UserError(load_error)
    out = ExerciseResult(exercise.name)
    for index, check_id in enumerate(check_ids):
        if index in reports:
            out.tests.append(TestResult(**reports[index]))
            continue
        if timed_out:
            why = f"the grading run passed its time limit of {limit:g} s (an endless loop?)"
        else:
            why = f"your code exited (sys.exit or os._exit, exit status {child.returncode}) during the checks"
            last = stderr.strip().splitlines()[-1:] if stderr.strip() else []
            if last:
                why += f"; last line on stderr: {last[0][:200]}"
        out.tests.append(TestResult(check_id, False, message=f"the grader's check {index + 1} did not report: {why}"))
    return out


def _child(name: str, path: str, timeout: float, fd: int) -> int:
    from .grader import grade_one_by_one, load_function

    channel = os.fdopen(fd, "w", encoding="utf-8")
    exercise = get_exercise(name)
    try:
        function = load_function(Path(path), exercise, timeout)
    except UserError as exc:
        channel.write(json.dumps({"load_error": str(exc)}) + "\n")
        channel.flush()
        return 0
    for index, result in grade_one_by_one(exercise, function, timeout):
        record = {f.name: getattr(result, f.name) for f in fields(TestResult)}
        channel.write(json.dumps({"index": index, "result": record}) + "\n")
        channel.flush()
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
