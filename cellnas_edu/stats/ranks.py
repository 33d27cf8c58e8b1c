r"""Ranks and Spearman's $\rho$ (Sections 4.1 and 4.2 rank cells by width, depth and loss).

Midranks give tied values their mean rank; a diverged run's loss counts as
$+\infty$ and ranks last, tied with the other diverged runs. Spearman's
$\rho$ is the Pearson correlation of the midranks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def midranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n with ties given their mean rank; `+inf` ranks last (tied among themselves)."""
    x = np.asarray(values, dtype=float)
    if np.isnan(x).any():
        raise ValueError("midranks: NaN has no rank (use +inf for a diverged run)")
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def doubled_ranks(ranks: Sequence[float]) -> np.ndarray:
    """Twice the midranks, as integers (midranks are multiples of 1/2): the scores of the exact tests."""
    doubled = np.rint(2 * np.asarray(ranks, dtype=float)).astype(np.int64)
    if not np.allclose(doubled, 2 * np.asarray(ranks, dtype=float)):
        raise ValueError("scores must be multiples of 1/2 (midranks)")
    return doubled


def spearman_rho(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation of the midranks; `None` when either variable is constant."""
    rx, ry = midranks(x), midranks(y)
    sx, sy = rx.std(), ry.std()
    if sx == 0 or sy == 0:
        return None
    return float(((rx - rx.mean()) * (ry - ry.mean())).mean() / (sx * sy))


def spearman_rows(x: Sequence[float], rows: np.ndarray) -> np.ndarray:
    """Spearman's rho of the vector `x` with every row of `rows` at once (NaN where a row is constant)."""
    from scipy.stats import rankdata

    rx = rankdata(np.asarray(x, dtype=float), axis=-1)
    ry = rankdata(np.asarray(rows, dtype=float), axis=-1)
    xc = rx - rx.mean()
    yc = ry - ry.mean(axis=1, keepdims=True)
    denom = np.sqrt((xc**2).sum()) * np.sqrt((yc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (yc @ xc) / denom
