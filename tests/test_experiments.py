"""The one runner of an experiment's many runs and the protocol base (cellnas_edu.experiments)."""

from __future__ import annotations

import json

import pytest

from cellnas_edu.errors import UserError
from cellnas_edu.experiments import PlannedRun, prepare, run_all
from cellnas_edu.search.early_selection import TINY, EarlySelectionSpec

# -- the protocol base ------------------------------------------------------------------------------------------------


def test_the_presets_are_the_declarations_they_replace():
    assert EarlySelectionSpec.from_preset("cpu") == EarlySelectionSpec()
    assert EarlySelectionSpec.from_preset("tiny") == EarlySelectionSpec(**TINY)
    spec = EarlySelectionSpec.from_preset("tiny", epochs=4)
    assert (spec.epochs, spec.candidates, spec.select_at) == (4, 3, (1, 2, 4))
    with pytest.raises(ValueError, match="unknown preset 'paper' of EarlySelectionSpec; one of cpu, tiny"):
        EarlySelectionSpec.from_preset("paper")


def test_a_preset_is_a_copy():
    fields = EarlySelectionSpec.preset_fields("tiny")
    fields["overrides"]["layers"] = 99
    assert EarlySelectionSpec.preset_fields("tiny")["overrides"]["layers"] == 4 == TINY["overrides"]["layers"]


def test_the_json_of_a_protocol_round_trips_with_the_old_keys():
    spec = EarlySelectionSpec.from_preset("tiny", lrs=(0.1, 0.01))
    data = spec.to_dict()
    assert data == spec.to_json() and data["lrs"] == [0.1, 0.01] and data["select_at"] == [1, 2]
    assert list(data) == ["arch", "candidates", "repetitions", "epochs", "select_at", "lrs", "dataset", "preset",
                          "overrides"]
    assert EarlySelectionSpec.from_dict(json.loads(json.dumps(data))) == spec


@pytest.mark.parametrize("field, value, message", [
    ("candidates", 1, "--candidates must be an integer of at least 2 (a search chooses between candidates), got 1"),
    ("epochs", 0, "--epochs must be a positive integer, got 0"),
    ("repetitions", True, "--repetitions must be an integer between 1 and"),
])
def test_declared_constraints_are_checked_when_built(field, value, message):
    with pytest.raises(ValueError) as error:
        EarlySelectionSpec.from_preset("tiny", **{field: value})
    assert str(error.value).startswith(message)


# -- the runner -------------------------------------------------------------------------------------------------------


def test_prepare_writes_the_manifest_and_refuses_another_protocol(tmp_path):
    prepare(tmp_path, {"epochs": 2}, {"cells": ["A"]}, resume=False, threads=1, what="a test", runs_glob="r*")
    manifest = json.loads((tmp_path / "experiment.json").read_text())
    assert list(manifest) == ["protocol", "numerics", "cells"] and manifest["protocol"] == {"epochs": 2}
    with pytest.raises(UserError, match="already holds a test; pass --resume"):
        prepare(tmp_path, {"epochs": 2}, {}, resume=False, threads=1, what="a test", runs_glob="r*")
    with pytest.raises(UserError, match=r"another protocol \(epochs differ\)"):
        prepare(tmp_path, {"epochs": 3}, {}, resume=True, threads=1, what="a test", runs_glob="r*")
    seen = []
    prepare(tmp_path, {"epochs": 2}, {"cells": ["A", "B"]}, resume=True, threads=1, what="a test", runs_glob="r*",
            check_trained=seen.append)
    assert seen[0]["cells"] == ["A"]  # the old manifest is handed over before it is rewritten
    assert json.loads((tmp_path / "experiment.json").read_text())["cells"] == ["A", "B"]


def test_prepare_refuses_run_folders_without_a_manifest(tmp_path):
    (tmp_path / "run0").mkdir()
    with pytest.raises(UserError, match="already holds run folders"):
        prepare(tmp_path, {}, {}, resume=False, threads=1, what="a test", runs_glob="run*")
    prepare(tmp_path, {}, {}, resume=True, threads=1, what="a test", runs_glob="run*")


def test_run_all_trains_only_the_runs_not_done_and_calls_back_after_each(tmp_path, monkeypatch):
    from cellnas_edu import train as train_package
    from cellnas_edu.train.runfolder import RunFolder

    done = {tmp_path / "b"}

    class Record:
        def __init__(self, folder):
            self.done = folder in done

    trained, after = [], []

    def fake_train(config, folder, resume, progress):
        assert resume and progress is False
        trained.append(config)
        done.add(folder)

    monkeypatch.setattr(RunFolder, "record", lambda self, epochs: Record(self.path))
    monkeypatch.setattr(train_package, "train", fake_train)
    runs = [PlannedRun(key, f"config-{name}", tmp_path / name, name) for key, name in ((1, "a"), (2, "b"), (3, "c"))]
    run_all(runs, 2, after.append, desc="test", progress=False)
    assert trained == ["config-a", "config-c"] and after == [1, 3]
    run_all(runs, 2, after.append, desc="test", progress=False)  # all done: nothing trained again
    assert trained == ["config-a", "config-c"] and after == [1, 3]
