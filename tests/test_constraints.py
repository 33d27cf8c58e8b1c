"""The declared range constraints: what each interval admits and the one message format of a refusal."""

import math

import pytest

from cellnas_edu.constraints import Interval, is_integer, is_number, problem, validate
from cellnas_edu.search.darts import make_search_config
from cellnas_edu.train import make_config


@pytest.mark.parametrize("constraint, inside, outside", [
    (Interval(int, 1), [1, 7, 10**12], [0, -3, 1.0, True, None, "2"]),
    (Interval(int, 0, 2**63 - 1), [0, 2**63 - 1], [-1, 2**63, False]),
    (Interval(float, 0, 1, closed="left"), [0, 0.0, 0.5, 0.999], [1, 1.0, -0.1, math.nan, math.inf]),
    (Interval(float, 0, 1, closed="neither"), [0.5], [0.0, 1.0]),
    (Interval(float, 0, 1e6, closed="right"), [1e-9, 1e6], [0.0, 1.1e6, math.inf]),
    (Interval(float, 0, closed="neither", none_ok=True), [None, 1e-12, 3], [0.0, -1.0, math.nan]),
])
def test_an_interval_admits_exactly_its_values(constraint, inside, outside):
    assert all(v in constraint for v in inside), inside
    assert not any(v in constraint for v in outside), [v for v in outside if v in constraint]


@pytest.mark.parametrize("constraint, value, message", [
    (Interval(int, 1), 0, "epochs must be a positive integer, got 0"),
    (Interval(int, 0), -1, "epochs must be a non-negative integer, got -1"),
    (Interval(int, 3, 100, note="two reduction cells"), 2, "epochs must be an integer between 3 and 100 "
                                                            "(two reduction cells), got 2"),
    (Interval(int, 0, 2**63 - 1), -1, "epochs must be an integer between 0 and 2**63 - 1, got -1"),
    (Interval(float, 0, 1e6, closed="right"), 1e39, "epochs must be a positive number at most 1e+06, got 1e+39"),
    (Interval(float, 0, 1, closed="left"), 1.5, "epochs must be a non-negative number below 1, got 1.5"),
    (Interval(int, 2, none_ok=True), 1, "epochs must be an integer of at least 2 or None, got 1"),
    (Interval(float, 0.5, 2, closed="neither"), "x", "epochs must be a number above 0.5 and below 2, got 'x'"),
])
def test_one_message_format(constraint, value, message):
    assert problem("epochs", value, constraint) == message
    with pytest.raises(ValueError) as caught:
        validate("epochs", value, constraint)
    assert str(caught.value) == message


def test_validate_returns_an_admitted_value_and_the_helpers_reject_bools():
    assert validate("seed", 3, Interval(int, 0)) == 3 and problem("seed", 3, Interval(int, 0)) is None
    assert is_integer(3) and not is_integer(True) and not is_integer(3.0)
    assert is_number(2.5) and is_number(2) and not is_number(False) and not is_number(math.nan)
    with pytest.raises(TypeError):
        Interval(str)
    with pytest.raises(ValueError, match="closed"):
        Interval(int, 0, 1, closed="open")


@pytest.mark.parametrize("overrides, message", [
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"momentum": 1.0}, "momentum must be a non-negative number below 1, got 1.0"),
    ({"lr": 1e39}, "lr must be a positive number at most 1e+06, got 1e+39"),
    ({"seed": -1}, "seed must be an integer between 0 and 2**63 - 1, got -1"),
    ({"grad_clip": 0.0}, "grad_clip must be a positive number or None, got 0.0"),
])
def test_the_trainer_config_declares_its_ranges(overrides, message):
    with pytest.raises(ValueError) as caught:
        make_config("smoke", arch="DARTS", dataset="synthetic", **overrides)
    assert str(caught.value) == message


@pytest.mark.parametrize("overrides, message", [
    ({"layers": 2}, "layers must be an integer between 3 and 100 (two reduction cells and a normal one), got 2"),
    ({"train_portion": 1.0}, "train_portion must be a positive number below 1, got 1.0"),
    ({"lr_min": 1.0}, "lr_min must be a number between 0 and 0.025 (at most lr), got 1.0"),
])
def test_the_search_config_declares_its_ranges(overrides, message):
    with pytest.raises(ValueError) as caught:
        make_search_config("cpu", lr=0.025, **overrides)
    assert str(caught.value) == message
