"""A small deterministic image classification set with learnable structure (no files needed).

Used by tests, the tour and quick demonstrations where no real dataset is
present. Each of the 10 classes has a fixed texture: a random 8x8 RGB grid,
upsampled bilinearly to a 48x48 canvas and centred per channel. An image is a
random 32x32 window of its class texture (shifts of up to 16 pixels, so the
class is a translation-invariant pattern, which convolutions exploit), plus a
random colour tint (a per-image offset of each channel, so mean colour
carries no label information) and pixel noise, rounded to `uint8`.

The classes are learnable but not trivial: on the test set, nearest class
mean in pixel space scores 44% and a ridge-regression linear classifier
89%; a small DARTS network (C=8, 5 cells, SGD with momentum, batch 64,
crop/flip augmentation) reached 97% after 10 epochs. The same data come out
on every machine: a fixed NumPy PCG64 seed, independent of the `seed` that
selects subsets. 2000 training and 500 test images, balanced over the classes."""

from __future__ import annotations

import numpy as np
import torch

SYNTHETIC_SEED = 20200426
"""Fixed seed of the synthetic data (the dataset is a constant, like a file on disk)."""
NUM_CLASSES = 10
IMAGE_SIZE = 32
MAX_SHIFT = 16
TRAIN_SIZE = 2000
TEST_SIZE = 500
TINT_STD = 0.5
"""Standard deviations, in units of the texture amplitude, of the per-image tint and the per-pixel noise."""
NOISE_STD = 0.8
PIXEL_SCALE = 50.0
"""Pixel value per unit of texture amplitude (around the mid-grey 127.5)."""


def class_textures(rng: np.random.Generator) -> np.ndarray:
    """`(10, 3, 48, 48)` zero-mean (per channel) smooth textures, one per class."""
    grid = torch.from_numpy(rng.uniform(-1.0, 1.0, size=(NUM_CLASSES, 3, 8, 8)).astype(np.float32))
    canvas = IMAGE_SIZE + MAX_SHIFT
    big = torch.nn.functional.interpolate(grid, size=(canvas, canvas), mode="bilinear", align_corners=False).numpy()
    return big - big.mean(axis=(2, 3), keepdims=True)


def make_synthetic(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """`(images uint8 (N, 3, 32, 32), labels int64 (N,))` of the training or the test set."""
    textures = class_textures(np.random.default_rng(SYNTHETIC_SEED))
    # each split has its own stream over the same textures, so no test image repeats a training image
    rng = np.random.default_rng([SYNTHETIC_SEED, 0 if train else 1])
    count = TRAIN_SIZE if train else TEST_SIZE
    labels = np.arange(count) % NUM_CLASSES
    rng.shuffle(labels)
    dy = rng.integers(0, MAX_SHIFT + 1, size=count)
    dx = rng.integers(0, MAX_SHIFT + 1, size=count)
    images = np.stack([textures[c, :, y: y + IMAGE_SIZE, x: x + IMAGE_SIZE] for c, y, x in zip(labels, dy, dx)])
    images = images + rng.normal(0.0, TINT_STD, size=(count, 3, 1, 1)) + rng.normal(0.0, NOISE_STD, size=images.shape)
    pixels = np.clip(np.rint(127.5 + PIXEL_SCALE * images), 0, 255).astype(np.uint8)
    return torch.from_numpy(pixels), torch.from_numpy(labels.astype(np.int64))
