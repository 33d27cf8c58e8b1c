"""Write the NAS-Bench-201 extract that the package ships (`cellnas_edu/resources/nb201_results.csv.gz`).

Reads the two CSV exports of NATS-Bench's final results (see `cellnas_edu.nb201.data.SOURCES`; in the
repository's `../shared/nasbench201/`), checks that row i names the same architecture in both, and writes one
gzip-compressed CSV with a fixed header and no time stamp, so the same inputs give the same bytes:

    index, ops (six NATS-Bench operation codes in string order), the three 200-epoch test accuracies,
    the cifar10-valid columns, and the first 16 hex digits of BLAKE2b of NATS-Bench's UniqueString.

The values are copied as text, digit for digit. Run: python scripts/make_nb201_extract.py [SHARED_DIR] [OUT]
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cellnas_edu.nb201.cell import NB201Cell  # noqa: E402
from cellnas_edu.nb201.data import COLUMNS, EXTRACT, unique_digest  # noqa: E402

ACCURACY_FILE = "nats_tss_test_accuracy_200ep.csv"
VALID_FILE = "nats_tss_cifar10valid_200ep_mean3seeds.csv"
FROM_ACCURACY = {"cifar10_test_acc": "CIFAR10TestAccuracy200Epochs",
                 "cifar100_test_acc": "CIFAR100TestAccuracy200Epochs",
                 "imagenet16_test_acc": "ImageNetTestAccuracy200Epochs"}
FROM_VALID = {"c10v_train_loss": "train-loss", "c10v_train_acc": "train-accuracy", "c10v_valid_loss": "valid-loss",
              "c10v_valid_acc": "valid-accuracy", "c10v_test_loss": "test-loss", "c10v_test_acc": "test-accuracy",
              "c10v_train_seconds": "train-all-time"}


def build(shared: Path) -> bytes:
    with open(shared / ACCURACY_FILE, newline="") as f:
        accuracy = list(csv.DictReader(f))
    with open(shared / VALID_FILE, newline="") as f:
        valid = list(csv.DictReader(f))
    if len(accuracy) != 15625 or len(valid) != 15625:
        raise SystemExit(f"expected 15,625 rows in each file, got {len(accuracy)} and {len(valid)}")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, (a, v) in enumerate(zip(accuracy, valid)):
        if int(v["index"]) != i or a["ArchitectureString"] != v["arch_str"]:
            raise SystemExit(f"row {i}: the two files disagree on the architecture")
        cell = NB201Cell.from_arch_string(a["ArchitectureString"])
        writer.writerow([i, "".join(map(str, cell.codes)), *(a[c] for c in FROM_ACCURACY.values()),
                         *(v[c] for c in FROM_VALID.values()), unique_digest(a["UniqueString"])])
    return gzip.compress(text.getvalue().encode(), compresslevel=9, mtime=0)


def main(argv: list[str]) -> None:
    shared = Path(argv[0]) if argv else ROOT.parent / "shared" / "nasbench201"
    out = Path(argv[1]) if len(argv) > 1 else EXTRACT
    data = build(shared)
    out.write_bytes(data)
    print(f"wrote {out} ({len(data):,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
