"""NASLib's encoding of NAS-Bench-201 cells, and the trap in it.

NASLib (``naslib/search_spaces/nasbench201/conversions.py``) encodes a cell as a tuple of six ``op_indices``, but
in **another operation order and another edge order** than NATS-Bench's architecture string:

| | NATS-Bench (this package) | NASLib |
|---|---|---|
| operation 0, 1, 2, 3, 4 | none, skip, conv 1x1, conv 3x3, pool | skip, none, conv 3x3, conv 1x1, pool |
| edges | 0->1, 0->2, 1->2, 0->3, 1->3, 2->3 (string order) | 0->1, 0->2, 0->3, 1->2, 1->3, 2->3 |

So a NASLib tuple is never a list of NATS-Bench operation codes: reading NASLib's ``(1, 1, 1, 1, 1, 1)`` with
NATS-Bench's order gives the all-skip cell, while NASLib means the all-``none`` cell. Convert, never reinterpret."""

from __future__ import annotations

from collections.abc import Iterable

from .operations import EDGES

NASLIB_OPERATIONS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
"""NASLib's operation order for NAS-Bench-201 (its ``OP_NAMES_NB201``)."""

NASLIB_EDGES: tuple[tuple[int, int], ...] = tuple((to, frm) for frm in range(3) for to in range(frm + 1, 4))
"""NASLib's edge order as ``(to, from)`` pairs with node 0 the input: 0->1, 0->2, 0->3, 1->2, 1->3, 2->3."""

_STRING_POSITION = {edge: k for k, edge in enumerate(EDGES)}


def to_naslib_indices(ops: Iterable[str]) -> tuple[int, ...]:
    """NASLib's ``op_indices`` of six operations given in NATS-Bench's string order."""
    ops = tuple(ops)
    return tuple(NASLIB_OPERATIONS.index(ops[_STRING_POSITION[edge]]) for edge in NASLIB_EDGES)


def from_naslib_indices(op_indices: Iterable[int]) -> tuple[str, ...]:
    """The six operations, in NATS-Bench's string order, of NASLib's ``op_indices``; `ValueError` if malformed."""
    indices = tuple(op_indices)
    if len(indices) != len(NASLIB_EDGES):
        raise ValueError(f"NASLib op_indices have {len(NASLIB_EDGES)} entries; got {len(indices)}")
    for k, index in enumerate(indices):
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(NASLIB_OPERATIONS):
            raise ValueError(f"NASLib op_indices[{k}] is {index!r}; "
                             f"expected an integer 0..{len(NASLIB_OPERATIONS) - 1}")
    by_edge = {edge: NASLIB_OPERATIONS[i] for edge, i in zip(NASLIB_EDGES, indices)}
    return tuple(by_edge[edge] for edge in EDGES)


__all__ = ["NASLIB_EDGES", "NASLIB_OPERATIONS", "from_naslib_indices", "to_naslib_indices"]
