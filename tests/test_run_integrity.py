"""Run folders under faults and tampering: no silent corruption, no lost results.

A torn last line of ``metrics.jsonl``, a second process on the same folder,
``config.json`` edited between runs, hand-crafted checkpoints, temporaries
left by a killed write, and the file modes of everything written.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from run_helpers import crash_after_checkpoint

from cellnas_edu.cli import main
from cellnas_edu.errors import UserError
from cellnas_edu.io import exclusive_lock, read_jsonl
from cellnas_edu.train import load_run, make_config, train
from cellnas_edu.train.checkpoint import with_digest
from cellnas_edu.train.runfolder import RunFolder

ROOT = Path(__file__).resolve().parents[1]
SMOKE = dict(arch="DARTS", dataset="synthetic", device="cpu", epochs=4)
FLAGS = ["--arch", "DARTS", "--dataset", "synthetic", "--preset", "smoke", "--device", "cpu", "--epochs", "4",
         "--no-progress"]
KEYS = ("epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``(finished, partial)``: the 4-epoch smoke run, and the same run stopped after epoch 2's checkpoint."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("integrity")
    config = make_config("smoke", **SMOKE)
    train(config, base / "finished", progress=False)
    with crash_after_checkpoint(2):
        with pytest.raises(KeyboardInterrupt):
            train(config, base / "partial", progress=False)
    yield base / "finished", base / "partial"
    torch.set_num_threads(threads)


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def same_metrics(mine: list[dict], theirs: list[dict]) -> None:
    assert [m["epoch"] for m in mine] == [m["epoch"] for m in theirs]
    for a, b in zip(mine, theirs):
        for key in KEYS:
            assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-9), (a["epoch"], key)


# -- a torn metrics line, stale temporaries, file modes ---------------------------------------------------------------
def test_torn_metrics_line_and_stale_temporaries_on_resume(runs, tmp_path, capsys):
    finished, partial = runs
    out = copy(partial, tmp_path / "run")
    with open(out / "metrics.jsonl", "a") as handle:  # a crash in the middle of epoch 3's append
        handle.write('{"epoch": 3, "lr": 0.07, "train_lo')
    stale = [out / name for name in (".checkpoint.pt.k2j_x9ab.tmp", ".metrics.jsonl.00000000.tmp",
                                     ".status.json.abcdefgh.tmp")]
    foreign = out / ".notes.txt.abcdefgh.tmp"  # not a temporary of a run file: kept
    for path in stale + [foreign]:
        path.write_bytes(b"half a write")
    old = os.umask(0o027)
    try:
        assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 0
    finally:
        os.umask(old)
    err = capsys.readouterr().err
    assert "torn line" in err and "resuming after epoch 2" in err
    text = (out / "metrics.jsonl").read_text()
    assert text.endswith("\n") and "train_lo\"" not in text and '"train_lo{' not in text
    same_metrics(read_jsonl(out / "metrics.jsonl"), read_jsonl(finished / "metrics.jsonl"))
    assert not any(p.exists() for p in stale) and foreign.exists()
    assert not (out / ".lock").exists()
    for name in ("config.json", "checkpoint.pt", "model.pt", "status.json", "metrics.jsonl"):
        assert (out / name).stat().st_mode & 0o777 in (0o640, 0o644), name  # 0o644: written before this umask
    for name in ("checkpoint.pt", "model.pt", "status.json"):
        assert (out / name).stat().st_mode & 0o777 == 0o640, name
    # landscape and a second resume read the folder
    assert load_run(out).epoch == 4
    assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 0
    assert "already finished" in capsys.readouterr().err


def test_torn_line_without_a_checkpoint_is_dropped(runs, tmp_path):
    out = copy(runs[1], tmp_path / "run")
    (out / "checkpoint.pt").unlink()
    (out / "metrics.jsonl").write_text('{"epoch": 1, "lr": 0.1, "train_loss": 2.3, "train_acc": 10.0, '
                                       '"test_loss": 2.3, "test_acc": 10.0, "seconds": 1.0}\n{"epoch": 2, "l')
    from cellnas_edu.train.runfolder import plan_run

    config = make_config("smoke", **SMOKE)
    plan = plan_run(out, config, config.build_genotype(), resume=True)
    assert plan.state == "fresh" and plan.rewrite_metrics and "dropping 1 metrics line" in plan.notes[0]


# -- two processes on one folder ---------------------------------------------------------------------------------------
def test_a_second_trainer_gets_one_line_naming_the_holder(runs, tmp_path, capsys):
    out = copy(runs[1], tmp_path / "run")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with RunFolder(out).lock("train --test"):
        assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 2
        err = one_line(capsys)
        assert f"is in use by process {os.getpid()} (train --test)" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # untouched, lock file gone


def test_a_second_process_is_refused_while_a_run_trains(tmp_path):
    """Two real processes: the first trains (many epochs), the second is refused with its PID; after the first is
    killed (SIGKILL: its flock dies with it) the lock can be taken again."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "cellnas_edu", "train", "--arch", "DARTS", "--dataset", "synthetic", "--preset",
            "smoke", "--device", "cpu", "--epochs", "500", "--no-progress", "--out", str(out)]
    first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / ".lock").exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.2)
        assert (out / ".lock").exists(), first.stderr.read() if first.poll() is not None else "no lock file"
        second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and second.stderr.count("\n") == 1
        assert f"is in use by process {first.pid} (train)" in second.stderr
    finally:
        first.kill()
        first.wait(timeout=60)
    with RunFolder(out).lock():  # the killed holder's lock is gone with it
        pass


