"""A run folder is self-contained: its config carries the genotype as data, so it can be moved.

The genotype used to travel as a file path (``TrainConfig.arch``) and
moving an experiment folder broke ``--resume`` and ``cellnas landscape``.
"""

import json
import shutil

import pytest
from run_helpers import crash_after_checkpoint

from cellnas_edu.cells.genotypes import get_genotype, save_genotype
from cellnas_edu.cli import main
from cellnas_edu.train import make_config
from cellnas_edu.train.runfolder import RunFolder

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = ["--dataset", "synthetic", "--preset", "smoke", "--device", "cpu", "--train-subset", "48",
        "--test-subset", "16", "--batch-size", "16", "--layers", "3", "--no-progress"]


def test_config_carries_the_genotype_and_arch_is_a_label(tmp_path):
    path = tmp_path / "cell.json"
    save_genotype(get_genotype("DARTS_V2"), path)
    config = make_config("smoke", arch=str(path), dataset="synthetic")
    path.unlink()  # read once, when the config was made
    assert config.build_genotype() == get_genotype("DARTS_V2")
    data = json.loads(json.dumps(config.to_dict()))
    assert data["genotype"]["normal"] and data["arch"] == str(path)
    assert type(config).from_dict(data) == config
    labelled = make_config("smoke", arch="C1", genotype=get_genotype("ENAS"), dataset="synthetic")
    assert labelled.arch == "C1" and labelled.build_genotype() == get_genotype("ENAS")


def test_a_copied_run_folder_resumes_and_is_measured_without_its_genotype_file(tmp_path, capsys):
    genotype_file = tmp_path / "cells" / "mine.json"
    genotype_file.parent.mkdir()
    save_genotype(get_genotype("DARTS_V2"), genotype_file)
    original = tmp_path / "experiment" / "run"
    assert main(["train", "--arch", str(genotype_file), *TINY, "--epochs", "2", "--out", str(original)]) == 0
    # Interrupt after epoch 1: the trainer's own files, as a crash would leave them.
    folder = RunFolder(original)
    assert folder.record(2).state == "finished" and folder.read_config()["genotype"]["normal"]
    moved = tmp_path / "elsewhere" / "run"
    shutil.copytree(original, moved)
    shutil.rmtree(tmp_path / "experiment")
    shutil.rmtree(genotype_file.parent)  # the file named by --arch is gone too
    capsys.readouterr()
    assert main(["landscape", str(moved), "--steps", "3", "--span", "0.4", "--samples", "16", "--device", "cpu",
                 "--no-progress", "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["grid"] == [3, 3]
    # --resume with the same config continues nothing (finished) and keeps the metrics; the folder is unchanged.
    before = RunFolder(moved).metrics()
    assert main(["train", "--arch", str(genotype_file), *TINY, "--epochs", "2", "--out", str(moved),
                 "--resume"]) == 0
    assert RunFolder(moved).metrics() == before


def test_a_copied_partial_run_resumes(tmp_path, capsys):
    first = tmp_path / "a" / "run"
    # A partial run of a 3-epoch protocol: stopped after epoch 2's checkpoint. (Editing config.json of a
    # finished 2-epoch run instead is refused on resume: its checkpoint was trained with epochs 2.)
    with crash_after_checkpoint(2):
        assert main(["train", "--arch", "DARTS", *TINY, "--epochs", "3", "--out", str(first)]) == 130
    assert len(RunFolder(first).metrics()) == 2 and RunFolder(first).status()["state"] == "running"
    moved = tmp_path / "b" / "run"
    shutil.copytree(first, moved)
    shutil.rmtree(tmp_path / "a")
    assert main(["train", "--arch", "DARTS", *TINY, "--epochs", "3", "--out", str(moved), "--resume"]) == 0
    folder = RunFolder(moved)
    assert len(folder.metrics()) == 3 and folder.status()["state"] == "finished"


def test_an_old_run_folder_without_a_genotype_is_refused_in_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--arch", "DARTS", *TINY, "--epochs", "1", "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    del config["genotype"]
    (run / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["landscape", str(run), "--steps", "3", "--samples", "16", "--device", "cpu", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "genotype" in err


def test_run_folder_record_rules(tmp_path):
    folder = RunFolder(tmp_path)
    assert folder.record(2).state == "missing"
    folder.status_path.write_text("{")
    assert folder.record(2).state == "running"
    folder.status_path.write_text(json.dumps({"state": "finished", "epochs_done": 2}))
    folder.metrics_path.write_text(json.dumps({"epoch": 1, "lr": 0.1, "train_loss": 2.3, "train_acc": 10.0,
                                               "test_loss": None, "test_acc": 10.0, "seconds": 1.0}) + "\n")
    assert folder.record(2).state == "diverged"  # a null test loss next to an accuracy: NaN/inf
