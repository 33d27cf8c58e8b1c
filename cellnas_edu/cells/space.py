r"""The whole connection space of a cell, enumerated with numpy (Appendix A.2, Table 2).

Appendix A.2 builds a *random connection variant* of a cell by keeping the
partial order of the intermediate nodes and every operation, and resampling the
source of each operation uniformly among the nodes that precede its node. This
module does not sample: it visits **every** such variant and tabulates its
width and depth (Section 3.2), so a published cell can be placed inside its own
space ("the popular NAS architectures achieve the largest width and nearly the
smallest depth among all the variants", Table 2 caption).

**Counting (Appendix A.2's formula)**

A cell has `N` nodes: `M` inputs, `n = N - M - 1` intermediate nodes and
one output. Intermediate node `j` (numbered `M .. N-2`) has `j` possible
sources. The paper states that an `N`-node cell has

$$
\frac{(N-2)!}{(M-1)!} = \prod_{j=M}^{N-2} j
$$

possible connections ([`paper_connection_count`][cellnas_edu.cells.space.paper_connection_count]). That product is the
number of ways to pick **one** source per intermediate node. In the DARTS
convention every intermediate node has `M = 2` operations and each picks its
source independently, so the space that Appendix A.2 samples from, and that
this module enumerates, has

$$
\prod_{j=M}^{N-2} j^{M} = \left(\frac{(N-2)!}{(M-1)!}\right)^{M}
$$

variants ([`enumeration_count`][cellnas_edu.cells.space.enumeration_count]): `120**2 = 14,400` for the 4-node cells
of DARTS and SNAS, `720**2 = 518,400` for the 5-node cells of NASNet,
AmoebaNet and ENAS. The variants include the original cell itself. `concat`
stays fixed, as do the operations (they do not affect width and depth).

**How the enumeration is vectorised**

Variant number `v` (`0 <= v < count`) is the mixed-radix number whose digits
are the sources of the `2n` operations, the first operation being the most
significant digit; the digit of an operation of node `j` has radix `j`. So
`v = 0` is "every operation reads input 0" and variants are ordered
lexicographically by their source tuples ([`decode_sources`][cellnas_edu.cells.space.decode_sources],
[`variant_index`][cellnas_edu.cells.space.variant_index]). For a block of indices at once the module

1. decodes the indices into a `(block, 2n)` array of sources,
2. computes node depths node by node in topological order (a gather of the two
   sources' depths per node, over the whole block),
3. computes liveness in *reverse* topological order: a concatenated node is
   live, and a live node makes its intermediate sources live,
4. sums, over live nodes, the number of operations fed by an input node (the
   width in units of `c/2`) and takes `1 + max` depth over `concat`.

Nothing loops over variants in Python; the NASNet space (518,400 variants) takes
a fraction of a second. The results agree with the scalar
[`cell_width`][cellnas_edu.cells.topology.cell_width] / [`cell_depth`][cellnas_edu.cells.topology.cell_depth]
(tested on random samples)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from .cellspec import NUM_INPUTS, OPS_PER_NODE, CellSpec
from .topology import Topology

BLOCK_SIZE = 1 << 20
"""Indices decoded per numpy block; bounds memory at roughly 40 MB per block."""
MAX_COUNT = 30_000_000
"""Refuse spaces larger than this (a 6-node cell has 25.4 million variants and is allowed; a 7-node cell, 1.6
billion, is not)."""


# -- counting -----------------------------------------------------------------
def paper_connection_count(N, M=NUM_INPUTS):
    """Appendix A.2's `(N-2)!/(M-1)!` as an exact sympy expression.

    `N` counts all nodes (inputs, intermediate nodes and the output node) and
    `M` the input nodes. With integers the result is a sympy `Integer`
    (`int()` it for JSON); with sympy symbols it stays symbolic. It counts
    the ways to choose *one* source per intermediate node; see the module
    docstring for the relation to [`enumeration_count`][cellnas_edu.cells.space.enumeration_count]."""
    import sympy

    N, M = sympy.sympify(N), sympy.sympify(M)
    return sympy.factorial(N - 2) / sympy.factorial(M - 1)


def radices(cell: CellSpec) -> tuple[int, ...]:
    """Number of possible sources of every operation: `j` for each operation of node `j`."""
    return tuple(NUM_INPUTS + k // OPS_PER_NODE for k in range(len(cell.edges)))


def enumeration_count(cell: CellSpec) -> int:
    """Number of connection variants of `cell`: `prod_j j**2` over intermediate nodes `j`."""
    return math.prod(radices(cell))


# -- indexing -----------------------------------------------------------------
def decode_sources(cell: CellSpec, indices) -> np.ndarray:
    """Sources of the variants `indices` as an `(len(indices), 2n)` int8 array (mixed-radix decoding)."""
    rest = np.asarray(indices, dtype=np.int64).copy()
    bases = radices(cell)
    if rest.size and (rest.min() < 0 or rest.max() >= math.prod(bases)):
        raise ValueError(f"variant indices must lie in 0..{math.prod(bases) - 1}")
    sources = np.empty(rest.shape + (len(bases),), dtype=np.int8)
    for k in reversed(range(len(bases))):
        rest, sources[..., k] = np.divmod(rest, bases[k])
    return sources


def variant_index(cell: CellSpec) -> int:
    """Position of `cell`'s own sources in the enumeration (inverse of
    [`decode_sources`][cellnas_edu.cells.space.decode_sources])."""
    index = 0
    for base, src in zip(radices(cell), cell.sources):
        index = index * base + src
    return index


def variant_cell(cell: CellSpec, index: int) -> CellSpec:
    """Variant number `index` of `cell`'s connection space as a [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec]."""
    return cell.with_sources([int(s) for s in decode_sources(cell, [index])[0]])


