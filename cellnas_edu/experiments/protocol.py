"""The base of a study's protocol: a frozen dataclass with named presets, validated when built, JSON in and out.

A study declares its protocol once, as a frozen dataclass that derives from
[`Protocol`][cellnas_edu.experiments.protocol.Protocol], with its numeric fields' ranges in `CONSTRAINTS`
([`Interval`][cellnas_edu.constraints.Interval]s, checked by [`validate`][cellnas_edu.constraints.validate]
with the one message format) and its scales in `PRESETS` (as the trainer's presets are named:
`tiny` for the tests, `cpu` for a laptop, `paper` for the paper's protocol). The results file then holds
[`to_dict`][cellnas_edu.experiments.protocol.Protocol.to_dict], from which
[`from_dict`][cellnas_edu.experiments.protocol.Protocol.from_dict] rebuilds the same protocol."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import ClassVar

from ..constraints import Interval, validate


class Protocol:
    """Mixin for a frozen dataclass that declares a study's protocol.

    `PRESETS`: `{name: field values}`, the fields a preset sets (the others keep their defaults).
    `CONSTRAINTS`: `{field: (name as the user spells it, Interval)}`, checked in declaration order by
    [`check_constraints`][cellnas_edu.experiments.protocol.Protocol.check_constraints], which the subclass's
    `__post_init__` calls."""

    PRESETS: ClassVar[dict[str, dict]] = {}
    CONSTRAINTS: ClassVar[dict[str, tuple[str, Interval]]] = {}

    def check_constraints(self) -> None:
        """`ValueError` (one line, naming the field) for the first field outside its declared range."""
        for field, (name, constraint) in self.CONSTRAINTS.items():
            validate(name, getattr(self, field), constraint)

    @classmethod
    def preset_fields(cls, name: str) -> dict:
        """A copy of preset `name`'s field values; `ValueError` naming the presets for an unknown name."""
        if name not in cls.PRESETS:
            raise ValueError(f"unknown preset {name!r} of {cls.__name__}; one of {', '.join(cls.PRESETS)}")
        return copy.deepcopy(cls.PRESETS[name])

    @classmethod
    def from_preset(cls, name: str, **overrides):
        """The protocol of preset `name` with `overrides` on top (validated like any other)."""
        return cls(**{**cls.preset_fields(name), **overrides})

    def to_dict(self) -> dict:
        """Every field, as JSON data (tuples as lists): what a results file records."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict):
        """Rebuild from [`to_dict`][cellnas_edu.experiments.protocol.Protocol.to_dict]: lists become tuples
        where the field's default or annotation is a tuple."""
        data = dict(data)
        for field in dataclasses.fields(cls):
            if isinstance(data.get(field.name), list) and "tuple" in str(field.type):
                data[field.name] = tuple(data[field.name])
        return cls(**data)
