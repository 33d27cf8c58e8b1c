"""The training presets are the paper's settings (Appendix A.3, A.4); configs validate; the schedule is cosine."""

import math

import pytest
import torch

from cellnas_edu.train import PRESETS, TrainConfig, make_config, parse_field
from cellnas_edu.train.loop import build_optimizer


def test_convergence_preset_is_appendix_a3_without_regularisation():
    """A.3: SGD lr 0.025, momentum 0.9, weight decay 3e-4, batch 80, 600 epochs, L = 20 (C = 36 as DARTS);
    A.4: no cutout, no auxiliary tower, no drop path in Section 4; A.1 augmentation stays on."""
    c = make_config("convergence", arch="DARTS", dataset="cifar10")
    assert (c.lr, c.momentum, c.weight_decay, c.batch_size, c.epochs) == (0.025, 0.9, 3e-4, 80, 600)
    assert (c.init_channels, c.layers) == (36, 20)
    assert (c.cutout, c.auxiliary, c.auxiliary_weight, c.drop_path_prob) == (0, False, 0.0, 0.0)
    assert c.augment is True and c.grad_clip is None
    assert (c.train_subset, c.test_subset) == (None, None)


def test_generalization_preset_adds_the_three_regularisers_of_a4():
    """A.4: cutout length 16, auxiliary tower weight 0.4, drop path up to 0.2; clipping 5 as DARTS' train.py."""
    c = make_config("generalization", arch="DARTS", dataset="cifar100")
    assert (c.cutout, c.auxiliary, c.auxiliary_weight, c.drop_path_prob, c.grad_clip) == (16, True, 0.4, 0.2, 5.0)
    assert (c.lr, c.momentum, c.weight_decay, c.batch_size, c.epochs) == (0.025, 0.9, 3e-4, 80, 600)


@pytest.mark.parametrize("preset", ["convergence", "generalization"])
def test_tiny_imagenet_trains_300_epochs_unless_overridden(preset):
    """A.3: '600 epochs on CIFAR10/100 and 300 epochs on Tiny-ImageNet-200'."""
    assert make_config(preset, arch="DARTS", dataset="tiny-imagenet-200").epochs == 300
    assert make_config(preset, arch="DARTS", dataset="tiny-imagenet-200", epochs=600).epochs == 600
    assert make_config(preset, arch="DARTS", dataset="cifar10").epochs == 600


def test_every_preset_builds_and_round_trips_through_a_dict():
    for name in PRESETS:
        c = make_config(name, arch="SNAS", dataset="synthetic")
        assert c.preset == name
        assert TrainConfig.from_dict({**c.to_dict(), "version": "0"}) == c


@pytest.mark.parametrize("overrides, message", [
    ({"lr": -1.0}, "lr"),
    ({"epochs": 0}, "epochs"),
    ({"init_channels": 5}, "even"),
    ({"dataset": "mnist"}, "unknown dataset"),
    ({"device": "tpu"}, "device"),
    ({"auxiliary_weight": 0.4}, "auxiliary"),
    ({"drop_path_prob": 1.0}, "drop_path_prob"),
    ({"epochs": 2.5}, "integer"),
    ({"wings": 2}, "unknown config field"),
])
def test_bad_values_are_value_errors_naming_the_field(overrides, message):
    kwargs = {"arch": "DARTS", "dataset": "synthetic", **overrides}
    with pytest.raises(ValueError, match=message):
        make_config("smoke", **kwargs)


def test_unknown_preset_and_missing_arch():
    with pytest.raises(ValueError, match="unknown preset"):
        make_config("fast", arch="DARTS", dataset="synthetic")
    with pytest.raises(ValueError, match="arch"):
        make_config("smoke", dataset="synthetic")


def test_parse_field_reads_each_type():
    assert parse_field("cutout", "16") == 16
    assert parse_field("lr", "2.5e-2") == 0.025
    assert parse_field("auxiliary", "true") is True and parse_field("augment", "0") is False
    assert parse_field("grad_clip", "none") is None and parse_field("train_subset", "500") == 500
    with pytest.raises(ValueError, match="cutout"):
        parse_field("cutout", "sixteen")
    with pytest.raises(ValueError, match="unknown config field"):
        parse_field("colour", "red")


def test_learning_rate_follows_cosine_annealing_to_zero():
    """A.3: 'annealed to zero following the standard cosine annealing schedule'. Epoch e (from 1) of E trains
    with lr/2 (1 + cos(pi (e-1)/E)); after the last epoch the rate is exactly 0."""
    c = make_config("convergence", arch="DARTS", dataset="cifar10")
    optimizer, scheduler = build_optimizer([torch.nn.Parameter(torch.zeros(1))], c)
    rates = []
    for _ in range(c.epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # no gradients: changes nothing, keeps the optimiser-then-scheduler order
        scheduler.step()
    closed_form = [0.025 / 2 * (1 + math.cos(math.pi * (e - 1) / 600)) for e in range(1, 601)]
    assert rates == pytest.approx(closed_form, rel=1e-9, abs=1e-15)
    assert rates[0] == 0.025 and rates[299] == pytest.approx(0.0125 * (1 + math.cos(math.pi * 299 / 600)))
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-15)
    assert all(a > b for a, b in zip(rates, rates[1:]))
