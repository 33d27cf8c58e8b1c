"""The trainer (Appendix A.3): it learns, resumes exactly, records divergence, protects run folders.

One smoke run on the synthetic set (module fixture, about ten CPU seconds) serves
most tests; the resume test repeats it with two simulated crashes.
"""

import json
import math
import shutil

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from cellnas_edu.cli import main
from cellnas_edu.data import load_dataset
from cellnas_edu.errors import UserError
from cellnas_edu.io import read_jsonl
from cellnas_edu.train import evaluate, load_run, make_config, train
from cellnas_edu.train.determinism import numerics
from cellnas_edu.train.runfolder import RunFolder

#: the shared smoke run: 4 epochs of 512 synthetic images (the smoke preset with more data and epochs)
SMOKE = dict(arch="DARTS", dataset="synthetic", device="cpu", epochs=4, train_subset=512)
SMOKE_FLAGS = ["--arch", "DARTS", "--dataset", "synthetic", "--preset", "smoke", "--device", "cpu",
               "--epochs", "4", "--train-subset", "512", "--no-progress"]
METRIC_KEYS = {"epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same thread count for every run of this module: repeatable CPU arithmetic
    out = tmp_path_factory.mktemp("runs") / "smoke"
    summary = train(make_config("smoke", **SMOKE), out, progress=False)
    yield out, summary
    torch.set_num_threads(threads)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_smoke_run_learns(smoke_run):
    """Training reduces the training loss and lifts test accuracy clearly above chance (10 classes: 10%)."""
    _, summary = smoke_run
    first, last = summary.metrics[0], summary.metrics[-1]
    assert first["train_loss"] > math.log(10) - 0.2  # starts near the loss of a uniform guess, ln 10
    assert last["train_loss"] < 0.92 * first["train_loss"]
    assert last["train_acc"] > 25.0 and last["test_acc"] > 20.0
    assert summary.final_test_acc == last["test_acc"] and not summary.diverged and summary.epochs_done == 4


def test_run_folder_layout_and_metrics_schema(smoke_run):
    """The run-folder layout (train/runfolder.py):
    config.json, metrics.jsonl (epochs from 1), checkpoint.pt, model.pt, status.json;
    every file written atomically, so no temporary file is left behind."""
    out, summary = smoke_run
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.pt", "config.json", "metrics.jsonl", "model.pt", "status.json"]
    metrics = read_jsonl(out / "metrics.jsonl")
    assert metrics == summary.metrics
    assert [m["epoch"] for m in metrics] == [1, 2, 3, 4]
    for m in metrics:
        assert set(m) == METRIC_KEYS
        assert 0 <= m["train_acc"] <= 100 and 0 <= m["test_acc"] <= 100 and m["seconds"] > 0
    # the cosine schedule of Appendix A.3, one value per epoch
    assert [m["lr"] for m in metrics] == pytest.approx([0.05 * (1 + math.cos(math.pi * k / 4)) for k in range(4)])
    config = json.loads((out / "config.json").read_text())
    assert config == {**make_config("smoke", **SMOKE).to_dict(), "version": config["version"],
                      "numerics": numerics(config["device"])}
    assert json.loads((out / "status.json").read_text()) == {"state": "finished", "epochs_done": 4}


def test_checkpoint_is_weights_only_and_complete(smoke_run):
    out, _ = smoke_run
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == 4 and len(checkpoint["metrics"]) == 4
    assert checkpoint["scheduler"]["_last_lr"] == [0.0]  # annealed to zero after the last epoch
    (rng,) = checkpoint["rng"]  # one process
    assert set(rng) == {"python", "numpy", "torch", "cuda"} and rng["torch"].dtype == torch.uint8
    final = torch.load(out / "model.pt", weights_only=True)
    assert set(final) == {"state_dict", "genotype", "config", "sha256"}
    for name, tensor in final["state_dict"].items():
        assert torch.equal(tensor, checkpoint["model"][name]), name


def test_load_run_rebuilds_the_trained_network(smoke_run):
    """The loaded network reproduces the recorded final test loss and accuracy, and the final and
    checkpoint weights give the same logits."""
    out, summary = smoke_run
    loaded = load_run(out)
    assert loaded.weights == "final" and loaded.epoch == 4 and not loaded.model.training
    assert loaded.config == make_config("smoke", **SMOKE) and loaded.metrics == summary.metrics
    test_set = load_dataset("synthetic", train=False, subset=100, seed=0)
    loss, accuracy = evaluate(loaded.model, DataLoader(test_set, batch_size=64), "cpu")
    assert loss == pytest.approx(summary.final_test_loss, rel=1e-5)
    assert accuracy == pytest.approx(summary.final_test_acc)
    x = torch.stack([test_set[i][0] for i in range(8)])
    with torch.no_grad():
        assert torch.equal(loaded.model(x), load_run(out, weights="checkpoint").model(x))


def _interrupt_at(monkeypatch, epoch, *, before_checkpoint):
    """Simulate a crash (KeyboardInterrupt) just before or just after epoch ``epoch``'s checkpoint is written."""
    save = RunFolder.save_checkpoint

    def crashing_save(folder, checkpoint):
        if checkpoint["epoch"] == epoch and before_checkpoint:
            raise KeyboardInterrupt
        save(folder, checkpoint)
        if checkpoint["epoch"] == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunFolder, "save_checkpoint", crashing_save)


