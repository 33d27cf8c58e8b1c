r"""Random directions with filter normalisation (Section 4.2.1; Li et al., 2018, Section 4).

Section 4.2.1 plots $s(\alpha, \beta) = \mathbb{E}_i f_i(w^* + \alpha w_1 + \beta w_2)$
with two Gaussian directions $w_1, w_2$ and, "following Li et al. (2018)",
*filter-normalised* directions: a raw Gaussian direction is scale-blind, while
a ReLU network with BatchNorm is invariant to the scale of each filter, so Li
et al. rescale the direction filter by filter,

$$
d_{k,j} \leftarrow \frac{d_{k,j}}{\lVert d_{k,j} \rVert} \, \lVert w_{k,j} \rVert ,
$$

where $d_{k,j}$ is filter `j` (row `j` along dimension 0) of the
direction for parameter tensor `k`. A step of size 1 along every filter then
has the size of that filter, and landscapes of different networks become
comparable.

One-dimensional tensors (biases and BatchNorm scales/shifts) are zeroed by
default, as in Li et al.'s experiments (their `ignore='biasbn'`); with
`ignore_bias_bn=False` they are filter-normalised with each element as its
own "filter", i.e. $d_i = \mathrm{sign}(g_i)\,|w_i|$ (Li et al.'s code
copies $w$ instead, the same magnitudes with all signs positive).
BatchNorm running statistics are buffers, not parameters: they never move.

Reproducibility: the Gaussian numbers come from one CPU
`torch.Generator` seeded with `seed`, drawn in float32 in
`named_parameters` order, first all of `d1` then all of `d2`, and only
then moved to the device and dtype of the weights. The same `seed`, options
and weights therefore give bit-identical directions on every device, which is
why `landscape.npz` stores only the seed and the options."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

NORM_EPS = 1e-10
"""added to a direction filter's norm before dividing (Li et al.'s `1e-10`); an all-zero filter stays zero"""


@dataclass(frozen=True)
class DirectionSpec:
    """Everything needed to regenerate the two directions bit-identically from the same weights."""

    seed: int = 0
    ignore_bias_bn: bool = True
    normalization: str = "filter"

    def to_dict(self) -> dict:
        return asdict(self)


def filter_normalize_(direction: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Rescale each filter (row along dim 0) of `direction` in place to the norm of the same filter of `weight`.

    A 0-D tensor is a single filter. Returns `direction`."""
    if direction.shape != weight.shape:
        raise ValueError(f"direction shape {tuple(direction.shape)} != weight shape {tuple(weight.shape)}")
    if direction.dim() == 0:
        direction.mul_(weight.abs() / (direction.abs() + NORM_EPS))
        return direction
    d_rows = direction.reshape(direction.shape[0], -1)
    w_rows = weight.reshape(weight.shape[0], -1)
    scale = w_rows.norm(dim=1) / (d_rows.norm(dim=1) + NORM_EPS)
    d_rows.mul_(scale.unsqueeze(1))
    return direction


def filter_normalized_direction(
    weights: dict[str, torch.Tensor],
    generator: torch.Generator,
    *,
    ignore_bias_bn: bool = True,
) -> dict[str, torch.Tensor]:
    """One filter-normalised Gaussian direction, a tensor per weight tensor (Li et al., 2018, Section 4).

    `generator` is a CPU generator; numbers are drawn in float32 in the order
    of `weights` and the result has the dtype and device of each weight.
    Tensors with at most one dimension get a zero direction when
    `ignore_bias_bn` (their numbers are still drawn, so switching the option
    changes nothing else)."""
    direction = {}
    for name, weight in weights.items():
        gaussian = torch.randn(tuple(weight.shape), generator=generator, dtype=torch.float32)
        w = weight.detach().to("cpu", torch.float32)
        if weight.dim() <= 1 and ignore_bias_bn:
            gaussian.zero_()
        elif weight.dim() <= 1:
            gaussian = torch.sign(gaussian) * w.abs()
        else:
            filter_normalize_(gaussian, w)
        direction[name] = gaussian.to(device=weight.device, dtype=weight.dtype)
    return direction


def random_direction_pair(
    weights: dict[str, torch.Tensor], spec: DirectionSpec = DirectionSpec()
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The two directions `(w_1, w_2)` of Section 4.2.1, regenerated exactly from `spec`."""
    if spec.normalization != "filter":
        raise ValueError(f"unknown direction normalization {spec.normalization!r} (only 'filter' is implemented)")
    generator = torch.Generator(device="cpu").manual_seed(int(spec.seed))
    d1 = filter_normalized_direction(weights, generator, ignore_bias_bn=spec.ignore_bias_bn)
    d2 = filter_normalized_direction(weights, generator, ignore_bias_bn=spec.ignore_bias_bn)
    return d1, d2
