"""NATS-Bench's own topology-space archive, read without NATS-Bench and without running its pickles.

The shipped table ([`cellnas_edu.nb201.data`][]) holds final accuracies only. The per-epoch curves of every
trained cell are in NATS-Bench's "simple" archive, a folder that NATS-Bench's release distributes as
``NATS-tss-v1_0-3ffb9-simple.tar``:

```text
NATS-tss-v1_0-3ffb9-simple/
    meta.pickle.pbz2        {'meta_archs': [arch string of index 0, 1, ..., 15624], ...}
    000000.pickle.pbz2      one file per architecture (or 0.pickle.pbz2): {'12': ArchResults, '200': ArchResults}
    ...
```

Every file is a bz2-compressed pickle of plain dicts (NATS-Bench's ``state_dict`` of its classes). An
``ArchResults`` is ``{'arch_index', 'arch_str', 'dataset_seed': {dataset: [seeds]}, 'all_results': {(dataset,
seed): ResultsCount}}``, and a ``ResultsCount`` is one training run: ``epochs``, ``seed``, ``train_losses`` and
``train_acc1es`` (epoch 0, 1, ... -> value), ``eval_names`` and ``eval_losses`` / ``eval_acc1es`` keyed
``'<eval name>@<epoch>'``. The datasets are ``cifar10-valid`` (trained on CIFAR-10's training half),
``cifar10`` (on train + valid), ``cifar100`` and ``ImageNet16-120``; the test set is ``ori-test`` for the two
CIFAR-10 datasets and ``x-test`` for the others (`TEST_SET`).

**The ``hp`` trap.** ``hp='12'`` and ``hp='200'`` are *two separate training runs*, each with its own cosine
learning-rate schedule annealed to zero over its own length. The 12-epoch results are **not** the first 12
epochs of the 200-epoch run: after 12 epochs of the 200-epoch schedule the learning rate is still almost at its
peak, while the 12-epoch run has finished annealing. Reading "accuracy after k epochs" off the 200-epoch curves
(Chapter 8's early selection, [`early_selection`][cellnas_edu.nb201.schedules.early_selection]) and comparing
the two schedules (Section 4.1's convergence question, [`schedules`][cellnas_edu.nb201.schedules.schedules]) are
different experiments.

Reading is safe and bounded: every file goes through the package's restricted unpickler
([`cellnas_edu.safe_pickle`][]), files above `MAX_FILE_BYTES` (compressed) or `MAX_PICKLE_BYTES`
(decompressed) are refused before they are read or inflated further, and every field is checked as it is
read. Any problem is one [`UserError`][cellnas_edu.errors.UserError] line naming the file and the field."""

from __future__ import annotations

import bz2
import math
import numbers
import pickle
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError, first_line
from ..safe_pickle import restricted_loads
from .cell import NB201Cell

ARCHIVE_NAME = "NATS-tss-v1_0-3ffb9-simple"
"""The folder of NATS-Bench's topology archive, one file per architecture (version 1.0)."""

ARCHIVE_SOURCE = f"download {ARCHIVE_NAME}.tar from NATS-Bench's release (github.com/D-X-Y/NATS-Bench), extract it"
"""Where the archive comes from (the package never downloads it)."""

SUFFIX = ".pickle.pbz2"
META_FILE = "meta" + SUFFIX
HPS = ("12", "200")
"""The two training schedules of NATS-Bench's topology space, as its files spell them."""

DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
TEST_SET = {"cifar10-valid": "ori-test", "cifar10": "ori-test", "cifar100": "x-test", "ImageNet16-120": "x-test"}
"""The evaluation set that is each dataset's test set (NATS-Bench's ``get_more_info``)."""

MAX_FILE_BYTES = 64 * 2**20
"""Compressed files above this are refused unread (the real ones are far smaller)."""

MAX_PICKLE_BYTES = 512 * 2**20
"""Decompression stops and the file is refused once it inflates beyond this (a bz2 bomb)."""

_INDEX_FILE = re.compile(r"([0-9]+)" + re.escape(SUFFIX))


class _Bad(Exception):
    """A malformed field: the message starts with the field's path."""


# -- the data ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Curve:
    """Loss and top-1 accuracy (%) after each epoch: index 0 is after the first epoch."""

    loss: tuple[float, ...]
    accuracy: tuple[float, ...]


