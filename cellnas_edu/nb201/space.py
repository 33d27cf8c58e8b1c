"""All 15,625 NAS-Bench-201 cells at once: live edges, width, depth, convolutions and parameters as arrays.

The measures of [`NB201Cell`][cellnas_edu.nb201.cell.NB201Cell], vectorised over a ``(n, 6)`` array of operation
codes (by default every cell in product order, or the codes of the shipped table in NATS-Bench's index order), so
that the whole space is measured in milliseconds. Tests check every entry against the per-cell definitions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .cell import CONVOLUTIONS, EDGE_INDEX, PATH_EDGES, NB201Cell
from .operations import EDGES, OPERATIONS
from .params import network_parameters

NONE = OPERATIONS.index("none")
CONV_CODES = np.array([op in CONVOLUTIONS for op in OPERATIONS])


def all_codes() -> np.ndarray:
    """Every cell's six operation codes, ``(15625, 6)``, in product order (not NATS-Bench's index order)."""
    return np.array(list(itertools.product(range(len(OPERATIONS)), repeat=len(EDGES))), dtype=np.int8)


@dataclass(frozen=True, eq=False)
class SpaceMeasures:
    """Per-cell measures (arrays over the rows of `codes`); see [`measure`][cellnas_edu.nb201.space.measure]."""

    codes: np.ndarray
    live: np.ndarray
    width: np.ndarray
    depth: np.ndarray
    convs_on_longest_path: np.ndarray
    live_convolutions: np.ndarray
    parameters: np.ndarray

    @property
    def trainable(self) -> np.ndarray:
        """Cells with at least one live path from the input to the output."""
        return self.depth > 0


def _parameter_table(num_classes: int) -> tuple[int, np.ndarray]:
    """The parameters of the convolution-free network and the extra parameters of each code on an edge."""
    base = network_parameters(NB201Cell(["none"] * len(EDGES)), num_classes=num_classes)
    extra = np.array([network_parameters(NB201Cell([op] + ["none"] * (len(EDGES) - 1)), num_classes=num_classes)
                      - base for op in OPERATIONS], dtype=np.int64)
    return base, extra


def measure(codes: np.ndarray | None = None, *, num_classes: int = 10) -> SpaceMeasures:
    """Live edges, width, depth, convolutions on the longest path, live convolutions and parameter count
    (NATS-Bench's C = 16, N = 5 network) of each row of `codes` (default: all 15,625 cells)."""
    codes = all_codes() if codes is None else np.asarray(codes)
    on = codes != NONE
    conv = CONV_CODES[codes]
    n = len(codes)
    live = np.zeros((n, len(EDGES)), dtype=bool)
    depth = np.zeros(n, dtype=np.int8)
    convs = np.zeros(n, dtype=np.int8)
    for edges in PATH_EDGES:  # the four paths, shortest first: a longer live path overrides
        open_ = on[:, list(edges)].all(axis=1)
        live[:, list(edges)] |= open_[:, None]
        path_convs = conv[:, list(edges)].sum(axis=1)
        longer = open_ & (len(edges) > depth)
        tie = open_ & (len(edges) == depth)
        convs = np.where(longer, path_convs, np.where(tie, np.maximum(convs, path_convs), convs))
        depth = np.where(open_, np.maximum(depth, len(edges)), depth)
    from_input = [EDGE_INDEX[(to, 0)] for to in (1, 2, 3)]
    base, extra = _parameter_table(num_classes)
    return SpaceMeasures(codes=codes, live=live, width=live[:, from_input].sum(axis=1).astype(np.int8),
                         depth=depth.astype(np.int8), convs_on_longest_path=convs.astype(np.int8),
                         live_convolutions=(live & conv).sum(axis=1).astype(np.int8),
                         parameters=base + extra[codes].sum(axis=1))


__all__ = ["SpaceMeasures", "all_codes", "measure"]
