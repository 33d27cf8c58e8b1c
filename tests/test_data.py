"""Datasets and augmentation (cellnas_edu.data; Appendix A.1, A.4), on tiny files written in each real format."""

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from cellnas_edu.data import (
    ImageDataset,
    dataset_info,
    default_data_root,
    load_dataset,
    subset_indices,
)
from cellnas_edu.data.augment import cutout_mask, normalize, random_crop, random_flip, train_transform
from cellnas_edu.errors import UserError

torch.set_num_threads(1)
FASHION = Path("/usr/share/datasets/fashion-mnist")


# -- writers for the on-disk formats ---------------------------------------------------------------------------------
def pixels(n, seed, channels=3, size=32):
    return np.random.default_rng(seed).integers(0, 256, size=(n, channels, size, size), dtype=np.uint8)


def write_cifar10(root: Path, per_batch=4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    expected = {}
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        data = pixels(per_batch, k)
        labels = [(k + i) % 10 for i in range(per_batch)]
        with open(folder / name, "wb") as handle:  # python-2 style bytes keys, as the real archive
            pickle.dump({b"data": data.reshape(per_batch, -1), b"labels": labels, b"batch_label": b"x"}, handle)
        expected[name] = (data, labels)
    return expected


def write_cifar100(root: Path):
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    expected = {}
    for k, (name, n) in enumerate((("train", 6), ("test", 3))):
        data = pixels(n, 10 + k)
        labels = [(7 * i + 50 * k) % 100 for i in range(n)]
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": data.reshape(n, -1), "fine_labels": labels, "coarse_labels": [0] * n}, handle)
        expected[name] = (data, labels)
    return expected


def write_tiny_imagenet(root: Path):
    from PIL import Image

    base = root / "tiny-imagenet-200"
    wnids = ["n01443537", "n01629819", "n01641577"]
    (base / "val" / "images").mkdir(parents=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    for wnid, colour in zip(wnids, colours):
        images = base / "train" / wnid / "images"
        images.mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (64, 64), colour).save(images / f"{wnid}_{i}.JPEG", quality=95)
    Image.new("L", (64, 64), 128).save(base / "val" / "images" / "val_0.JPEG")  # a grayscale JPEG, as in the real set
    Image.new("RGB", (64, 64), colours[0]).save(base / "val" / "images" / "val_1.JPEG", quality=95)
    (base / "val" / "val_annotations.txt").write_text(
        f"val_0.JPEG\t{wnids[2]}\t0\t0\t63\t63\nval_1.JPEG\t{wnids[0]}\t1\t2\t60\t61\n")
    return wnids


def write_idx(path: Path, array: np.ndarray, gz=True):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def write_fashion(root: Path, gz=True):
    suffix = ".gz" if gz else ""
    root.mkdir(parents=True, exist_ok=True)
    train = pixels(20, 1, channels=1, size=28)[:, 0]
    test = pixels(10, 2, channels=1, size=28)[:, 0]
    write_idx(root / f"train-images-idx3-ubyte{suffix}", train, gz)
    write_idx(root / f"train-labels-idx1-ubyte{suffix}", np.arange(20) % 10, gz)
    write_idx(root / f"t10k-images-idx3-ubyte{suffix}", test, gz)
    write_idx(root / f"t10k-labels-idx1-ubyte{suffix}", np.arange(10)[::-1], gz)
    return train, test


def unnormalize(x: torch.Tensor, name: str) -> torch.Tensor:
    info = dataset_info(name)
    mean = torch.tensor(info.mean).view(-1, 1, 1)
    std = torch.tensor(info.std).view(-1, 1, 1)
    return (x * std + mean) * 255


# -- loading ---------------------------------------------------------------------------------------------------------
def test_cifar10_pickles(tmp_path):
    expected = write_cifar10(tmp_path)
    train = load_dataset("cifar10", root=tmp_path)
    assert len(train) == 20 and train.images.shape == (20, 3, 32, 32)
    data, labels = expected["data_batch_3"]
    assert torch.equal(train.images[8:12], torch.from_numpy(data))
    assert train.labels[8:12].tolist() == labels
    test = load_dataset("cifar10", root=tmp_path / "cifar-10-batches-py", train=False)  # pointing inside works too
    x, y = test[1]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and int(y) == expected["test_batch"][1][1]
    assert torch.allclose(unnormalize(x, "cifar10"), torch.from_numpy(expected["test_batch"][0][1]).float(), atol=1e-3)


def test_cifar100_pickles(tmp_path):
    expected = write_cifar100(tmp_path)
    train = load_dataset("cifar100", root=tmp_path)
    test = load_dataset("cifar100", root=tmp_path, train=False)
    assert len(train) == 6 and len(test) == 3
    assert train.labels.tolist() == expected["train"][1] and test.labels.tolist() == expected["test"][1]
    assert torch.equal(test.images, torch.from_numpy(expected["test"][0]))


def test_tiny_imagenet_folders(tmp_path):
    write_tiny_imagenet(tmp_path)
    train = load_dataset("tiny-imagenet-200", root=tmp_path)
    assert train.images.shape == (6, 3, 64, 64) and train.labels.tolist() == [0, 0, 1, 1, 2, 2]
    # JPEG is lossy: the dominant channel of each class colour survives
    assert train.images.float().mean((2, 3)).argmax(1).tolist() == [0, 0, 1, 1, 2, 2]
    val = load_dataset("tiny-imagenet-200", root=tmp_path, train=False)
    assert val.labels.tolist() == [2, 0]
    gray = val.images[0].float()
    assert torch.allclose(gray[0], gray[1]) and abs(gray.mean().item() - 128) < 3  # grayscale became RGB
    assert val[0][0].shape == (3, 64, 64)


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_idx(tmp_path, gz):
    train_pixels, test_pixels = write_fashion(tmp_path / "fashion-mnist", gz)
    train = load_dataset("fashion-mnist", root=tmp_path)
    test = load_dataset("fashion-mnist", root=tmp_path / "fashion-mnist", train=False)
    assert train.images.shape == (20, 1, 28, 28) and test.labels.tolist() == list(range(9, -1, -1))
    assert torch.equal(train.images[:, 0], torch.from_numpy(train_pixels))
    x, _ = test[3]
    assert torch.allclose(unnormalize(x, "fashion-mnist")[0], torch.from_numpy(test_pixels[3]).float(), atol=1e-3)


def test_normalisation_statistics():
    """Appendix A.1: per-channel (x - mean) / std; on the synthetic training set the result has mean 0, std 1."""
    train = load_dataset("synthetic")
    x, _ = train.batch(torch.arange(len(train)))
    assert torch.allclose(x.mean((0, 2, 3)), torch.zeros(3), atol=2e-3)
    assert torch.allclose(x.transpose(0, 1).reshape(3, -1).std(1), torch.ones(3), atol=2e-3)


def test_synthetic_is_deterministic_balanced_and_distinct():
    a, b = load_dataset("synthetic"), load_dataset("synthetic")
    test = load_dataset("synthetic", train=False)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert len(a) == 2000 and len(test) == 500
    assert a.labels.bincount().tolist() == [200] * 10 and test.labels.bincount().tolist() == [50] * 10
    assert not torch.equal(a.images[:500], test.images)
    assert dataset_info("synthetic").image_size == a.images.shape[-1]


@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(), reason="Debian dataset-fashion-mnist")
def test_real_fashion_mnist():
    train, test = load_dataset("fashion-mnist"), load_dataset("fashion-mnist", train=False)
    assert train.images.shape == (60000, 1, 28, 28) and len(test) == 10000
    assert train.labels.bincount().tolist() == [6000] * 10 and test.labels.bincount().tolist() == [1000] * 10
    info = dataset_info("fashion-mnist")
    scaled = train.images.double() / 255
    assert abs(scaled.mean().item() - info.mean[0]) < 1e-3 and abs(scaled.std().item() - info.std[0]) < 1e-3


