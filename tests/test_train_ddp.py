"""Data-parallel training under torchrun: two CPU processes (Gloo) train one run, rank 0 writes it once."""

import json
import os
import subprocess
import sys

import pytest
import torch
from torch.utils.data import DataLoader

from cellnas_edu.data import load_dataset
from cellnas_edu.io import read_jsonl
from cellnas_edu.train import evaluate, load_run

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")


def test_two_gloo_processes_train_one_run(tmp_path):
    """Each process trains on its shard of the seed + epoch permutation with gradients averaged by
    DistributedDataParallel; metrics are summed over the processes, so the recorded test loss and accuracy
    are those of the whole test subset, and only rank 0 writes files and prints."""
    out = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "cellnas_edu.cli", "train", "--arch", "DARTS", "--dataset", "synthetic", "--preset", "smoke",
               "--device", "cpu", "--train-subset", "96", "--test-subset", "50", "--out", str(out),
               "--no-progress", "--json"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)  # printed once, by rank 0 only
    assert summary["epochs_done"] == 2 and not summary["diverged"]
    metrics = read_jsonl(out / "metrics.jsonl")
    assert [m["epoch"] for m in metrics] == [1, 2]  # each epoch written once
    assert json.loads((out / "status.json").read_text()) == {"state": "finished", "epochs_done": 2}
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert len(checkpoint["rng"]) == 2  # both processes' generator states, for an exact resume
    assert not torch.equal(checkpoint["rng"][0]["torch"], checkpoint["rng"][1]["torch"])
    # the sharded, all-reduced evaluation equals one process evaluating the saved network on all 50 images
    loaded = load_run(out)
    test_set = load_dataset("synthetic", train=False, subset=50, seed=0)
    loss, accuracy = evaluate(loaded.model, DataLoader(test_set, batch_size=25), "cpu")
    assert loss == pytest.approx(metrics[-1]["test_loss"], rel=1e-5)
    assert accuracy == pytest.approx(metrics[-1]["test_acc"])
