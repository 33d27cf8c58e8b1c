r"""Grade a learner's function with the package's own checks: one swap mechanism for every exercise.

**How a check runs**

1. The learner's file is compiled and executed as a fresh module (a syntax error, an import error
   or a missing function is a [`UserError`][cellnas_edu.errors.UserError]: one line, exit 2).
2. [`swapped`][cellnas_edu.exercises.grader.swapped] replaces the package's function by the learner's everywhere it
can be reached:
   for a method (`Class.name`) on the class; for a function in its defining module **and** in
   every loaded module that imported it with `from ... import name` (found by identity in
   `sys.modules`), so the check modules, and package code that calls the function, all see the
   learner's version. Everything is restored afterwards.
3. The learner's function is wrapped by a [`Recorder`][cellnas_edu.exercises.grader.Recorder]: every call is recorded
(a deep copy
   of its arguments, then the result or the exception) and runs under a per-call time limit
   (`SIGALRM`; a function that loops fails with a timeout instead of hanging the grader).
4. Each check (a plain function, most of them Hypothesis `@given` tests with
   [`GRADED`][cellnas_edu.exercises.checks.GRADED] settings) is called. Hypothesis shrinks a failure
   and replays the minimal example last; the recorder is cleared at the start of every example, so
   the calls it holds afterwards are the shrunk counterexample's. The grader re-runs the package's
   function on the recorded arguments and reports the last call whose result differs: the
   call, the expected (package) value and the learner's. When both are arrays (or tensors) it also
   says how many entries differ and where the largest differences are
   ([`array_differences`][cellnas_edu.exercises.grader.array_differences]): two large arrays of one
   shape and norm can differ in many places."""

from __future__ import annotations

import copy
import functools
import importlib
import math
import signal
import sys
import threading
import time
import traceback
import types
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import UserError
from ..io import read_bounded_text
from .catalog import Exercise

DEFAULT_CALL_TIMEOUT = 5.0
"""Seconds one call of the learner's function may take."""
IMPORT_TIMEOUT = 60.0
"""Seconds the learner's module may take to run (its imports included)."""
MAX_RECORDED = 64
"""Calls remembered per example (the shrunk example's calls are the last ones)."""
REPR_LIMIT = 400
MAX_DIFFERENCES = 5
"""Largest differences listed for two arrays that differ."""


class LearnerTimeout(Exception):
    """The learner's function did not return within the time limit."""


@dataclass
class Call:
    args: tuple
    kwargs: dict
    result: object = None
    error: BaseException | None = None
    state_after: object = None  # for functions that change their first argument (in place) instead of returning


@dataclass
class TestResult:
    id: str
    passed: bool
    doc: str = ""
    counterexample: str | None = None
    call: str | None = None
    expected: str | None = None
    yours: str | None = None
    differences: str | None = None  # for arrays: how many entries differ, the largest differences and where
    message: str | None = None

    @property
    def name(self) -> str:
        return self.id.split("::")[-1]

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class ExerciseResult:
    exercise: str
    tests: list[TestResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.tests) and all(t.passed for t in self.tests)

    @property
    def num_passed(self) -> int:
        return sum(t.passed for t in self.tests)

    def to_json(self) -> dict:
        return {"exercise": self.exercise, "passed": self.passed, "num_passed": self.num_passed,
                "num_tests": len(self.tests), "tests": [t.to_json() for t in self.tests]}


# -- time limits -------------------------------------------------------------------------
@contextmanager
def time_limit(seconds: float | None, what: str):
    """Raise [`LearnerTimeout`][cellnas_edu.exercises.grader.LearnerTimeout] in the block after `seconds` (main thread
    on POSIX; elsewhere no limit)."""
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise LearnerTimeout(f"{what} did not return within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay > 0:  # someone else's alarm (pytest-timeout, say) was running: give back what is left of it
            left = outer_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), outer_interval)


