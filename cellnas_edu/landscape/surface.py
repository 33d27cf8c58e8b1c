r"""The loss surface $s(\alpha, \beta)$ of Section 4.2.1, evaluated fast.

$$
s(\alpha, \beta) = \frac{1}{M} \sum_{i=1}^{M} f_i(w^* + \alpha w_1 + \beta w_2)
$$

on a fixed sample of `M` test images, with `f_i` the cross-entropy of image
`i` and $w_1, w_2$ the filter-normalised directions of
[`directions`][cellnas_edu.landscape.directions]. The network is in evaluation mode:
BatchNorm uses the statistics stored with the weights, which stay fixed while the
weights move (Li et al., 2018, do the same), and drop-path is off. Those statistics are
the running averages of training, or, for a run trained with `bn_recalibration`, statistics
re-estimated at the trained weights ([`cellnas_edu.train.batchnorm`][cellnas_edu.train.batchnorm]);
`cellnas landscape --bn-recalibration N` re-estimates them at every grid point instead.

Speed: the weights are moved *in place*. [`PerturbedWeights`][cellnas_edu.landscape.surface.PerturbedWeights] keeps one
copy of $w^*$ and the two directions on the device and sets
`w = w* + alpha d1 + beta d2` with three `torch._foreach` kernels over
preallocated tensors: no allocation, no host round trip. [`mean_loss`][cellnas_edu.landscape.surface.mean_loss]
accumulates the summed cross-entropy on the device in float64 and returns a
device scalar, so a grid point costs one evaluation pass plus one `.item()`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def landscape_parameters(model: nn.Module, example: torch.Tensor) -> dict[str, torch.Tensor]:
    """The named parameters that the evaluation-mode loss depends on, in `named_parameters` order.

    Parameters outside the evaluation graph (the auxiliary head, which only
    runs in training, and the operations of dead nodes, Section 3.2) have no
    effect on $s$ or on $\\nabla f_i$; they are left out of the
    directions and of the parameter count of the per-parameter gradient
    variance. Found with one backward pass on `example` (a batch of inputs)."""
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("the model has no trainable parameters")
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            output = model(example)
            if isinstance(output, (tuple, list)):
                output = output[0]
            grads = torch.autograd.grad(output.sum(), [p for _, p in named], allow_unused=True)
    finally:
        model.train(was_training)
    return {name: p for (name, p), g in zip(named, grads) if g is not None}


class PerturbedWeights:
    """Sets a model's weights to `w* + alpha d1 + beta d2` in place; `restore` puts `w*` back.

    Use as a context manager so that the trained weights come back even if a
    grid is interrupted. `(0, 0)` gives exactly `w*` (no addition is done
    for a zero coefficient), so the centre of the grid is bit-identical to
    the trained network."""

    def __init__(self, params: dict[str, torch.Tensor], d1: dict[str, torch.Tensor], d2: dict[str, torch.Tensor]):
        if not (params.keys() == d1.keys() == d2.keys()):
            raise ValueError("the directions must have one tensor per landscape parameter")
        self.params = list(params.values())
        with torch.no_grad():
            self.center = [p.detach().clone() for p in self.params]
        self.d1 = [d1[name] for name in params]
        self.d2 = [d2[name] for name in params]

    @torch.no_grad()
    def set(self, alpha: float, beta: float) -> None:
        torch._foreach_copy_(self.params, self.center)
        if alpha != 0.0:
            torch._foreach_add_(self.params, self.d1, alpha=float(alpha))
        if beta != 0.0:
            torch._foreach_add_(self.params, self.d2, alpha=float(beta))

    def restore(self) -> None:
        self.set(0.0, 0.0)

    def __enter__(self) -> PerturbedWeights:
        return self

    def __exit__(self, *exc) -> None:
        self.restore()


def logits_of(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's logits (a model returning `(logits, aux)` is accepted)."""
    output = model(x)
    return output[0] if isinstance(output, (tuple, list)) else output


@torch.no_grad()
def mean_loss(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Mean cross-entropy over `inputs` as a float64 device scalar (one evaluation pass, no host sync)."""
    total = torch.zeros((), dtype=torch.float64, device=inputs.device)
    for start in range(0, inputs.shape[0], batch_size):
        logits = logits_of(model, inputs[start:start + batch_size])
        total += F.cross_entropy(logits, targets[start:start + batch_size], reduction="sum").double()
    return total / inputs.shape[0]


def loss_at(model: nn.Module, weights: PerturbedWeights, alpha: float, beta: float, inputs: torch.Tensor,
            targets: torch.Tensor, batch_size: int = 256) -> float:
    """$s(\\alpha, \\beta)$ at one point (the weights are left at that point)."""
    weights.set(alpha, beta)
    return float(mean_loss(model, inputs, targets, batch_size))