# -- augmentation ----------------------------------------------------------------------------------------------------
def test_random_crop_is_a_window_of_the_zero_padded_image():
    images = torch.from_numpy(pixels(64, 3)).clamp(min=1)  # no zero pixels, so padding is recognisable
    out = random_crop(images, 4, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    offsets = set()
    for i in range(64):
        matches = [(dy, dx) for dy in range(9) for dx in range(9)
                   if torch.equal(padded[i, :, dy: dy + 32, dx: dx + 32], out[i])]
        assert len(matches) == 1
        offsets.add(matches[0])
    assert len(offsets) > 20  # offsets vary per image


def test_random_flip_is_a_horizontal_flip():
    images = torch.from_numpy(pixels(64, 4))
    out = random_flip(images, torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, i.flip(-1)) for o, i in zip(out, images)]
    kept = [torch.equal(o, i) for o, i in zip(out, images)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 16 < sum(flipped) < 48


def test_cutout_zeroes_a_16x16_square_clipped_at_the_border():
    masks = cutout_mask(500, 32, 32, 16, torch.Generator().manual_seed(0))[:, 0]
    full = 0
    for mask in masks:
        rows = torch.nonzero((mask == 0).any(1)).flatten()
        cols = torch.nonzero((mask == 0).any(0)).flatten()
        height, width = len(rows), len(cols)
        assert 1 <= height <= 16 and 1 <= width <= 16
        assert (mask == 0).sum() == height * width  # a rectangle
        assert rows.max() - rows.min() + 1 == height and cols.max() - cols.min() + 1 == width
        interior = rows.min() > 0 and cols.min() > 0 and rows.max() < 31 and cols.max() < 31
        assert not interior or (height, width) == (16, 16)
        full += (height, width) == (16, 16)
    assert abs(full / 500 - (17 / 32) ** 2) < 0.06  # centre rows and columns 8..24 give a whole square


def test_training_pipeline_and_test_pipeline():
    images = torch.from_numpy(pixels(8, 5)).clamp(min=1)
    info = dataset_info("cifar10")
    plain = train_transform(images, info.mean, info.std, augment=False)
    assert torch.equal(plain, normalize(images, info.mean, info.std))
    torch.manual_seed(0)
    augmented = train_transform(images, info.mean, info.std, augment=True, cutout_length=16)
    assert augmented.shape == plain.shape and (augmented == 0).flatten(1).sum(1).min() >= 3 * 16
    dataset = ImageDataset(images, torch.arange(8), info, augment=True, cutout=16)
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 32, 32) and y.dtype == torch.int64
    test = load_dataset("synthetic", train=False)
    assert torch.equal(test[5][0], test[5][0])  # test sets: normalisation only, deterministic
    with pytest.raises(ValueError, match="training sets only"):
        load_dataset("synthetic", train=False, augment=True)


