"""The learner's workspace: one module per exercise, and `.progress.json`.

`start NAME` writes `<dir>/NAME.py`: the imports the package's solution uses (minus the
package's own helpers of the same module, which would give the answer away), the function's
signature, its statement as the docstring and a body that raises `NotImplementedError`.
`solution NAME --write` replaces the body by the package's implementation."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import textwrap
import types
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UserError
from ..io import atomic_write_json, atomic_write_text
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


class Workspace:
    """A folder of learner modules and their progress."""

    def __init__(self, root: Path | str = DEFAULT_DIR):
        self.root = Path(root)

    def path(self, exercise: Exercise) -> Path:
        return self.root / f"{exercise.name}.py"

    # -- progress ------------------------------------------------------------------
    def progress(self) -> dict[str, dict]:
        path = self.root / PROGRESS
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{path} is not readable JSON ({exc}); delete it to start the record afresh") from None
        return data.get("exercises", {}) if isinstance(data, dict) else {}

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
    def start(self, exercise: Exercise, force: bool = False) -> Path:
        path = self.path(exercise)
        if path.exists() and not force:
            raise UserError(f"{path} exists; edit it, or 'cellnas exercises reset {exercise.name}' to start over")
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, stub_source(exercise))
        self.record(exercise.name, started=_now())
        return path

    def reset(self, exercise: Exercise) -> Path:
        path = self.path(exercise)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, stub_source(exercise))
        self.forget(exercise.name)
        self.record(exercise.name, started=_now())
        return path

    def write_solution(self, exercise: Exercise) -> Path:
        path = self.path(exercise)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, solution_source(exercise))
        self.record(exercise.name, solution_shown=True)
        return path

    def started(self) -> list[Exercise]:
        return [e for e in EXERCISES if self.path(e).is_file()]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
