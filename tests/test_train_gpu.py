"""The CUDA path of the trainer: channels-last, bf16 autocast and torch.compile, one tiny epoch."""

import math

import pytest
import torch
from torch.utils.data import DataLoader

from cellnas_edu.data import load_dataset
from cellnas_edu.train import evaluate, load_run, make_config, train


@pytest.mark.gpu
def test_cuda_channels_last_bf16_compiled_epoch(tmp_path):
    config = make_config("smoke", arch="DARTS", dataset="synthetic", device="cuda", epochs=1, compile=True,
                         auxiliary=True, auxiliary_weight=0.4, drop_path_prob=0.2, cutout=16, augment=True)
    assert config.channels_last and config.amp
    summary = train(config, tmp_path / "gpu", progress=False)
    (record,) = summary.metrics
    assert not summary.diverged and math.isfinite(record["train_loss"]) and math.isfinite(record["test_loss"])
    checkpoint = torch.load(tmp_path / "gpu" / "checkpoint.pt", weights_only=True, map_location="cpu")
    assert checkpoint["rng"][0]["cuda"] is not None  # the CUDA generator is saved for an exact resume
    # the fp32 network read back agrees with the bf16 evaluation recorded during training
    loaded = load_run(tmp_path / "gpu", map_location="cuda")
    test_set = load_dataset("synthetic", train=False, subset=100, seed=0)
    loss, accuracy = evaluate(loaded.model, DataLoader(test_set, batch_size=50), "cuda")
    assert loss == pytest.approx(record["test_loss"], rel=0.05)
    assert abs(accuracy - record["test_acc"]) <= 5.0
