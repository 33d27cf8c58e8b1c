"""The learner's workspace: one module per exercise, and `.progress.json`.

`start NAME` writes `<dir>/NAME.py`: the imports the package's solution uses (minus the
package's own helpers of the same module, which would give the answer away), the function's
signature, its statement as the docstring and a body that raises `NotImplementedError`.
`solution NAME --write` replaces the body by the package's implementation.

Backups: no command destroys the learner's file. Before `reset`, `solution --write` or `start --force`
overwrites `<dir>/NAME.py`, [`Workspace.replace`][cellnas_edu.exercises.workspace.Workspace.replace] copies
it byte for byte to `<dir>/NAME.py.~N~`, N one more than the highest backup number there (so `~1~`, then
`~2~`, ...; no backup is ever overwritten). A file that already holds exactly the new text is not backed up
(nothing would be lost). Backups do not end in `.py`, so they are never taken for an exercise.

`.progress.json` is `{"version": 1, "exercises": {NAME: {...}}}`; a file of another shape, or one that is
not JSON, is a one-line [`UserError`][cellnas_edu.errors.UserError] naming it and what is wrong."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import textwrap
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from ..errors import UserError
from ..io import atomic_write_bytes, atomic_write_json, atomic_write_text, read_bounded_bytes
from .catalog import CHAPTERS, EXERCISES, Exercise

DEFAULT_DIR = Path("cellnas-exercises")
PROGRESS = ".progress.json"


def _global_names(exercise: Exercise) -> set[str]:
    """Names the package's function reads from its module (body and annotations)."""
    tree = ast.parse(_reference_source(exercise))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _import_line(module_name: str, name: str, value) -> str:
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__}" + ("" if value.__name__ == name else f" as {name}")
    home = getattr(value, "__module__", None)
    if isinstance(home, str) and (callable(value) or isinstance(value, type)):
        try:
            if getattr(importlib.import_module(home), name, None) is value:
                return f"from {home} import {name}"
        except ImportError:
            pass
    return f"from {module_name} import {name}"


def import_lines(exercise: Exercise, for_stub: bool) -> list[str]:
    """Imports of the global names the package's function uses, from where they are defined."""
    reference = exercise.reference()
    module_name = exercise.module_name
    lines = []
    for name in sorted(_global_names(exercise)):
        if name not in reference.__globals__:
            continue
        value = reference.__globals__[name]
        if for_stub and callable(value) and not isinstance(value, type) and getattr(value, "__module__", "") == \
                module_name:
            continue  # the package's own helpers next to the target: the learner writes those steps
        lines.append(_import_line(module_name, name, value))
    if for_stub:
        lines += list(exercise.imports)
    plain = sorted({line for line in lines if line.startswith("import ")})
    froms = sorted({line for line in lines if line.startswith("from ")})
    return plain + ([""] if plain and froms else []) + froms


def _header(exercise: Exercise, kind: str) -> str:
    what = "Write the function below" if kind == "stub" else "The package's own implementation"
    return (
        f'"""Exercise {exercise.name} (Chapter {exercise.chapter}: {CHAPTERS[exercise.chapter]}): {exercise.title}.\n\n'
        f"{what}; `cellnas exercises check {exercise.name}` grades it with the package's checks\n"
        f"(target: {exercise.target}).\n"
        '"""\n\n'
        "from __future__ import annotations\n\n"
    )


def _reference_source(exercise: Exercise) -> str:
    """The package's function, without decorators: a property's getter is written as a plain function."""
    source = textwrap.dedent(inspect.getsource(exercise.reference()))
    lines = source.splitlines(keepends=True)
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
    return "".join(lines)


def stub_source(exercise: Exercise) -> str:
    """The learner's starting point: signature, statement, `raise NotImplementedError`."""
    tree = ast.parse(_reference_source(exercise))
    function = tree.body[0]
    function.decorator_list = []
    function.body = [ast.Pass()]
    signature = ast.unparse(function).rsplit("\n", 1)[0]
    doc = exercise.statement.replace('"""', "'''")
    body = textwrap.indent(f'r"""{doc}\n"""\n', "    ")
    body += f'    raise NotImplementedError("write {exercise.function_name}")\n'
    imports = "\n".join(import_lines(exercise, for_stub=True))
    return _header(exercise, "stub") + (imports + "\n\n\n" if imports else "\n") + signature + "\n" + body


def solution_source(exercise: Exercise) -> str:
    """The package's implementation as a self-contained module (its imports included)."""
    imports = "\n".join(import_lines(exercise, for_stub=False))
    return _header(exercise, "solution") + (imports + "\n\n\n" if imports else "\n") + _reference_source(exercise)


def solution_location(exercise: Exercise) -> str:
    reference = exercise.reference()
    _, line = inspect.getsourcelines(reference)
    return f"{inspect.getsourcefile(reference)}:{line}"


class Written(NamedTuple):
    """What a write to the learner's file did: the file, and the backup of its old text (`None`: no backup)."""

    path: Path
    backup: Path | None