def test_landscape_on_one_output_is_locked(runs, tmp_path, capsys):
    run = copy(runs[0], tmp_path / "run")
    stale = run / ".landscape.npz.x1y2z3w4.tmp"
    stale.write_bytes(b"half")
    argv = ["landscape", str(run), "--steps", "3", "--samples", "20", "--no-progress"]
    with exclusive_lock(run, ".landscape.lock", "landscape --test"):
        assert main(argv) == 2
        assert f"is in use by process {os.getpid()} (landscape --test)" in one_line(capsys)
    assert not (run / "landscape.npz").exists() and stale.exists()
    assert main(argv) == 0
    assert (run / "landscape.npz").exists() and not stale.exists() and not (run / ".landscape.lock").exists()


# -- config.json edited between runs -----------------------------------------------------------------------------------
def test_resume_against_an_edited_config_is_refused(runs, tmp_path, capsys):
    out = copy(runs[1], tmp_path / "run")
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "epochs": 6}))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    flags = list(FLAGS)
    flags[flags.index("--epochs") + 1] = "6"
    assert main(["train", *flags, "--out", str(out), "--resume"]) == 2
    err = one_line(capsys)
    assert "checkpoint.pt was trained with another config" in err and "epochs: 4 -> 6" in err
    (out / "config.json").write_text(json.dumps({**config, "lr": 0.5}))
    assert main(["train", *FLAGS, "--lr", "0.5", "--out", str(out), "--resume"]) == 2
    assert "lr: 0.1 -> 0.5" in one_line(capsys)
    (out / "config.json").write_text(before["config.json"].decode())
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_landscape_of_an_edited_finished_run_is_refused(runs, tmp_path, capsys):
    """Editing epochs 4 -> 6 after the run must not relabel the epoch-4 weights 'epoch 6'."""
    out = copy(runs[0], tmp_path / "run")
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "epochs": 6}))
    with pytest.raises(UserError, match=r"model.pt was trained with another config .*epochs: 4 -> 6"):
        load_run(out)
    assert main(["landscape", str(out), "--steps", "3", "--samples", "20", "--no-progress"]) == 2
    assert "epochs: 4 -> 6" in one_line(capsys)


