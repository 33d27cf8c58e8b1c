"""Readers for the on-disk formats of the datasets (Appendix A.1), decoded once into `uint8` tensors.

Each reader returns `(images, labels)`: `images` a `uint8` tensor
`(N, C, H, W)`, `labels` an `int64` tensor `(N,)`. A missing dataset
raises [`UserError`][cellnas_edu.errors.UserError] with one line naming the folder
that was searched and how to obtain the data; a corrupt file raises one line
naming the file. Nothing is ever downloaded.

Formats:

* CIFAR-10 / CIFAR-100: the "python version" archives of
  https://www.cs.toronto.edu/~kriz/cifar.html, extracted: pickled dicts with
  `data` (`N x 3072` uint8, channel-major 32x32) and `labels` /
  `fine_labels`, in `cifar-10-batches-py/data_batch_1..5, test_batch` and
  `cifar-100-python/train, test` (torchvision's layout).
* Tiny-ImageNet-200: `tiny-imagenet-200/wnids.txt` (the 200 classes, label =
  line index), `train/<wnid>/images/*.JPEG` and `val/images/*.JPEG` with
  labels in `val/val_annotations.txt`. The paper uses the validation set as
  its test set (Appendix A.1, footnote 5). Grayscale JPEGs become RGB.
* Fashion-MNIST: the idx files `train-images-idx3-ubyte`,
  `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
  `t10k-labels-idx1-ubyte`, gzipped (`.gz`) or raw."""

from __future__ import annotations

import gzip
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..io import MAX_DATA_BYTES, read_bounded_bytes, read_bounded_text
from ..safe_pickle import RestrictedUnpickler, restricted_loads

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
FASHION_MNIST_URL = "https://github.com/zalandoresearch/fashion-mnist"


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name if empty), for one-line errors."""
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _find_folder(root: Path, folder: str, marker: str) -> Path | None:
    """`root/folder` if it holds `marker`, else `root` itself if it does (the user pointed inside)."""
    for candidate in (root / folder, root):
        if (candidate / marker).exists():
            return candidate
    return None


# -- CIFAR ----------------------------------------------------------------------------------------------------------
CifarUnpickler = RestrictedUnpickler
"""A CIFAR batch is read with the package's one restricted unpickler
([`cellnas_edu.safe_pickle`][]): dicts, lists, bytes, strings, numbers and NumPy arrays, no other global."""


def restricted_pickle_load(data: bytes):
    """Unpickle `data` with [`RestrictedUnpickler`][cellnas_edu.safe_pickle.RestrictedUnpickler]
    (`encoding="bytes"`, as for Python 2 pickles)."""
    return restricted_loads(data, encoding="bytes")


def _checked_uint8(value, what: str, shape_tail: tuple[int, ...] | None = None) -> np.ndarray:
    """`value` as a uint8 array after checking kind and range (no silent wrap-around of 300 to 44)."""
    array = np.asarray(value)
    if array.size == 0 and array.dtype.kind in "iuf":  # an empty list reads as float64
        return array.astype(np.uint8)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{what} has dtype {array.dtype}, expected integers 0..255")
    if array.size and (int(array.min()) < 0 or int(array.max()) > 255):
        raise ValueError(f"{what} has values {int(array.min())}..{int(array.max())}, expected 0..255")
    return array.astype(np.uint8)


def _checked_labels(value, num_classes: int) -> np.ndarray:
    labels = np.asarray(value)
    if labels.size == 0 and labels.dtype.kind == "f":  # an empty list reads as float64
        labels = labels.astype(np.int64)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"labels are {labels.dtype} of shape {labels.shape}, expected a list of integers")
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"labels {int(labels.min())}..{int(labels.max())} outside 0..{num_classes - 1}")
    return labels.astype(np.int64)


def _read_cifar_pickle(path: Path, label_key: str, num_classes: int = 100) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = restricted_pickle_load(read_bounded_bytes(path, MAX_DATA_BYTES, "CIFAR batch"))
        if not isinstance(batch, dict):
            raise ValueError(f"holds a {type(batch).__name__}, expected a dict")
        batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
        data = _checked_uint8(batch["data"], "data")
        labels = _checked_labels(batch[label_key], num_classes)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
            raise ValueError(f"data has shape {data.shape} and {len(labels)} labels, expected (N, 3072) and N")
        if len(data) == 0:
            raise ValueError("no images (zero-size data)")
    except FileNotFoundError:
        raise UserError(f"{path} is missing: extract the CIFAR archive from {CIFAR_URL} again") from None
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, KeyError, TypeError, ValueError,
            OverflowError, RecursionError, MemoryError, IndexError, struct.error) as exc:
        if isinstance(exc, KeyError):
            reason = f"no '{exc.args[0]}' entry"
        else:
            reason = _first_line(exc)
        raise UserError(f"{path} is corrupt or not a CIFAR python batch ({reason}): "
                        f"extract the archive from {CIFAR_URL} again") from None
    return data, labels


def read_cifar(root: Path, num_classes: int, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 (`num_classes=10`) or CIFAR-100 (`100`) from torchvision's extracted layout."""
    if num_classes == 10:
        folder, files = "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        name, archive, label_key = "CIFAR-10", "cifar-10-python.tar.gz", "labels"
    elif num_classes == 100:
        folder, files = "cifar-100-python", ["train" if train else "test"]
        name, archive, label_key = "CIFAR-100", "cifar-100-python.tar.gz", "fine_labels"
    else:
        raise ValueError(f"CIFAR has 10 or 100 classes, not {num_classes}")
    base = _find_folder(root, folder, files[0])
    if base is None:
        raise UserError(f"{name} not found in {root / folder}: download {archive} from {CIFAR_URL} and extract it "
                        f"in {root}, or pass --data-root")
    parts = [_read_cifar_pickle(base / f, label_key, num_classes) for f in files]
    data = np.concatenate([p[0] for p in parts]).reshape(-1, 3, 32, 32)
    labels = np.concatenate([p[1] for p in parts])
    if labels.min() < 0 or labels.max() >= num_classes:
        raise UserError(f"{base} has labels outside 0..{num_classes - 1}: extract {archive} from {CIFAR_URL} again")
    return torch.from_numpy(np.ascontiguousarray(data)), torch.from_numpy(labels)