# -- loading the learner's file -------------------------------------------------------------
def load_function(path: Path, exercise: Exercise, timeout: float | None = DEFAULT_CALL_TIMEOUT):
    """Execute the learner's file as a module and return its function `exercise.function_name`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} does not exist; run 'cellnas exercises start {exercise.name}' first")
    source = read_bounded_text(path, 2**20, "solution file")
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise UserError(f"syntax error in {path}, line {exc.lineno}: {exc.msg}") from None
    exercise.owner()  # import the package's module (and torch, numpy, ...) first: the learner's imports are then quick
    module = types.ModuleType(f"cellnas_exercise_{exercise.name}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses and pickling look modules up by name
    try:
        with time_limit(max(timeout or 0, IMPORT_TIMEOUT), f"importing {path.name}"):
            exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:  # the learner's module failed: one line, not our traceback
        sys.modules.pop(module.__name__, None)
        raise UserError(f"running {path} failed: {type(exc).__name__}: {exc}") from None
    function = module.__dict__.get(exercise.function_name)
    if not callable(function):
        raise UserError(f"{path} defines no function {exercise.function_name}()")
    return function


# -- the swap ------------------------------------------------------------------------------
@contextmanager
def swapped(exercise: Exercise, replacement):
    """Within the block, the package's target is `replacement` wherever it was reachable (module docstring)."""
    owner = exercise.owner()
    name = exercise.function_name
    original = owner.__dict__[name]
    patched: list[tuple[object, str, object]] = []
    if exercise.is_method:
        patched.append((owner, name, original))
        setattr(owner, name, property(replacement) if isinstance(original, property) else replacement)
    else:
        for module in list(sys.modules.values()):
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for key, value in list(namespace.items()):
                if value is original:
                    patched.append((module, key, value))
                    setattr(module, key, replacement)
    try:
        yield
    finally:
        for holder, key, value in reversed(patched):
            setattr(holder, key, value)


def _copy(obj):
    try:
        return copy.deepcopy(obj)
    except Exception:  # an object that cannot be copied is shown as it is
        return obj


class Recorder:
    """Wraps the learner's function: records calls (arguments copied first) under a per-call time limit."""

    def __init__(self, function, timeout: float | None = DEFAULT_CALL_TIMEOUT, name: str | None = None):
        self.function = function
        self.name = name or getattr(function, "__name__", "learner")
        self.timeout = timeout
        self.calls: list[Call] = []
        self.timed_out: Call | None = None

        def learner(*args, **kwargs):  # a plain function, so that it binds as a method on a class
            return self._call(args, kwargs)

        learner.__name__ = getattr(function, "__name__", "learner")
        learner.__doc__ = getattr(function, "__doc__", None)
        self.wrapper = learner

    def _call(self, args, kwargs):
        call = Call(_copy(args), _copy(kwargs))
        self.calls.append(call)
        del self.calls[:-MAX_RECORDED]
        if self.timed_out is None:
            try:
                with time_limit(self.timeout, "your function"):
                    result = self.function(*args, **kwargs)
            except LearnerTimeout:
                self.timed_out = call
            except Exception as exc:
                call.error = exc
                raise
            else:
                call.result = _copy(result)
                if result is None or (args and result is args[0]):
                    call.state_after = _copy(args[0]) if args else None
                return result
        # Once it has looped, every call fails at once (shrinking stays quick), raised from this one line so that
        # Hypothesis sees one and the same failure every time.
        call.error = LearnerTimeout(self.timeout_message())
        raise call.error from None

    def timeout_message(self) -> str:
        return (f"your function did not return within {self.timeout:g} s "
                f"(first on {format_call(self.name, self.timed_out)})")


# -- comparing and showing values --------------------------------------------------------------
def _state(obj):
    """What a value is, for comparison: tensors and arrays as they are, other objects by their attributes."""
    plain = (int, float, complex, str, bytes, bool, Fraction, type(None), frozenset, set, tuple, list, dict)
    if isinstance(obj, plain):
        return obj
    if hasattr(obj, "shape") or hasattr(obj, "__array__"):
        return obj
    if hasattr(obj, "__dataclass_fields__"):
        return obj
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    return obj


def same(a, b) -> bool:
    """Equal up to floating-point rounding (relative 1e-9), recursively through containers and tensors."""
    a, b = _state(a), _state(b)
    torch = sys.modules.get("torch")  # never imported just to compare (it takes seconds)
    if torch is not None and (isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor)):
        try:
            a, b = torch.as_tensor(a), torch.as_tensor(b)
            return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=1e-9, atol=1e-12,
                                                         equal_nan=True)
        except Exception:
            return False
    if hasattr(a, "__array__") and hasattr(b, "__array__") and not isinstance(a, (list, tuple)):
        import numpy as np

        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12) or (a != a and b != b)
        except (TypeError, ValueError):
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


