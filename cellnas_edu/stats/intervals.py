r"""Student-t intervals of a mean over seeds (Figures 3-5's shaded bands, the cell tables of Chapter 3)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def t_quantile(level: float, df) -> float | np.ndarray:
    """The two-sided Student-t quantile `t_{(1 + level) / 2, df}` (`scipy.stats.t.ppf`)."""
    from scipy import stats

    return stats.t.ppf(0.5 + level / 2, df)


def t_half_width(values: np.ndarray, axis: int = 0, level: float = 0.95) -> np.ndarray:
    """Half-width `t * sd / sqrt(n)` of the t-interval of the mean along `axis` (`n >= 2` values)."""
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    return t_quantile(level, n - 1) * values.std(axis=axis, ddof=1) / math.sqrt(n)


@dataclass(frozen=True)
class Interval:
    """A mean with a two-sided interval; `low`/`high` are `None` when it cannot be computed (one value)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    level: float = 0.95

    def to_json(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n, "level": self.level}

    def excludes_zero(self) -> bool | None:
        if self.low is None or self.high is None:
            return None
        return self.low > 0 or self.high < 0


def mean_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean of `values` and its Student-t interval (`n - 1` degrees of freedom).

    With one value the mean is that value and the interval is `None`: one
    run says nothing about the spread between seeds."""
    x = np.asarray([v for v in values], dtype=float)
    if x.size == 0:
        return Interval(None, None, None, 0, level)
    if not np.all(np.isfinite(x)):
        raise ValueError("mean_interval got a non-finite value; separate diverged runs first (split_diverged)")
    mean = float(x.mean())
    if x.size == 1:
        return Interval(mean, None, None, 1, level)
    sem = float(x.std(ddof=1) / math.sqrt(x.size))
    half = float(t_quantile(level, x.size - 1)) * sem
    return Interval(mean, mean - half, mean + half, int(x.size), level)