# -- subsets ---------------------------------------------------------------------------------------------------------
def test_subset_is_deterministic_stratified_and_nested():
    labels = load_dataset("synthetic").labels
    a, b = subset_indices(labels, 100, seed=7), subset_indices(labels, 100, seed=7)
    assert torch.equal(a, b) and len(set(a.tolist())) == 100
    assert not torch.equal(a, subset_indices(labels, 100, seed=8))
    assert labels[a].bincount().tolist() == [10] * 10
    assert set(a.tolist()) <= set(subset_indices(labels, 250, seed=7).tolist())
    small = load_dataset("synthetic", subset=30, seed=7)
    assert torch.equal(small.labels, labels[subset_indices(labels, 30, seed=7)])
    with pytest.raises(ValueError, match="subset"):
        load_dataset("synthetic", subset=0)


# -- errors ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,fragments", [
    ("cifar10", ["CIFAR-10 not found", "cifar-10-batches-py", "cifar-10-python.tar.gz", "--data-root"]),
    ("cifar100", ["CIFAR-100 not found", "cifar-100-python", "cifar-100-python.tar.gz"]),
    ("tiny-imagenet-200", ["Tiny-ImageNet-200 not found", "tiny-imagenet-200.zip"]),
    ("fashion-mnist", ["Fashion-MNIST not found", "dataset-fashion-mnist"]),
])
def test_missing_dataset_is_one_line(tmp_path, name, fragments):
    with pytest.raises(UserError) as info:
        load_dataset(name, root=tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(tmp_path) in message
    for fragment in fragments:
        assert fragment in message


def test_default_root_follows_cellnas_data(tmp_path, monkeypatch):
    monkeypatch.setenv("CELLNAS_DATA", str(tmp_path))
    assert default_data_root() == tmp_path
    write_cifar100(tmp_path)
    assert len(load_dataset("cifar100")) == 6
    monkeypatch.delenv("CELLNAS_DATA")
    assert default_data_root() == Path.home() / ".cache" / "cellnas" / "data"


def test_corrupt_files_are_one_line(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").write_bytes(b"not a pickle")
    with pytest.raises(UserError, match="data_batch_2 is corrupt") as info:
        load_dataset("cifar10", root=tmp_path)
    assert "\n" not in str(info.value)
    write_fashion(tmp_path / "f")
    (tmp_path / "f" / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(UserError, match="t10k-images-idx3-ubyte.gz is corrupt"):
        load_dataset("fashion-mnist", root=tmp_path / "f", train=False)
    write_tiny_imagenet(tmp_path / "t")
    (tmp_path / "t" / "tiny-imagenet-200" / "val" / "images" / "val_1.JPEG").write_bytes(b"xx")
    with pytest.raises(UserError, match="val_1.JPEG is not a readable image"):
        load_dataset("tiny-imagenet-200", root=tmp_path / "t", train=False)
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("mnist")
