"""Grading of ``cellnas exercises`` against what learners really write, and what a failing check prints.

* Every exercise has at least three plausible wrong solutions (``tests/wrong_solutions.py``), and every one of
  them fails a **property** check (a Hypothesis ``@given`` test), not only a worked example, with the failing
  call and both values in the report. A few are named with the property that must catch them: the one-level
  ``live_nodes``, a ``derive_cell`` that raises nothing, per-sample weights read from the first copy, ...
* The claim line of a failing worked example describes the case whose assertion failed.
* Two arrays that differ are reported with how many entries differ and the largest differences with their
  indices (``chain_jacobian``'s ``kron(A, B)`` against ``kron(A, B^T)``: same shape, same norm), also through
  the child process ``check`` grades in.
* The statements say what is graded: which weights ``derive_cell`` must refuse, how ``ChanAccumulator``'s mean
  starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import wrong_solutions as wrong
from wrong_solutions import WRONG

from cellnas_edu.exercises.catalog import BY_NAME
from cellnas_edu.exercises.grader import array_differences, format_result, grade, resolve_check

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def is_property(check_id: str) -> bool:
    return hasattr(resolve_check(check_id), "hypothesis")


def test_every_exercise_has_several_plausible_wrong_solutions():
    assert set(WRONG) == set(BY_NAME), "every exercise needs plausible wrong solutions in tests/wrong_solutions.py"
    few = {name: len(fns) for name, fns in WRONG.items() if len(set(fns)) < 3}
    assert not few, f"fewer than three wrong solutions: {few}"
    for name in BY_NAME:  # a property to catch them must exist at all
        assert any(is_property(c) for c in BY_NAME[name].check_ids()), name


CASES = [(name, fn) for name, fns in WRONG.items() for fn in fns]


@pytest.mark.parametrize("name, wrong_solution", CASES, ids=[f"{n}-{f.__name__}" for n, f in CASES])
def test_every_wrong_solution_fails_a_property_check(name, wrong_solution):
    """Not only a worked example: a property check fails, and the report shows a call where the learner's value
    differs from the package's (two arrays of one shape and norm: where they differ), or, when every value agrees
    (a new tensor returned instead of the argument changed in place), the assertion that failed."""
    result = grade(BY_NAME[name], wrong_solution)
    assert not any((t.message or "").startswith("grader error") for t in result.tests), result.tests
    failed_properties = [t for t in result.tests if not t.passed and is_property(t.id)]
    assert failed_properties, (f"{wrong_solution.__name__} passes every property check of {name}; failing: "
                               f"{[t.name for t in result.tests if not t.passed]}")
    explained = [t for t in failed_properties if t.call and t.expected is not None and t.yours is not None]
    assert all(t.expected != t.yours or t.differences for t in explained), [(t.expected, t.yours) for t in explained]
    if not explained:
        assert all(t.message and t.message.startswith("AssertionError: ") for t in failed_properties)


NAMED = [
    ("live_nodes", wrong.live_nodes_one_level, "test_live_nodes_are_those_with_a_path_to_the_output"),
    ("live_nodes", wrong.live_nodes_forward_order, "test_live_nodes_are_those_with_a_path_to_the_output"),
    ("area_under_curve", wrong.auc_without_errors, "test_auc_refuses_a_curve_without_a_span"),
    ("filter_normalize", wrong.filter_normalize_no_shape_check, "test_shape_mismatch_is_an_error"),
    ("narrowest_nodes", wrong.narrowest_nodes_first_copy_only,
     "test_narrowest_nodes_with_per_sample_weights_and_lists"),
    ("variance_bound", wrong.variance_bound_ignores_n, "test_variance_bound_is_equation_13"),
    ("derive_cell", wrong.derive_cell_never_raises, "test_weights_that_do_not_make_a_cell_raise_value_error"),
    ("derive_cell", wrong.derive_cell_four_nodes_always, "test_derivation_matches_darts_parse_including_ties"),
]


@pytest.mark.parametrize("name, wrong_solution, check", NAMED, ids=[f.__name__ for _, f, _ in NAMED])
def test_mistakes_that_once_passed_the_properties_are_caught_by_the_property_meant_for_them(name, wrong_solution,
                                                                                            check):
    result = grade(BY_NAME[name], wrong_solution)
    test = next(t for t in result.tests if t.name == check)
    assert is_property(test.id) and not test.passed, (test.name, test.message)
    assert test.call and test.expected != test.yours


def test_the_one_level_live_nodes_is_shown_a_cell_two_levels_deep():
    result = grade(BY_NAME["live_nodes"], wrong.live_nodes_one_level)
    test = next(t for t in result.tests if t.name == "test_live_nodes_are_those_with_a_path_to_the_output")
    assert test.call.startswith("live_nodes(CellSpec(") and test.counterexample
    mine, theirs = eval(test.yours), eval(test.expected)  # frozensets of node numbers
    assert mine < theirs, (mine, theirs)  # it misses live nodes, it never adds dead ones


# -- the claim line describes the failed assertion ---------------------------------------------------------------
CLAIMS = [
    # (exercise, wrong solution, the failing example, words its claim must contain, the example that passes)
    ("live_nodes", wrong.live_nodes_one_level, "test_live_nodes_of_amoebanet", ["Figure 1(b)", "AmoebaNet itself"],
     "test_live_nodes_of_the_adapted_amoebanet"),
    ("nb201_depth", wrong.nb201_depth_ignores_none, "test_depth_of_the_direct_edge_alone",
     ["direct edge 0 -> 3 has depth 1"], "test_depth_of_the_chain_beside_the_direct_edge"),
    ("variance_bound", wrong.variance_bound_keeps_lambda_i, "test_variance_bound_of_block_1_by_hand",
     ["lambda = (2, 3)", "20"], "test_variance_bound_of_the_jordan_block"),
]


@pytest.mark.parametrize("name, wrong_solution, check, words, passing", CLAIMS, ids=[c[2] for c in CLAIMS])
def test_the_claim_of_a_failing_example_is_the_case_that_failed(name, wrong_solution, check, words, passing):
    """Each of these worked examples once held two cases under one claim; a learner who failed the second was shown
    the claim of the first."""
    result = grade(BY_NAME[name], wrong_solution)
    by_name = {t.name: t for t in result.tests}
    assert by_name[passing].passed, by_name[passing].message
    failed = by_name[check]
    assert not failed.passed and all(word in failed.doc for word in words), failed.doc
    assert f"claim:          {failed.doc}" in format_result(result)


def test_the_failing_call_is_the_case_the_claim_names():
    result = grade(BY_NAME["nb201_depth"], wrong.nb201_depth_ignores_none)
    test = next(t for t in result.tests if t.name == "test_depth_of_the_direct_edge_alone")
    assert test.call == "depth(NB201Cell(ops=('none', 'none', 'none', 'skip_connect', 'none', 'none')))"
    assert (test.expected, test.yours) == ("1", "3")
    result = grade(BY_NAME["live_nodes"], wrong.live_nodes_one_level)
    test = next(t for t in result.tests if t.name == "test_live_nodes_of_amoebanet")
    assert "('sep_conv_5x5', 2)" in test.call  # AmoebaNet's node 3 reads node 2; in the adapted cell nothing does
    assert (test.expected, test.yours) == ("frozenset({2, 3, 4, 5, 6})", "frozenset({3, 4, 5, 6})")


# -- array mismatches ----------------------------------------------------------------------------------------
def test_array_differences_count_the_entries_and_list_the_largest_with_their_indices():
    from cellnas_edu.theory.hessian import chain_jacobian

    weights = torch.tensor([[[1.0, 2.0], [0.0, 3.0]], [[2.0, -1.0], [1.0, 1.0]], [[0.0, 1.0], [-2.0, 1.0]]],
                           dtype=torch.float64)
    expected, yours = chain_jacobian(weights, 2), wrong.chain_jacobian_untransposed(weights, 2)
    assert expected.shape == yours.shape == (8, 4)
    assert np.isclose(np.linalg.norm(expected), np.linalg.norm(yours))  # shape and norm cannot tell them apart
    gap = np.abs(expected - yours)
    count = int((gap > 0).sum())
    order = sorted(zip(*np.nonzero(gap)), key=lambda ij: (-gap[ij], ij))
    listed = "; ".join(f"[{i}, {j}] expected {expected[i, j] + 0:.10g}, yours {yours[i, j] + 0:.10g}"
                       for i, j in order[:5])
    assert count == 10 and listed.startswith("[6, 1] expected 0, yours -4; [7, 0] expected -4, yours 0; [0, 1]")
    assert array_differences(expected, yours) == f"{count} of 32 entries differ; the largest: {listed}"
    assert array_differences(expected, expected.copy()) is None
    assert array_differences(torch.tensor(expected), torch.tensor(yours)) == array_differences(expected, yours)


def test_array_differences_of_other_shapes_and_of_nan():
    assert array_differences(np.zeros((8, 4)), np.zeros((4, 4))) == "shapes differ: expected (8, 4), yours (4, 4)"
    text = array_differences(np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, 3.5]))
    assert text == "2 of 3 entries differ; the largest: [1] expected 2, yours nan; [2] expected 3, yours 3.5"
    assert array_differences(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12])) is None  # rounding is not a mistake
    assert array_differences(np.float64(1.0), np.float64(2.0)) is None  # a single number is shown in full
    assert array_differences([1.0, 2.0], [1.0, 3.0]) is None  # lists are shown in full


def test_chain_jacobians_untransposed_answer_shows_where_it_differs():
    result = grade(BY_NAME["chain_jacobian"], wrong.chain_jacobian_untransposed)
    test = next(t for t in result.tests if t.name == "test_chain_jacobian_maps_a_change_of_w_i_to_the_changes_of_v_k")
    assert not test.passed and "shape=(8, 4)" in test.expected and "shape=(8, 4)" in test.yours
    assert test.differences == ("4 of 32 entries differ; the largest: [0, 1] expected 1, yours 0; "
                                "[1, 0] expected 0, yours 1; [2, 3] expected 1, yours 0; [3, 2] expected 0, yours 1")
    assert f"        differences:    {test.differences}" in format_result(result).splitlines()
    page = (Path(__file__).resolve().parents[1] / "docs" / "exercises.md").read_text(encoding="utf-8")
    assert f"        differences:    {test.differences}\n" in page, "the course page shows another report"
    short = grade(BY_NAME["chain_jacobian"], wrong.chain_jacobian_first_block_only)
    assert any((t.differences or "").startswith("shapes differ: expected (") for t in short.tests)


def test_the_differences_come_back_from_the_grading_child(tmp_path):
    from cellnas_edu.exercises.isolated import grade_file

    path = tmp_path / "chain_jacobian.py"
    path.write_text(
        "import numpy as np\n\nfrom cellnas_edu.theory.cells import left_factor, right_factor\n\n\n"
        "def chain_jacobian(weights, i):\n"
        "    b = right_factor(weights, i).numpy()\n"
        "    return np.concatenate([np.kron(left_factor(weights, i, k).numpy(), b)\n"
        "                           for k in range(i, weights.shape[0] + 1)])\n", encoding="utf-8")
    result = grade_file(BY_NAME["chain_jacobian"], path, timeout=5.0)
    test = next(t for t in result.tests if t.name == "test_chain_jacobian_maps_a_change_of_w_i_to_the_changes_of_v_k")
    assert not test.passed and test.differences.startswith("4 of 32 entries differ; the largest: [0, 1]")


# -- the statements say what is graded ---------------------------------------------------------------------------
def test_derive_cells_statement_names_the_weights_that_must_raise():
    statement = " ".join(BY_NAME["derive_cell"].statement.split())
    for words in ("raise `ValueError`", "13 rows", "15 rows", "no rows", "a row whose length is not the number of "
                  "candidates", "not finite (`nan`, `inf`)", "`operations` without `none` or with nothing besides it"):
        assert words in statement, words
    assert "ch8_search::test_weights_that_do_not_make_a_cell_raise_value_error" in BY_NAME["derive_cell"].checks


def test_chan_updates_statement_says_how_the_accumulator_starts():
    from cellnas_edu.landscape.gradvar import ChanAccumulator

    statement = " ".join(BY_NAME["chan_update"].statement.split())
    assert "starts with `count = 0`, `m2` a float64 0-d tensor holding 0" in statement
    assert "`mean[name]` a float64 tensor of **zeros** of `params[name]`'s shape" in statement
    fresh = ChanAccumulator({"w": torch.ones(2, 3, dtype=torch.float32)})  # what the statement says, checked
    assert fresh.count == 0 and float(fresh.m2) == 0.0 and fresh.m2.dim() == 0
    assert fresh.mean["w"].dtype == torch.float64 and fresh.mean["w"].shape == (2, 3)
    assert not fresh.mean["w"].any()
