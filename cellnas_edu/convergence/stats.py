r"""Statistics of a convergence experiment (Section 4.1, Figures 3-5, Appendix B.2).

Section 4.1 claims that "as the width increases and the depth decreases of a
cell ... the convergence becomes faster". A claim about training runs is a
claim about random quantities (initialisation, data order), so it is made
here over several seeds, with an interval, never from one run:

* **Final test loss** of each run after `E` epochs, and the **area under the
  test-loss curve** ([`area_under_curve`][cellnas_edu.convergence.stats.area_under_curve]), which summarises the speed
  of
  convergence over the whole run rather than only its end point.
* Per cell, the mean over seeds with a 95% Student-t interval
  ([`mean_interval`][cellnas_edu.stats.intervals.mean_interval]).
* Across cells, Spearman's rank correlation between cell width (or depth) and
  the cell's mean test loss / AUC
  ([`spearman_with_bootstrap`][cellnas_edu.stats.correlation.spearman_with_bootstrap]), with the
  **asymptotic** p-value of `scipy.stats.spearmanr` (a test over cells that
  treats the cell means as exact; for the exact test see
  [`exact_spearman`][cellnas_edu.stats.permutation.exact_spearman]) and a bootstrap interval that also carries the
  seed noise: each replicate resamples the seeds of every cell with
  replacement, recomputes the cell means and the correlation.

The statistics themselves live in [`cellnas_edu.stats`][cellnas_edu.stats]; this module holds what
is particular to a convergence curve (its area, divergence) and the sentence a
student reads.

The paper's claim predicts a **negative** correlation between width and test
loss (wider converges faster: lower loss) and a **positive** one between depth
and test loss.

**Diverged runs** (a NaN/inf loss; Figure 4's `C3` at learning rate 0.25
"completely fails to converge") are kept out of the means and listed
separately ([`split_diverged`][cellnas_edu.convergence.stats.split_diverged]): averaging a NaN would poison the mean and
dropping it silently would hide the strongest effect of all."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..stats import Correlation

PAPER_EXPECTS = {"width": -1, "depth": +1}
"""Sign of the correlation with test loss that Section 4.1's claim predicts."""


def area_under_curve(values: Sequence[float], epochs: Sequence[float] | None = None) -> float:
    """Trapezoid area under a per-epoch curve, divided by the epoch span (so it is a mean loss).

    With `epochs = 1..E` this is `trapz(values, epochs) / (E - 1)`: a curve
    that is constant at `v` has AUC `v`, and a curve that drops earlier has
    a smaller AUC than one that reaches the same end point later. A single
    epoch has no span; its AUC is its only value."""
    y = np.asarray(values, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("area_under_curve needs a non-empty 1-d sequence of values")
    x = np.arange(1, y.size + 1, dtype=float) if epochs is None else np.asarray(epochs, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"epochs ({x.size}) and values ({y.size}) differ in length")
    if y.size == 1:
        return float(y[0])
    span = x[-1] - x[0]
    if span <= 0:
        raise ValueError("epochs must increase")
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy >= 2.0 / 1.26
    return float(trapezoid(y, x)) / span


def is_diverged(values: Sequence[float]) -> bool:
    """A run diverged if any of its losses is NaN or infinite."""
    return not bool(np.all(np.isfinite(np.asarray(values, dtype=float))))


def split_diverged(runs: dict[int, Sequence[float]]) -> tuple[dict[int, Sequence[float]], list[int]]:
    """`{seed: test-loss curve}` -> (the finite runs, the sorted seeds of the diverged runs)."""
    finite = {seed: curve for seed, curve in runs.items() if not is_diverged(curve)}
    return finite, sorted(seed for seed in runs if seed not in finite)


def describe_correlation(prop: str, metric: str, corr: Correlation) -> str:
    """One sentence for a student: the estimate, its interval, and which way the evidence points."""
    if corr.rho is None:
        return f"{prop} vs {metric}: undefined ({corr.reason})"
    expected = PAPER_EXPECTS[prop]
    agrees = corr.rho * expected > 0
    direction = {
        ("width", True): "wider cells reach lower loss, as Section 4.1 claims",
        ("width", False): "wider cells do NOT reach lower loss here, against Section 4.1's claim",
        ("depth", True): "deeper cells reach higher loss, as Section 4.1 claims",
        ("depth", False): "deeper cells do NOT reach higher loss here, against Section 4.1's claim",
    }[(prop, agrees)]
    if corr.rho == 0:
        direction = "no rank association"
    if corr.low is None:
        interval = "no bootstrap interval"
        verdict = "inconclusive"
    else:
        interval = f"95% bootstrap interval [{corr.low:+.2f}, {corr.high:+.2f}]"
        verdict = "interval excludes 0" if corr.excludes_zero() else "interval includes 0: inconclusive"
    return (
        f"{prop} vs {metric}: Spearman rho = {corr.rho:+.2f}, {interval}, asymptotic p = {corr.p_value:.3g} "
        f"({corr.n_cells} cells); points this way: {direction}; {verdict}"
    )
