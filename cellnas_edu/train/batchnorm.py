r"""Re-estimating BatchNorm's statistics before an evaluation: measure the network, not the lag.

In evaluation mode a BatchNorm layer normalises with its *running* statistics, an exponential
average over training batches with momentum $m = 0.1$:

$$
\hat\mu_{t} = (1 - m)\,\hat\mu_{t-1} + m\,\mu_{B_t},
$$

so after $k$ steps the estimate still carries weight $(1 - m)^k$ of where it started, and every
batch mean $\mu_{B_t}$ was computed with the weights *of its step*. With 12 steps an epoch and a large
learning rate (Figure 4's 0.25) the weights move faster than the average follows: the evaluation
loss then measures the lag (test losses in the thousands, 26% accuracy) while the training loss
falls steadily and the same weights with fresh statistics reach 60%. Section 4.1's convergence
curves are curves of the network only if the statistics belong to the weights being evaluated.

[`recalibrate_batchnorm`][cellnas_edu.train.batchnorm.recalibrate_batchnorm] re-estimates them for the
current weights: every BatchNorm's running statistics are reset, the network runs in training mode
over a stated number of training images (no gradients, drop path off) with `momentum=None`, which
makes torch keep the **cumulative average** of the batch statistics,

$$
\hat\mu = \frac{1}{K} \sum_{k=1}^{K} \mu_{B_k}, \qquad
\hat\sigma^2 = \frac{1}{K} \sum_{k=1}^{K} \frac{|B_k|}{|B_k| - 1}\, \sigma^2_{B_k},
$$

over the $K$ batches (each weighted equally), and the momenta are put back. The weights are not
touched, and neither is any random number generator, so training continues exactly as it would have
without the pass. The images are the first `images` of the training set in their stored order,
without augmentation (the test images are not augmented either; Appendix A.1)."""

from __future__ import annotations

import torch
from torch import nn

from ..data.augment import normalize

BATCHNORM_TYPES = (nn.modules.batchnorm._BatchNorm,)
"""Layers whose running statistics are re-estimated (BatchNorm1d/2d/3d and SyncBatchNorm)."""


def batchnorm_layers(model: nn.Module) -> list[nn.Module]:
    """The BatchNorm layers of `model` that keep running statistics, in module order."""
    return [m for m in model.modules() if isinstance(m, BATCHNORM_TYPES) and m.track_running_stats]


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches, *, images: int) -> int:
    """Re-estimate the running statistics of every BatchNorm of `model` (module docstring).

    `batches` yields input tensors (already on the model's device and in its memory format), or
    `(inputs, labels)` pairs; the first `images` inputs are used, the last batch cut to fit.
    Returns the number of images used (`ValueError` if `images < 1` or `batches` yields none).
    The model's mode, its `drop_path_prob`, the layers' momenta and every RNG state are restored."""
    if isinstance(images, bool) or not isinstance(images, int) or images < 1:
        raise ValueError(f"images must be a positive integer, got {images!r}")
    layers = batchnorm_layers(model)
    if not layers:
        return 0
    was_training = model.training
    momenta = [layer.momentum for layer in layers]
    drop_path = getattr(model, "drop_path_prob", None)
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    used = 0
    try:
        for layer in layers:
            layer.reset_running_stats()
            layer.momentum = None  # cumulative average
        if drop_path is not None:
            model.drop_path_prob = 0.0
        model.train()
        for batch in batches:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            x = x[: images - used]
            if len(x) == 0:
                break
            model(x)
            used += len(x)
            if used >= images:
                break
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        if drop_path is not None:
            model.drop_path_prob = drop_path
        model.train(was_training)
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
    if used == 0:
        raise ValueError("recalibrate_batchnorm: the batches yielded no images")
    return used


def unaugmented_batches(dataset, images: int, batch_size: int, device, *, channels_last: bool = False):
    """The first `images` images of an [`ImageDataset`][cellnas_edu.data.ImageDataset], normalised but not
    augmented, in batches of `batch_size` on `device` (the inputs of a recalibration pass)."""
    count = min(int(images), len(dataset))
    starts = list(range(0, count, batch_size))
    if len(starts) > 1 and count - starts[-1] == 1:
        starts.pop()  # no batch of one image: training-mode BatchNorm needs two values per channel
    for start, stop in zip(starts, starts[1:] + [count]):
        index = torch.arange(start, stop)
        x = normalize(dataset.images.index_select(0, index).to(device), dataset.info.mean, dataset.info.std)
        yield x.contiguous(memory_format=torch.channels_last) if channels_last else x