# -- hand-crafted checkpoints ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field, value, problem", [
    ("epoch", -1, "epoch -1 outside 1..4"),
    ("epoch", 100, "epoch 100 outside 1..4"),
    ("epoch", 0, "epoch 0 outside 1..4"),
    ("epoch", "one", "epoch is 'one', expected an integer"),
    ("epoch", True, "epoch is True, expected an integer"),
    ("model", {}, "model is empty, expected a state dict"),
    ("model", {"w": [1, 2]}, "model entry 'w' is not a named tensor"),
    ("rng", [], "rng is [], expected one generator state per process"),
    ("rng", [{"python": {}}], "rng[0]: python is not a Python random state"),
    ("optimizer", {}, "optimizer is not an optimizer state dict"),
    ("scheduler", {}, "scheduler is not a scheduler state dict"),
    ("metrics", [], "metrics are not the records of epochs 1..2"),
    ("config", [], "config is a list, expected a dict"),
])
def test_hand_crafted_checkpoints_are_one_line(runs, tmp_path, capsys, field, value, problem):
    out = copy(runs[1], tmp_path / "run")
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    torch.save({**checkpoint, field: value}, out / "checkpoint.pt")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 2
    err = one_line(capsys)
    assert str(out / "checkpoint.pt") in err and problem in err, err
    with pytest.raises(UserError, match="invalid checkpoint"):
        load_run(out, weights="checkpoint")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_checkpoint_that_does_not_fit_the_network_is_one_line(runs, tmp_path, capsys):
    out = copy(runs[1], tmp_path / "run")
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    model = dict(checkpoint["model"])
    model.pop(next(iter(model)))
    torch.save(with_digest({**checkpoint, "model": model}), out / "checkpoint.pt")  # intact, of another network
    assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 2
    assert "the checkpoint does not fit this run" in one_line(capsys)


@pytest.mark.parametrize("change, problem", [
    ({"state_dict": {}}, "state_dict is empty"),
    ({"config": "x"}, "genotype and config must be dicts"),
])
def test_hand_crafted_weights_files_are_one_line(runs, tmp_path, change, problem):
    out = copy(runs[0], tmp_path / "run")
    data = torch.load(out / "model.pt", weights_only=True)
    torch.save({**data, **change}, out / "model.pt")
    with pytest.raises(UserError, match=problem):
        load_run(out)


# -- every file of the run folder validated ----------------------------------------------------------------------------
def _flip_one_weight(payload: dict, key: str) -> dict:
    """A bit flipped on disk: one weight changes, the stored digest does not."""
    tensors = dict(payload[key])
    name = next(n for n, t in tensors.items() if t.is_floating_point() and t.numel() > 1)
    changed = tensors[name].clone(memory_format=torch.contiguous_format)
    changed.view(-1).view(torch.int32)[0] ^= 1 << 30  # an exponent bit: 0.0965 -> about 3e37
    return {**payload, key: {**tensors, name: changed}}


def test_a_bit_flipped_checkpoint_is_refused_on_resume_and_by_landscape(runs, tmp_path, capsys):
    out = copy(runs[1], tmp_path / "run")
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    torch.save(_flip_one_weight(checkpoint, "model"), out / "checkpoint.pt")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 2
    err = one_line(capsys)
    assert str(out / "checkpoint.pt") in err and "does not match its sha256 digest" in err, err
    assert main(["landscape", str(out), "--steps", "3", "--samples", "20", "--no-progress"]) == 2
    assert "does not match its sha256 digest" in one_line(capsys)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_bit_flipped_model_file_is_refused(runs, tmp_path, capsys):
    out = copy(runs[0], tmp_path / "run")
    data = torch.load(out / "model.pt", weights_only=True)
    torch.save(_flip_one_weight(data, "state_dict"), out / "model.pt")
    with pytest.raises(UserError, match=r"model.pt: the weights file does not match its sha256 digest"):
        load_run(out)
    assert main(["landscape", str(out), "--steps", "3", "--samples", "20", "--no-progress"]) == 2
    assert "model.pt" in one_line(capsys)
    torch.save({k: v for k, v in data.items() if k != "sha256"}, out / "model.pt")
    with pytest.raises(UserError, match=r"model.pt: the weights file has no sha256 digest"):
        load_run(out)


def test_the_digest_is_that_of_the_contents():
    from cellnas_edu.train.checkpoint import content_digest

    a = {"w": torch.tensor([1.0, 2.0]), "n": 3, "s": "x", "l": [1, None, 2.5]}
    assert content_digest(a) == content_digest({**a, "sha256": "anything"})
    for change in ({"w": torch.tensor([1.0, 2.5])}, {"w": torch.tensor([1.0, 2.0], dtype=torch.float64)},
                   {"w": torch.tensor([[1.0, 2.0]])}, {"n": 3.0}, {"s": "y"}, {"l": [1, None, 2.5, 0]},
                   {"n": True}):
        assert content_digest({**a, **change}) != content_digest(a), change
    assert content_digest({"w": torch.ones(2, 3).t()}) == content_digest({"w": torch.ones(3, 2)})  # layout-free


