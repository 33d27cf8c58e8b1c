"""A run's numbers depend on its torch thread count: it is fixed for the life of a run, recorded, and enforced.

Real subprocesses (`python -m cellnas_edu`), tiny presets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from cellnas_edu.errors import UserError
from cellnas_edu.train.determinism import DEFAULT_THREADS, numerics, resume_threads

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "--arch", "DARTS", "--dataset", "synthetic", "--preset", "smoke", "--device", "cpu",
         "--no-progress"]
DARTS_TINY = ["--dataset", "synthetic", "--search-images", "96", "--batch-size", "16", "--channels", "4",
              "--layers", "3", "--epochs", "2"]


def cli(*argv, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "cellnas_edu", *map(str, argv)], env=env, capture_output=True,
                          text=True, timeout=timeout)


def numbers(folder: Path) -> tuple[bytes, list[dict]]:
    """config.json's bytes and every metrics record without its wall-clock `seconds` (floats compared exactly)."""
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return (folder / "config.json").read_bytes(), [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_numerics_records_what_the_numbers_depend_on():
    with_two = numerics("cpu", threads=2)
    assert with_two == {"threads": 2, "torch": torch.__version__, "device": "cpu",
                        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled()}
    assert numerics("cpu")["threads"] == torch.get_num_threads()


def test_resume_threads_rules():
    assert resume_threads({"threads": 3}, None, "x") == 3
    assert resume_threads({"threads": 3}, 3, "x") == 3
    assert resume_threads(None, 2, "x") == 2
    with pytest.raises(UserError, match="x was run with 1 thread; resume with --threads 1 or start a new folder"):
        resume_threads({"threads": 1}, 2, "x")
    with pytest.raises(UserError, match="does not record its thread count"):
        resume_threads({}, None, "x")


def test_train_records_the_thread_count_and_it_changes_the_numbers(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli(*TRAIN, "--epochs", "1", "--threads", "1", "--out", one).returncode == 0
    assert cli(*TRAIN, "--epochs", "1", "--threads", "2", "--out", two).returncode == 0
    a, b = (json.loads((f / "config.json").read_text()) for f in (one, two))
    assert numbers(one)[1] != numbers(two)[1]  # float reductions split over 2 threads: other last bits
    assert a["numerics"]["threads"] == 1 and b["numerics"]["threads"] == 2
    assert a["numerics"]["torch"] == torch.__version__ and a["numerics"]["device"] == "cpu"
    assert {k: v for k, v in a.items() if k != "numerics"} == {k: v for k, v in b.items() if k != "numerics"}
    default = tmp_path / "default"
    assert cli(*TRAIN, "--epochs", "1", "--out", default).returncode == 0
    assert numbers(default) == numbers(one) and DEFAULT_THREADS == 1  # the default is 1 thread, not the load


def _kill_after_first_checkpoint(argv, out: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "cellnas_edu", *map(str, argv)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert (out / "checkpoint.pt").exists() and process.poll() is None, "finished or failed before a checkpoint"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=60)


def test_kill_and_resume_keeps_the_recorded_thread_count(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    flags = [*TRAIN, "--epochs", "3", "--threads", "2"]
    assert cli(*flags, "--out", whole).returncode == 0
    _kill_after_first_checkpoint([*flags, "--out", killed], killed)
    refused = cli(*TRAIN, "--epochs", "3", "--threads", "1", "--out", killed, "--resume")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.strip() == (f"error: run folder {killed} was run with 2 threads; resume with --threads 2 "
                                      "or start a new folder") or "resume with --threads 2 or start a new folder" \
        in refused.stderr
    resumed = cli(*TRAIN, "--epochs", "3", "--out", killed, "--resume")  # no --threads: the recorded 2
    assert resumed.returncode == 0, resumed.stderr
    assert numbers(killed)[1] == numbers(whole)[1] and len(numbers(whole)[1]) == 3
    assert numbers(killed)[0] == numbers(whole)[0]


def test_an_old_run_folder_without_the_field_needs_explicit_threads(tmp_path):
    out = tmp_path / "old"
    _kill_after_first_checkpoint([*TRAIN, "--epochs", "3", "--out", out], out)
    config = json.loads((out / "config.json").read_text())
    del config["numerics"]
    (out / "config.json").write_text(json.dumps(config))
    refused = cli(*TRAIN, "--epochs", "3", "--out", out, "--resume")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "does not record its thread count" in refused.stderr and "--threads" in refused.stderr


def test_search_random_jobs_two_equals_jobs_one(tmp_path):
    flags = ["search", "random", "--tiny", "--no-progress"]
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert cli(*flags, "--out", serial, "--jobs", "1").returncode == 0
    assert cli(*flags, "--out", parallel, "--jobs", "2").returncode == 0
    metrics = sorted(p.relative_to(serial) for p in serial.rglob("metrics.jsonl"))
    assert metrics and metrics == sorted(p.relative_to(parallel) for p in parallel.rglob("metrics.jsonl"))
    for path in metrics:
        assert numbers((serial / path).parent) == numbers((parallel / path).parent), path
    manifest = json.loads((serial / "experiment.json").read_text())
    assert manifest["numerics"]["threads"] == 1


def test_search_darts_resume_uses_the_recorded_threads(tmp_path):
    out = tmp_path / "darts"
    flags = ["search", "darts", *DARTS_TINY, "--device", "cpu", "--no-progress", "--out", out]
    first = cli(*flags, "--threads", "2")
    assert first.returncode == 0, first.stderr
    assert json.loads((out / "search.json").read_text())["numerics"]["threads"] == 2
    refused = cli(*flags, "--threads", "1", "--resume")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "was run with 2 threads; resume with --threads 2 or start a new folder" in refused.stderr
    assert cli(*flags, "--resume").returncode == 0
    assert json.loads((out / "search.json").read_text())["numerics"]["threads"] == 2