class Workspace:
    """A folder of learner modules and their progress."""

    def __init__(self, root: Path | str = DEFAULT_DIR):
        self.root = Path(root)

    def path(self, exercise: Exercise) -> Path:
        return self.root / f"{exercise.name}.py"

    # -- progress ------------------------------------------------------------------
    def progress(self) -> dict[str, dict]:
        """`{name: entry}` from `.progress.json` (`{}` when there is none); a corrupt file is a `UserError`."""
        path = self.root / PROGRESS
        if not path.is_file():
            return {}
        try:
            data = json.loads(read_bounded_bytes(path, what="progress record").decode("utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise UserError(f"{path} is not readable JSON ({exc}); delete it to start the record afresh") from None
        problem = _progress_problem(data)
        if problem:
            raise UserError(f"{path} is not a progress record: {problem}; delete it to start the record afresh")
        return data["exercises"]

    def _save(self, progress: dict[str, dict]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.root / PROGRESS, {"version": 1, "exercises": progress})

    def record(self, name: str, **fields) -> None:
        progress = self.progress()
        entry = progress.setdefault(name, {})
        entry.update(fields)
        self._save(progress)

    def forget(self, name: str) -> None:
        progress = self.progress()
        progress.pop(name, None)
        self._save(progress)

    def status(self, exercise: Exercise) -> str:
        entry = self.progress().get(exercise.name)
        if not self.path(exercise).is_file():
            return "not started"
        if not entry or "passed" not in entry:
            return "started"
        if entry["passed"]:
            return f"passed ({entry['num_tests']}/{entry['num_tests']})"
        return f"failing ({entry['num_passed']}/{entry['num_tests']})"

    # -- files ---------------------------------------------------------------------
    def backups(self, exercise: Exercise) -> list[Path]:
        """The backups of the learner's file, oldest first (`NAME.py.~1~`, `NAME.py.~2~`, ...)."""
        pattern = re.compile(re.escape(self.path(exercise).name) + r"\.~([1-9][0-9]*)~")
        found = [(int(m.group(1)), p) for p in self.root.glob(f"{self.path(exercise).name}.~*~")
                 if (m := pattern.fullmatch(p.name))]
        return [p for _, p in sorted(found)]

    def replace(self, exercise: Exercise, text: str) -> Path | None:
        """Write `text` to the learner's file; first copy the old file to the next free `NAME.py.~N~`.

        Returns the backup's path, or `None` where nothing was backed up (no file yet, or it already holds
        exactly `text`). Both writes are atomic; if the backup cannot be written, the file is left as it is."""
        path = self.path(exercise)
        self.root.mkdir(parents=True, exist_ok=True)
        backup = None
        if path.is_file():
            old = read_bounded_bytes(path, 2**20, "solution file")
            if old != text.encode("utf-8"):
                existing = self.backups(exercise)
                number = int(existing[-1].name.rsplit(".~", 1)[1][:-1]) + 1 if existing else 1
                backup = path.with_name(f"{path.name}.~{number}~")
                atomic_write_bytes(backup, old)
        atomic_write_text(path, text)
        return backup

    def start(self, exercise: Exercise, force: bool = False) -> Written:
        """Write the stub (the file's path, and its backup where `force` replaced an edited file)."""
        path = self.path(exercise)
        if path.exists() and not force:
            raise UserError(f"{path} exists; edit it, or 'cellnas exercises reset {exercise.name}' to start over")
        progress = self.progress()  # a corrupt record stops us before any file is written
        backup = self.replace(exercise, stub_source(exercise))
        progress[exercise.name] = {"started": _now()}  # a fresh stub has no result yet
        self._save(progress)
        return Written(path, backup)

    def reset(self, exercise: Exercise) -> Written:
        """A fresh stub (the old file backed up) and the exercise's progress forgotten."""
        return self.start(exercise, force=True)

    def write_solution(self, exercise: Exercise) -> Written:
        """The package's implementation into the learner's file (the old file backed up)."""
        self.progress()  # a corrupt record stops us before any file is written
        backup = self.replace(exercise, solution_source(exercise))
        self.record(exercise.name, solution_shown=True)
        return Written(self.path(exercise), backup)

    def passed(self) -> list[Exercise]:
        """The exercises whose file exists and whose last check passed, in catalog order."""
        progress = self.progress()
        return [e for e in EXERCISES if self.path(e).is_file() and progress.get(e.name, {}).get("passed") is True]

    def next_unfinished(self) -> Exercise | None:
        """The first exercise in catalog order that has not passed (`None` when every one has)."""
        done = {e.name for e in self.passed()}
        return next((e for e in EXERCISES if e.name not in done), None)

    def started(self) -> list[Exercise]:
        return [e for e in EXERCISES if self.path(e).is_file()]


def _progress_problem(data) -> str | None:
    """What is wrong with the shape of a parsed `.progress.json`, or `None`."""
    def kind(value) -> str:
        return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(value), "a number")

    if not isinstance(data, dict):
        return f"expected an object with an 'exercises' object, got {kind(data)}"
    if "exercises" not in data:
        keys = ", ".join(repr(k) for k in list(data)[:5])
        return "expected an object with an 'exercises' object, got one without it" + (f" (keys {keys})" if keys else "")
    exercises = data["exercises"]
    if not isinstance(exercises, dict):
        return f"'exercises' should be an object of exercise records, got {kind(exercises)}"
    for name, entry in exercises.items():
        if not isinstance(entry, dict):
            return f"the record of {name!r} should be an object, got {kind(entry)}"
        if "passed" in entry:
            if not isinstance(entry["passed"], bool):
                return f"'passed' of {name!r} should be true or false, got {kind(entry['passed'])}"
            for field in ("num_passed", "num_tests"):
                value = entry.get(field)
                if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                    return f"{field!r} of {name!r} should be a count (a whole number >= 0), got " + (
                        "nothing" if field not in entry else repr(value))
    return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