@pytest.mark.parametrize("line, problem", [
    ("[3]", "line 2: a list, expected an object"),
    ('"x"', "line 2: a str, expected an object"),
    ('{"epoch": 2}', "line 2: field 'lr' is missing"),
    ('{"epoch": 2, "lr": "fast", "train_loss": 1, "train_acc": 1, "test_loss": 1, "test_acc": 1, "seconds": 1}',
     "line 2: field 'lr' is \"fast\", expected a number"),
    ('{"epoch": 5, "lr": 0.1, "train_loss": 1, "train_acc": 1, "test_loss": 1, "test_acc": 1, "seconds": 1}',
     "line 2: epoch 5, expected 2"),
])
def test_hand_edited_metrics_lines_are_one_line(runs, tmp_path, capsys, line, problem):
    out = copy(runs[1], tmp_path / "run")
    first = (out / "metrics.jsonl").read_text().splitlines()[0]
    (out / "metrics.jsonl").write_text(first + "\n" + line + "\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 2
    err = one_line(capsys)
    assert str(out / "metrics.jsonl") in err and problem in err, err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _crafted(checkpoint: dict, path: str, value) -> dict:
    """`checkpoint` with the entry at the dotted `path` replaced by `value`, re-digested (a careful forger)."""
    import copy as copying

    crafted = copying.deepcopy(checkpoint)
    *parents, last = path.split(".")
    node = crafted
    def key(node, part):
        return int(part) if isinstance(node, list) or (part.isdigit() and int(part) in node) else part

    for part in parents:
        node = node[key(node, part)]
    node[key(node, last)] = value
    return with_digest(crafted)


@pytest.mark.parametrize("path, value, problem", [
    ("rng.0.torch", torch.zeros(7, dtype=torch.uint8), "rng[0]: torch is not a torch generator state"),
    ("rng.0.python.state", [1, 2, 3], "rng[0]: python is not a Python random state"),
    ("rng.0.numpy.keys", torch.zeros(3, dtype=torch.int64), "rng[0]: numpy is not a NumPy MT19937 state"),
    ("rng.0.numpy.pos", 10**6, "rng[0]: numpy is not a NumPy MT19937 state"),
    ("rng.0", "state", "rng[0]: a str, expected a dict"),
    ("optimizer.param_groups.0.lr", "x", "optimizer.param_groups[0].lr is 'x', expected a number"),
    ("optimizer.param_groups.0.momentum", float("nan"), "optimizer.param_groups[0].momentum is nan"),
    ("optimizer.param_groups.0.params", [0, 1], "optimizer.param_groups[0].params is 2, expected"),
    ("scheduler.base_lrs", [], "scheduler.base_lrs is 0, expected 1 entries"),
    ("scheduler.T_max", "4", "scheduler.T_max is '4', expected a number"),
])
def test_crafted_states_in_a_checkpoint_are_one_line(runs, tmp_path, capsys, path, value, problem):
    out = copy(runs[1], tmp_path / "run")
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    torch.save(_crafted(checkpoint, path, value), out / "checkpoint.pt")
    assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 2
    err = one_line(capsys)
    assert str(out / "checkpoint.pt") in err and problem in err, err


def test_a_momentum_buffer_of_another_shape_is_one_line(runs, tmp_path, capsys):
    out = copy(runs[1], tmp_path / "run")
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    index = next(iter(checkpoint["optimizer"]["state"]))
    torch.save(_crafted(checkpoint, f"optimizer.state.{index}.momentum_buffer", torch.zeros(2, 2, 2, 2, 2)),
               out / "checkpoint.pt")
    assert main(["train", *FLAGS, "--out", str(out), "--resume"]) == 2
    err = one_line(capsys)
    assert f"optimizer.state[{index}].momentum_buffer has shape (2, 2, 2, 2, 2)" in err, err
