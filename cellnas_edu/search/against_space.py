r"""Found cells against the space they were found in: exact tests of Observation 3.1 for a learner's own search.

Observation 3.1 says that popular NAS algorithms find cells that are among the widest and shallowest of
their search space. For the cells a learner's own DARTS search finds over $S$ seeds, this module asks how
surprising their widths and depths would be if the search had picked a topology **at random**.

Two null distributions, both enumerated exactly:

* **the connection space of Chapter 2** ([`connection_space`][cellnas_edu.cells.space.connection_space]):
  every operation of node $j$ reads one of its $j$ earlier nodes independently, $2^2 3^2 4^2 5^2 = 14{,}400$
  topologies of a 4-node cell (Appendix A.2's sampler, the reference of Table 2);
* **the derivable cells** ([`derivable_cells`][cellnas_edu.search.derive.derivable_cells]): the 180
  topologies DARTS' derivation can output (two *distinct* sources per node), each equally likely.
  This is the fairer null for a DARTS search, since DARTS cannot output the other topologies.

**The test.** With $S$ found cells of half-widths $h_1, \dots, h_S$ (width in units of $c/2$, an integer),
the statistic is $T = \sum_s h_s$; under the null the $h_s$ are independent draws from the space's
half-width distribution $p$, so $T$ has the $S$-fold convolution $p^{*S}$, computed here in exact integer
arithmetic, and

$$
p\text{-value} = P_{p^{*S}}(T \geq t_\text{observed}) \quad \text{(wider than chance)},
$$

exact for any $S$ (no asymptotics). Depth is tested the same way in the other direction,
$P(\sum_s d_s \le \text{observed})$ (shallower than chance). The width and depth p-values under the
connection space are the pre-registered family, adjusted by Holm; the derivable null is reported beside
them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

from ..cells.cellspec import CellSpec
from ..cells.topology import cell_depth, cell_width
from ..stats import convolve_counts, holm

NULLS = ("connection_space", "derivable")


@lru_cache(maxsize=4)
def null_counts(null: str, steps: int = 4) -> tuple[dict[int, int], dict[int, int], int]:
    """`(half_width -> count, depth -> count, total)` of a null distribution of `steps`-node cells."""
    from ..cells.space import connection_space
    from .derive import derivable_cells

    cells = derivable_cells(steps)
    if null == "connection_space":
        space = connection_space(cells[0])
        widths, depths = Counter(), Counter()
        for b in space.histogram:
            widths[int(2 * b.width)] += b.count
            depths[b.depth] += b.count
        return dict(widths), dict(depths), space.count
    if null == "derivable":
        widths = Counter(int(2 * cell_width(c)) for c in cells)
        depths = Counter(cell_depth(c) for c in cells)
        return dict(widths), dict(depths), len(cells)
    raise ValueError(f"null must be one of {', '.join(NULLS)}, got {null!r}")


def sum_tail(counts: dict[int, int], observed: Sequence[int], alternative: str) -> Fraction:
    """Exact $P(\\sum_s X_s \\geq \\sum \\text{observed})$ (`"greater"`) or $\\leq$ (`"less"`) for
    `len(observed)` independent draws from `counts`."""
    if alternative not in ("greater", "less"):
        raise ValueError(f"alternative must be 'greater' or 'less', got {alternative!r}")
    if not observed:
        raise ValueError("no observed values")
    total = sum(counts.values())
    dist = convolve_counts(counts, len(observed))
    t = sum(observed)
    hits = sum(c for s, c in dist.items() if (s >= t if alternative == "greater" else s <= t))
    return Fraction(hits, total ** len(observed))


def critical_values(null: str, cells: int, alpha: float, num_intermediate: int = 4) -> dict:
    """What `cells` found cells would have to average for the exact tests of
    [`compare_with_space`][cellnas_edu.search.against_space.compare_with_space] to reject at `alpha`: the smallest
    mean width whose "wider" p-value is at most `alpha`, and the largest mean depth whose "shallower" p-value is.
    The power statement of a null result: a mean below the critical width could never have been detected."""
    widths, depths, total = null_counts(null, num_intermediate)
    out = {"null": null, "cells": cells, "alpha": alpha, "count": total,
           "null_mean_width": sum(h * c for h, c in widths.items()) / (2 * total),
           "null_mean_depth": sum(d * c for d, c in depths.items()) / total}
    for name, counts, scale, alternative in (("width", widths, 2, "greater"), ("depth", depths, 1, "less")):
        dist = convolve_counts(counts, cells)
        denominator = total ** cells
        ordered = sorted(dist, reverse=alternative == "greater")
        tail, critical = 0, None
        for value in ordered:  # walk in from the extreme end while the tail stays within alpha
            tail += dist[value]
            if Fraction(tail, denominator) > Fraction(alpha).limit_denominator(10**9):
                break
            critical = value
        out[f"critical_mean_{name}"] = None if critical is None else critical / (scale * cells)
    return out


def placement(cell: CellSpec) -> dict:
    """Where one found cell lies: the fraction of each null at least as wide and at most as deep."""
    half, depth = int(2 * cell_width(cell)), cell_depth(cell)
    out = {"width": half / 2, "depth": depth}
    for null in NULLS:
        widths, depths, total = null_counts(null, cell.num_intermediate)
        out[null] = {
            "count": total,
            "at_least_as_wide": sum(c for h, c in widths.items() if h >= half) / total,
            "at_most_as_deep": sum(c for d, c in depths.items() if d <= depth) / total,
            "max_width": max(widths) / 2,
            "min_depth": min(depths),
            "mean_width": sum(h * c for h, c in widths.items()) / (2 * total),
            "mean_depth": sum(d * c for d, c in depths.items()) / total,
        }
    return out


def _fraction_json(p: Fraction) -> dict:
    return {"p_value": float(p), "p_fraction": f"{p.numerator}/{p.denominator}"}


def compare_with_space(cells: Sequence[CellSpec]) -> dict:
    """The exact width and depth tests of the module docstring for the found normal cells `cells`."""
    if not cells:
        raise ValueError("no found cells to compare")
    if len({c.num_intermediate for c in cells}) != 1:
        raise ValueError("the found cells must all have the same number of intermediate nodes")
    halves = [int(2 * cell_width(c)) for c in cells]
    depths = [cell_depth(c) for c in cells]
    out = {"cells": len(cells), "widths": [h / 2 for h in halves], "depths": depths,
           "mean_width": sum(halves) / (2 * len(cells)), "mean_depth": sum(depths) / len(cells), "tests": {}}
    for null in NULLS:
        width_counts, depth_counts, total = null_counts(null, cells[0].num_intermediate)
        wide = sum_tail(width_counts, halves, "greater")
        shallow = sum_tail(depth_counts, depths, "less")
        out["tests"][null] = {
            "count": total,
            "null_mean_width": sum(h * c for h, c in width_counts.items()) / (2 * total),
            "null_mean_depth": sum(d * c for d, c in depth_counts.items()) / total,
            "wider": _fraction_json(wide),
            "shallower": _fraction_json(shallow),
        }
    primary = out["tests"]["connection_space"]
    adjusted = holm({"wider": primary["wider"]["p_value"], "shallower": primary["shallower"]["p_value"]})
    primary["wider"]["holm_p"] = adjusted["wider"]
    primary["shallower"]["holm_p"] = adjusted["shallower"]
    return out
