"""Re-estimating BatchNorm's statistics before evaluation (cellnas_edu.train.batchnorm, Section 4.1).

The lag it removes is real: a network trained a few steps at a large learning rate evaluates far worse
with its running statistics than with statistics of its current weights. The tests compare the pass
against an independent computation (hooks recording every BatchNorm's input), check that it leaves
every parameter and random state bit-identical, and that a training run with it has the same training
losses as one without it."""

import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cellnas_edu.cells.genotypes import resolve_genotype
from cellnas_edu.data import load_dataset
from cellnas_edu.nets.model import network_for_dataset
from cellnas_edu.train import make_config, train
from cellnas_edu.train.batchnorm import batchnorm_layers, recalibrate_batchnorm, unaugmented_batches
from cellnas_edu.train.config import TrainConfig, config_differences

RECAL_IMAGES = 192
BATCH = 64


def _loss(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(x), y).item()


@pytest.fixture(scope="module")
def lagging_network():
    """DARTS (C=4, 4 cells) after 36 SGD steps at learning rate 0.25 on the synthetic set: its running
    statistics (momentum 0.1) trail the weights, as in Figure 4's large-learning-rate runs."""
    torch.manual_seed(0)
    train_set = load_dataset("synthetic", train=True)
    test_set = load_dataset("synthetic", train=False)
    net = network_for_dataset(resolve_genotype("DARTS"), "synthetic", C=4, layers=4, auxiliary=False)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.25, momentum=0.9)
    net.train()
    for step in range(36):
        start = step * 32 % (len(train_set) - 32)
        x, y = train_set.batch(torch.arange(start, start + 32))
        logits = net(x)
        logits = logits[0] if isinstance(logits, tuple) else logits
        optimizer.zero_grad()
        F.cross_entropy(logits, y).backward()
        optimizer.step()
    x_test, y_test = test_set.batch(torch.arange(len(test_set)))
    return net, train_set, x_test, y_test


