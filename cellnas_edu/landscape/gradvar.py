r"""Gradient variance $g(\alpha, \beta)$ of Section 4.2.2, from per-sample gradients.

Section 4.2.2 follows Ghadimi & Lan (2013) and defines the gradient variance
as $\mathrm{Var}(\nabla f_i(w))$, the noise of a one-sample stochastic
gradient. For a vector-valued gradient the scalar that Theorem 4.1's
$\sigma^2$ bounds is the **trace of the per-sample gradient
covariance**, $\mathbb{E}\lVert \nabla f_i(w) - \nabla f(w) \rVert^2$,
and that is what we report, over the `M` fixed samples (population
variance, divisor `M`):

$$
g(w) = \frac{1}{M} \sum_{i=1}^{M} \lVert g_i - \bar g \rVert^2,
\qquad g_i = \nabla_w f_i(w), \quad \bar g = \frac{1}{M} \sum_i g_i .
$$

Two other views are returned: the per-parameter mean `g / P` (`P` =
number of parameters the evaluation loss depends on) and the standard
deviation $\sqrt{g}$, which is what Figures 7 and 8 plot ("we plot the
figures using the standard deviation ... to avoid extremely large values").

**How it is computed**

* Per-sample gradients with `torch.func`: `vmap(grad_and_value(f))`
  over a chunk of `C` samples, `f` a `functional_call`
  of the network on one image. The network is in evaluation mode, so
  BatchNorm uses running statistics and $f_i$ depends on image `i`
  only; in training mode the batch statistics would couple the samples and
  "the gradient of sample `i`" would not be defined.

* Only one chunk of per-sample gradients exists at a time (memory
  `C x P` floats); the chunks are combined with **Chan et al.'s parallel
  update** in float64: each chunk contributes its own mean $\bar g_B$ and
  its sum of squared deviations $M_{2,B} = \sum_{i \in B} \lVert g_i - \bar g_B \rVert^2$,
  and two sets merge as

    $$
    M_2 = M_{2,A} + M_{2,B} + \lVert \bar g_B - \bar g_A \rVert^2 \frac{n_A n_B}{n_A + n_B}.
    $$

    The textbook shortcut $\sum_i \lVert g_i \rVert^2 - M \lVert \bar g \rVert^2$
    subtracts two large numbers whose difference is the variance: where the mean
    gradient dominates the spread (far from the optimum, at the corners of the
    grid, exactly where Figure 7 turns yellow) the relative error is about
    $\varepsilon \lVert \bar g \rVert^2 / g$ and can exceed 100% in
    float32 or even come out negative. Chan's update only ever adds
    non-negative terms computed from deviations. Within a chunk the mean and
    the squared deviations from it are computed in the gradients' own
    precision (deviations from the chunk's mean cannot cancel
    catastrophically); chunk means and $M_2$ are merged in float64.

* BatchNorm in evaluation mode is a fixed per-channel affine map,
  $y = x \cdot s + t$ with $s = \gamma / \sqrt{\hat\sigma^2 + \epsilon}$,
  $t = \beta - \hat\mu s$. While per-sample gradients are taken,
  [`affine_batchnorm`][cellnas_edu.landscape.gradvar.affine_batchnorm] computes it in exactly that form (the same
  function of $\gamma, \beta$ and the running statistics, equal up to
  rounding): `vmap`'s generic batching rule for the fused BatchNorm
  backward is several times slower than the plain element-wise products and
  reductions of the affine form."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

GRADVAR_STATS = ("trace", "per-parameter")
r"""`--gradvar-stat`: what the gradient-variance plots show. `trace`: $\sqrt{g}$ with `g` the trace of the
per-sample gradient covariance (Section 4.2.2; Theorem 4.1's sigma^2). `per-parameter`: $\sqrt{g / P}$,
the per-coordinate mean over the `P` parameters -- Appendix B.4 says the z-axis of Figures 7, 8 and 21-24
"has been scaled by 10^-5", which fits a per-parameter (or mini-batch) statistic better than the trace."""


@dataclass(frozen=True)
class GradientVariance:
    """$g = \\mathrm{tr}\\,\\mathrm{Cov}(\\nabla f_i)$ over `num_samples` samples, and its views."""

    trace: float
    num_samples: int
    num_parameters: int
    mean_loss: float

    @property
    def per_parameter(self) -> float:
        """The trace divided by the number of parameters: the mean variance of one gradient coordinate."""
        return self.trace / self.num_parameters

    @property
    def std(self) -> float:
        """$\\sqrt{g}$, the quantity Figures 7 and 8 plot."""
        return self.trace ** 0.5


class ChanAccumulator:
    """Running mean (per parameter, float64) and sum of squared deviations (scalar) of per-sample gradients."""

    def __init__(self, params: dict[str, torch.Tensor]):
        self.count = 0
        self.mean = {name: torch.zeros(p.shape, dtype=torch.float64, device=p.device) for name, p in params.items()}
        self.m2 = torch.zeros((), dtype=torch.float64, device=next(iter(params.values())).device)

    def update(self, chunk_grads: dict[str, torch.Tensor], *, consume: bool = False) -> None:
        """Merge one chunk of per-sample gradients (`name -> (n_B, *shape)`) with Chan's update.

        `consume=True` lets the chunk's tensors be overwritten by their deviations (no extra memory)."""
        n_b = next(iter(chunk_grads.values())).shape[0]
        n_a = self.count
        n = n_a + n_b
        for name, g in chunk_grads.items():
            shift = g.mean(dim=0)  # the chunk mean, rounded: deviations about it cannot cancel catastrophically
            deviations = g.sub_(shift) if consume else g - shift
            residual = deviations.mean(dim=0).to(torch.float64)  # what the rounding of the mean left over
            self.m2 += torch.linalg.vector_norm(deviations).to(torch.float64).square()
            self.m2 -= residual.square().sum() * n_b  # sum (x - m)^2 = sum (x - s)^2 - n (m - s)^2
            mean_b = shift.to(torch.float64) + residual
            delta = mean_b - self.mean[name]
            self.m2 += delta.square().sum() * (n_a * n_b / n)
            self.mean[name] += delta * (n_b / n)
        self.count = n

    def trace(self) -> float:
        return float(self.m2) / self.count


def _affine_batchnorm_forward(self, x: torch.Tensor) -> torch.Tensor:
    scale = torch.rsqrt(self.running_var + self.eps)
    shift = -self.running_mean * scale
    if self.weight is not None:
        scale = self.weight * scale
        shift = self.bias + shift * self.weight
    shape = (1, -1) + (1,) * (x.dim() - 2)
    return x * scale.view(shape) + shift.view(shape)


@contextmanager
def affine_batchnorm(model: nn.Module):
    """Within the block, evaluation-mode BatchNorm layers of `model` compute `x * s + t` (module docstring).

    Only layers in evaluation mode with running statistics are changed (the
    others would normalise with batch statistics); the originals come back
    on exit."""
    changed = []
    for module in model.modules():
        if (isinstance(module, nn.modules.batchnorm._BatchNorm) and not module.training
                and module.running_mean is not None and "forward" not in module.__dict__):
            module.forward = _affine_batchnorm_forward.__get__(module)
            changed.append(module)
    try:
        yield model
    finally:
        for module in changed:
            del module.forward


def per_sample_gradient_function(model: nn.Module):
    """`vmap`-ed `(params, x, y) -> (per-sample gradients, per-sample losses)` for an eval-mode model."""

    def loss_of_one(params, x, y):
        output = functional_call(model, params, (x.unsqueeze(0),))
        logits = output[0] if isinstance(output, (tuple, list)) else output
        return F.cross_entropy(logits, y.unsqueeze(0))

    return vmap(grad_and_value(loss_of_one), in_dims=(None, 0, 0))


def gradient_variance(model: nn.Module, params: dict[str, torch.Tensor], inputs: torch.Tensor,
                      targets: torch.Tensor, chunk: int = 16) -> GradientVariance:
    """$g(w)$ at the model's current weights over all `inputs` (see the module docstring).

    `params` are the parameters differentiated (the others, and the
    buffers, are taken from `model` as constants); `chunk` samples share
    one `vmap` call and bound the memory."""
    if chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk}")
    if model.training:
        raise ValueError("gradient variance needs the model in evaluation mode (per-sample gradients with BatchNorm)")
    values = {name: p.detach() for name, p in params.items()}
    per_sample = per_sample_gradient_function(model)
    accumulator = ChanAccumulator(values)
    loss_sum = torch.zeros((), dtype=torch.float64, device=inputs.device)
    with affine_batchnorm(model):
        for start in range(0, inputs.shape[0], chunk):
            grads, losses = per_sample(values, inputs[start:start + chunk], targets[start:start + chunk])
            accumulator.update(grads, consume=True)
            loss_sum += losses.double().sum()
            del grads
    num_samples = int(inputs.shape[0])
    return GradientVariance(
        trace=accumulator.trace(),
        num_samples=num_samples,
        num_parameters=sum(p.numel() for p in values.values()),
        mean_loss=float(loss_sum) / num_samples,
    )
