"""The harness of ``cellnas exercises``: solutions pass, plausible wrong solutions fail with a counterexample.

* Every exercise's reference solution, written into a workspace exactly as ``solution NAME --write``
  writes it and loaded as the learner's file, passes every check of its exercise. The checks run
  with the learner's function swapped in, so this is also the suite's run of the graded checks
  (``cellnas_edu/exercises/checks/``) against the package itself: one source for both.
* For every exercise a plausible wrong solution (kept below, one per exercise) fails at least one
  check, and the grader reports the failing call with the package's and the learner's value.
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
import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from cellnas_edu.cells import topology
from cellnas_edu.cli import main
from cellnas_edu.errors import UserError
from cellnas_edu.exercises.catalog import BY_NAME, CHAPTERS, EXERCISES
from cellnas_edu.exercises.checks import ch1_cells
from cellnas_edu.exercises.grader import grade, load_function
from cellnas_edu.exercises.workspace import Workspace, solution_source, stub_source

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# -- plausible wrong solutions, one per exercise ---------------------------------------------
def live_nodes_concat_only(self):
    """Forgets that a live node makes its sources live."""
    return frozenset(self.concat)


def cell_width_all_nodes(cell):
    """The literal reading of Section 3.2: dead nodes counted too."""
    return topology.cell_width_all_nodes(cell)


def cell_depth_over_all_nodes(cell):
    """Takes the deepest intermediate node, concatenated or not (dead nodes included)."""
    return 1 + max(topology.node_depths(cell).values())


def enumeration_count_papers_formula(cell):
    """Appendix A.2's (N-2)!/(M-1)!: one source per node instead of one per operation."""
    return math.factorial(cell.num_nodes - 2)


def fraction_strictly_wider(self, width=None):
    """'At least as wide' read as 'wider'."""
    width = self.original.width if width is None else Fraction(width)
    return sum(b.count for b in self.histogram if b.width > width) / self.count


def auc_divided_by_epochs(values, epochs=None):
    """Divides the trapezoid area by the number of epochs instead of the epoch span."""
    y = np.asarray(values, dtype=float)
    x = np.arange(1, y.size + 1, dtype=float) if epochs is None else np.asarray(epochs, dtype=float)
    if y.size == 1:
        return float(y[0])
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2)) / y.size


def spearman_strict(x, y, alternative="greater"):
    """Counts only the permutations strictly more extreme than the observed one."""
    import itertools

    n = len(x)
    rank = lambda v: [sorted(v).index(a) + 1 for a in v]  # noqa: E731
    rx, ry = rank(x), rank(y)
    stat = lambda r: n * (n * n - 1) - 6 * sum((a - b) ** 2 for a, b in zip(rx, r))  # noqa: E731
    observed = stat(ry)
    perms = list(itertools.permutations(range(1, n + 1)))
    if alternative == "greater":
        hits = sum(stat(p) > observed for p in perms)
    elif alternative == "less":
        hits = sum(stat(p) < observed for p in perms)
    else:
        hits = sum(abs(stat(p)) > abs(observed) for p in perms)
    return hits / len(perms)


def filter_normalize_globally(direction, weight):
    """One norm for the whole tensor instead of one per filter."""
    if direction.shape != weight.shape:
        raise ValueError("shapes differ")
    direction.mul_(weight.norm() / (direction.norm() + 1e-10))
    return direction


def chan_shortcut(self, chunk_grads, *, consume=False):
    """The chunk's M2 by the shortcut sum ||g||^2 - n ||mean||^2 in the gradients' precision."""
    n_b = next(iter(chunk_grads.values())).shape[0]
    n_a, n = self.count, self.count + next(iter(chunk_grads.values())).shape[0]
    for name, g in chunk_grads.items():
        mean_b = g.mean(0)
        m2_b = g.square().sum() - n_b * mean_b.square().sum()
        delta = mean_b.double() - self.mean[name]
        self.m2 += m2_b.double() + delta.square().sum() * (n_a * n_b / n)
        self.mean[name] += delta * (n_b / n)
    self.count = n


def gradient_variance_unbiased(per_sample):
    """torch's default variance: divisor N - 1."""
    if per_sample.shape[0] < 2:
        return 0.0
    return float(per_sample.flatten(1).var(0).sum())


def narrowest_nodes_transposed(weights, inputs):
    """Multiplies by W^T instead of W (y @ W instead of y @ W.T)."""
    if isinstance(weights, torch.Tensor):
        weights = [weights[..., k, :, :] for k in range(weights.shape[-3])]
    nodes, y = [], inputs
    for w in weights:
        y = y @ w if w.dim() == 2 else torch.einsum("scr,sc->sr", w, y)
        nodes.append(y)
    return torch.stack(nodes, dim=1)


def equation_4_without_transpose(problem, i, widest_grads=None):
    """A_k instead of A_k^T on the left."""
    from cellnas_edu.theory.cells import left_factor, right_factor
    from cellnas_edu.theory.gradients import widest_weight_gradients

    w = problem.weights
    g = widest_weight_gradients(problem) if widest_grads is None else widest_grads
    b = right_factor(w, i)
    return torch.stack([left_factor(w, i, k) @ g[:, k - 1] @ b.T for k in range(i, problem.n + 1)]).sum(0)


def chain_jacobian_untransposed(weights, i):
    """kron(A_k, B) instead of kron(A_k, B^T): the column-major vec rule used with a row-major reshape."""
    from cellnas_edu.theory.cells import left_factor, right_factor

    b = right_factor(weights, i).numpy()
    return np.concatenate([np.kron(left_factor(weights, i, k).numpy(), b) for k in range(i, weights.shape[0] + 1)])