# -- the vectorised topology ----------------------------------------------------
def variant_topologies(cell: CellSpec, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Width in units of `c/2` and depth of variants `start .. stop-1` (all at once).

    Returns two arrays `(half_widths, depths)`; `half_widths / 2` is the
    width of Section 3.2 in units of `c`. Dead nodes do not count, exactly as
    in [`cell_width`][cellnas_edu.cells.topology.cell_width]."""
    stop = enumeration_count(cell) if stop is None else stop
    return _topologies_of_sources(cell, decode_sources(cell, np.arange(start, stop, dtype=np.int64)))


def _topologies_of_sources(cell: CellSpec, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    count, num_nodes = sources.shape[0], NUM_INPUTS + cell.num_intermediate
    nodes = list(cell.intermediate_nodes)
    pair = {j: (OPS_PER_NODE * (j - NUM_INPUTS), OPS_PER_NODE * (j - NUM_INPUTS) + 1) for j in nodes}

    # depths, in topological order: depth(j) = 1 + max(depth(source a), depth(source b))
    depth = np.zeros((count, num_nodes), dtype=np.int8)
    for j in nodes:
        a, b = pair[j]
        src_depths = np.take_along_axis(depth, sources[:, [a, b]].astype(np.intp), axis=1)
        depth[:, j] = 1 + src_depths.max(axis=1)

    # liveness, in reverse topological order: a live node makes its intermediate sources live
    live = np.zeros((count, num_nodes), dtype=bool)
    live[:, list(cell.concat)] = True
    for j in reversed(nodes):
        a, b = pair[j]
        for s in range(NUM_INPUTS, j):
            live[:, s] |= live[:, j] & ((sources[:, a] == s) | (sources[:, b] == s))

    # width: every live node counts one c/2 per operation fed by an input node
    from_inputs = np.zeros(count, dtype=np.int16)
    for j in nodes:
        a, b = pair[j]
        fed = (sources[:, a] < NUM_INPUTS).astype(np.int16) + (sources[:, b] < NUM_INPUTS)
        from_inputs += fed * live[:, j]
    cell_depths = 1 + depth[:, list(cell.concat)].max(axis=1)
    return from_inputs, cell_depths


# -- the summary ----------------------------------------------------------------
@dataclass(frozen=True)
class HistogramBin:
    """All variants with one (width, depth); `example` is the first such variant index."""

    width: Fraction
    depth: int
    count: int
    example: int

    def to_json(self) -> dict:
        return {"width": float(self.width), "depth": self.depth, "count": self.count}


@dataclass(frozen=True)
class ConnectionSpace:
    """Width/depth histogram of every connection variant of `cell` (including `cell` itself)."""

    cell: CellSpec
    count: int
    histogram: tuple[HistogramBin, ...]  # sorted by width descending, then depth ascending

    @property
    def original(self) -> Topology:
        return Topology.of(self.cell)

    @property
    def max_width(self) -> Fraction:
        return max(b.width for b in self.histogram)

    @property
    def min_width(self) -> Fraction:
        return min(b.width for b in self.histogram)

    @property
    def min_depth(self) -> int:
        return min(b.depth for b in self.histogram)

    @property
    def max_depth(self) -> int:
        return max(b.depth for b in self.histogram)

    def count_of(self, width, depth: int) -> int:
        """Number of variants with exactly this width (in units of `c`) and depth."""
        width = Fraction(width)
        return sum(b.count for b in self.histogram if b.width == width and b.depth == depth)

    def fraction_at_least_as_wide(self, width=None) -> float:
        """Fraction of the space whose width is `>= width` (default: the original cell's)."""
        width = self.original.width if width is None else Fraction(width)
        return sum(b.count for b in self.histogram if b.width >= width) / self.count

    def fraction_at_most_as_deep(self, depth: int | None = None) -> float:
        """Fraction of the space whose depth is `<= depth` (default: the original cell's)."""
        depth = self.original.depth if depth is None else depth
        return sum(b.count for b in self.histogram if b.depth <= depth) / self.count

    def widest_of_shallowest(self) -> HistogramBin:
        """The widest (width, depth) among the variants of minimum depth."""
        return max((b for b in self.histogram if b.depth == self.min_depth), key=lambda b: b.width)

    def shallowest_of_widest(self) -> HistogramBin:
        """The shallowest (width, depth) among the variants of maximum width."""
        return min((b for b in self.histogram if b.width == self.max_width), key=lambda b: b.depth)

    def dominating(self, width=None, depth: int | None = None) -> int:
        """Variants at least as wide and at most as deep, strictly better in one (default: than the original)."""
        width = self.original.width if width is None else Fraction(width)
        depth = self.original.depth if depth is None else depth
        return sum(
            b.count
            for b in self.histogram
            if b.width >= width and b.depth <= depth and (b.width > width or b.depth < depth)
        )

    def example_cell(self, width, depth: int) -> CellSpec:
        """One variant (the first in enumeration order) with this width and depth."""
        width = Fraction(width)
        for b in self.histogram:
            if b.width == width and b.depth == depth:
                return variant_cell(self.cell, b.example)
        raise ValueError(f"no variant of this cell has width {float(width):g}c and depth {depth}")

    def to_json(self, name: str, kind: str) -> dict:
        """The `cellnas space --json` object."""
        N = self.cell.num_nodes
        widest, shallowest = self.shallowest_of_widest(), self.widest_of_shallowest()
        return {
            "name": name,
            "cell": kind,
            "count": self.count,
            "histogram": [b.to_json() for b in self.histogram],
            "original": {"width": float(self.original.width), "depth": self.original.depth},
            "fraction_at_least_as_wide": self.fraction_at_least_as_wide(),
            "fraction_at_most_as_deep": self.fraction_at_most_as_deep(),
            "dominating_original": self.dominating(),
            "max_width": float(self.max_width),
            "min_depth": self.min_depth,
            "shallowest_of_widest": {"width": float(widest.width), "depth": widest.depth},
            "widest_of_shallowest": {"width": float(shallowest.width), "depth": shallowest.depth},
            "paper_formula": {
                "N": N,
                "M": NUM_INPUTS,
                "value": math.factorial(N - 2) // math.factorial(NUM_INPUTS - 1),
                "enumerated": f"((N-2)!/(M-1)!)^{OPS_PER_NODE}",
            },
        }


@lru_cache(maxsize=64)
def connection_space(cell: CellSpec, block_size: int = BLOCK_SIZE) -> ConnectionSpace:
    """Enumerate every connection variant of `cell` and histogram (width, depth).

    Results are immutable and cached per cell (a [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec] is hashable),
    so asking twice for the same space costs nothing."""
    count = enumeration_count(cell)
    if count > MAX_COUNT:
        shown = f"{count:,}" if count < 10**30 else f"about 10^{int(math.log10(count))}"  # str() stops at 4300 digits
        raise ValueError(
            f"the connection space of a {cell.num_intermediate}-node cell has {shown} variants; "
            f"enumeration is limited to {MAX_COUNT:,}"
        )
    max_depth = cell.num_intermediate + 1
    num_keys = (OPS_PER_NODE * cell.num_intermediate + 1) * (max_depth + 1)
    counts = np.zeros(num_keys, dtype=np.int64)
    first = np.full(num_keys, -1, dtype=np.int64)
    for start in range(0, count, block_size):
        stop = min(start + block_size, count)
        half_widths, depths = variant_topologies(cell, start, stop)
        keys = half_widths.astype(np.int64) * (max_depth + 1) + depths
        counts += np.bincount(keys, minlength=num_keys)
        present, where = np.unique(keys, return_index=True)
        fresh = first[present] < 0
        first[present[fresh]] = start + where[fresh]
    bins = []
    for key in np.flatnonzero(counts):
        half_width, depth = divmod(int(key), max_depth + 1)
        bins.append(HistogramBin(Fraction(half_width, 2), depth, int(counts[key]), int(first[key])))
    bins.sort(key=lambda b: (-b.width, b.depth))
    return ConnectionSpace(cell, count, tuple(bins))
