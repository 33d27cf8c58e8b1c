"""Datasets of Appendix A.1, decoded once into memory, with batched torch augmentation.

`dataset_info(name)` describes a dataset (classes, channels, image size,
normalisation, the stem stride of Appendix A.3); `load_dataset(name, ...)`
returns an [`ImageDataset`][cellnas_edu.data.ImageDataset] that holds the whole split as a `uint8`
tensor and applies the Appendix A.1 pipeline (pad 4 + random crop, horizontal
flip, per-channel normalisation; cutout 16 on request, Appendix A.4) with
torch operations, per sample or (`__getitems__`, [`ImageDataset.batch`][cellnas_edu.data.ImageDataset.batch])
per batch. Test sets are only normalised.

Datasets: `cifar10`, `cifar100` (32x32 RGB), `tiny-imagenet-200` (64x64
RGB, stem stride 2 so that the cells see 32x32 maps), `fashion-mnist`
(28x28 grayscale, offline: Debian's `dataset-fashion-mnist` package) and
`synthetic` (generated, see [`cellnas_edu.data.synthetic`][cellnas_edu.data.synthetic]).

Where data are looked for (`root`): the `root` argument (`--data-root`),
else `$CELLNAS_DATA`, else `~/.cache/cellnas/data`; Fashion-MNIST
defaults to `/usr/share/datasets/fashion-mnist`. A dataset's own folder
(`cifar-10-batches-py`, `cifar-100-python`, `tiny-imagenet-200`,
`fashion-mnist`) may sit inside `root` or be `root` itself. Nothing is
downloaded; a missing dataset raises [`UserError`][cellnas_edu.errors.UserError]
with one line saying where it looked and how to get it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .augment import normalize, random_crop, random_flip, train_transform  # noqa: F401  (public API)
from .readers import read_cifar, read_fashion_mnist, read_tiny_imagenet
from .synthetic import make_synthetic


@dataclass(frozen=True)
class DatasetInfo:
    """What a network and a data pipeline need to know about a dataset (Appendix A.1, A.3).

    `mean` and `std` are per-channel statistics of the training images
    scaled to [0, 1] (the normalisation of Appendix A.1); `stem_stride` is
    the stride of the network's first convolution (2 for 64x64 Tiny-ImageNet)."""

    name: str
    num_classes: int
    in_channels: int
    image_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    stem_stride: int


DATASETS: dict[str, DatasetInfo] = {
    "cifar10": DatasetInfo("cifar10", 10, 3, 32, (0.49139968, 0.48215827, 0.44653124),
                           (0.24703233, 0.24348505, 0.26158768), 1),
    "cifar100": DatasetInfo("cifar100", 100, 3, 32, (0.50707516, 0.48654887, 0.44091784),
                            (0.26733429, 0.25643846, 0.27615047), 1),
    "tiny-imagenet-200": DatasetInfo("tiny-imagenet-200", 200, 3, 64, (0.4802, 0.4481, 0.3975),
                                     (0.2302, 0.2265, 0.2262), 2),
    "fashion-mnist": DatasetInfo("fashion-mnist", 10, 1, 28, (0.2860,), (0.3530,), 1),
    "synthetic": DatasetInfo("synthetic", 10, 3, 32, (0.5062, 0.4935, 0.4949), (0.1975, 0.1966, 0.1979), 1),
}
"""CIFAR-10 statistics are DARTS' `CIFAR_MEAN`/`CIFAR_STD`; the others are computed on the training sets."""

FASHION_MNIST_SYSTEM_ROOT = Path("/usr/share/datasets/fashion-mnist")
"""Fashion-MNIST's location when installed from Debian (`apt install dataset-fashion-mnist`)."""


