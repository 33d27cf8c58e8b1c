r"""One percentile bootstrap over groups of runs (cells), and the intervals the studies draw from it.

Section 4.1's claims are about cell means over seeds, so every bootstrap here
resamples **each group (cell) independently**, with replacement, as many
values as it has, and recomputes a statistic of the resampled groups.
[`bootstrap`][cellnas_edu.stats.resampling.bootstrap] does both orders of drawing the studies use:

* `order="replicates"`: replicate by replicate, one index draw per group
  (`rng.integers(0, n_g, n_g)` for each group in turn); `statistic` gets the
  list of index vectors of one replicate and returns a number or `None`.
* `order="cells"`: group by group, all replicates at once
  (`rng.integers(0, n_g, (n_boot, n_g))`); `statistic` gets the list of index
  matrices and returns one value per replicate (vectorised).

Replicates whose statistic is undefined (`None` or not finite, e.g. a
$\rho$ of tied means) are dropped and counted. `scipy.stats.bootstrap`
reproduces neither the replicate-major order nor the dropping, so the
committed intervals could not be recomputed through it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .ranks import spearman_rho


@dataclass(frozen=True)
class BootstrapResult:
    """The defined replicates of a bootstrap (in draw order) and how many were undefined."""

    replicates: np.ndarray
    n_boot: int
    undefined: int

    def quantiles(self, probabilities: Sequence[float]) -> tuple[float, ...] | None:
        """`np.quantile` of the replicates at `probabilities` (`None` without a defined replicate)."""
        if self.replicates.size == 0:
            return None
        return tuple(float(v) for v in np.quantile(self.replicates, probabilities))

    def interval(self, level: float = 0.95) -> tuple[float, float] | tuple[None, None]:
        """The percentile interval: quantiles `(1 - level) / 2` and `(1 + level) / 2`."""
        return self.quantiles([(1 - level) / 2, (1 + level) / 2]) or (None, None)


def bootstrap(sizes: Sequence[int], statistic: Callable, n_boot: int = 2000,
              rng: np.random.Generator | int = 0, order: str = "replicates") -> BootstrapResult:
    """Resample groups of `sizes[g]` values each, `n_boot` times, and collect `statistic` (module docstring)."""
    if order not in ("replicates", "cells"):
        raise ValueError(f"order must be 'replicates' or 'cells', got {order!r}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if order == "cells":
        picks = [rng.integers(0, n, size=(n_boot, n)) for n in sizes]
        values = np.asarray(statistic(picks), dtype=float)
    else:
        values = [statistic([rng.integers(0, n, n) for n in sizes]) for _ in range(n_boot)]
        values = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    kept = values[np.isfinite(values)]
    return BootstrapResult(kept, n_boot, int(values.size - kept.size))


def cell_means(values_by_cell: Sequence[Sequence[float]]) -> np.ndarray:
    """The mean of every cell; a cell with an infinite (diverged) value has mean `+inf` (it ranks last)."""
    out = []
    for v in values_by_cell:
        arr = np.asarray(v, dtype=float)
        out.append(np.inf if np.isinf(arr).any() else arr.mean())
    return np.asarray(out)


def bootstrap_spearman_over_seeds(x: Sequence[float], values_by_cell: Sequence[Sequence[float]],
                                  n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile interval of the rho of `x` against the cell means, resampling each cell's seeds.

    A cell with a diverged (infinite) run in the resample has mean `+inf`
    (it ranks last). Replicates where rho is undefined are dropped and counted."""
    arrays = [np.asarray(v, dtype=float) for v in values_by_cell]
    point = spearman_rho(x, cell_means(arrays))
    result = bootstrap([a.size for a in arrays],
                       lambda idx: spearman_rho(x, cell_means([a[i] for a, i in zip(arrays, idx)])),
                       n_boot=n_boot, rng=seed, order="replicates")
    low, high = result.interval(level)
    return {"rho": point, "low": low, "high": high, "n_boot": n_boot, "undefined": result.undefined,
            "level": level}


def bootstrap_mean_interval(values: Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile bootstrap interval of a mean (for per-seed rho, whose distribution is bounded)."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return {"mean": None, "low": None, "high": None}
    result = bootstrap([arr.size], lambda picks: arr[picks[0]].mean(axis=1), n_boot=n_boot, rng=seed, order="cells")
    low, high = result.interval(level)
    return {"mean": float(arr.mean()), "low": low, "high": high}
