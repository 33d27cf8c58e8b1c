"""The NAS-Bench-201 topology space (NATS-Bench's "tss"): its operations and its six edges, in NATS-Bench's order.

A cell has four nodes: node 0 is the cell's input, node 3 its output (the sum of its incoming edges), and every
pair ``j < i`` is joined by one edge that carries one operation. The architecture string lists the edges node by
node, ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``, which is the order of ``EDGES`` below. NASLib numbers the same
operations in another order (see the converters in this package): the order here is NATS-Bench's own.
"""

OPERATIONS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""NATS-Bench's operation names, in NATS-Bench's order (``nats_bench``'s ``NAS_BENCH_201`` list)."""

NUM_NODES = 4
"""Nodes of a cell: 0 is the input, 3 the output."""

EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(1, NUM_NODES) for j in range(i))
"""The six edges as ``(to, from)`` pairs, in the order the architecture string lists them:
(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)."""

__all__ = ["EDGES", "NUM_NODES", "OPERATIONS"]