def dataset_info(name: str) -> DatasetInfo:
    """The [`DatasetInfo`][cellnas_edu.data.DatasetInfo] of `name` (`ValueError` listing the known names otherwise)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
    return DATASETS[name]


def default_data_root() -> Path:
    """`$CELLNAS_DATA`, else `~/.cache/cellnas/data`."""
    env = os.environ.get("CELLNAS_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cellnas" / "data"


class ImageDataset(torch.utils.data.Dataset):
    """A whole split in memory: `images` `uint8 (N, C, H, W)`, `labels` `int64 (N,)`.

    Items are `(image float32 (C, H, W), label int64 scalar tensor)`. With
    `augment` the training pipeline of Appendix A.1 is applied (random crop
    with 4-pixel zero padding, horizontal flip) before normalisation, and
    `cutout > 0` zeroes a `cutout` square afterwards (Appendix A.4). The
    random choices come from torch's global generator, so they follow
    `torch.manual_seed` and the DataLoader's per-worker seeding.

    `__getitems__` lets a `DataLoader` fetch a whole batch with one call
    (vectorised augmentation); [`batch`][cellnas_edu.data.ImageDataset.batch] does the same on any device, for
    trainers that keep the `uint8` images on the GPU."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, info: DatasetInfo, *, augment: bool = False,
                 cutout: int = 0):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be a uint8 (N, C, H, W) tensor, got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = labels.to(torch.int64)
        self.info = info
        self.augment = augment
        self.cutout = cutout

    def __len__(self) -> int:
        return len(self.labels)

    def transform(self, images: torch.Tensor) -> torch.Tensor:
        """Augment (if enabled) and normalise a `uint8` batch on its own device."""
        return train_transform(images, self.info.mean, self.info.std, augment=self.augment, cutout_length=self.cutout)

    def batch(self, indices: torch.Tensor | list[int], device: torch.device | str | None = None):
        """`(images float32 (B, C, H, W), labels (B,))` for `indices`, transformed on `device`."""
        index = torch.as_tensor(indices, dtype=torch.long, device=self.images.device)
        images, labels = self.images.index_select(0, index), self.labels.index_select(0, index)
        if device is not None:
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        return self.transform(images), labels

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        images, labels = self.batch(indices)
        return list(zip(images.unbind(0), labels.unbind(0)))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.__getitems__([int(index)])[0]


def subset_indices(labels: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """A deterministic, class-stratified subset of `size` indices (sorted).

    Take a permutation of all indices seeded with `seed`; rank each index
    among the indices of its class in that order; keep the `size` indices
    with the smallest rank (ties broken by permutation order). So every class
    contributes `size / num_classes` images (up to one), and a smaller
    subset is contained in a larger one with the same seed."""
    n = len(labels)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= n:
        raise ValueError(f"subset must be an integer between 1 and {n} (the split's size), got {size!r}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    permuted = labels[perm]
    by_class = torch.sort(permuted, stable=True).indices  # positions in the permutation, grouped by class
    counts = torch.bincount(permuted)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty(n, dtype=torch.long)
    rank[by_class] = torch.arange(n) - starts.repeat_interleave(counts)
    order = torch.argsort(rank * n + torch.arange(n))
    return torch.sort(perm[order[:size]]).values


def _read(name: str, root: Path | None, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if name == "synthetic":
        return make_synthetic(train)
    if name == "fashion-mnist":
        if root is None:
            return read_fashion_mnist(FASHION_MNIST_SYSTEM_ROOT, train)
        root = root / "fashion-mnist" if (root / "fashion-mnist").is_dir() else root
        return read_fashion_mnist(root, train)
    root = default_data_root() if root is None else root
    if name == "cifar10":
        return read_cifar(root, 10, train)
    if name == "cifar100":
        return read_cifar(root, 100, train)
    return read_tiny_imagenet(root, train)


def load_dataset(name: str, *, root: str | Path | None = None, train: bool = True, augment: bool = False,
                 cutout: int = 0, subset: int | None = None, seed: int = 0) -> ImageDataset:
    """Load a split of a dataset into memory (see the module docstring for formats and locations).

    `augment` and `cutout` apply to training splits only (Appendix A.1:
    test images are only normalised). `subset` keeps a seeded, stratified
    subset of that many images ([`subset_indices`][cellnas_edu.data.subset_indices])."""
    info = dataset_info(name)
    if not train and (augment or cutout):
        raise ValueError("augmentation and cutout apply to training sets only (Appendix A.1)")
    if isinstance(cutout, bool) or not isinstance(cutout, int) or cutout < 0:
        raise ValueError(f"cutout must be a non-negative integer length, got {cutout!r}")
    images, labels = _read(name, None if root is None else Path(root).expanduser(), train)
    if subset is not None:
        keep = subset_indices(labels, subset, seed)
        images, labels = images[keep], labels[keep]
    return ImageDataset(images, labels, info, augment=augment, cutout=cutout)