def test_interrupted_and_resumed_run_equals_the_uninterrupted_one(smoke_run, tmp_path, monkeypatch, capsys):
    """Resume restores model, optimiser, scheduler, epoch and RNG states, and the data order depends only on
    seed + epoch: a run crashed after epoch 2, then again between epoch 3's metrics line and its checkpoint,
    and resumed twice records the same numbers and ends with the same weights as the run that never stopped."""
    reference_dir, reference = smoke_run
    out = tmp_path / "interrupted"
    config = make_config("smoke", **SMOKE)
    _interrupt_at(monkeypatch, 2, before_checkpoint=False)
    with pytest.raises(KeyboardInterrupt):
        train(config, out, progress=False)
    assert len(read_jsonl(out / "metrics.jsonl")) == 2
    assert json.loads((out / "status.json").read_text())["state"] == "running"
    first_lines = (out / "metrics.jsonl").read_text()

    _interrupt_at(monkeypatch, 3, before_checkpoint=True)
    with pytest.raises(KeyboardInterrupt):
        train(config, out, resume=True, progress=False)
    assert len(read_jsonl(out / "metrics.jsonl")) == 3  # epoch 3 recorded, its checkpoint never written
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 2
    capsys.readouterr()

    monkeypatch.undo()
    resumed = train(config, out, resume=True, progress=True)
    err = capsys.readouterr().err
    assert "truncated to epoch 2" in err and "resuming after epoch 2" in err
    assert "img/s" in err  # the progress bar reports its rate
    assert (out / "metrics.jsonl").read_text().startswith(first_lines)  # recorded epochs are never rewritten
    assert len(resumed.metrics) == len(reference.metrics) == 4
    for mine, theirs in zip(resumed.metrics, reference.metrics):
        for key in METRIC_KEYS - {"seconds"}:
            assert mine[key] == pytest.approx(theirs[key], rel=1e-6, abs=1e-9), (mine["epoch"], key)
    mine = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    theirs = torch.load(reference_dir / "model.pt", weights_only=True)["state_dict"]
    for name in theirs:
        assert torch.allclose(mine[name].float(), theirs[name].float(), rtol=1e-5, atol=1e-6), name

    # resuming a finished run is a no-op that says so
    before = (out / "metrics.jsonl").read_text()
    again = train(config, out, resume=True, progress=False)
    assert "already finished" in capsys.readouterr().err
    assert (out / "metrics.jsonl").read_text() == before and again.metrics == resumed.metrics


