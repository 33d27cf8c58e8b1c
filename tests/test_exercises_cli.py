"""The harness of ``cellnas exercises``: solutions pass, plausible wrong solutions fail with a counterexample.

* Every exercise's reference solution, written into a workspace exactly as ``solution NAME --write``
  writes it and loaded as the learner's file, passes every check of its exercise. The checks run
  with the learner's function swapped in, so this is also the suite's run of the graded checks
  (``cellnas_edu/exercises/checks/``) against the package itself: one source for both.
* Plausible wrong solutions (``tests/wrong_solutions.py``) are graded in ``tests/test_exercises_grading.py``.
* The command line: start/check/solution/reset/list, progress, exit codes, bad input on one line,
  a learner's exception reported as a failing check, a learner that loops stopped by the time limit.
* next/watch/backups: ``next`` starts the first unfinished exercise in catalog order, then names the file,
  then says when all have passed; ``check`` ends with the course total (text and JSON); ``watch`` re-checks
  a file a second process saves, and Ctrl-C ends it with exit 0; ``reset``, ``solution --write`` and
  ``start --force`` keep the learner's old file byte for byte in ``NAME.py.~N~``; ``reset`` refuses without a
  terminal unless ``--force``; a corrupt or wrong-shaped ``.progress.json`` is one line naming it, exit 2.
"""

from __future__ import annotations

import json

import pytest
from wrong_solutions import cell_width_all_nodes

from cellnas_edu.cells import topology
from cellnas_edu.cli import main
from cellnas_edu.errors import UserError
from cellnas_edu.exercises.catalog import BY_NAME, CHAPTERS, EXERCISES
from cellnas_edu.exercises.checks import ch1_cells
from cellnas_edu.exercises.grader import grade, load_function
from cellnas_edu.exercises.workspace import Workspace, solution_source, stub_source

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_at_least_twelve_exercises_follow_the_chapters():
    assert len(EXERCISES) >= 12
    assert {e.chapter for e in EXERCISES} == set(CHAPTERS) == set(range(1, 10))


@pytest.mark.parametrize("name", list(BY_NAME))
def test_the_written_solution_passes_every_check(tmp_path, name):
    """``solution NAME --write`` then ``check NAME``: the package's implementation, loaded from the learner's
    file, passes every check (so every check also passes on the package itself)."""
    exercise = BY_NAME[name]
    path = Workspace(tmp_path).write_solution(exercise).path
    result = grade(exercise, load_function(path, exercise))
    failures = [(t.name, t.message, t.call, t.expected, t.yours) for t in result.tests if not t.passed]
    assert result.passed, failures


def test_the_course_page_lists_every_exercise():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "exercises.md").read_text(encoding="utf-8")
    missing = [e.name for e in EXERCISES if f"| `{e.name}` |" not in page]
    assert not missing, "add these exercises to the course section of docs/exercises.md: " + ", ".join(missing)
    assert page.count("??? question") >= 2 * len(CHAPTERS)


def test_the_swap_is_undone():
    exercise = BY_NAME["cell_width"]
    original = topology.cell_width
    grade(exercise, cell_width_all_nodes)
    assert topology.cell_width is original and ch1_cells.cell_width is original


def test_a_shrunk_hypothesis_counterexample_is_reported():
    result = grade(BY_NAME["cell_width"], cell_width_all_nodes)
    test = next(t for t in result.tests if t.name == "test_width_is_the_definition")
    assert not test.passed
    assert test.counterexample.startswith("test_width_is_the_definition(cell=CellSpec(")
    assert test.call.startswith("cell_width(CellSpec(")
    assert test.expected != test.yours


def test_stubs_compile_keep_the_signature_and_raise_not_implemented(tmp_path):
    import inspect

    for exercise in EXERCISES:
        source = stub_source(exercise)
        assert "raise NotImplementedError" in source and "Section" in source or "Appendix" in source
        path = tmp_path / f"{exercise.name}.py"
        path.write_text(source)
        function = load_function(path, exercise)
        ref = inspect.signature(exercise.reference())
        assert list(inspect.signature(function).parameters) == list(ref.parameters), exercise.name
        compile(solution_source(exercise), "solution", "exec")


