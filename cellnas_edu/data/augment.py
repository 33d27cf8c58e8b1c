"""Data augmentation of Appendix A.1 and A.4 as batched torch operations.

The DARTS pipeline (Liu et al., 2019), which the paper adopts, is, for a
training image: zero-pad 4 pixels on each side and crop back to the original
size at a random offset, flip horizontally with probability 1/2, scale to
[0, 1] and normalise each channel with the dataset's mean and standard
deviation, and (Section 5 only, Appendix A.4) *cutout*: zero a 16x16 square
centred at a uniformly random pixel, clipped at the border (DeVries & Taylor,
2017; DARTS `Cutout`). Test images are only normalised.

Every function takes a batch `(N, C, H, W)` and draws one random choice per
image from torch's random number generator (or `generator`), so the same
code runs on CPU worker processes or on the GPU on a whole batch at once.
Crops and flips act on `uint8` pixels (the padding is pixel value 0, black,
as in torchvision's `RandomCrop`), cutout on normalised values (it sets
them to 0, as DARTS does after `Normalize`)."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def normalize(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """`uint8` pixels -> `float32` `(x / 255 - mean) / std` per channel."""
    shape = (1, -1, 1, 1)
    mean_t = torch.tensor(mean, dtype=torch.float32, device=images.device).view(shape)
    std_t = torch.tensor(std, dtype=torch.float32, device=images.device).view(shape)
    return (images.to(torch.float32) / 255.0 - mean_t) / std_t


def random_crop(images: torch.Tensor, padding: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero-pad `padding` pixels on every side, then crop each image back at a random offset.

    One `gather` on the flattened padded images picks the `H x W` window
    at offset `(dy, dx)` of each image (the cheapest formulation on CPU)."""
    n, c, h, w = images.shape
    device = images.device
    padded = torch.nn.functional.pad(images, (padding, padding, padding, padding))
    width = w + 2 * padding
    dy = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=generator, device=device)
    dx = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=generator, device=device)
    rows = dy + torch.arange(h, device=device)[None, :, None]
    cols = dx + torch.arange(w, device=device)[None, None, :]
    flat = (rows * width + cols).view(n, 1, h * w).expand(n, c, h * w)
    return padded.reshape(n, c, -1).gather(2, flat).view(n, c, h, w)


def random_flip(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def cutout_mask(n: int, h: int, w: int, length: int, generator: torch.Generator | None = None,
                device: torch.device | str | None = None) -> torch.Tensor:
    """`(n, 1, h, w)` float mask: 0 on a `length` square around a random centre (clipped), 1 elsewhere.

    As in DARTS: the centre `(y, x)` is uniform over the image, the square
    covers rows `max(y - length//2, 0) .. min(y + length//2, h) - 1` and the
    same for columns, so it is `length x length` unless it meets a border."""
    y = torch.randint(0, h, (n,), generator=generator, device=device)
    x = torch.randint(0, w, (n,), generator=generator, device=device)
    half = length // 2
    r = torch.arange(h, device=device)
    c = torch.arange(w, device=device)
    in_rows = (r[None, :] >= y[:, None] - half) & (r[None, :] < y[:, None] + half)
    in_cols = (c[None, :] >= x[:, None] - half) & (c[None, :] < x[:, None] + half)
    inside = in_rows[:, :, None] & in_cols[:, None, :]
    return (~inside).to(torch.float32)[:, None]


def cutout(images: torch.Tensor, length: int = 16, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero a `length` square (clipped at the border) of each normalised image (Appendix A.4)."""
    n, _, h, w = images.shape
    return images * cutout_mask(n, h, w, length, generator, images.device).to(images.dtype)


def train_transform(images: torch.Tensor, mean: Sequence[float], std: Sequence[float], *, augment: bool = True,
                    cutout_length: int = 0, padding: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """The whole Appendix A.1 (+ A.4 cutout) pipeline on a `uint8` batch; normalisation only if not `augment`."""
    if augment:
        images = random_flip(random_crop(images, padding, generator), generator)
    out = normalize(images, mean, std)
    if cutout_length > 0:
        out = cutout(out, cutout_length, generator)
    return out
