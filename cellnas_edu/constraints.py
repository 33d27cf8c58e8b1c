"""Declared range constraints on parameters, checked by one function with one message format.

A configuration declares what each numeric field may be, e.g.
`Interval(int, 1, 1000, note="the paper uses 20")` or `Interval(float, 0, 1, closed="left")` (in the
manner of scikit-learn's `Interval`), and
[`validate`][cellnas_edu.constraints.validate] checks a value against it. Every refusal reads

```text
<name> must be <constraint>[ (<note>)], got <value>
```

for instance `layers must be an integer between 1 and 1000 (the paper uses 20), got 100000` or
`momentum must be a non-negative number below 1, got 1.5`: the field's name as the user spelled it
(`--epochs` for a flag), what it may be, and what it was."""

from __future__ import annotations

import math
from dataclasses import dataclass

_CLOSED = ("both", "left", "right", "neither")


def is_integer(value) -> bool:
    """An `int` that is not a `bool` (`True` is an `int` to Python, never a count to a configuration)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    """A finite `int` or `float` that is not a `bool`."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _show(bound) -> str:
    if is_integer(bound) and bound > 2**53 and (bound + 1) & bound == 0:  # 2**63 - 1, the seed range
        return f"2**{bound.bit_length()} - 1"
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


@dataclass(frozen=True)
class Interval:
    """Values of `kind` (`int`: an integer; `float`: a finite number, integers included) between `low` and
    `high` (`None`: unbounded on that side); `closed` says which ends belong to it (`"both"`, `"left"`,
    `"right"`, `"neither"`). `none_ok` admits `None` (an optional field); `note` is the reason for the bounds,
    shown in parentheses."""

    kind: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"
    none_ok: bool = False
    note: str = ""

    def __post_init__(self):
        if self.kind not in (int, float):
            raise TypeError(f"Interval kind must be int or float, got {self.kind!r}")
        if self.closed not in _CLOSED:
            raise ValueError(f"closed must be one of {', '.join(_CLOSED)}, got {self.closed!r}")

    def __contains__(self, value) -> bool:
        if value is None:
            return self.none_ok
        if not (is_integer(value) if self.kind is int else is_number(value)):
            return False
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and not (value >= self.low if left else value > self.low):
            return False
        return self.high is None or (value <= self.high if right else value < self.high)

    def describe(self) -> str:
        """What a value must be, as the message says it: `"a positive integer"`, `"a non-negative number"`,
        `"an integer between 3 and 100"`, `"a positive number at most 1e+06"`, `"a non-negative number below 1"`,
        `"an integer of at least 2 or None"`."""
        noun = "an integer" if self.kind is int else "a number"
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        upper = None if self.high is None else f"{'at most' if right else 'below'} {_show(self.high)}"
        if self.low is not None and self.high is not None and left and right:
            text = f"{noun} between {_show(self.low)} and {_show(self.high)}"
        elif self.low == 0 or (self.low == 1 and left and self.kind is int):
            adjective = "non-negative" if self.low == 0 and left else "positive"
            text = f"a {adjective} {noun.split()[-1]}" + (f" {upper}" if upper else "")
        else:
            parts = [] if self.low is None else [f"{'of at least' if left else 'above'} {_show(self.low)}"]
            parts += [upper] if upper else []
            text = " ".join([noun, " and ".join(parts)]) if parts else noun
        return text + (" or None" if self.none_ok else "")


def problem(name: str, value, constraint: Interval) -> str | None:
    """The one-line message for `value` outside `constraint` (`None` when it is inside)."""
    if value in constraint:
        return None
    note = f" ({constraint.note})" if constraint.note else ""
    return f"{name} must be {constraint.describe()}{note}, got {value!r}"


def validate(name: str, value, constraint: Interval):
    """`value` if it satisfies `constraint`, else `ValueError` with the one message format (module docstring)."""
    message = problem(name, value, constraint)
    if message:
        raise ValueError(message)
    return value