def _fmt(value) -> str:
    """A compact repr: small tensors and arrays in full precision, large ones by shape and norm."""
    value = _state(value)
    torch = sys.modules.get("torch")
    if (torch is not None and isinstance(value, torch.Tensor)) or type(value).__name__ == "ndarray":
        kind = "tensor" if torch is not None and isinstance(value, torch.Tensor) else "array"
        data = value.detach().cpu().numpy() if kind == "tensor" else value
        if data.size <= 12:
            return f"{kind}({_fmt(data.tolist())})"
        norm = float((data.astype(float) ** 2).sum() ** 0.5)
        return f"{kind}(shape={tuple(data.shape)}, {data.dtype}, norm={norm:.10g})"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, tuple) and type(value) is tuple:
        return "(" + ", ".join(_fmt(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def short(value) -> str:
    text = " ".join(_fmt(value).split())
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def format_call(name: str, call: Call) -> str:
    parts = [short(a) for a in call.args] + [f"{k}={short(v)}" for k, v in call.kwargs.items()]
    return f"{name}({', '.join(parts)})"


def outcome(call: Call):
    """The learner's (or package's) answer: the result, the state of the first argument, or the exception."""
    if call.error is not None:
        return call.error
    return call.state_after if call.state_after is not None else call.result


def show(value) -> str:
    if isinstance(value, BaseException):
        return f"raised {type(value).__name__}: {value}"
    return short(value)


def run_reference(reference, call: Call) -> Call:
    """The package's function on a fresh copy of the recorded arguments."""
    out = Call(call.args, call.kwargs)
    try:
        work_args, work_kwargs = _copy(call.args), _copy(call.kwargs)
        result = reference(*work_args, **work_kwargs)
        out.result = _copy(result)
        if result is None or (work_args and result is work_args[0]):
            out.state_after = _copy(work_args[0]) if work_args else None
    except Exception as exc:
        out.error = exc
    return out


def _same_outcome(a, b) -> bool:
    if isinstance(a, BaseException) or isinstance(b, BaseException):
        return isinstance(a, BaseException) and isinstance(b, BaseException) and type(a) is type(b)
    return same(a, b)


# -- running the checks ----------------------------------------------------------------------
def resolve_check(check_id: str):
    module_name, _, test_name = check_id.partition("::")
    module = importlib.import_module(module_name)
    return getattr(module, test_name)


def _first_line(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _counterexample(exc: BaseException) -> str | None:
    for note in getattr(exc, "__notes__", []) or []:
        if note.startswith(("Falsifying example", "Failing test case")):
            text = " ".join(note.split(":", 1)[1].split()).replace("  # or any other generated value", "")
            return text.replace(", )", ")").replace("( ", "(")
    return None


def _failing_line(exc: BaseException, test) -> str:
    """The source line of the check that raised (`assert ...`) when the exception carries no message."""
    import linecache

    filename = getattr(getattr(test, "__wrapped__", test), "__code__", None)
    filename = filename.co_filename if filename else None
    line = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            line = linecache.getline(filename, lineno).strip()
    return line


def run_one(check_id: str, recorder: Recorder, reference, function_name: str) -> TestResult:
    test = resolve_check(check_id)
    result = TestResult(check_id, True, _first_line(test.__doc__))
    hyp = getattr(test, "hypothesis", None)
    inner = hyp.inner_test if hyp is not None else None
    if hyp is not None:
        @functools.wraps(inner)
        def cleared(*args, **kwargs):  # every example starts with an empty record
            recorder.calls.clear()
            return inner(*args, **kwargs)

        hyp.inner_test = cleared
    recorder.calls.clear()
    try:
        test()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        result.passed = False
        result.counterexample = _counterexample(exc)
        learner_errors = [c.error for c in recorder.calls if c.error is not None]
        if isinstance(exc, NotImplementedError) or any(isinstance(e, NotImplementedError) for e in learner_errors):
            result.message = "not written yet: the function still raises NotImplementedError"
        elif recorder.timed_out is not None:
            result.message = recorder.timeout_message()
        elif exc in learner_errors:
            result.message = f"your function raised {type(exc).__name__}: {exc}"
        else:
            text = str(exc).strip().split("\n")[0] or _failing_line(exc, test)
            result.message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        _explain(result, recorder, reference, function_name)
    finally:
        if hyp is not None:
            hyp.inner_test = inner
    return result


def _explain(result: TestResult, recorder: Recorder, reference, function_name: str) -> None:
    """Fill in the call whose learner value differs from the package's (the last such call of the example)."""
    calls = list(recorder.calls)
    if not calls:
        return
    chosen, expected = None, None
    for call in reversed(calls):
        ref = run_reference(reference, call)
        if not _same_outcome(outcome(call), outcome(ref)):
            chosen, expected = call, ref
            break
    if chosen is None:  # every call agrees with the package: the test failed on something else
        return
    mine, theirs = outcome(chosen), outcome(expected)
    if isinstance(mine, BaseException) or isinstance(theirs, BaseException):  # shown as "raised ...", not by state
        result.call = format_call(function_name, chosen)
        result.expected, result.yours = show(theirs), show(mine)
        return
    a, b = _state(mine), _state(theirs)
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():  # a changed object: what differs
        keys = [k for k in a if not same(a[k], b[k])] or list(a)
        mine, theirs = {k: a[k] for k in keys}, {k: b[k] for k in keys}
    result.call = format_call(function_name, chosen)
    result.expected = show(theirs)
    result.yours = show(mine)
    if isinstance(a, dict) and isinstance(b, dict):  # a changed object: its array attributes that differ
        parts = [f"{k}: {text}" for k in a if k in b and (text := array_differences(b[k], a[k])) is not None]
        result.differences = "; ".join(parts) or None
    else:
        result.differences = array_differences(b, a)


def _as_array(value):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value if type(value).__name__ == "ndarray" else None


def _index(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def array_differences(expected, yours, limit: int = MAX_DIFFERENCES) -> str | None:
    """How two arrays (or tensors) differ, for the report: different shapes, or how many entries differ
    (beyond the rounding [`same`][cellnas_edu.exercises.grader.same] allows) and the `limit` largest
    differences with their indices, largest first (ties: lower index first). `None` for values that are not
    two arrays, for single numbers (shown in full already), or for arrays that do not differ."""
    import numpy as np

    y, x = _as_array(expected), _as_array(yours)
    if x is None or y is None:
        return None
    if x.shape != y.shape:
        return f"shapes differ: expected {tuple(y.shape)}, yours {tuple(x.shape)}"
    if x.size <= 1:
        return None
    try:
        x64, y64 = x.astype(float), y.astype(float)
    except (TypeError, ValueError):  # object or string arrays: nothing to subtract
        return None
    differ = ~np.isclose(x64, y64, rtol=1e-9, atol=1e-12, equal_nan=True)
    count = int(differ.sum())
    if count == 0:
        return None
    gap = np.where(differ, np.abs(x64 - y64), -1.0)
    gap[differ & np.isnan(gap)] = np.inf  # a NaN against a number is the largest difference of all
    order = np.argsort(-gap, axis=None, kind="stable")[: min(limit, count)]
    parts = []
    for flat in order:
        index = np.unravel_index(int(flat), x.shape)
        parts.append(f"{_index(index)} expected {float(y64[index]) + 0.0:.10g}, yours {float(x64[index]) + 0.0:.10g}")
    head = f"{count} of {x.size} entries differ"
    return head + ("; the largest: " if count > 1 else ": ") + "; ".join(parts)


def grade_one_by_one(exercise: Exercise, function, timeout: float | None = DEFAULT_CALL_TIMEOUT):
    """Yield `(index, TestResult)` for every check of `exercise` with `function` swapped in for the package's
    target. A `SystemExit` from the learner's code fails that check (it is not passed on)."""
    reference = exercise.reference()
    tests = [resolve_check(c) for c in exercise.check_ids()]  # import the check modules before the swap
    del tests
    recorder = Recorder(function, timeout, exercise.function_name)
    with swapped(exercise, recorder.wrapper):
        for index, check_id in enumerate(exercise.check_ids()):
            try:
                result = run_one(check_id, recorder, reference, exercise.function_name)
            except KeyboardInterrupt:
                raise
            except SystemExit as exc:
                result = TestResult(check_id, False, message=f"your code called sys.exit({exc.code!r})")
            except BaseException as exc:  # the harness itself failed: say so on the test, keep going
                text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                result = TestResult(check_id, False, message=f"grader error: {text}")
            yield index, result


def grade(exercise: Exercise, function, timeout: float | None = DEFAULT_CALL_TIMEOUT) -> ExerciseResult:
    """Run every check of `exercise` with `function` swapped in for the package's target (in this process; the
    CLI grades in a child process with [`grade_file`][cellnas_edu.exercises.isolated.grade_file])."""
    out = ExerciseResult(exercise.name)
    out.tests = [result for _, result in grade_one_by_one(exercise, function, timeout)]
    return out


def format_result(result: ExerciseResult) -> str:
    lines = [f"{result.exercise}: {result.num_passed}/{len(result.tests)} checks passed"
             + ("" if not result.passed else " -- done")]
    for t in result.tests:
        lines.append(f"  {'PASS' if t.passed else 'FAIL'}  {t.name}")
        if t.passed:
            continue
        if t.message and t.message.startswith("not written yet"):
            lines.append(f"        {t.message}")
            continue
        if t.doc:
            lines.append(f"        claim:          {t.doc}")
        if t.counterexample:
            text = " ".join(t.counterexample.split())
            text = text if len(text) <= 2 * REPR_LIMIT else text[: 2 * REPR_LIMIT - 3] + "..."
            lines.append(f"        counterexample: {text}")
        if t.call:
            lines.append(f"        call:           {t.call}")
            lines.append(f"        expected:       {t.expected}")
            lines.append(f"        yours:          {t.yours}")
        if t.differences:
            lines.append(f"        differences:    {t.differences}")
        if t.message:
            lines.append(f"        message:        {t.message}")
    return "\n".join(lines)
