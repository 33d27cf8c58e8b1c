"""The timing and accuracy check that chose the follow-up's epochs (Chapter 3): DARTS only, seed 99 (not one of
the follow-up's seeds), 10 epochs on the follow-up's network and data, at learning rate 0.025.

    python examples/section4_followup_check.py    # about 30 core-seconds; results/section4_followup_check/
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from cellnas_edu import section4_study as s4
from cellnas_edu.results import write_summary
from cellnas_edu.train import make_config, train

PROTOCOL = {"arch": "DARTS", "seed": 99, "lr": 0.025, "epochs": 10, "train_subset": 640, "test_subset": 320,
            "note": "timing and accuracy check for choosing the follow-up's epochs; not part of the follow-up's data"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    torch.set_num_threads(1)
    network = dict(s4.NETWORK, train_subset=PROTOCOL["train_subset"], test_subset=PROTOCOL["test_subset"])
    config = make_config(s4.PRESET, arch=PROTOCOL["arch"], dataset=s4.DATASET, device="cpu", seed=PROTOCOL["seed"],
                         lr=PROTOCOL["lr"], epochs=PROTOCOL["epochs"], **network)
    started, cpu0 = time.perf_counter(), _cpu()
    with tempfile.TemporaryDirectory() as folder:
        summary = train(config, Path(folder) / "run", progress=False)
    wall, cpu = time.perf_counter() - started, _cpu() - cpu0
    epochs = [{k: m[k] for k in ("epoch", "test_loss", "test_acc", "seconds")} for m in summary.metrics]
    path = write_summary("section4_followup_check", {"protocol": PROTOCOL, "epochs": epochs,
                                                     "timing": {"wall_seconds": round(wall, 1),
                                                                "cpu_seconds": round(cpu, 1)}},
                         command="python examples/section4_followup_check.py", seconds=round(wall, 1))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
