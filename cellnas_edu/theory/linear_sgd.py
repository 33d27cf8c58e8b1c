r"""Section 4.3 in its own setting: the widest and the narrowest linear cell trained by SGD, seed by seed.

Theorems 4.2 and 4.3 (Section 4.3.2, Appendix C.3-C.4) say that the narrowest
cell of Figure 26 has a larger block-Lipschitz constant and a larger gradient
variance than the widest cell, and Section 4.2 concludes through Theorem 4.1
that it therefore converges more slowly. This module tests that consequence
directly, in the theorems' own model: both cells of Figure 26
([`cellnas_edu.theory.cells`][cellnas_edu.theory.cells]; widest $y^{(k)} = V^{(k)} x$, narrowest
$\hat y^{(k)} = W^{(k)} \cdots W^{(1)} x$, `d x d` weights, $z$ the
concatenation of the nodes) are trained with plain mini-batch SGD on the same
finite data set, and the steps each needs to reach a loss threshold are
compared seed by seed.

**Design** (the analysis plan of `docs/theory.md`, section "Training the two cells").

* Data, per seed: `N = 32` inputs $x_s \sim \mathcal N(0, I_d)$, `d = 4`.
  *Regression*: the quadratic objective of [`objectives`][cellnas_edu.theory.objectives],
  targets $t_{s,k} = T_k x_s + 0.5\,\varepsilon_{s,k}$ with a random linear
  teacher $T_k$ (entries $\mathcal N(0, 1/d)$). *Classification*:
  softmax cross-entropy of $R\,\mathrm{vec}(z)$ through a fixed random
  read-out `R` (`C = 3` classes, entries $\mathcal N(0, 1/(nd))$, as in
  the verifier), labels drawn from $\mathrm{softmax}(M^* x_s)$ with a random
  teacher $M^*$ (entries $\mathcal N(0, 4/d)$).
* Optimum $f^*$: the widest cell's minimum (least squares in closed form;
  the convex multinomial-logistic problem in $M = \sum_k R_k V^{(k)}$ by
  L-BFGS). The narrowest cell reaches the same infimum, since with invertible
  factors $W^{(k)} = V^{(k)} (V^{(k-1)})^{-1}$ realises any widest cell.
* Threshold, per seed and shared by both cells: $f_\text{thr} = f^* + 0.1\,(f_0 - f^*)$,
  with $f_0$ the loss of the zero predictor (`z = 0`): 90 % of the gap
  from predicting nothing to the optimum is closed. It does not depend on the
  cell, the initialisation or the learning rate.
* Initialisations: `gaussian`, every matrix with entries $\mathcal N(0, 1/d)$;
  `identity`, $I + \mathcal N(0, 0.01/d)$ entries (noise s.d. `0.1/sqrt(d)`).
* Pairings: `same_function` (a) draws the narrowest cell's $W^{(k)}$ and sets
  the widest cell to $V^{(k)} = W^{(k)} \cdots W^{(1)}$
  ([`identified_widest_weights`][cellnas_edu.theory.cells.identified_widest_weights], the
  identification the proofs use), so both start as the same function;
  `independent` (b) draws the $V^{(k)}$ independently from the same
  distribution as the $W^{(k)}$.
* SGD: constant learning rate, mini-batches of `4` samples drawn uniformly
  with replacement from one generator per seed; both cells of a pair (and every
  learning rate and pairing) see the same sequence of mini-batches.
* A run *diverges* when its full-data loss becomes non-finite or exceeds
  `1e8`; `steps_to_threshold` is the first step `t` (`0..T`) with full-data
  loss $\le f_\text{thr}$, and `None` when the run diverged at any time
  within `T` steps or never reached the threshold.
* Test per configuration: the paired exact two-sided sign test
  ([`binomial_test`][cellnas_edu.stats.signs.binomial_test]: `scipy.stats.binomtest`, `p = 1/2`) on
  steps-to-threshold, with a diverged or never-reached run counted as slower than any finite count and
  ties (including both `None`) dropped; Holm's adjustment ([`holm`][cellnas_edu.stats.multiple.holm]) over all
  configurations; $\alpha = 0.05$.

**Along the trajectory** both cells' block-Lipschitz constants (the spectral
norm of the block Hessian $\nabla^2_{W^{(i)}} \hat f$, resp.
$\nabla^2_{V^{(k)}} f$, Frobenius norms as in
[`lipschitz`][cellnas_edu.theory.lipschitz]) and per-sample gradient variances
($\frac1N \sum_s \lVert g_s - \bar g \rVert_F^2$ per block, as in
[`variance`][cellnas_edu.theory.variance]) are measured at steps `0, T/4, T/2, T` on
the first seeds. They are computed by the vectorised closed forms
[`block_hessians`][cellnas_edu.theory.linear_sgd.block_hessians] and
[`per_sample_gradients`][cellnas_edu.theory.linear_sgd.per_sample_gradients] (the Hessian is
$J^T H J$ with no curvature from the linear map, see
[`hessian`][cellnas_edu.theory.hessian]), which `tests/test_theory_linear_sgd.py`
checks against the verifier's autograd functions.

Everything runs in float64 numpy, vectorised over (learning rate, pairing, seed)."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import optimize

from ..stats import binomial_test, holm, t_half_width

OBJECTIVES = ("quadratic", "cross_entropy")
INITS = ("gaussian", "identity")
PAIRINGS = ("same_function", "independent")
CELLS = ("wide", "narrow")
DIVERGENCE_CAP = 1e8
ALPHA = 0.05


@dataclass(frozen=True)
class Setting:
    """The size of the experiment. `default_setting` and
    [`quick_setting`][cellnas_edu.theory.linear_sgd.quick_setting] are the two used."""

    ns: tuple[int, ...] = (2, 3, 4, 6)
    lrs: dict = field(default_factory=lambda: {"quadratic": (0.01, 0.03, 0.1, 0.3),
                                               "cross_entropy": (0.1, 0.3, 1.0, 3.0)})
    objectives: tuple[str, ...] = OBJECTIVES
    inits: tuple[str, ...] = INITS
    pairings: tuple[str, ...] = PAIRINGS
    seeds: int = 200
    steps: int = 300
    d: int = 4
    samples: int = 32
    batch: int = 4
    classes: int = 3
    threshold_fraction: float = 0.1
    diagnostic_seeds: int = 20
    curve_points: int = 31
    base_seed: int = 0


def default_setting(seed: int = 0) -> Setting:
    return Setting(base_seed=seed)


def quick_setting(seed: int = 0) -> Setting:
    """A few seconds: two widths, two learning rates per objective, 12 seeds, 60 steps."""
    return Setting(ns=(2, 3), lrs={"quadratic": (0.03, 0.3), "cross_entropy": (0.3, 3.0)}, seeds=12, steps=60,
                   diagnostic_seeds=4, curve_points=7, base_seed=seed)


# ---------------------------------------------------------------------------------------------------------------
# data and initialisation


@dataclass
class Data:
    """Per-seed data sets of one objective: inputs `(S, N, d)`, targets, read-outs, optimum and threshold.

    `targets` is `(S, N, n_max, d)` (quadratic; node `k` uses `targets[:, :, k]`) or one-hot `(S, N, C)`;
    `readout` is `(S, C, n_max, d)` per width in `readouts[n]` (cross-entropy only)."""

    objective: str
    inputs: np.ndarray
    targets: np.ndarray
    readouts: dict
    f_star: dict
    f_zero: dict

    def threshold(self, n: int, fraction: float) -> np.ndarray:
        """$f^* + \\text{fraction}\\,(f_0 - f^*)$ per seed."""
        return self.f_star[n] + fraction * (self.f_zero[n] - self.f_star[n])


def _rng(setting: Setting, *key: int) -> np.random.Generator:
    return np.random.default_rng([setting.base_seed, *key])


def _cross_entropy_minimum(x: np.ndarray, onehot: np.ndarray) -> float:
    """min over `M` of the mean softmax cross-entropy of `M x_s` (convex; L-BFGS, analytic gradient)."""
    c, d = onehot.shape[1], x.shape[1]

    def fun(m):
        logits = x @ m.reshape(c, d).T
        lse = np.logaddexp.reduce(logits, axis=1)
        p = np.exp(logits - lse[:, None])
        return float(np.mean(lse - (onehot * logits).sum(1))), ((p - onehot).T @ x / len(x)).ravel()

    res = optimize.minimize(fun, np.zeros(c * d), jac=True, method="L-BFGS-B",
                            options={"maxiter": 2000, "gtol": 1e-12, "ftol": 1e-15})
    return float(res.fun)


def make_data(objective: str, setting: Setting) -> Data:
    """The per-seed data sets of `objective` (see the module docstring); the same for every width `n`."""
    s_count, n_samples, d, n_max, c = setting.seeds, setting.samples, setting.d, max(setting.ns), setting.classes
    okey = OBJECTIVES.index(objective)
    inputs = np.empty((s_count, n_samples, d))
    readouts: dict = {n: np.empty((s_count, c, n, d)) for n in setting.ns}
    f_star: dict = {n: np.empty(s_count) for n in setting.ns}
    f_zero: dict = {n: np.empty(s_count) for n in setting.ns}
    if objective == "quadratic":
        targets = np.empty((s_count, n_samples, n_max, d))
    else:
        targets = np.empty((s_count, n_samples, c))
    for s in range(s_count):
        rng = _rng(setting, 1, okey, s)
        x = rng.normal(size=(n_samples, d))
        inputs[s] = x
        if objective == "quadratic":
            teacher = rng.normal(size=(n_max, d, d)) / math.sqrt(d)
            t = np.einsum("kij,sj->ski", teacher, x) + 0.5 * rng.normal(size=(n_samples, n_max, d))
            targets[s] = t
            solution, *_ = np.linalg.lstsq(x, t.reshape(n_samples, -1), rcond=None)
            residual = 0.5 * ((t.reshape(n_samples, -1) - x @ solution) ** 2).reshape(n_samples, n_max, d)
            for n in setting.ns:
                f_star[n][s] = residual[:, :n].sum((1, 2)).mean()
                f_zero[n][s] = 0.5 * (t[:, :n] ** 2).sum((1, 2)).mean()
        else:
            teacher = rng.normal(size=(c, d)) * 2.0 / math.sqrt(d)
            logits = x @ teacher.T
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            labels = np.array([rng.choice(c, p=row) for row in p])
            targets[s] = np.eye(c)[labels]
            best = _cross_entropy_minimum(x, targets[s])
            for n in setting.ns:
                readouts[n][s] = rng.normal(size=(c, n, d)) / math.sqrt(n * d)
                f_star[n][s] = best
                f_zero[n][s] = math.log(c)
    return Data(objective, inputs, targets, readouts if objective == "cross_entropy" else {}, f_star, f_zero)


def init_weights(rng: np.random.Generator, init: str, n: int, d: int) -> np.ndarray:
    """`n` matrices `(n, d, d)` from initialisation `init` (`gaussian`: N(0, 1/d); `identity`: I + noise
    of s.d. 0.1/sqrt(d))."""
    if init == "gaussian":
        return rng.normal(size=(n, d, d)) / math.sqrt(d)
    if init == "identity":
        return np.eye(d) + 0.1 * rng.normal(size=(n, d, d)) / math.sqrt(d)
    raise ValueError(f"unknown initialisation {init!r}; choose one of {', '.join(INITS)}")


def chain_products(weights: np.ndarray) -> np.ndarray:
    r"""$V^{(k)} = W^{(k)} \cdots W^{(1)}$ for a batch `(..., n, d, d)` (the identification of Appendix C.2)."""
    out = np.empty_like(weights)
    current = weights[..., 0, :, :]
    out[..., 0, :, :] = current
    for k in range(1, weights.shape[-3]):
        current = weights[..., k, :, :] @ current
        out[..., k, :, :] = current
    return out


def initial_pair(setting: Setting, init: str, pairing: str, n: int, seed: int, objective: str
                 ) -> tuple[np.ndarray, np.ndarray]:
    """`(V, W)`: the widest and narrowest cell's initial weights of one seed under `pairing`.

    The narrowest cell's draw does not depend on the pairing, so pairings (a) and (b) share the narrow start."""
    rng = _rng(setting, 2, OBJECTIVES.index(objective), INITS.index(init), n, seed)
    narrow = init_weights(rng, init, n, setting.d)
    if pairing == "same_function":
        wide = chain_products(narrow)
    elif pairing == "independent":
        wide = init_weights(rng, init, n, setting.d)
    else:
        raise ValueError(f"unknown pairing {pairing!r}; choose one of {', '.join(PAIRINGS)}")
    return wide, narrow