def test_a_diverging_run_is_recorded_and_stops_cleanly(tmp_path, capsys):
    """Figure 4: with a large learning rate some cells fail to converge. A non-finite training loss ends the
    run with exit 0, a metrics line marked diverged and status 'diverged'; resuming it does nothing."""
    out = tmp_path / "diverged"
    flags = ["train", "--arch", "DARTS", "--dataset", "synthetic", "--preset", "smoke", "--device", "cpu",
             "--lr", "1e6", "--epochs", "3", "--train-subset", "512", "--out", str(out), "--no-progress"]
    assert main([*flags, "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert "diverged at epoch 1" in captured.err
    assert summary["diverged"] is True and summary["epochs_done"] == 1
    (record,) = read_jsonl(out / "metrics.jsonl")
    assert record["diverged"] is True and record["epoch"] == 1 and record["train_loss"] is None
    assert json.loads((out / "status.json").read_text()) == {"state": "diverged", "epochs_done": 1}
    assert not (out / "model.pt").exists()
    assert main([*flags, "--resume"]) == 0
    captured = capsys.readouterr()
    assert "nothing to resume" in captured.err and "diverged" in captured.out
    assert read_jsonl(out / "metrics.jsonl") == [record]


def test_corrupt_checkpoint_is_a_one_line_error(smoke_run, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(smoke_run[0], out)
    data = (out / "checkpoint.pt").read_bytes()
    (out / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    assert main(["train", *SMOKE_FLAGS, "--out", str(out), "--resume"]) == 2
    assert "corrupt or truncated checkpoint" in _one_error_line(capsys)
    with pytest.raises(UserError, match="corrupt"):
        load_run(out, weights="checkpoint")
    (out / "model.pt").write_bytes(b"not a zip file")
    with pytest.raises(UserError, match="corrupt"):
        load_run(out)


def test_existing_run_folders_are_protected(smoke_run, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(smoke_run[0], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for extra in (["--lr", "0.2"], ["--lr", "0.2", "--resume"]):
        assert main(["train", *SMOKE_FLAGS, "--out", str(out), *extra]) == 2
        assert "different config (lr: 0.1 -> 0.2)" in _one_error_line(capsys)
    assert main(["train", *SMOKE_FLAGS, "--out", str(out)]) == 2
    assert "--resume" in _one_error_line(capsys)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    assert main(["train", *SMOKE_FLAGS, "--out", str(stranger)]) == 2
    assert "holds no run" in _one_error_line(capsys)


@pytest.mark.parametrize("change, message", [
    (["--arch", "NoSuchNet"], "unknown architecture"),
    (["--arch", "{genotype}"], "not valid JSON"),
    (["--preset", "turbo"], "unknown preset"),
    (["--dataset", "mnist"], "unknown dataset"),
    (["--dataset", "cifar10", "--data-root", "{empty}"], "cifar"),
    (["--set", "cutout"], "KEY=VALUE"),
    (["--set", "colour=red"], "unknown config field"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, change, message):
    (tmp_path / "bad.json").write_text("{ not json")
    (tmp_path / "empty").mkdir()
    change = [c.format(genotype=tmp_path / "bad.json", empty=tmp_path / "empty") for c in change]
    argv = ["train", "--arch", "DARTS", "--dataset", "synthetic", "--preset", "smoke", "--device", "cpu",
            "--out", str(tmp_path / "run"), "--no-progress"]
    for i in range(0, len(change), 2):
        argv += change[i: i + 2]
    assert main(argv) == 2
    assert message.lower() in _one_error_line(capsys).lower()
    assert not (tmp_path / "run").exists()


def test_load_run_errors(smoke_run, tmp_path):
    with pytest.raises(UserError, match="no such run folder"):
        load_run(tmp_path / "nothing")
    out = tmp_path / "config-only"
    out.mkdir()
    shutil.copy(smoke_run[0] / "config.json", out / "config.json")
    with pytest.raises(UserError, match="no checkpoint"):
        load_run(out)
    other = tmp_path / "other"
    shutil.copytree(smoke_run[0], other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "arch": "ENAS"}))
    with pytest.raises(UserError, match="another architecture"):
        load_run(other)


def test_evaluate_is_the_mean_over_samples_not_over_batches():
    """evaluate() returns the per-sample mean loss and the accuracy in percent, also with a ragged last batch."""
    torch.manual_seed(0)
    x, y = torch.randn(10, 3), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    model = torch.nn.Linear(3, 4)
    loss, accuracy = evaluate(model, DataLoader(TensorDataset(x, y), batch_size=4), "cpu")
    with torch.no_grad():
        logits = model(x)
    assert loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    assert accuracy == pytest.approx(100.0 * (logits.argmax(1) == y).float().mean().item())
    assert model.training  # the caller's mode is restored


def test_resume_restores_the_random_number_generators(tmp_path, monkeypatch, capsys):
    """The smoke preset draws no random numbers after initialisation (no augmentation, drop path or cutout), so
    the resume test above cannot see a resume that forgets the RNG states. Here every epoch draws: A.1
    augmentation, cutout 8 and drop path 0.3 (epoch e uses 0.3 (e - 1)/E, so epochs 2 and 3 drop paths).
    A tiny run crashed after epoch 1 and resumed must end bit-for-bit where the uninterrupted run ends; a resume
    without set_rng_state diverges by epoch 3 (its augmentation, cutout and drop-path masks differ)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = make_config("smoke", arch="DARTS", dataset="synthetic", device="cpu", epochs=3, train_subset=64,
                             test_subset=32, batch_size=32, augment=True, cutout=8, drop_path_prob=0.3, layers=3)
        reference = train(config, tmp_path / "reference", progress=False)
        _interrupt_at(monkeypatch, 1, before_checkpoint=False)
        with pytest.raises(KeyboardInterrupt):
            train(config, tmp_path / "resumed", progress=False)
        monkeypatch.undo()
        # pretend two processes wrote the checkpoint: this process (rank 0) restores the first state and says
        # that the run continues, though not bitwise as a two-process run would
        path = tmp_path / "resumed" / "checkpoint.pt"
        checkpoint = torch.load(path, weights_only=True)
        checkpoint["rng"] = checkpoint["rng"] * 2
        from cellnas_edu.train.checkpoint import with_digest

        torch.save(with_digest(checkpoint), path)
        capsys.readouterr()
        resumed = train(config, tmp_path / "resumed", resume=True, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert "RNG states of 2 process(es)" in capsys.readouterr().err
    assert [m["epoch"] for m in resumed.metrics] == [1, 2, 3]
    for mine, theirs in zip(resumed.metrics, reference.metrics):
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert mine[key] == theirs[key], (mine["epoch"], key, mine[key], theirs[key])
    mine = torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["state_dict"]
    theirs = torch.load(tmp_path / "reference" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(mine[name], theirs[name]) for name in theirs)


def test_rng_state_round_trip_through_a_checkpoint_file(tmp_path):
    """rng_state / set_rng_state (checkpoint module) without a training run: the states of Python, NumPy and torch
    survive save_checkpoint + load_checkpoint (weights_only), and restoring them replays the same draws --
    including NumPy's cached Gaussian, which exists only after an odd number of legacy normal draws."""
    import random

    import numpy as np

    from cellnas_edu.train.checkpoint import (
        CHECKPOINT_FORMAT,
        load_checkpoint,
        rng_state,
        save_checkpoint,
        seed_everything,
        set_rng_state,
    )

    seed_everything(3)
    np.random.standard_normal()  # leaves a cached Gaussian behind (legacy generator)
    random.gauss(0, 1)  # and Python's gauss cache
    state = rng_state()
    expected = (random.random(), random.gauss(0, 1), np.random.standard_normal(3).tolist(),
                torch.rand(3).tolist())
    checkpoint = {"format": CHECKPOINT_FORMAT, "epoch": 1, "model": {"w": torch.ones(1)},
                  "optimizer": {"state": {}, "param_groups": [{"params": [0]}]}, "scheduler": {"last_epoch": 1},
                  "rng": [state], "config": {"epochs": 2}, "genotype": {"name": "x"}, "metrics": [{"epoch": 1}]}
    save_checkpoint(tmp_path / "c.pt", checkpoint)
    loaded = load_checkpoint(tmp_path / "c.pt")
    seed_everything(99)  # move every generator elsewhere
    set_rng_state(loaded["rng"][0])
    again = (random.random(), random.gauss(0, 1), np.random.standard_normal(3).tolist(), torch.rand(3).tolist())
    assert again == expected
    seed_everything(3)
    first = (random.random(), np.random.random(), torch.rand(1).item())
    seed_everything(4)
    second = (random.random(), np.random.random(), torch.rand(1).item())
    assert all(a != b for a, b in zip(first, second))  # every generator is reseeded
    seed_everything(2**32 + 3)  # NumPy takes seeds below 2**32: the seed is reduced modulo 2**32
    assert np.random.random() == first[1]
    for other in (67, 2**31 + 3):  # ... and only modulo 2**32
        seed_everything(other)
        assert np.random.random() != first[1], other
    # bumping the format makes every existing run folder unreadable: do it deliberately, and update this line
    assert CHECKPOINT_FORMAT == 1
    with pytest.raises(ValueError, match="lacks"):
        save_checkpoint(tmp_path / "bad.pt", {"epoch": 1})
    with pytest.raises(UserError, match="format"):
        save_checkpoint(tmp_path / "old.pt", checkpoint | {"format": CHECKPOINT_FORMAT + 1})
        load_checkpoint(tmp_path / "old.pt")
    for change, message in (({"config": {"epochs": 0}}, "config epochs is 0"),
                            ({"config": {"epochs": "2"}}, "config epochs is '2'"),
                            ({"metrics": []}, "metrics are not the records"),
                            ({"metrics": [{"epoch": 2}]}, "metrics are not the records")):
        torch.save(checkpoint | change, tmp_path / "bad.pt")
        with pytest.raises(UserError, match=message):
            load_checkpoint(tmp_path / "bad.pt")
    torch.save({"epoch": 1}, tmp_path / "foreign.pt")
    with pytest.raises(UserError, match="not a cellnas"):
        load_checkpoint(tmp_path / "foreign.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    try:  # the message names the first line of torch's own error, whatever this torch version says
        torch.load(tmp_path / "junk.pt", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        first_line = str(exc).strip().splitlines()[0][:160]
    with pytest.raises(UserError, match="corrupt") as caught:
        load_checkpoint(tmp_path / "junk.pt")
    assert first_line in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(UserError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    # model.pt: {"state_dict", "genotype", "config"}, loaded weights-only like the checkpoint
    from fractions import Fraction

    from cellnas_edu.train.checkpoint import load_weights_file, save_weights_file

    good = {"state_dict": {"w": torch.ones(2)}, "genotype": {"name": "x"}, "config": {"epochs": 1}}
    save_weights_file(tmp_path / "model.pt", good)
    assert torch.equal(load_weights_file(tmp_path / "model.pt")["state_dict"]["w"], torch.ones(2))
    for missing in ("state_dict", "genotype", "config"):
        torch.save({k: v for k, v in good.items() if k != missing}, tmp_path / "partial.pt")
        with pytest.raises(UserError, match="not a cellnas weights file"):
            load_weights_file(tmp_path / "partial.pt")
    torch.save(good | {"extra": Fraction(1, 3)}, tmp_path / "pickled.pt")  # arbitrary pickled objects: refused
    with pytest.raises(UserError, match="corrupt or truncated weights file"):
        load_weights_file(tmp_path / "pickled.pt")
    with pytest.raises(UserError, match="corrupt or truncated weights file"):
        load_weights_file(tmp_path / "junk.pt")
