"""The shipped extract of NATS-Bench's final results for all 15,625 NAS-Bench-201 cells, loaded offline.

Every cell of the topology space was trained by NATS-Bench with its 200-epoch schedule (``hp='200'``). The package
ships one table with a row per NATS-Bench index (`load_results`): the cell, its final test accuracy on CIFAR-10,
CIFAR-100 and ImageNet16-120, and the ``cifar10-valid`` losses and accuracies (trained on half of CIFAR-10's
training set, averaged over the trained seeds). Per-epoch curves and the 12-epoch schedule are not in it: they are
only in NATS-Bench's own benchmark files (``NATS-tss-v1_0-3ffb9-simple/``), which the package does not ship.

The extract is made by ``scripts/make_nb201_extract.py`` from the two public CSV exports named in `SOURCES`,
value for value (the numbers are kept as the text they were exported as)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from .cell import NB201Cell
from .operations import OPERATIONS

EXTRACT = Path(str(resources.files("cellnas_edu") / "resources" / "nb201_results.csv.gz"))
"""The shipped file (gzip-compressed CSV, no time stamp)."""

SOURCES = (
    "NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology and Size (Dong, Liu, Musial & Gabrys, "
    "IEEE TPAMI 2021) and NAS-Bench-201 (Dong & Yang, ICLR 2020); their code and benchmark are MIT-licensed. "
    "Exported with the nats_bench API by two public repositories: v-tao/nats-bench-landscape (nats_bench.csv: "
    "200-epoch test accuracy on CIFAR-10, CIFAR-100, ImageNet16-120 and NATS-Bench's UniqueString) and "
    "gabro8a/NAS-Landscapes (MIT; data/accuracy/cifar10_avg.csv: cifar10-valid losses, accuracies and times, "
    "mean over seeds)."
)
"""Where the numbers come from, and their licences (printed by ``cellnas nb201 sources``)."""

COLUMNS = ("index", "ops", "cifar10_test_acc", "cifar100_test_acc", "imagenet16_test_acc", "c10v_train_loss",
           "c10v_train_acc", "c10v_valid_loss", "c10v_valid_acc", "c10v_test_loss", "c10v_test_acc",
           "c10v_train_seconds", "unique_digest")
"""The extract's header."""

DATASETS = {"cifar10": "cifar10_test_acc", "cifar100": "cifar100_test_acc", "imagenet16": "imagenet16_test_acc"}
"""The three datasets' final (200-epoch) test accuracy columns, by the short names the commands take."""

NUM_CELLS = len(OPERATIONS) ** 6
"""15,625 = 5^6 cells."""


@dataclass(frozen=True, eq=False)
class NB201Results:
    """The shipped table: row i is NATS-Bench index i. Accuracies are in percent.

    Attributes:
        codes: ``(15625, 6)`` operation codes into `OPERATIONS`, in string order.
        columns: every numeric column of `COLUMNS` by name (float64 arrays of 15,625).
        unique_digest: the first 16 hex digits of BLAKE2b-64 of NATS-Bench's UniqueString of each row.
    """

    codes: np.ndarray
    columns: dict[str, np.ndarray]
    unique_digest: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def cell(self, index: int) -> NB201Cell:
        """The cell of NATS-Bench index `index`."""
        if not 0 <= index < len(self):
            raise ValueError(f"NATS-Bench index {index} is outside 0..{len(self) - 1}")
        return NB201Cell.from_codes(self.codes[index])

    def arch_string(self, index: int) -> str:
        """The architecture string of NATS-Bench index `index`."""
        return self.cell(index).to_arch_string()

    def index_of(self, cell: NB201Cell | str) -> int:
        """The NATS-Bench index of a cell (or architecture string)."""
        cell = NB201Cell.from_arch_string(cell) if isinstance(cell, str) else cell
        return _index_by_codes(self)[cell.codes]

    def test_accuracy(self, dataset: str) -> np.ndarray:
        """Final test accuracy (percent) of every cell on ``cifar10``, ``cifar100`` or ``imagenet16``."""
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
        return self.columns[DATASETS[dataset]]


def unique_digest(unique_string: str) -> str:
    """The first 16 hex digits of BLAKE2b-64 of a UniqueString: what the extract stores to check the key."""
    return hashlib.blake2b(unique_string.encode(), digest_size=8).hexdigest()


@cache
def _index_by_codes(results: NB201Results) -> dict[tuple[int, ...], int]:
    return {tuple(int(c) for c in row): i for i, row in enumerate(results.codes)}


def read_results(path: Path) -> NB201Results:
    """Read an extract written by ``scripts/make_nb201_extract.py``; `ValueError` naming the file if malformed."""
    limit = 64 * 2**20  # the extract is 1.3 MB uncompressed: a larger stream is not one (or a gzip bomb)
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"{path}: decompresses to more than {limit // 2**20} MiB; not an extract")
        text = data.decode()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable gzip-compressed CSV ({exc})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ValueError(f"{path}: the header is not {','.join(COLUMNS)}")
    body = rows[1:]
    if len(body) != NUM_CELLS:
        raise ValueError(f"{path}: {len(body)} rows; the space has {NUM_CELLS}")
    codes = np.zeros((NUM_CELLS, 6), dtype=np.int8)
    numeric = {name: np.zeros(NUM_CELLS) for name in COLUMNS[2:-1]}
    digests = []
    for i, row in enumerate(body):
        if len(row) != len(COLUMNS) or row[0] != str(i) or len(row[1]) != 6:
            raise ValueError(f"{path}: row {i + 2} is malformed")
        codes[i] = [int(c) for c in row[1]]
        for name, value in zip(COLUMNS[2:-1], row[2:-1]):
            numeric[name][i] = float(value)
        digests.append(row[-1])
    if codes.max() >= len(OPERATIONS) or codes.min() < 0:
        raise ValueError(f"{path}: an operation code is outside 0..{len(OPERATIONS) - 1}")
    for array in (codes, *numeric.values()):
        array.flags.writeable = False
    return NB201Results(codes, numeric, tuple(digests))


@cache
def load_results() -> NB201Results:
    """The shipped table (read once per process; no download, no network)."""
    return read_results(EXTRACT)


__all__ = ["COLUMNS", "DATASETS", "EXTRACT", "NB201Results", "NUM_CELLS", "SOURCES", "load_results", "read_results",
           "unique_digest"]