# ---------------------------------------------------------------------------------------------------------------
# the two cells: nodes, losses, per-sample gradients and block Hessians (closed forms, batched over runs)


def nodes(cell: str, weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Node values `(B, m, n, d)` for weights `(B, n, d, d)` and inputs `(B, m, d)` (rows are samples)."""
    n = weights.shape[1]
    out = np.empty((weights.shape[0], inputs.shape[1], n, inputs.shape[2]))
    y = inputs
    for k in range(n):
        if cell == "wide":
            out[:, :, k] = inputs @ np.swapaxes(weights[:, k], 1, 2)
        else:
            y = y @ np.swapaxes(weights[:, k], 1, 2)
            out[:, :, k] = y
    return out


def losses_and_node_gradients(objective: str, z: np.ndarray, targets: np.ndarray, readout: np.ndarray | None
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Per-sample losses `(B, m)`, $\partial F/\partial z_k$ `(B, m, n, d)` and (cross-entropy) the
    softmax probabilities `(B, m, C)`.

    `z` is `(B, m, n, d)`; `targets` `(B, m, n, d)` (quadratic) or one-hot `(B, m, C)`; `readout`
    `(B, C, n, d)` (logits $R\,\mathrm{vec}(z)$)."""
    if objective == "quadratic":
        diff = z - targets
        return 0.5 * (diff**2).sum((2, 3)), diff, None
    b, m, n, d = z.shape
    flat_readout = readout.reshape(b, readout.shape[1], n * d)
    logits = z.reshape(b, m, n * d) @ np.swapaxes(flat_readout, 1, 2)
    top = logits.max(2, keepdims=True)
    e = np.exp(logits - top)
    total = e.sum(2, keepdims=True)
    p = e / total
    lse = (top + np.log(total))[..., 0]
    losses = lse - (targets * logits).sum(2)
    return losses, ((p - targets) @ flat_readout).reshape(b, m, n, d), p


def per_sample_gradients(cell: str, weights: np.ndarray, inputs: np.ndarray, node_grads: np.ndarray,
                         z: np.ndarray) -> np.ndarray:
    r"""Per-sample weight gradients `(B, m, n, d, d)`.

    Widest cell, equation (1): $\partial f/\partial V^{(k)} = (\partial f/\partial y^{(k)}) x^T$.
    Narrowest cell, equation (2) by back-propagation: $\delta_n = \partial \hat f/\partial \hat y^{(n)}$,
    $\delta_k = \partial \hat f/\partial \hat y^{(k)} + W^{(k+1)T} \delta_{k+1}$,
    $\partial \hat f/\partial W^{(k)} = \delta_k \hat y^{(k-1)T}$."""
    if cell == "wide":
        return node_grads[..., :, None] * inputs[:, :, None, None, :]
    b, n = weights.shape[:2]
    m, d = inputs.shape[1], inputs.shape[2]
    out = np.empty((b, m, n, d, d))
    delta = node_grads[:, :, n - 1]
    for k in range(n - 1, -1, -1):
        if k < n - 1:
            delta = node_grads[:, :, k] + delta @ weights[:, k + 1]
        previous = inputs if k == 0 else z[:, :, k - 1]
        out[:, :, k] = delta[:, :, :, None] * previous[:, :, None, :]
    return out


def block_hessians(cell: str, objective: str, weights: np.ndarray, inputs: np.ndarray, z: np.ndarray,
                   probs: np.ndarray | None, readout: np.ndarray | None) -> np.ndarray:
    r"""Block Hessians $\nabla^2_{W^{(i)}}$ of the full-data loss, `(B, n, d*d, d*d)` (row-major vec).

    The output is linear in one block: $z_k = A_k W^{(i)} b_s$ with $A_k = W^{(k)} \cdots W^{(i+1)}$
    (narrowest, $k \ge i$) or $A_i = I$ only (widest), $b_s = \hat y^{(i-1)}_s$ resp. $x_s$.
    With $P_s$ the per-sample Hessian of $F$ in its output (identity on $z$ for the quadratic,
    $\mathrm{diag}(p) - pp^T$ on the logits $R\,\mathrm{vec}(z)$ for cross-entropy) and
    $M = \sum_k R_k A_k$, the block Hessian is
    $\frac1N \sum_s (M^T P_s M) \otimes b_s b_s^T$ (no curvature term from the linear map)."""
    bsz, n, d = weights.shape[0], weights.shape[1], weights.shape[2]
    out = np.empty((bsz, n, d * d, d * d))
    eye = np.broadcast_to(np.eye(d), (bsz, d, d))
    for i in range(n):
        b = inputs if (cell == "wide" or i == 0) else z[:, :, i - 1]
        if cell == "wide":
            factors = [(i, eye)]
        else:
            factors, a = [], eye
            for k in range(i, n):
                if k > i:
                    a = weights[:, k] @ a
                factors.append((k, a))
        if objective == "quadratic":
            g = sum(np.swapaxes(a, 1, 2) @ a for _, a in factors)  # (B, d, d), the same for every sample
            second = np.einsum("bmq,bmc->bqc", b, b) / b.shape[1]
            h = np.einsum("bpa,bqc->bpqac", g, second)
        else:
            mat = sum(readout[:, :, k] @ a for k, a in factors)  # (B, C, d)
            pm = np.einsum("bmc,bcp->bmp", probs, mat)
            g = np.einsum("bcp,bmc,bca->bmpa", mat, probs, mat) - np.einsum("bmp,bma->bmpa", pm, pm)
            h = np.einsum("bmpa,bmq,bmc->bpqac", g, b, b) / b.shape[1]
        out[:, i] = h.reshape(bsz, d * d, d * d)
    return out


def block_diagnostics(cell: str, objective: str, weights: np.ndarray, inputs: np.ndarray, targets: np.ndarray,
                      readout: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """`(L, var)`, each `(B, n)`: block-Lipschitz constants (spectral norm of each block Hessian) and
    per-sample gradient variances (Frobenius) of the full-data loss at `weights`."""
    z = nodes(cell, weights, inputs)
    _, grads, probs = losses_and_node_gradients(objective, z, targets, readout)
    per_sample = per_sample_gradients(cell, weights, inputs, grads, z)
    centred = per_sample - per_sample.mean(1, keepdims=True)
    variance = (centred**2).sum((3, 4)).mean(1)
    hess = block_hessians(cell, objective, weights, inputs, z, probs, readout)
    hess = 0.5 * (hess + np.swapaxes(hess, -1, -2))
    lipschitz = np.abs(np.linalg.eigvalsh(hess)).max(-1)
    return lipschitz, variance


# ---------------------------------------------------------------------------------------------------------------
# training


@dataclass
class RunData:
    r"""The data of `B` runs (one row per run): inputs `(B, N, d)`, targets, read-out `(B, C, n, d)` and, for
    the quadratic, the sufficient statistics of the full-data loss ($\Sigma = X^TX/N$,
    $C_k = \frac1N \sum_s t_{s,k} x_s^T$, $c = \frac1{2N} \sum_s \lVert t_s \rVert^2$)."""

    objective: str
    inputs: np.ndarray
    targets: np.ndarray
    readout: np.ndarray | None = None

    def __post_init__(self):
        x = self.inputs
        self.count = x.shape[1]
        if self.objective == "quadratic":
            self.second = np.swapaxes(x, 1, 2) @ x / self.count
            self.cross = np.einsum("bmkr,bmc->bkrc", self.targets, x) / self.count
            self.constant = 0.5 * (self.targets**2).sum((1, 2, 3)) / self.count

    def rows(self, index) -> RunData:
        return RunData(self.objective, self.inputs[index], self.targets[index],
                       None if self.readout is None else self.readout[index])


def cell_products(cell: str, weights: np.ndarray) -> np.ndarray:
    r"""The linear map of every node, `(B, n, d, d)`: $V^{(k)}$ (widest) or
    $W^{(k)} \cdots W^{(1)}$ (narrowest)."""
    return weights if cell == "wide" else chain_products(weights)


def full_losses(cell: str, weights: np.ndarray, data: RunData) -> np.ndarray:
    r"""Full-data loss (mean over samples) per run, `(B,)`, from the node maps: the quadratic through its sufficient
    statistics, cross-entropy through $M = \sum_k R_k P_k$ (logits $M x$)."""
    maps = cell_products(cell, weights)
    if data.objective == "quadratic":
        quad = np.einsum("bkrc,bce,bkre->b", maps, data.second, maps)
        return 0.5 * quad - np.einsum("bkrc,bkrc->b", maps, data.cross) + data.constant
    b, n, d, _ = maps.shape
    m = data.readout.reshape(b, -1, n * d) @ maps.reshape(b, n * d, d)
    logits = data.inputs @ np.swapaxes(m, 1, 2)
    top = logits.max(2, keepdims=True)
    lse = (top + np.log(np.exp(logits - top).sum(2, keepdims=True)))[..., 0]
    return (lse - (data.targets * logits).sum(2)).mean(1)


def minibatch_gradient(cell: str, weights: np.ndarray, data: RunData, index: np.ndarray) -> np.ndarray:
    r"""Mean gradient over the mini-batch `index` `(B, m)` of every run, `(B, n, d, d)`.

    First the widest cell's gradient at the node maps $P_k$, equation (1):
    $D_k = \frac1m \sum_s (\partial F/\partial z_k)_s x_s^T$. The widest cell's gradient is $D$; the
    narrowest cell's is equation (4), $\partial \hat f/\partial W^{(i)} = \sum_{k \ge i}
    (W^{(k)} \cdots W^{(i+1)})^T D_k (W^{(i-1)} \cdots W^{(1)})^T$, evaluated by the backward recursion
    $E_n = D_n$, $E_k = D_k + W^{(k+1)T} E_{k+1}$, gradient $E_i P_{i-1}^T$."""
    runs = np.arange(weights.shape[0])[:, None]
    maps = cell_products(cell, weights)
    b, n, d, _ = maps.shape
    xb = data.inputs[runs, index]
    tb = data.targets[runs, index]
    z = xb @ np.swapaxes(maps.reshape(b, n * d, d), 1, 2)  # (B, m, n*d)
    if data.objective == "quadratic":
        g = z - tb.reshape(z.shape)
    else:
        flat = data.readout.reshape(b, -1, n * d)
        logits = z @ np.swapaxes(flat, 1, 2)
        e = np.exp(logits - logits.max(2, keepdims=True))
        g = (e / e.sum(2, keepdims=True) - tb) @ flat
    wide = (np.swapaxes(g, 1, 2) @ xb / xb.shape[1]).reshape(b, n, d, d)
    if cell == "wide":
        return wide
    out = np.empty_like(wide)
    e_k = wide[:, n - 1]
    for k in range(n - 1, -1, -1):
        if k < n - 1:
            e_k = wide[:, k] + np.swapaxes(weights[:, k + 1], 1, 2) @ e_k
        out[:, k] = e_k if k == 0 else e_k @ np.swapaxes(maps[:, k - 1], 1, 2)
    return out


def sgd(cell: str, start: np.ndarray, lrs: np.ndarray, data: RunData, batches: np.ndarray, checkpoints=()) -> dict:
    """Plain mini-batch SGD of `B` independent runs at once.

    `start` `(B, n, d, d)`; `lrs` `(B,)`; `data` one row per run; `batches` `(T, B, batch)` sample
    indices (step `t` uses `batches[t]`). Returns `{"losses": (T+1, B)}` full-data losses after `t` updates
    (`nan` once diverged), `"diverged"` `(B,)` and `"weights"`: the weights at each step in `checkpoints`
    (`{step: (B, n, d, d)}`; `nan` for diverged runs)."""
    w = start.copy()
    steps = batches.shape[0]
    losses = np.full((steps + 1, w.shape[0]), np.nan)
    diverged = np.zeros(w.shape[0], dtype=bool)
    saved = {}
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            loss = full_losses(cell, w, data)
            bad = ~np.isfinite(loss) | (loss > DIVERGENCE_CAP)
            newly = bad & ~diverged
            if newly.any():
                diverged |= newly
                w[newly] = 0.0
            losses[t] = np.where(diverged, np.nan, loss)
            if t in checkpoints:
                saved[t] = np.where(diverged[:, None, None, None], np.nan, w)
            if t == steps:
                break
            w -= lrs[:, None, None, None] * minibatch_gradient(cell, w, data, batches[t])
            w[diverged] = 0.0
    return {"losses": losses, "diverged": diverged, "weights": saved}


def steps_to_threshold(losses: np.ndarray, threshold: np.ndarray, diverged: np.ndarray) -> list[int | None]:
    """First step with loss <= threshold per run (`losses` `(T+1, B)`); `None` if the run diverged or never
    reached it."""
    hit = losses <= threshold[None, :]
    out: list[int | None] = []
    for b in range(losses.shape[1]):
        if diverged[b] or not hit[:, b].any():
            out.append(None)
        else:
            out.append(int(np.argmax(hit[:, b])))
    return out


# ---------------------------------------------------------------------------------------------------------------
# statistics


def sign_test(wide: list[int | None], narrow: list[int | None]) -> dict:
    """Paired exact two-sided sign test on steps-to-threshold: `None` (diverged / never reached) is slower than any
    count, ties (also both `None`) are dropped. `fraction_narrow_slower` is over the untied pairs, with its
    exact (Clopper-Pearson) 95 % interval."""
    inf = math.inf
    slower = faster = 0
    for w, m in zip(wide, narrow):
        a, b = (inf if w is None else w), (inf if m is None else m)
        if b > a:
            slower += 1
        elif b < a:
            faster += 1
    untied = slower + faster
    if untied == 0:
        return {"narrow_slower": 0, "narrow_faster": 0, "ties": len(wide), "p_value": 1.0,
                "fraction_narrow_slower": None, "fraction_ci95": None}
    test = binomial_test(slower, untied, alternative="two-sided", level=0.95)
    return {"narrow_slower": slower, "narrow_faster": faster, "ties": len(wide) - untied,
            "p_value": test.p_value, "fraction_narrow_slower": slower / untied,
            "fraction_ci95": [test.low, test.high]}


def both_reached_sign_test(wide: list[int | None], narrow: list[int | None]) -> dict:
    """Exploratory (not in the analysis plan): the sign test on the seeds where *both* cells reached the threshold
    without diverging, i.e. speed without the effect of divergence. Not Holm-adjusted."""
    pairs = [(w, m) for w, m in zip(wide, narrow) if w is not None and m is not None]
    out = sign_test([w for w, _ in pairs], [m for _, m in pairs])
    out["pairs"] = len(pairs)
    return out


def _curve(losses: np.ndarray, f_star: np.ndarray, f_zero: np.ndarray, points: np.ndarray) -> dict:
    """Normalised excess loss (f - f*)/(f0 - f*) at `points`: the mean over the runs not (yet) diverged with its
    95 % t-interval, and the median and quartiles over all runs with a diverged run counted as +infinity (robust to
    the spikes of runs about to diverge)."""
    excess = (losses[points] - f_star[None, :]) / (f_zero - f_star)[None, :]
    ranked = np.where(np.isfinite(excess), excess, np.inf)
    quartiles = np.quantile(ranked, [0.25, 0.5, 0.75], axis=1, method="lower")

    def finite(values):
        return [_round(float(v)) if np.isfinite(v) else None for v in values]

    mean, low, high, count = [], [], [], []
    for row in excess:
        row = row[np.isfinite(row)]
        count.append(int(row.size))
        if row.size == 0:
            mean.append(None), low.append(None), high.append(None)
            continue
        mu = float(row.mean())
        half = float(t_half_width(row)) if row.size > 1 else 0.0
        mean.append(_round(mu)), low.append(_round(mu - half)), high.append(_round(mu + half))
    return {"mean": mean, "ci95_low": low, "ci95_high": high, "runs": count, "median": finite(quartiles[1]),
            "q25": finite(quartiles[0]), "q75": finite(quartiles[2])}


def _round(value: float, digits: int = 5) -> float:
    """`value` to `digits` significant digits (keeps the results file small)."""
    return float(f"{value:.{digits}g}")


def _median(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else None


# ---------------------------------------------------------------------------------------------------------------
# the experiment


def run_linear_sgd(setting: Setting | None = None, seed: int = 0, quick: bool = False) -> dict:
    """Every configuration of `setting` (default: `default_setting`, or
    [`quick_setting`][cellnas_edu.theory.linear_sgd.quick_setting] with
    `quick`); returns the JSON of `cellnas theory sgd --json` / `theory/linear_cells_sgd.py --json`."""
    if setting is None:
        setting = quick_setting(seed) if quick else default_setting(seed)
    start_time = time.process_time()
    big_t, s_count = setting.steps, setting.seeds
    checkpoints = sorted({0, big_t // 4, big_t // 2, big_t})
    points = np.unique(np.linspace(0, big_t, setting.curve_points).round().astype(int))
    n_diag = min(setting.diagnostic_seeds, s_count)
    configs = []
    for objective in setting.objectives:
        data = make_data(objective, setting)
        batch_rng = _rng(setting, 3, OBJECTIVES.index(objective))
        seed_batches = batch_rng.integers(0, setting.samples, size=(big_t, s_count, setting.batch))
        lrs = tuple(setting.lrs[objective])
        for n in setting.ns:
            threshold = data.threshold(n, setting.threshold_fraction)
            if objective == "quadratic":
                targets_seed = data.targets[:, :, :n]
                readout_seed = None
            else:
                targets_seed = data.targets
                readout_seed = data.readouts[n]
            for init in setting.inits:
                # runs: (lr, pairing, seed), seed fastest
                combos = [(lr, pairing) for lr in lrs for pairing in setting.pairings]
                starts = {p: [initial_pair(setting, init, p, n, s, objective) for s in range(s_count)]
                          for p in setting.pairings}
                wide0 = np.concatenate([np.stack([starts[p][s][0] for s in range(s_count)]) for _, p in combos])
                narrow0 = np.concatenate([np.stack([starts[p][s][1] for s in range(s_count)]) for _, p in combos])
                seed_of = np.tile(np.arange(s_count), len(combos))
                lr_of = np.repeat(np.array([lr for lr, _ in combos], dtype=float), s_count)
                run_data = RunData(objective, data.inputs[seed_of], targets_seed[seed_of],
                                   None if readout_seed is None else readout_seed[seed_of])
                batches = seed_batches[:, seed_of]
                runs = {cell: sgd(cell, start, lr_of, run_data, batches, checkpoints)
                        for cell, start in (("wide", wide0), ("narrow", narrow0))}
                for c, (lr, pairing) in enumerate(combos):
                    sl = slice(c * s_count, (c + 1) * s_count)
                    record = {"n": n, "lr": lr, "objective": objective, "init": init, "pairing": pairing,
                              "seeds": s_count, "steps": big_t,
                              "threshold": f"f* + {setting.threshold_fraction:g} (f0 - f*), per seed"}
                    diag_rows = np.arange(sl.start, sl.start + n_diag)
                    for cell in CELLS:
                        result = runs[cell]
                        losses, diverged = result["losses"][:, sl], result["diverged"][sl]
                        steps = steps_to_threshold(losses, threshold, diverged)
                        reached = [s for s in steps if s is not None]
                        trajectory = []
                        for t in checkpoints:
                            w = result["weights"][t][diag_rows]
                            ok = np.isfinite(w).all((1, 2, 3))
                            entry = {"step": t, "runs": int(ok.sum()), "lipschitz_max_median": None,
                                     "variance_total_median": None}
                            if ok.any():
                                sub = run_data.rows(diag_rows[ok])
                                lip, var = block_diagnostics(cell, objective, w[ok], sub.inputs, sub.targets,
                                                             sub.readout)
                                entry["lipschitz_max_median"] = _median(lip.max(1))
                                entry["variance_total_median"] = _median(var.sum(1))
                                entry["lipschitz_blocks_median"] = np.median(lip, 0).tolist()
                                entry["variance_blocks_median"] = np.median(var, 0).tolist()
                            trajectory.append(entry)
                        record[cell] = {
                            "steps_to_threshold": steps,
                            "diverged": int(diverged.sum()),
                            "never_reached": int(sum(s is None for s in steps) - diverged.sum()),
                            "median_steps_reached": float(np.median(reached)) if reached else None,
                            "reached": len(reached),
                            "curve": _curve(losses, data.f_star[n], data.f_zero[n], points),
                            "trajectory": trajectory,
                        }
                    record["sign_test"] = sign_test(record["wide"]["steps_to_threshold"],
                                                    record["narrow"]["steps_to_threshold"])
                    record["sign_test_both_reached"] = both_reached_sign_test(record["wide"]["steps_to_threshold"],
                                                                              record["narrow"]["steps_to_threshold"])
                    configs.append(record)
    adjusted = holm([c["sign_test"]["p_value"] for c in configs])
    for config, p in zip(configs, adjusted):
        test = config["sign_test"]
        test["p_holm"] = p
        if p < ALPHA and test["narrow_slower"] > test["narrow_faster"]:
            test["verdict"] = "narrow slower"
        elif p < ALPHA and test["narrow_faster"] > test["narrow_slower"]:
            test["verdict"] = "narrow faster"
        else:
            test["verdict"] = "neither"
        _explanation(config)
    result = {
        "experiment": "linear_cells_sgd",
        "rows": [_row(c) for c in configs],
        "setting": {k: (v if not isinstance(v, tuple) else list(v)) for k, v in asdict(setting).items()},
        "curve_steps": points.tolist(),
        "checkpoints": checkpoints,
        "configs": configs,
        "verdict": _verdict(configs),
    }
    result["setting"]["lrs"] = {k: list(v) for k, v in setting.lrs.items()}
    result["seconds"] = round(time.process_time() - start_time, 3)
    return result


def _row(c: dict) -> dict:
    """One flat line per configuration (the chapter's table)."""
    t = c["sign_test"]
    start = {cell: c[cell]["trajectory"][0] for cell in CELLS}
    return {
        "objective": c["objective"], "init": c["init"], "pairing": c["pairing"], "n": c["n"], "lr": c["lr"],
        "wide_median": c["wide"]["median_steps_reached"], "narrow_median": c["narrow"]["median_steps_reached"],
        "wide_diverged": c["wide"]["diverged"], "narrow_diverged": c["narrow"]["diverged"],
        "narrow_slower": t["narrow_slower"], "narrow_faster": t["narrow_faster"],
        "fraction_narrow_slower": t["fraction_narrow_slower"], "p_value": t["p_value"], "p_holm": t["p_holm"],
        "verdict": t["verdict"],
        "L_wide_0": start["wide"]["lipschitz_max_median"], "L_narrow_0": start["narrow"]["lipschitz_max_median"],
        "var_wide_0": start["wide"]["variance_total_median"], "var_narrow_0": start["narrow"]["variance_total_median"],
    }


def _explanation(config: dict) -> None:
    """Does the cell with the larger median L (resp. gradient variance) at step 0 turn out to be the slower one?"""
    first = {cell: config[cell]["trajectory"][0] for cell in CELLS}
    out = {}
    for key, name in (("lipschitz_max_median", "larger_lipschitz"), ("variance_total_median", "larger_variance")):
        w, m = first["wide"][key], first["narrow"][key]
        out[name] = None if w is None or m is None else ("narrow" if m > w else "wide")
    test = config["sign_test"]
    slower = ("narrow" if test["narrow_slower"] > test["narrow_faster"]
              else "wide" if test["narrow_faster"] > test["narrow_slower"] else None)
    out["slower_cell"] = slower
    out["lipschitz_predicts_slower"] = None if slower is None or out["larger_lipschitz"] is None else \
        out["larger_lipschitz"] == slower
    out["variance_predicts_slower"] = None if slower is None or out["larger_variance"] is None else \
        out["larger_variance"] == slower
    config["at_start"] = out


def _verdict(configs: list[dict]) -> dict:
    def counts(rows):
        verdicts = [c["sign_test"]["verdict"] for c in rows]
        return {"configs": len(rows), "narrow_slower": verdicts.count("narrow slower"),
                "narrow_faster": verdicts.count("narrow faster"), "neither": verdicts.count("neither")}

    out = counts(configs)
    for key, values in (("objective", OBJECTIVES), ("init", INITS), ("pairing", PAIRINGS)):
        out[f"by_{key}"] = [{key: v, **counts([c for c in configs if c[key] == v])} for v in values
                            if any(c[key] == v for c in configs)]
    ns = sorted({c["n"] for c in configs})
    out["by_n"] = [{"n": n, **counts([c for c in configs if c["n"] == n])} for n in ns]
    decided = [c for c in configs if c["at_start"]["slower_cell"] is not None]
    out["lipschitz_predicts_slower"] = sum(bool(c["at_start"]["lipschitz_predicts_slower"]) for c in decided)
    out["variance_predicts_slower"] = sum(bool(c["at_start"]["variance_predicts_slower"]) for c in decided)
    out["configs_with_a_slower_cell"] = len(decided)
    out["narrow_larger_lipschitz_at_start"] = sum(c["at_start"]["larger_lipschitz"] == "narrow" for c in configs)
    out["narrow_larger_variance_at_start"] = sum(c["at_start"]["larger_variance"] == "narrow" for c in configs)
    out["diverged_runs"] = {cell: sum(c[cell]["diverged"] for c in configs) for cell in CELLS}
    out["runs_per_cell"] = sum(c["seeds"] for c in configs)
    def both_counts(rows):
        both = [c["sign_test_both_reached"] for c in rows]
        return {
            "configs_tested": sum(b["narrow_slower"] + b["narrow_faster"] > 0 for b in both),
            "narrow_slower_p_below_alpha": sum(b["p_value"] < ALPHA and b["narrow_slower"] > b["narrow_faster"]
                                               for b in both),
            "narrow_faster_p_below_alpha": sum(b["p_value"] < ALPHA and b["narrow_faster"] > b["narrow_slower"]
                                               for b in both),
        }

    out["both_reached_unadjusted"] = both_counts(configs)
    out["both_reached_unadjusted"]["by_objective"] = [
        {"objective": v, **both_counts([c for c in configs if c["objective"] == v])} for v in OBJECTIVES
        if any(c["objective"] == v for c in configs)]
    return out


def format_linear_sgd(result: dict) -> str:
    """A readable table: one line per configuration, then the verdict."""
    lines = [f"{'obj':<4} {'init':<8} {'pair':<5} {'n':>2} {'lr':>6} | {'wide med':>8} {'div':>4} | "
             f"{'narr med':>8} {'div':>4} | {'slow':>4} {'fast':>4} {'p':>9} {'p_holm':>9}  verdict"]
    for c in result["configs"]:
        t = c["sign_test"]

        def med(cell, c=c):
            v = c[cell]["median_steps_reached"]
            return "-" if v is None else f"{v:.0f}"

        lines.append(f"{c['objective'][:4]:<4} {c['init']:<8} {c['pairing'][:5]:<5} {c['n']:>2} {c['lr']:>6g} | "
                     f"{med('wide'):>8} {c['wide']['diverged']:>4} | {med('narrow'):>8} {c['narrow']['diverged']:>4} | "
                     f"{t['narrow_slower']:>4} {t['narrow_faster']:>4} {t['p_value']:>9.2e} {t['p_holm']:>9.2e}  "
                     f"{t['verdict']}")
    v = result["verdict"]
    lines.append(f"Holm-adjusted, alpha {ALPHA}: narrow slower in {v['narrow_slower']}/{v['configs']} configurations, "
                 f"faster in {v['narrow_faster']}, neither in {v['neither']}")
    lines.append(f"larger L at step 0 is the slower cell in {v['lipschitz_predicts_slower']}/"
                 f"{v['configs_with_a_slower_cell']}; larger gradient variance in {v['variance_predicts_slower']}/"
                 f"{v['configs_with_a_slower_cell']}")
    return "\n".join(lines)