def test_a_learner_exception_is_a_failing_check_not_a_traceback():
    def broken(cell):
        raise ZeroDivisionError("oops")

    result = grade(BY_NAME["cell_depth"], broken)
    assert not result.passed
    assert all(t.message == "your function raised ZeroDivisionError: oops" for t in result.tests)


def test_a_learner_that_loops_is_stopped_by_the_time_limit():
    def loops(cell):
        while True:
            pass

    result = grade(BY_NAME["cell_depth"], loops, timeout=0.2)
    assert not result.passed
    assert all("did not return within 0.2 s" in (t.message or "") for t in result.tests)


def test_a_learner_module_that_loops_when_imported_is_a_one_line_error(tmp_path, monkeypatch):
    from cellnas_edu.errors import UserError
    from cellnas_edu.exercises import grader

    monkeypatch.setattr(grader, "IMPORT_TIMEOUT", 0.2)
    path = tmp_path / "cell_depth.py"
    path.write_text("while True:\n    pass\n")
    with pytest.raises(UserError, match="importing cell_depth.py did not return within 0.2 s"):
        load_function(path, BY_NAME["cell_depth"], timeout=0.1)


# -- the command line -------------------------------------------------------------------------
def run(capsys, *argv):
    code = main(["exercises", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_start_check_solution_reset_list(tmp_path, capsys):
    ws = str(tmp_path / "ws")
    n = len(BY_NAME["cell_depth"].checks)
    code, out, _ = run(capsys, "start", "cell_depth", "--dir", ws)
    assert code == 0 and (tmp_path / "ws" / "cell_depth.py").is_file()
    code, out, _ = run(capsys, "check", "cell_depth", "--dir", ws)
    assert code == 1 and "not written yet" in out
    code, out, _ = run(capsys, "list", "--dir", ws)
    assert "cell_depth" in out and f"failing (0/{n})" in out and "Chapter 7" in out

    # the learner writes a wrong answer: a counterexample with both values
    (tmp_path / "ws" / "cell_depth.py").write_text(
        "from cellnas_edu.cells.topology import node_depths\n\n"
        "def cell_depth(cell):\n    return 1 + max(node_depths(cell).values())\n")
    code, out, _ = run(capsys, "check", "--dir", ws, "--json")
    data = json.loads(out)
    assert code == 1 and data["passed"] is False
    failing = [t for t in data["results"][0]["tests"] if not t["passed"]]
    assert failing and "expected" in failing[0] and "yours" in failing[0] and "counterexample" in failing[0]

    code, out, _ = run(capsys, "solution", "cell_depth")
    assert code == 0 and "def cell_depth(cell" in out and "node_depths" in out
    code, out, _ = run(capsys, "solution", "cell_depth", "--write", "--dir", ws)
    assert code == 0
    code, out, _ = run(capsys, "check", "cell_depth", "--dir", ws)
    assert code == 0 and f"{n}/{n} checks passed" in out
    code, out, _ = run(capsys, "list", "--dir", ws, "--json")
    rows = {r["name"]: r for r in json.loads(out)["exercises"]}
    assert rows["cell_depth"]["status"] == f"passed ({n}/{n})" and rows["cell_width"]["status"] == "not started"
    progress = json.loads((tmp_path / "ws" / ".progress.json").read_text())["exercises"]["cell_depth"]
    assert progress["passed"] is True and progress["solution_shown"] is True

    code, out, _ = run(capsys, "reset", "cell_depth", "--dir", ws, "--force")
    assert code == 0 and "NotImplementedError" in (tmp_path / "ws" / "cell_depth.py").read_text()
    code, out, _ = run(capsys, "list", "--dir", ws)
    assert "started" in out and f"passed ({n}/{n})" not in out


def test_hint(capsys):
    code, out, _ = run(capsys, "hint", "cell_width")
    assert code == 0 and out.startswith("cell_width: ")


@pytest.mark.parametrize("content, message", [
    (None, "does not exist; run 'cellnas exercises start cell_width' first"),
    ("def cell_width(:\n", "syntax error in"),
    ("import no_such_module_xyz\n", "failed: ModuleNotFoundError"),
    ("def something_else():\n    pass\n", "defines no function cell_width()"),
])
def test_bad_learner_files_are_one_line_errors(tmp_path, capsys, content, message):
    if content is not None:
        (tmp_path / "cell_width.py").write_text(content)
    code, out, err = run(capsys, "check", "cell_width", "--dir", str(tmp_path))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unknown_exercise_and_existing_file_are_one_line_errors(tmp_path, capsys):
    code, _, err = run(capsys, "start", "no_such_exercise", "--dir", str(tmp_path))
    assert code == 2 and "unknown exercise 'no_such_exercise'" in err
    assert run(capsys, "start", "cell_width", "--dir", str(tmp_path))[0] == 0
    code, _, err = run(capsys, "start", "cell_width", "--dir", str(tmp_path))
    assert code == 2 and "exists" in err
    code, _, err = run(capsys, "check", "--dir", str(tmp_path / "empty"))
    assert code == 2 and "no exercise started" in err


# -- grading in a child process cannot be fooled by exiting or printing ----------------------------------------------
FOOLING = {
    "exit_at_import": "import sys\nsys.exit(0)\n",
    "os_exit_in_function": "import os\n\ndef cell_depth(*args, **kwargs):\n    os._exit(0)\n",
    "prints_passed": "print('cell_depth: 9/9 checks passed -- done')\nprint('1/1 passed')\n"
                     "def cell_depth(*args, **kwargs):\n    print('PASS')\n    return 0\n",
}


@pytest.mark.parametrize("kind", sorted(FOOLING))
def test_isolated_grading_is_not_fooled(kind, tmp_path):
    from cellnas_edu.exercises.isolated import grade_file

    path = tmp_path / "cell_depth.py"
    path.write_text(FOOLING[kind], encoding="utf-8")
    exercise = BY_NAME["cell_depth"]
    try:
        result = grade_file(exercise, path, timeout=1.0, run_timeout=60)
    except UserError as exc:  # sys.exit at import: the file does not load, one line
        assert kind == "exit_at_import" and "SystemExit" in str(exc)
        return
    assert not result.passed
    assert len(result.tests) == len(exercise.check_ids())
    if kind == "os_exit_in_function":
        assert any("did not report" in (t.message or "") for t in result.tests)


def test_isolated_grading_times_out_an_endless_import(tmp_path):
    from cellnas_edu.exercises.isolated import grade_file

    path = tmp_path / "cell_depth.py"
    path.write_text("while True:\n    pass\n", encoding="utf-8")
    result = grade_file(BY_NAME["cell_depth"], path, timeout=1.0, run_timeout=5)
    assert not result.passed
    assert all("time limit" in t.message for t in result.tests)


# -- next, the course total, backups, watch, a corrupt progress record -------------------------------------------
def _write_progress(root, passed_names):
    """A progress record in which `passed_names` passed (their files exist, as a learner's would)."""
    root.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name in passed_names:
        (root / f"{name}.py").write_text(f"# {name}, passed\n")
        n = len(BY_NAME[name].checks)
        entries[name] = {"passed": True, "num_passed": n, "num_tests": n}
    (root / ".progress.json").write_text(json.dumps({"version": 1, "exercises": entries}))


def test_next_starts_the_first_unfinished_then_names_its_file_then_says_all_passed(tmp_path, capsys):
    ws = tmp_path / "ws"
    first = EXERCISES[0]
    code, out, _ = run(capsys, "next", "--dir", str(ws))
    path = ws / f"{first.name}.py"
    assert code == 0 and path.read_text() == stub_source(first)
    lines = out.splitlines()
    assert lines[0] == f"next: {first.name} (1/{len(EXERCISES)}, Chapter {first.chapter}): wrote {path}"
    assert lines[1] == "  " + first.statement.splitlines()[0]
    assert "started" in json.loads((ws / ".progress.json").read_text())["exercises"][first.name]

    path.write_text("# my work so far\n")
    code, out, _ = run(capsys, "next", "--dir", str(ws))
    assert code == 0 and out.splitlines()[0].endswith(f"(1/{len(EXERCISES)}, Chapter {first.chapter}, started): "
                                                      f"open {path}")
    assert out.splitlines()[1] == "  " + first.statement.splitlines()[0]
    assert path.read_text() == "# my work so far\n"  # never overwritten

    # the first three passed: the fourth in catalog order is next
    _write_progress(ws, [e.name for e in EXERCISES[:3]])
    code, out, _ = run(capsys, "next", "--dir", str(ws))
    fourth = EXERCISES[3]
    assert code == 0 and out.startswith(f"next: {fourth.name} (4/{len(EXERCISES)}, ")
    assert (ws / f"{fourth.name}.py").read_text() == stub_source(fourth)

    # a passed exercise whose file was deleted is unfinished again
    _write_progress(ws, [e.name for e in EXERCISES])
    (ws / f"{EXERCISES[1].name}.py").unlink()
    code, out, _ = run(capsys, "next", "--dir", str(ws))
    assert code == 0 and out.startswith(f"next: {EXERCISES[1].name} (2/{len(EXERCISES)}, ")

    _write_progress(ws, [e.name for e in EXERCISES])
    code, out, _ = run(capsys, "next", "--dir", str(ws))
    assert code == 0 and out == f"all {len(EXERCISES)} exercises passed; workspace {ws}/\n"


def test_check_ends_with_the_course_total_in_text_and_json(tmp_path, capsys):
    ws = tmp_path / "ws"
    _write_progress(ws, ["live_nodes", "cell_width"])
    # recorded as passed, but its file is gone: not counted (as in 'list')
    progress = json.loads((ws / ".progress.json").read_text())
    progress["exercises"]["enumeration_count"] = {"passed": True, "num_passed": 1, "num_tests": 1}
    (ws / ".progress.json").write_text(json.dumps(progress))
    run(capsys, "solution", "cell_depth", "--write", "--dir", str(ws))
    code, out, _ = run(capsys, "check", "cell_depth", "--dir", str(ws))
    assert code == 0
    assert out.splitlines()[-2:] == ["checked: 1/1 passed", f"3/{len(EXERCISES)} exercises passed"]
    code, out, _ = run(capsys, "list", "--dir", str(ws))
    assert f"\n3/{len(EXERCISES)} passed;" in out  # list and check count alike

    (ws / "cell_depth.py").write_text(stub_source(BY_NAME["cell_depth"]))
    code, out, _ = run(capsys, "check", "cell_depth", "--dir", str(ws), "--json")
    data = json.loads(out)
    assert code == 1 and data["passed"] is False
    assert (data["num_passed"], data["num_exercises"]) == (0, 1)
    assert (data["total_passed"], data["total_exercises"]) == (2, len(EXERCISES))


def _backup(ws, name, number):
    return ws / f"{name}.py.~{number}~"


def test_reset_solution_and_start_force_keep_the_old_file_byte_for_byte(tmp_path, capsys):
    ws = tmp_path / "ws"
    exercise = BY_NAME["cell_width"]
    path = ws / "cell_width.py"
    assert run(capsys, "start", "cell_width", "--dir", str(ws))[0] == 0
    first = b"def cell_width(cell):\r\n    return 42  # my first try \xc3\xa9\n\xff not even UTF-8\n"
    path.write_bytes(first)

    code, out, _ = run(capsys, "reset", "cell_width", "--dir", str(ws), "--force")
    assert code == 0 and str(_backup(ws, "cell_width", 1)) in out
    assert _backup(ws, "cell_width", 1).read_bytes() == first
    assert path.read_text() == stub_source(exercise)

    # a reset of an untouched stub loses nothing: no backup
    code, out, _ = run(capsys, "reset", "cell_width", "--dir", str(ws), "--force")
    assert code == 0 and "no backup" in out and not _backup(ws, "cell_width", 2).exists()

    second = b"def cell_width(cell):\n    return 2\n"
    path.write_bytes(second)
    code, out, _ = run(capsys, "solution", "cell_width", "--write", "--dir", str(ws))
    assert code == 0 and f"your old file is kept as {_backup(ws, 'cell_width', 2)}" in out
    assert _backup(ws, "cell_width", 2).read_bytes() == second
    assert _backup(ws, "cell_width", 1).read_bytes() == first  # an older backup is never overwritten
    assert path.read_text() == solution_source(exercise)

    code, out, _ = run(capsys, "start", "cell_width", "--dir", str(ws), "--force")
    assert code == 0 and str(_backup(ws, "cell_width", 3)) in out
    assert _backup(ws, "cell_width", 3).read_text() == solution_source(exercise)

    # numbering goes on from the highest backup, gaps and all
    _backup(ws, "cell_width", 7).write_bytes(b"old\n")
    path.write_bytes(b"third\n")
    code, out, _ = run(capsys, "reset", "cell_width", "--dir", str(ws), "--force")
    assert _backup(ws, "cell_width", 8).read_bytes() == b"third\n"
    assert [p.name for p in Workspace(ws).backups(exercise)] == [f"cell_width.py.~{n}~" for n in (1, 2, 3, 7, 8)]
    assert [e.name for e in Workspace(ws).started()] == ["cell_width"]  # backups are not exercises


class _Terminal:
    """A stdin that is a terminal and answers `answer`."""

    def __init__(self, answer):
        self.lines = [answer]

    def isatty(self):
        return True

    def readline(self):
        return self.lines.pop(0) if self.lines else ""


def test_reset_asks_on_a_terminal_and_refuses_without_one(tmp_path, capsys, monkeypatch):
    import sys

    ws = tmp_path / "ws"
    path = ws / "cell_width.py"
    run(capsys, "start", "cell_width", "--dir", str(ws))
    path.write_bytes(b"mine\n")

    monkeypatch.setattr(sys, "stdin", _Terminal(""))  # not a terminal: pytest's stdin; here a closed terminal
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, out, err = run(capsys, "reset", "cell_width", "--dir", str(ws))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "pass --force" in err and str(path) in err
    assert path.read_bytes() == b"mine\n" and not list(ws.glob("*.~*~"))

    for answer in ("n\n", "\n", ""):  # no, the default, end of input
        monkeypatch.setattr(sys, "stdin", _Terminal(answer))
        code, out, err = run(capsys, "reset", "cell_width", "--dir", str(ws))
        assert code == 1 and f"nothing changed: {path} is as it was" in out and "[y/N]" in out
        assert path.read_bytes() == b"mine\n" and not list(ws.glob("*.~*~"))

    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    code, out, err = run(capsys, "reset", "cell_width", "--dir", str(ws))
    assert code == 0 and f"your old file is kept as {_backup(ws, 'cell_width', 1)}" in out
    assert _backup(ws, "cell_width", 1).read_bytes() == b"mine\n"
    assert path.read_text() == stub_source(BY_NAME["cell_width"])


BAD_PROGRESS = {
    "list": (b"[]", "expected an object with an 'exercises' object, got a list"),
    "object_without_exercises": (b'{"x": 3}', "got one without it (keys 'x')"),
    "record_not_an_object_at_top": (b'{"name": "not-a-dict"}', "got one without it (keys 'name')"),
    "record_not_an_object": (b'{"version": 1, "exercises": {"cell_width": "not-a-dict"}}',
                             "the record of 'cell_width' should be an object, got a string"),
    "exercises_a_list": (b'{"exercises": []}', "'exercises' should be an object of exercise records, got a list"),
    "passed_not_a_boolean": (b'{"exercises": {"cell_width": {"passed": "yes", "num_passed": 1, "num_tests": 1}}}',
                             "'passed' of 'cell_width' should be true or false, got a string"),
    "counts_missing": (b'{"exercises": {"cell_width": {"passed": true}}}',
                       "'num_passed' of 'cell_width' should be a count (a whole number >= 0), got nothing"),
    "invalid_json": (b'{"exercises": {', "is not readable JSON"),
    "not_utf8": (b'\xff\xfe{}', "is not readable JSON"),
}


@pytest.mark.parametrize("action", ["list", "check", "next", "reset", "solution"])
@pytest.mark.parametrize("shape", sorted(BAD_PROGRESS))
def test_a_corrupt_progress_record_is_one_line_naming_the_file(tmp_path, capsys, action, shape):
    content, problem = BAD_PROGRESS[shape]
    (tmp_path / ".progress.json").write_bytes(content)
    (tmp_path / "cell_width.py").write_bytes(b"mine\n")
    argv = {"list": ["list"], "check": ["check"], "next": ["next"], "reset": ["reset", "cell_width", "--force"],
            "solution": ["solution", "cell_width", "--write"]}[action]
    code, out, err = run(capsys, *argv, "--dir", str(tmp_path))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"{tmp_path / '.progress.json'} is not" in err and problem in err
    assert "delete it to start the record afresh" in err
    # nothing was written: the learner's file, the record and the folder are as they were
    assert (tmp_path / "cell_width.py").read_bytes() == b"mine\n"
    assert (tmp_path / ".progress.json").read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == [".progress.json", "cell_width.py"]


def _watch(ws, *args):
    """`cellnas exercises watch ... --dir ws` in a child process; its stdout lines go to `proc.lines` (a queue)."""
    import os
    import queue
    import subprocess
    import sys
    import threading
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONUNBUFFERED="1")
    import signal

    # Ctrl-C as a terminal delivers it: the child starts with SIGINT at its default, even when this test runs
    # under a shell that ignores it (a background job of a non-interactive shell inherits SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler).
    proc = subprocess.Popen([sys.executable, "-m", "cellnas_edu.cli", "exercises", "watch", *args, "--dir", str(ws)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=root,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    proc.lines = queue.Queue()

    def pump():
        for line in proc.stdout:
            proc.lines.put(line)
        proc.lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return proc


def _read_until(proc, marker, lines, timeout=60.0):
    """Collect lines into `lines` up to one containing `marker`; fail (never hang) after `timeout` seconds."""
    import queue
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            line = proc.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {marker!r} from watch within {timeout} s: {''.join(lines)}") from None
        if line is None:
            raise AssertionError(f"watch ended before {marker!r}: {''.join(lines)}")
        lines.append(line)
        if marker in line:
            return


def _finish(proc, lines, timeout=60.0):
    """Wait for watch to exit; the rest of its stdout is appended to `lines`; returns stderr."""
    try:
        proc.wait(timeout=timeout)
    except Exception:
        proc.kill()
        raise
    err = proc.stderr.read()
    while (line := proc.lines.get(timeout=10)) is not None:
        lines.append(line)
    return err


def test_watch_rechecks_a_saved_file(tmp_path, capsys):
    ws = tmp_path / "ws"
    run(capsys, "start", "cell_depth", "--dir", str(ws))
    n = len(BY_NAME["cell_depth"].checks)
    proc = _watch(ws, "cell_depth", "--interval", "0.05", "--max-checks", "3")
    try:
        lines = []
        _read_until(proc, "-- waiting for", lines)
        assert f"cell_depth: 0/{n} checks passed\n" in lines
        (ws / "cell_depth.py").write_text("def cell_depth(:\n")  # a syntax error: said on one line, watch goes on
        _read_until(proc, "-- waiting for", lines)
        assert any(line.startswith("cell_depth: error: syntax error in") for line in lines)
        (ws / "cell_depth.py").write_text(solution_source(BY_NAME["cell_depth"]))
        err = _finish(proc, lines)
    finally:
        proc.kill()
    text = "".join(lines)
    assert proc.returncode == 0, text + err  # --max-checks: the status of the last check, a pass
    assert text.count("changed\n") == 2 and text.count("checks passed") == 2
    assert f"cell_depth: {n}/{n} checks passed -- done" in text and "Traceback" not in err
    progress = json.loads((ws / ".progress.json").read_text())["exercises"]["cell_depth"]
    assert progress["passed"] is True and progress["num_passed"] == n


def test_watch_ends_on_ctrl_c_with_exit_0(tmp_path, capsys):
    import signal

    ws = tmp_path / "ws"
    run(capsys, "next", "--dir", str(ws))  # watch without a name follows 'next'
    proc = _watch(ws, "--interval", "0.05")
    try:
        lines = []
        _read_until(proc, "-- waiting for", lines)
        assert lines[0] == f"watching {ws / EXERCISES[0].name}.py (Ctrl-C ends)\n"
        proc.send_signal(signal.SIGINT)
        err = _finish(proc, lines)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err and err == ""
    assert f"stopped watching {ws / EXERCISES[0].name}.py after 1 check\n" in lines


def test_watch_bad_input_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "watch", "cell_width", "--dir", str(tmp_path))
    assert code == 2 and f"{tmp_path / 'cell_width.py'} does not exist" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "watch", "cell_width", "--max-checks", "0", "--dir", str(tmp_path))
    assert code == 2 and "expected a whole number >= 1, got '0'" in err
    code, _, err = run(capsys, "watch", "cell_width", "--interval", "inf", "--dir", str(tmp_path))
    assert code == 2 and "expected a positive number of seconds" in err
    _write_progress(tmp_path, [e.name for e in EXERCISES])
    code, _, err = run(capsys, "watch", "--dir", str(tmp_path))
    assert code == 2 and "every exercise" in err and "has passed" in err