def _fresh_statistics(model, batches) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Independent computation: per BatchNorm, the mean over batches of its input's batch mean and of its
    unbiased batch variance, recorded by forward hooks in a training-mode pass."""
    layers = batchnorm_layers(model)
    seen: dict[int, list] = {i: [] for i in range(len(layers))}
    handles = [layer.register_forward_hook(
        lambda module, inputs, output, i=i: seen[i].append(inputs[0].detach().transpose(0, 1).flatten(1)))
        for i, layer in enumerate(layers)]
    model.train()
    try:
        with torch.no_grad():
            for x in batches:
                model(x)
    finally:
        for h in handles:
            h.remove()
    return [(torch.stack([v.mean(1) for v in seen[i]]).mean(0), torch.stack([v.var(1) for v in seen[i]]).mean(0))
            for i in range(len(layers))]


def test_recalibrated_loss_is_far_below_the_lagged_one_and_equals_fresh_statistics(lagging_network):
    net, train_set, x_test, y_test = lagging_network
    lagged = _loss(copy.deepcopy(net), x_test, y_test)

    recalibrated_net = copy.deepcopy(net)
    used = recalibrate_batchnorm(recalibrated_net, unaugmented_batches(train_set, RECAL_IMAGES, BATCH, "cpu"),
                                 images=RECAL_IMAGES)
    assert used == RECAL_IMAGES
    recalibrated = _loss(recalibrated_net, x_test, y_test)

    by_hand = copy.deepcopy(net)
    statistics = _fresh_statistics(copy.deepcopy(net), list(unaugmented_batches(train_set, RECAL_IMAGES, BATCH,
                                                                                 "cpu")))
    for layer, (mean, var) in zip(batchnorm_layers(by_hand), statistics):
        layer.running_mean.copy_(mean)
        layer.running_var.copy_(var)
    fresh = _loss(by_hand, x_test, y_test)

    assert recalibrated == pytest.approx(fresh, rel=1e-5)
    assert recalibrated < 0.25 * lagged, (recalibrated, lagged)  # measured: 2.50 against 14.6
    for a, b in zip(batchnorm_layers(recalibrated_net), batchnorm_layers(by_hand)):
        torch.testing.assert_close(a.running_mean, b.running_mean, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(a.running_var, b.running_var, rtol=1e-5, atol=1e-6)


def test_recalibration_leaves_parameters_modes_and_random_states_bit_identical(lagging_network):
    net, train_set, _, _ = lagging_network
    model = copy.deepcopy(net).eval()
    model.drop_path_prob = 0.15
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    momenta = [layer.momentum for layer in batchnorm_layers(model)]
    torch.manual_seed(123)
    state = torch.get_rng_state()
    recalibrate_batchnorm(model, unaugmented_batches(train_set, 100, 32, "cpu"), images=100)
    assert torch.equal(torch.get_rng_state(), state)
    assert not model.training and model.drop_path_prob == 0.15
    assert [layer.momentum for layer in batchnorm_layers(model)] == momenta
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]), name
    assert all(int(layer.num_batches_tracked) == 4 for layer in batchnorm_layers(model))  # 32, 32, 32, 4


def test_unaugmented_batches_cover_the_first_images_and_never_end_in_a_batch_of_one(lagging_network):
    _, train_set, _, _ = lagging_network
    sizes = [len(x) for x in unaugmented_batches(train_set, 65, 32, "cpu")]
    assert sizes == [32, 33]
    first = next(iter(unaugmented_batches(train_set, 8, 8, "cpu")))
    expected, _ = load_dataset("synthetic", train=True, augment=False).batch(torch.arange(8))
    assert torch.equal(first, expected)


def test_the_pass_refuses_nonsense():
    net = network_for_dataset(resolve_genotype("DARTS"), "synthetic", C=4, layers=4, auxiliary=False)
    with pytest.raises(ValueError, match="positive integer"):
        recalibrate_batchnorm(net, [], images=0)
    with pytest.raises(ValueError, match="no images"):
        recalibrate_batchnorm(net, [], images=5)


def test_config_field_is_validated_and_old_configs_still_match():
    config = make_config("smoke", arch="DARTS", dataset="synthetic", bn_recalibration=128)
    assert config.to_dict()["bn_recalibration"] == 128
    with pytest.raises(ValueError, match="non-negative"):
        make_config("smoke", arch="DARTS", dataset="synthetic", bn_recalibration=-1)
    with pytest.raises(ValueError, match="at most train_subset"):
        make_config("smoke", arch="DARTS", dataset="synthetic", bn_recalibration=257)
    plain = make_config("smoke", arch="DARTS", dataset="synthetic")
    saved = {k: v for k, v in plain.to_dict().items() if k != "bn_recalibration"}  # written before the field
    assert config_differences(saved, plain) == []
    assert config_differences(saved, config) == ["bn_recalibration: '<missing>' -> 128"]
    assert TrainConfig.from_dict(saved).bn_recalibration == 0


def test_training_with_recalibration_has_the_same_training_losses_and_better_evaluation(tmp_path):
    runs = {}
    for images in (0, 256):
        config = make_config("smoke", arch="DARTS", dataset="synthetic", lr=0.25, epochs=2, device="cpu",
                             bn_recalibration=images)
        train(config, tmp_path / str(images), progress=False)
        lines = (tmp_path / str(images) / "metrics.jsonl").read_text().splitlines()
        runs[images] = [json.loads(line) for line in lines]
        assert json.loads((tmp_path / str(images) / "config.json").read_text())["bn_recalibration"] == images
    assert [m["train_loss"] for m in runs[0]] == [m["train_loss"] for m in runs[256]]
    assert [m["train_acc"] for m in runs[0]] == [m["train_acc"] for m in runs[256]]
    assert runs[0][-1]["test_loss"] != runs[256][-1]["test_loss"]


# -- what `cellnas landscape` measures in (Section 4.2) ------------------------------------------------------------
@pytest.fixture(scope="module")
def recalibrated_run(tmp_path_factory):
    """A run trained at learning rate 0.25 with recalibration on 128 of its 192 training images."""
    out = tmp_path_factory.mktemp("recalibrated") / "run"
    config = make_config("smoke", arch="DARTS", dataset="synthetic", device="cpu", epochs=1, lr=0.25,
                         train_subset=192, test_subset=32, batch_size=32, init_channels=4, layers=4,
                         bn_recalibration=128)
    train(config, out, progress=False)
    return out


def _landscape(run, capsys, *flags):
    from cellnas_edu.cli import main

    code = main(["landscape", str(run), "--steps", "3", "--span", "0.4", "--samples", "40", "--device", "cpu",
                 "--no-progress", "--json", "--overwrite", *flags])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_landscape_centre_is_the_recalibrated_evaluation_and_says_so(recalibrated_run, capsys):
    from cellnas_edu.landscape.measure import test_sample
    from cellnas_edu.train import load_run

    summary = _landscape(recalibrated_run, capsys)
    assert "re-estimated on 128 training images at the trained weights" in summary["batchnorm"]
    # independently: the saved network, re-estimated again on the same images, on the landscape's sample
    run = load_run(recalibrated_run)
    _, images, labels = test_sample("synthetic", None, 40, 0, torch.device("cpu"))
    train_set = load_dataset("synthetic", train=True, subset=192, seed=0)
    stored = _loss(copy.deepcopy(run.model), images, labels)
    recalibrate_batchnorm(run.model, unaugmented_batches(train_set, 128, 32, "cpu"), images=128)
    assert summary["center_loss"] == pytest.approx(_loss(run.model, images, labels), rel=1e-5)
    assert summary["center_loss"] == pytest.approx(stored, rel=1e-5)


def test_landscape_recalibrating_at_every_point_changes_the_surface_not_the_centre(recalibrated_run, capsys):
    from cellnas_edu.landscape import LandscapeData

    fixed = LandscapeData.load(recalibrated_run / "landscape.npz").loss.copy() if (
        recalibrated_run / "landscape.npz").exists() else None
    if fixed is None:
        _landscape(recalibrated_run, capsys)
        fixed = LandscapeData.load(recalibrated_run / "landscape.npz").loss.copy()
    summary = _landscape(recalibrated_run, capsys, "--bn-recalibration", "128")
    assert "at every grid point" in summary["batchnorm"]
    every = LandscapeData.load(recalibrated_run / "landscape.npz").loss
    assert every[1, 1] == pytest.approx(fixed[1, 1], rel=1e-3)  # the centre: statistics of w* either way
    off_centre = np.abs(every - fixed).ravel()[[0, 1, 2, 3, 5, 6, 7, 8]]
    assert off_centre.max() > 1e-3 * np.abs(fixed).max()
    model_before = (recalibrated_run / "model.pt").read_bytes()
    _landscape(recalibrated_run, capsys, "--bn-recalibration", "128")
    assert (recalibrated_run / "model.pt").read_bytes() == model_before


def test_landscape_recalibration_larger_than_the_training_set_is_one_line(recalibrated_run, capsys):
    from cellnas_edu.cli import main

    code = main(["landscape", str(recalibrated_run), "--steps", "3", "--samples", "8", "--device", "cpu",
                 "--no-progress", "--overwrite", "--bn-recalibration", "500"])
    _, err = capsys.readouterr()
    assert code == 2 and "--bn-recalibration 500" in err and len(err.strip().splitlines()) == 1