def variance_bound_tight_constant(norms, i, sigmas, n=None):
    """n - i + 1 in front (the Cauchy-Schwarz count of terms) instead of the theorem's n."""
    norms = np.asarray(norms, dtype=float)
    count = len(norms) - i + 1 if n is None else n
    total = sum((sigmas[k - i] * np.prod(norms[: i - 1]) * np.prod(norms[i:k])) ** 2 for k in range(i, len(norms) + 1))
    return float(count * total)


def adapt_first_operation_only(cell):
    """Rewires only the first operation of every node."""
    sources = [0 if k % 2 == 0 else src for k, (_, src) in enumerate(cell.edges)]
    return cell.with_sources(sources)


def derive_cell_counting_none(weights, operations=None):
    """Ranks edges by their largest weight *including* `none` (then still never keeps `none`)."""
    from cellnas_edu.cells.cellspec import CellSpec
    from cellnas_edu.search.derive import NONE_INDEX, SEARCH_OPERATIONS

    edges, start = [], 0
    for node in range(4):
        incoming = [list(map(float, r)) for r in weights[start:start + 2 + node]]
        kept = sorted(range(len(incoming)), key=lambda s: -max(incoming[s]))[:2]
        for source in kept:
            best = max((o for o in range(8) if o != NONE_INDEX), key=lambda o: (incoming[source][o], -o))
            edges.append((SEARCH_OPERATIONS[best], source))
        start += 2 + node
    return CellSpec(edges, (2, 3, 4, 5))


def sum_tail_strict(counts, observed, alternative):
    """A strict tail (> instead of >=): the observed sum itself is left out."""
    from fractions import Fraction

    from cellnas_edu.search.against_space import convolve_counts

    dist = convolve_counts(counts, len(observed))
    t = sum(observed)
    hits = sum(c for s, c in dist.items() if (s > t if alternative == "greater" else s < t))
    return Fraction(hits, sum(counts.values()) ** len(observed))


def nb201_live_edges_not_none(self):
    """Every edge that is not `none` counted live, also one that leads nowhere."""
    return tuple(op != "none" for op in self.ops)


def nb201_width_not_none(self):
    """Counts the edges out of node 0 that are not `none`, live or dead."""
    return sum(self.op(to, 0) != "none" for to in (1, 2, 3))


def nb201_depth_shortest(self):
    """The shortest path over non-`none` edges instead of the longest."""
    from cellnas_edu.nb201.cell import PATHS

    lengths = [len(p) - 1 for p in PATHS if all(self.op(b, a) != "none" for a, b in zip(p, p[1:]))]
    return min(lengths) if lengths else 0


def nb201_canonical_unpruned(self):
    """Compares the cell with its mirror image without pruning the dead edges first."""
    if self.op(2, 1) != "none":
        return self
    return min(self, self.swapped(), key=lambda cell: cell.codes)


WRONG = {
    "live_nodes": live_nodes_concat_only,
    "cell_width": cell_width_all_nodes,
    "cell_depth": cell_depth_over_all_nodes,
    "enumeration_count": enumeration_count_papers_formula,
    "fraction_at_least_as_wide": fraction_strictly_wider,
    "area_under_curve": auc_divided_by_epochs,
    "spearman_exact_pvalue": spearman_strict,
    "filter_normalize": filter_normalize_globally,
    "chan_update": chan_shortcut,
    "gradient_variance": gradient_variance_unbiased,
    "narrowest_nodes": narrowest_nodes_transposed,
    "equation_4": equation_4_without_transpose,
    "chain_jacobian": chain_jacobian_untransposed,
    "variance_bound": variance_bound_tight_constant,
    "adapt_cell": adapt_first_operation_only,
    "derive_cell": derive_cell_counting_none,
    "sum_tail": sum_tail_strict,
    "nb201_live_edges": nb201_live_edges_not_none,
    "nb201_width": nb201_width_not_none,
    "nb201_depth": nb201_depth_shortest,
    "nb201_canonical": nb201_canonical_unpruned,
}


def test_at_least_twelve_exercises_follow_the_chapters():
    assert len(EXERCISES) >= 12
    assert {e.chapter for e in EXERCISES} == set(CHAPTERS) == set(range(1, 10))
    assert set(WRONG) == set(BY_NAME), "every exercise needs a plausible wrong solution in this file"


@pytest.mark.parametrize("name", list(BY_NAME))
def test_the_written_solution_passes_every_check(tmp_path, name):
    """``solution NAME --write`` then ``check NAME``: the package's implementation, loaded from the learner's
    file, passes every check (so every check also passes on the package itself)."""
    exercise = BY_NAME[name]
    path = Workspace(tmp_path).write_solution(exercise).path
    result = grade(exercise, load_function(path, exercise))
    failures = [(t.name, t.message, t.call, t.expected, t.yours) for t in result.tests if not t.passed]
    assert result.passed, failures


@pytest.mark.parametrize("name", list(BY_NAME))
def test_a_plausible_wrong_solution_fails_with_a_counterexample(name):
    """The wrong solution fails a check, and the report shows a call where its value differs from the package's."""
    exercise = BY_NAME[name]
    result = grade(exercise, WRONG[name])
    failed = [t for t in result.tests if not t.passed]
    assert failed, f"the wrong solution {WRONG[name].__name__} passed every check of {name}"
    explained = [t for t in failed if t.call and t.expected is not None and t.yours is not None]
    assert explained, [(t.name, t.message) for t in failed]
    assert all(t.expected != t.yours for t in explained)
    assert not any((t.message or "").startswith("grader error") for t in result.tests)


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