@dataclass(frozen=True)
class Run:
    """One training run (one ``ResultsCount``): a dataset, a seed, and its per-epoch curves."""

    dataset: str
    seed: int
    epochs: int
    train: Curve
    evals: tuple[tuple[str, Curve], ...]
    """``(eval name, curve)`` for each evaluation set recorded at every epoch, in the file's order."""
    partial: tuple[str, ...] = ()
    """Evaluation sets other than the test set that the file records at some epochs only (left out of `evals`);
    the test set must be complete."""

    def eval(self, name: str) -> Curve:
        """The curve on the evaluation set `name` (``ori-test``, ``x-valid``, ``x-test``)."""
        for key, curve in self.evals:
            if key == name:
                return curve
        raise UserError(f"{self.dataset} seed {self.seed} has no evaluation set {name!r} "
                        f"(it has {', '.join(k for k, _ in self.evals) or 'none'})")

    @property
    def test(self) -> Curve:
        """The curve on the dataset's test set (`TEST_SET`)."""
        return self.eval(TEST_SET[self.dataset])


@dataclass(frozen=True)
class ArchResult:
    """One architecture's runs under one schedule `hp` (``'12'`` or ``'200'``), ordered by dataset and seed."""

    index: int
    arch: str
    hp: str
    runs: tuple[Run, ...]

    @property
    def cell(self) -> NB201Cell:
        """The architecture as a validated cell."""
        return NB201Cell.from_arch_string(self.arch)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The datasets this architecture has runs on, in `DATASETS` order."""
        return tuple(d for d in DATASETS if any(r.dataset == d for r in self.runs))

    def runs_on(self, dataset: str) -> tuple[Run, ...]:
        """The runs (one a seed) on `dataset`; `UserError` for an unknown dataset or one without runs."""
        check_dataset(dataset)
        runs = tuple(r for r in self.runs if r.dataset == dataset)
        if not runs:
            raise UserError(f"architecture {self.index} has no {dataset} runs at hp={self.hp} "
                            f"(it has {', '.join(self.datasets) or 'none'})")
        return runs

    def test_accuracy(self, dataset: str, epoch: int | None = None) -> float:
        """Test accuracy after `epoch` (1-based; default: the last), averaged over the seeds."""
        runs = self.runs_on(dataset)
        epochs = runs[0].epochs
        epoch = epochs if epoch is None else epoch
        if not 1 <= epoch <= epochs:
            raise UserError(f"epoch {epoch} is outside 1..{epochs} (hp={self.hp})")
        return math.fsum(r.test.accuracy[epoch - 1] for r in runs) / len(runs)


def check_dataset(dataset: str) -> str:
    """`dataset` if NATS-Bench has it, else a `UserError` listing the four."""
    if dataset not in DATASETS:
        raise UserError(f"unknown NATS-Bench dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    return dataset


def check_hp(hp: str) -> str:
    """`hp` if it is ``'12'`` or ``'200'``, else a `UserError`."""
    if hp not in HPS:
        raise UserError(f"unknown NATS-Bench schedule hp={hp!r}; the topology space has hp '12' and '200'")
    return hp


# -- bounded, restricted reading ------------------------------------------------------------------------------------
def _inflate(raw: bytes, limit: int) -> bytes:
    """All bz2 streams of `raw`, refusing output beyond `limit` bytes as it is produced."""
    out, rest = [], raw
    total = 0
    while rest:
        decompressor = bz2.BZ2Decompressor()
        chunk = decompressor.decompress(rest, max_length=limit - total + 1)
        total += len(chunk)
        out.append(chunk)
        if total > limit:
            raise _Bad(f"inflates beyond {limit:,} bytes; refused")
        if not decompressor.eof:
            raise _Bad("is a truncated bz2 stream")
        rest = decompressor.unused_data
    return b"".join(out)


def load_pickle_pbz2(path: Path, max_file_bytes: int = MAX_FILE_BYTES, max_pickle_bytes: int = MAX_PICKLE_BYTES):
    """The object of one ``.pickle.pbz2`` file, bounded and through the restricted unpickler; `UserError` naming
    the file for a missing, oversized, corrupt or hostile file."""
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            raise UserError(f"{path} is {size:,} bytes, more than the {max_file_bytes:,} a NATS-Bench file may have; "
                            "refused")
        with open(path, "rb") as handle:
            raw = handle.read(max_file_bytes + 1)
    except FileNotFoundError:
        raise UserError(f"{path} is missing: {ARCHIVE_SOURCE} again") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a NATS-Bench file") from None
    if len(raw) > max_file_bytes:  # it grew after stat
        raise UserError(f"{path} is more than the {max_file_bytes:,} bytes a NATS-Bench file may have; refused")
    if not raw:
        raise UserError(f"{path} is empty, not a bz2-compressed pickle: {ARCHIVE_SOURCE} again")
    try:
        data = _inflate(raw, max_pickle_bytes)
    except _Bad as exc:
        raise UserError(f"{path} {exc}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise UserError(f"{path} is not bz2-compressed or is corrupt ({first_line(exc)})") from None
    try:
        return restricted_loads(data)
    except pickle.UnpicklingError as exc:
        hint = " (the full archive holds network weights; use the simple one)" if "torch" in str(exc) else ""
        raise UserError(f"{path} is not a plain-data pickle: {first_line(exc)}{hint}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, RecursionError, MemoryError,
            OverflowError, struct.error, ImportError) as exc:
        raise UserError(f"{path} is a corrupt pickle ({type(exc).__name__}: {first_line(exc)})") from None


# -- checked fields -------------------------------------------------------------------------------------------------
def _dict(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Bad(f"{where} is a {type(value).__name__}, expected a dict")
    return value


def _get(mapping: dict, key, where: str):
    if key not in mapping:
        raise _Bad(f"{where} has no {key!r} entry")
    return mapping[key]


def _int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _Bad(f"{where} is {type(value).__name__} {value!r:.40}, expected an integer")
    return int(value)


def _real(value, where: str) -> float:
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(value, numbers.Real):
        raise _Bad(f"{where} is {type(value).__name__} {value!r:.40}, expected a number")
    return float(value)


def _per_epoch(value, epochs: int, where: str, accuracy: bool) -> tuple[float, ...]:
    """A per-epoch series: a dict ``{0: v, ..., epochs-1: v}`` (NATS-Bench's) or a list of `epochs` values."""
    if isinstance(value, dict):
        if set(value) != set(range(epochs)):
            odd = sorted(map(repr, set(value) ^ set(range(epochs))))
            raise _Bad(f"{where} has {len(value)} epochs, expected 0..{epochs - 1} (differ in {', '.join(odd[:3])})")
        items = [value[i] for i in range(epochs)]
    elif isinstance(value, (list, tuple)):
        if len(value) != epochs:
            raise _Bad(f"{where} has {len(value)} values, expected {epochs} (one an epoch)")
        items = list(value)
    else:
        raise _Bad(f"{where} is a {type(value).__name__}, expected one value per epoch")
    series = tuple(_real(v, f"{where}[{i}]") for i, v in enumerate(items))
    if accuracy:
        for i, v in enumerate(series):
            if not 0.0 <= v <= 100.0:
                raise _Bad(f"{where}[{i}] is {v}, expected an accuracy in 0..100 (%)")
    return series


def _run(state, dataset: str, seed: int, hp: str, where: str) -> Run:
    state = _dict(state, where)
    epochs = _int(_get(state, "epochs", where), f"{where}['epochs']")
    if epochs != int(hp):
        raise _Bad(f"{where}['epochs'] is {epochs}, but hp={hp!r} runs train for {hp} epochs")
    file_seed = _int(_get(state, "seed", where), f"{where}['seed']")
    if file_seed != seed:
        raise _Bad(f"{where}['seed'] is {file_seed}, but the run is filed under seed {seed}")
    train = Curve(_per_epoch(_get(state, "train_losses", where), epochs, f"{where}['train_losses']", False),
                  _per_epoch(_get(state, "train_acc1es", where), epochs, f"{where}['train_acc1es']", True))
    names = _get(state, "eval_names", where)
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise _Bad(f"{where}['eval_names'] is not a list of names")
    if TEST_SET[dataset] not in names:
        raise _Bad(f"{where}['eval_names'] lacks the test set {TEST_SET[dataset]!r} of {dataset}")
    accs = _dict(_get(state, "eval_acc1es", where), f"{where}['eval_acc1es']")
    losses = _dict(_get(state, "eval_losses", where), f"{where}['eval_losses']")
    evals, partial = [], []
    for name in names:
        keys = [f"{name}@{i}" for i in range(epochs)]
        if name != TEST_SET[dataset] and not all(k in accs and k in losses for k in keys):
            partial.append(name)  # a validation set recorded at some epochs only: left out, and said so
            continue
        loss = [_get(losses, f"{name}@{i}", f"{where}['eval_losses']") for i in range(epochs)]
        acc = [_get(accs, f"{name}@{i}", f"{where}['eval_acc1es']") for i in range(epochs)]
        evals.append((name, Curve(_per_epoch(loss, epochs, f"{where}['eval_losses'][{name}@*]", False),
                                  _per_epoch(acc, epochs, f"{where}['eval_acc1es'][{name}@*]", True))))
    return Run(dataset, seed, epochs, train, tuple(evals), tuple(partial))


def _arch_result(state, index: int, arch: str, hp: str) -> ArchResult:
    where = f"[{hp!r}]"
    state = _dict(state, where)
    file_index = _int(_get(state, "arch_index", where), f"{where}['arch_index']")
    if file_index != index:
        raise _Bad(f"{where}['arch_index'] is {file_index}, but the file is architecture {index}")
    file_arch = _get(state, "arch_str", where)
    if file_arch != arch:
        raise _Bad(f"{where}['arch_str'] is {file_arch!r:.80}, but the meta file says {arch}")
    seeds = _dict(_get(state, "dataset_seed", where), f"{where}['dataset_seed']")
    results = _dict(_get(state, "all_results", where), f"{where}['all_results']")
    expected = set()
    for dataset, dataset_seeds in seeds.items():
        if dataset not in DATASETS:
            raise _Bad(f"{where}['dataset_seed'] names unknown dataset {dataset!r:.40} "
                       f"(NATS-Bench has {', '.join(DATASETS)})")
        if not isinstance(dataset_seeds, (list, tuple)):
            raise _Bad(f"{where}['dataset_seed'][{dataset!r}] is not a list of seeds")
        expected |= {(dataset, _int(s, f"{where}['dataset_seed'][{dataset!r}]")) for s in dataset_seeds}
    if set(results) != expected:
        odd = sorted(map(repr, set(results) ^ expected))
        raise _Bad(f"{where}['all_results'] keys do not match ['dataset_seed'] (differ in {', '.join(odd[:3])})")
    order = sorted(expected, key=lambda k: (DATASETS.index(k[0]), k[1]))
    runs = tuple(_run(results[key], key[0], key[1], hp, f"{where}['all_results'][{key!r}]") for key in order)
    return ArchResult(index, arch, hp, runs)


# -- the archive ----------------------------------------------------------------------------------------------------
class NATSArchive:
    """An opened ``NATS-tss-v1_0-3ffb9-simple/`` folder: the meta file read and checked, the per-architecture files
    read on demand with [`NATSArchive.read`][cellnas_edu.nb201.natsbench.NATSArchive.read]."""

    def __init__(self, folder: Path | str, max_file_bytes: int = MAX_FILE_BYTES,
                 max_pickle_bytes: int = MAX_PICKLE_BYTES):
        self.folder = find_archive(Path(folder))
        self.max_file_bytes, self.max_pickle_bytes = max_file_bytes, max_pickle_bytes
        meta_path = self.folder / META_FILE
        meta = load_pickle_pbz2(meta_path, max_file_bytes, max_pickle_bytes)
        try:
            archs = _get(_dict(meta, "the meta file"), "meta_archs", "the meta file")
            if not isinstance(archs, (list, tuple)) or not archs:
                raise _Bad("['meta_archs'] is not a non-empty list of architecture strings")
            for i, arch in enumerate(archs):
                try:
                    NB201Cell.from_arch_string(arch)
                except ValueError as exc:
                    raise _Bad(f"['meta_archs'][{i}] is not a NAS-Bench-201 cell ({first_line(exc)})") from None
            if len(set(archs)) != len(archs):
                raise _Bad("['meta_archs'] lists an architecture twice")
        except _Bad as exc:
            raise UserError(f"{meta_path}: {exc}") from None
        self.archs: tuple[str, ...] = tuple(archs)

    def path_of(self, index: int) -> Path:
        """The file of architecture `index` (``000123.pickle.pbz2`` or ``123.pickle.pbz2``, NATS-Bench's order)."""
        if not 0 <= index < len(self.archs):
            raise UserError(f"architecture index {index} is outside 0..{len(self.archs) - 1} of {self.folder}")
        padded, plain = self.folder / f"{index:06d}{SUFFIX}", self.folder / f"{index}{SUFFIX}"
        for path in (padded, plain):
            if path.exists():
                return path
        raise UserError(f"{padded} is missing (and so is {plain.name}): {ARCHIVE_SOURCE} again")

    def cell(self, index: int) -> NB201Cell:
        """The cell of architecture `index`, from the meta file (no per-architecture file is read)."""
        if not 0 <= index < len(self.archs):
            raise UserError(f"architecture index {index} is outside 0..{len(self.archs) - 1} of {self.folder}")
        return NB201Cell.from_arch_string(self.archs[index])

    def indexes(self) -> tuple[int, ...]:
        """The architectures that have a file in the folder, in index order."""
        found = set()
        for path in self.folder.iterdir():
            match = _INDEX_FILE.fullmatch(path.name)
            if match is None:
                continue
            index = int(match.group(1))
            if index >= len(self.archs):
                raise UserError(f"{path} is architecture {index}, but {META_FILE} lists only {len(self.archs)}")
            found.add(index)
        return tuple(sorted(found))

    def read(self, index: int, hps: tuple[str, ...] = HPS) -> dict[str, ArchResult]:
        """Architecture `index` under each schedule of `hps`, read once and checked."""
        for hp in hps:
            check_hp(hp)
        path = self.path_of(index)
        state = load_pickle_pbz2(path, self.max_file_bytes, self.max_pickle_bytes)
        try:
            state = _dict(state, "the file")
            out = {}
            for hp in hps:
                if hp not in state:
                    held = ", ".join(repr(k)[:20] for k in state) or "none"
                    raise _Bad(f"has no hp {hp!r} (it has {held})")
                out[hp] = _arch_result(state[hp], index, self.archs[index], hp)
        except _Bad as exc:
            raise UserError(f"{path}: {exc}") from None
        return out

    def __len__(self) -> int:
        return len(self.archs)


def find_archive(folder: Path) -> Path:
    """`folder` if it holds ``meta.pickle.pbz2`` (or per-architecture files), else ``folder/NATS-tss-v1_0-3ffb9-simple``
    if that exists; `UserError` saying what is needed otherwise."""
    need = f"needs {ARCHIVE_NAME}/ ({META_FILE}, one <index>{SUFFIX} per architecture): {ARCHIVE_SOURCE}"
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; {need}")
    for candidate in (folder, folder / ARCHIVE_NAME):
        if (candidate / META_FILE).exists():
            return candidate
    if (folder / ARCHIVE_NAME).is_dir():
        folder = folder / ARCHIVE_NAME
    if any(_INDEX_FILE.fullmatch(p.name) for p in folder.iterdir()):
        raise UserError(f"{folder / META_FILE} is missing; {need}")
    raise UserError(f"{folder} holds no NATS-Bench topology archive; {need}")


def open_archive(folder: Path | str | None) -> NATSArchive:
    """[`NATSArchive`][cellnas_edu.nb201.natsbench.NATSArchive] of `folder`; `None` gives the one-line `UserError`
    saying what is needed (the commands' ``--nats-dir``)."""
    if folder is None:
        raise UserError(f"--nats-dir DIR is needed: the folder {ARCHIVE_NAME}/ ({META_FILE}, one <index>{SUFFIX} per "
                        f"architecture); {ARCHIVE_SOURCE} and pass it")
    return NATSArchive(folder)


__all__ = ["ARCHIVE_NAME", "ArchResult", "Curve", "DATASETS", "HPS", "NATSArchive", "Run", "TEST_SET",
           "check_dataset", "check_hp", "find_archive", "load_pickle_pbz2", "open_archive"]