# -- Tiny-ImageNet-200 ----------------------------------------------------------------------------------------------
def _decode_jpegs(paths: list[Path], size: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                if image.size != (size, size):  # checked before decoding: a decompression bomb is never decoded
                    raise UserError(f"{path} is {image.size[0]}x{image.size[1]} pixels, expected {size}x{size}")
                pixels = np.asarray(image.convert("RGB"))
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
            raise UserError(f"{path} is not a readable image ({_first_line(exc)})") from None
        if pixels.shape != (size, size, 3):
            raise UserError(f"{path} is {pixels.shape[1]}x{pixels.shape[0]} pixels, expected {size}x{size}")
        out[i] = pixels
    return out


def read_tiny_imagenet(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Tiny-ImageNet-200 training set, or its validation set (the paper's test set, footnote 5)."""
    base = _find_folder(root, "tiny-imagenet-200", "wnids.txt")
    if base is None:
        raise UserError(f"Tiny-ImageNet-200 not found in {root / 'tiny-imagenet-200'}: download tiny-imagenet-200.zip "
                        f"from {TINY_IMAGENET_URL} and unzip it in {root}, or pass --data-root")
    try:
        wnids = [line.strip() for line in read_bounded_text(base / "wnids.txt").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{base / 'wnids.txt'} is unreadable ({_first_line(exc)})") from None
    if not wnids:
        raise UserError(f"{base / 'wnids.txt'} lists no classes: unzip tiny-imagenet-200.zip from "
                        f"{TINY_IMAGENET_URL} again")
    index = {wnid: i for i, wnid in enumerate(wnids)}
    paths: list[Path] = []
    labels: list[int] = []
    if train:
        for wnid in wnids:
            images = sorted((base / "train" / wnid / "images").glob("*.JPEG"))
            if not images:
                raise UserError(f"{base / 'train' / wnid / 'images'} has no .JPEG images: unzip tiny-imagenet-200.zip "
                                f"from {TINY_IMAGENET_URL} again")
            paths += images
            labels += [index[wnid]] * len(images)
    else:
        annotations = base / "val" / "val_annotations.txt"
        if not annotations.exists():
            raise UserError(f"{annotations} is missing: unzip tiny-imagenet-200.zip from {TINY_IMAGENET_URL} again")
        try:
            annotation_lines = read_bounded_text(annotations).splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{annotations} is unreadable ({_first_line(exc)})") from None
        for number, line in enumerate(annotation_lines, start=1):
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 2 or fields[1] not in index:
                raise UserError(f"{annotations} line {number} is not '<file>\\t<wnid>...' with a wnid of wnids.txt")
            paths.append(base / "val" / "images" / fields[0])
            labels.append(index[fields[1]])
    if not paths:
        raise UserError(f"{base / 'val' / 'val_annotations.txt'} lists no images: unzip tiny-imagenet-200.zip "
                        f"from {TINY_IMAGENET_URL} again")
    pixels = _decode_jpegs(paths, 64)
    return (torch.from_numpy(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))),
            torch.tensor(labels, dtype=torch.int64))


# -- Fashion-MNIST --------------------------------------------------------------------------------------------------
def _read_idx(path: Path, expected_dims: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
        zero, dtype_code, dims = struct.unpack(">HBB", raw[:4])
        if zero != 0 or dtype_code != 0x08 or dims != expected_dims:
            raise ValueError(f"header says type 0x{dtype_code:02x} with {dims} dimensions, "
                             f"expected unsigned bytes with {expected_dims}")
        shape = struct.unpack(f">{dims}I", raw[4: 4 + 4 * dims])
        data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
        if data.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{data.size} bytes of data for shape {shape}")
        if data.size == 0:
            raise ValueError(f"no data (shape {shape})")
    except (OSError, EOFError, struct.error, ValueError, zlib.error) as exc:
        raise UserError(f"{path} is corrupt or not an idx file ({_first_line(exc)})") from None
    return data.reshape(shape)


def read_fashion_mnist(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST from its idx files (Debian's `dataset-fashion-mnist` installs them gzipped)."""
    prefix = "train" if train else "t10k"
    found = {}
    for kind, dims in (("images-idx3-ubyte", 3), ("labels-idx1-ubyte", 1)):
        for candidate in (root / f"{prefix}-{kind}.gz", root / f"{prefix}-{kind}"):
            if candidate.exists():
                found[kind] = _read_idx(candidate, dims)
                break
        else:
            raise UserError(f"Fashion-MNIST not found in {root} (no {prefix}-{kind}[.gz]): install the Debian package "
                            f"dataset-fashion-mnist or download the idx files from {FASHION_MNIST_URL}, "
                            "or pass --data-root")
    images, labels = found["images-idx3-ubyte"], found["labels-idx1-ubyte"]
    if len(images) != len(labels) or images.shape[1:] != (28, 28):
        raise UserError(f"Fashion-MNIST in {root}: {len(images)} images of {images.shape[1:]} and {len(labels)} "
                        "labels, expected N 28x28 images and N labels")
    if labels.max() > 9:
        raise UserError(f"Fashion-MNIST in {root}: label {labels.max()} outside 0..9")
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))
