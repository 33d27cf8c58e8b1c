"""Reading NATS-Bench's own topology archive, and the two commands on it, against files written here.

The files are written in the real on-disk format, independently of the reader: a folder
``NATS-tss-v1_0-3ffb9-simple/`` with ``meta.pickle.pbz2`` and one ``<index>.pickle.pbz2`` per architecture, each a
bz2-compressed pickle (protocol 4, as NATS-Bench's ``pickle_save``) of plain dicts shaped like NATS-Bench's
``ArchResults.state_dict()`` / ``ResultsCount.state_dict()``: hp ``'12'`` and ``'200'``, two seeds each, two
datasets. Expected numbers are computed here from what was written (Spearman with scipy)."""

from __future__ import annotations

import bz2
import collections
import json
import os
import pickle

import numpy as np
import pytest
from scipy import stats

from cellnas_edu.cli import main
from cellnas_edu.errors import UserError
from cellnas_edu.nb201 import schedules
from cellnas_edu.nb201.natsbench import ARCHIVE_NAME, NATSArchive, open_archive
from cellnas_edu.safe_pickle import restricted_loads

ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",  # w3 d3
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",  # w3 d2
    "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|",  # w1 d3
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|",  # w1 d1
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # untrainable
]
WIDTH_DEPTH = [(3, 3), (3, 2), (1, 3), (1, 1)]
#: (first-epoch, final) test accuracy of each architecture under each schedule; the 12-epoch ranking differs.
TEST_ACC = {"12": [(10, 80), (12, 85), (30, 70), (20, 60), (10, 10)],
            "200": [(10, 93), (12, 90), (60, 88), (20, 75), (10, 10)]}
SEEDS = {"12": (111, 777), "200": (777, 888)}
EVALS = {"cifar10": ("ori-test",), "cifar10-valid": ("x-valid", "ori-test")}


def curve(first: float, last: float, epochs: int, offset: float) -> list[float]:
    return [first + (last - first) * e / (epochs - 1) + offset for e in range(epochs)]


def run_state(index: int, hp: str, dataset: str, seed: int) -> dict:
    """One ``ResultsCount.state_dict()``: every field NATS-Bench writes, per-epoch values keyed by epoch."""
    epochs = int(hp)
    offset = 0.5 if seed == SEEDS[hp][0] else -0.5  # the seeds average to the designed curve
    first, last = TEST_ACC[hp][index]
    test = curve(first, last, epochs, offset)
    train_acc = curve(first / 2, min(last + 5, 99), epochs, offset)
    accs, losses, times = {}, {}, {}
    for name in EVALS[dataset]:
        for e in range(epochs):
            accs[f"{name}@{e}"] = test[e] if name != "x-valid" else test[e] - 1
            losses[f"{name}@{e}"] = 2.5 - test[e] / 50
            times[f"{name}@{e}"] = 0.25
    return {
        "name": dataset, "net_state_dict": None, "train_acc1es": dict(enumerate(train_acc)),
        "train_acc5es": dict(enumerate(train_acc)), "train_losses": {e: 2.3 - train_acc[e] / 50 for e in range(epochs)},
        "train_times": collections.OrderedDict((e, 7.5) for e in range(epochs)),
        "arch_config": {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": ARCHS[index], "class_num": 10},
        "params": 0.5, "flop": 80.0, "seed": seed, "epochs": epochs, "latency": [0.01, 0.012],
        "eval_names": list(EVALS[dataset]), "eval_acc1es": accs, "eval_times": times, "eval_losses": losses,
    }


def arch_state(index: int, hp: str) -> dict:
    """One ``ArchResults.state_dict()``."""
    return {
        "arch_index": index, "arch_str": ARCHS[index], "clear_net_done": True,
        "dataset_seed": {d: list(SEEDS[hp]) for d in EVALS},
        "all_results": {(d, s): run_state(index, hp, d, s) for d in EVALS for s in SEEDS[hp]},
    }


def write(path, obj) -> None:
    with bz2.BZ2File(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=4)


def write_archive(root, indexes=(0, 1, 2, 3, 4)):
    folder = root / ARCHIVE_NAME
    folder.mkdir(parents=True)
    write(folder / "meta.pickle.pbz2", {"meta_archs": ARCHS, "arch2infos": {}, "evaluated_indexes": set()})
    for i in indexes:
        write(folder / f"{i:06d}.pickle.pbz2", {hp: arch_state(i, hp) for hp in ("12", "200")})
    return folder


@pytest.fixture
def folder(tmp_path):
    return write_archive(tmp_path)


def cli(capsys, *argv):
    code = main(["nb201", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- the reader returns what was written --------------------------------------------------------------------------
def test_reader_returns_the_exact_values_written(folder):
    archive = NATSArchive(folder)
    assert archive.archs == tuple(ARCHS) and archive.indexes() == (0, 1, 2, 3, 4)
    both = archive.read(2)
    for hp in ("12", "200"):
        result = both[hp]
        assert (result.index, result.arch, result.hp) == (2, ARCHS[2], hp)
        assert [(r.dataset, r.seed) for r in result.runs] == [(d, s) for d in ("cifar10-valid", "cifar10")
                                                              for s in SEEDS[hp]]
        for run in result.runs:
            written = run_state(2, hp, run.dataset, run.seed)
            assert run.epochs == int(hp)
            assert run.train.accuracy == tuple(written["train_acc1es"][e] for e in range(int(hp)))
            assert run.train.loss == tuple(written["train_losses"][e] for e in range(int(hp)))
            assert [name for name, _ in run.evals] == written["eval_names"]
            for name, c in run.evals:
                assert c.accuracy == tuple(written["eval_acc1es"][f"{name}@{e}"] for e in range(int(hp)))
                assert c.loss == tuple(written["eval_losses"][f"{name}@{e}"] for e in range(int(hp)))
            assert run.test == run.eval("ori-test")
    assert both["200"].test_accuracy("cifar10") == pytest.approx(88.0)
    assert both["12"].test_accuracy("cifar10", epoch=1) == pytest.approx(30.0)
    assert archive.cell(1).width == 3 and archive.cell(1).depth == 2


def test_numpy_scalars_and_unpadded_names_are_read(tmp_path):
    folder = write_archive(tmp_path, indexes=())
    state = {hp: arch_state(3, hp) for hp in ("12", "200")}
    run = state["200"]["all_results"][("cifar10", 777)]
    run["train_acc1es"] = {e: np.float64(v) for e, v in run["train_acc1es"].items()}
    run["epochs"] = np.int64(200)
    write(folder / "3.pickle.pbz2", state)
    result = NATSArchive(tmp_path).read(3, ("200",))["200"]  # the parent folder is accepted too
    got = result.runs_on("cifar10")[0].train.accuracy
    assert got == tuple(float(v) for v in run["train_acc1es"].values())
    assert all(type(v) is float for v in got)


def test_a_validation_set_recorded_at_some_epochs_is_left_out_and_said_so(folder):
    state = {hp: arch_state(0, hp) for hp in ("12", "200")}
    run = state["200"]["all_results"][("cifar10-valid", 888)]
    del run["eval_acc1es"]["x-valid@150"]
    write(folder / "000000.pickle.pbz2", state)
    runs = NATSArchive(folder).read(0)["200"].runs_on("cifar10-valid")
    assert [(r.seed, r.partial, [n for n, _ in r.evals]) for r in runs] == [(777, (), ["x-valid", "ori-test"]),
                                                                             (888, ("x-valid",), ["ori-test"])]
    assert runs[1].test.accuracy[150] == run["eval_acc1es"]["ori-test@150"]


# -- hostile, corrupt and malformed files ----------------------------------------------------------------------------
class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("target", ["000001.pickle.pbz2", "meta.pickle.pbz2"])
def test_a_hostile_pickle_is_refused_and_never_runs(folder, tmp_path, target):
    marker = tmp_path / "pwned"
    evil = {"12": RunsCode(marker)} if target != "meta.pickle.pbz2" else {"meta_archs": [RunsCode(marker)]}
    write(folder / target, evil)
    with pytest.raises(UserError, match=r"refused to load global (posix|os)\.system") as info:
        NATSArchive(folder).read(1)
    assert target in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


def test_a_hostile_pickle_through_the_cli_is_one_line(folder, tmp_path, capsys):
    marker = tmp_path / "pwned"
    write(folder / "000002.pickle.pbz2", {"200": RunsCode(marker)})
    code, out, err = cli(capsys, "early-selection", "--nats-dir", str(folder), "--candidates", "2")
    assert code == 2 and out == "" and not marker.exists()
    assert err.count("\n") == 1 and "000002.pickle.pbz2" in err and "Traceback" not in err


class ObjectScalar:
    """Pickles as NumPy's scalar constructor asked for an object (the constructor must admit only numbers)."""

    def __reduce__(self):
        return np.float64(1.5).__reduce__()[0], (np.dtype(object), bytes(8))


@pytest.mark.parametrize("payload", [
    pickle.dumps(collections.OrderedDict(a=1), protocol=4).replace(b"\x8c\x0bOrderedDict\x94\x93\x94)R",
                                                                    b"\x8c\x0bOrderedDict\x94\x93\x94]\x85R"),
    pickle.dumps(ObjectScalar(), protocol=4),
])
def test_the_admitted_globals_are_themselves_restricted(payload):
    """OrderedDict only built empty (as its pickles do); a NumPy scalar only of a number (not an object)."""
    with pytest.raises(pickle.UnpicklingError):
        restricted_loads(payload)


def test_corrupt_and_truncated_bz2_name_the_file(folder):
    (folder / "000001.pickle.pbz2").write_bytes(b"not bz2 at all")
    with pytest.raises(UserError, match=r"000001\.pickle\.pbz2 is not bz2-compressed"):
        NATSArchive(folder).read(1)
    whole = (folder / "000002.pickle.pbz2").read_bytes()
    (folder / "000002.pickle.pbz2").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match=r"000002\.pickle\.pbz2 is a truncated bz2 stream"):
        NATSArchive(folder).read(2)
    (folder / "000004.pickle.pbz2").write_bytes(b"")
    with pytest.raises(UserError, match=r"000004\.pickle\.pbz2 is empty"):
        NATSArchive(folder).read(4)
    (folder / "000003.pickle.pbz2").write_bytes(bz2.compress(b"\x80\x04not a pickle"))
    with pytest.raises(UserError, match=r"000003\.pickle\.pbz2 is (a corrupt|not a plain-data) pickle"):
        NATSArchive(folder).read(3)


def test_reads_are_bounded(folder):
    with pytest.raises(UserError, match=r"meta\.pickle\.pbz2 is .* bytes, more than the 100 .* refused"):
        NATSArchive(folder, max_file_bytes=100)
    with pytest.raises(UserError, match=r"000000\.pickle\.pbz2 inflates beyond 10,000 bytes; refused"):
        NATSArchive(folder, max_pickle_bytes=10_000).read(0)


def test_missing_folder_meta_and_file(folder, tmp_path):
    with pytest.raises(UserError, match=f"is not a folder; needs {ARCHIVE_NAME}/"):
        open_archive(tmp_path / "absent")
    with pytest.raises(UserError, match=f"--nats-dir DIR is needed: the folder {ARCHIVE_NAME}/"):
        open_archive(None)
    (folder / "000004.pickle.pbz2").unlink()
    with pytest.raises(UserError, match=r"000004\.pickle\.pbz2 is missing"):
        NATSArchive(folder).read(4)
    (folder / "meta.pickle.pbz2").unlink()
    with pytest.raises(UserError, match=r"meta\.pickle\.pbz2 is missing; needs"):
        NATSArchive(folder)


def test_wrong_hp_is_refused(folder):
    archive = NATSArchive(folder)
    with pytest.raises(UserError, match=r"hp='100'"):
        archive.read(0, ("100",))
    write(folder / "000000.pickle.pbz2", {"200": arch_state(0, "200")})
    with pytest.raises(UserError, match=r"000000\.pickle\.pbz2: has no hp '12' \(it has '200'\)"):
        archive.read(0)
    swapped = {"12": arch_state(0, "200"), "200": arch_state(0, "200")}
    write(folder / "000000.pickle.pbz2", swapped)
    with pytest.raises(UserError, match=r"000000\.pickle\.pbz2: \['12'\]\['all_results'\].*\['epochs'\] is 200"):
        archive.read(0)


def edited(index: int, change) -> dict:
    state = {hp: arch_state(index, hp) for hp in ("12", "200")}
    change(state["12"], state["12"]["all_results"][("cifar10", 111)])
    return state


@pytest.mark.parametrize(("change", "message"), [
    (lambda a, r: r["train_acc1es"].pop(11), r"\['train_acc1es'\] has 11 epochs, expected 0\.\.11"),
    (lambda a, r: r.update(train_losses=[1.0] * 5), r"\['train_losses'\] has 5 values, expected 12"),
    (lambda a, r: r["train_acc1es"].update({3: "73.2"}), r"\['train_acc1es'\]\[3\] is str '73\.2', expected a number"),
    (lambda a, r: r["eval_acc1es"].update({"ori-test@4": 140.0}), r"ori-test@\*\]\[4\] is 140\.0, expected an accur"),
    (lambda a, r: r["eval_losses"].pop("ori-test@7"), r"\['eval_losses'\] has no 'ori-test@7' entry"),
    (lambda a, r: r.update(seed=5), r"\['seed'\] is 5, but the run is filed under seed 111"),
    (lambda a, r: r.update(eval_names=["x-valid"]), r"lacks the test set 'ori-test' of cifar10"),
    (lambda a, r: a.update(arch_str=ARCHS[0]), r"\['12'\]\['arch_str'\] is .* but the meta file says"),
    (lambda a, r: a["dataset_seed"].update(mnist=[1]), r"\['dataset_seed'\] names unknown dataset 'mnist'"),
    (lambda a, r: a["dataset_seed"]["cifar10"].append(999), r"\['all_results'\] keys do not match"),
    (lambda a, r: a.pop("all_results"), r"\['12'\] has no 'all_results' entry"),
])
def test_malformed_fields_name_the_file_and_field(folder, change, message):
    write(folder / "000001.pickle.pbz2", edited(1, change))
    with pytest.raises(UserError, match=message) as info:
        NATSArchive(folder).read(1)
    assert str(info.value).startswith(str(folder / "000001.pickle.pbz2"))


def test_malformed_meta_and_unknown_dataset(folder):
    write(folder / "meta.pickle.pbz2", {"meta_archs": [ARCHS[0], "|conv~0|+|x|"]})
    with pytest.raises(UserError, match=r"meta\.pickle\.pbz2: \['meta_archs'\]\[1\] is not a NAS-Bench-201 cell"):
        NATSArchive(folder)
    write(folder / "meta.pickle.pbz2", ARCHS)
    with pytest.raises(UserError, match=r"meta\.pickle\.pbz2: the meta file is a list, expected a dict"):
        NATSArchive(folder)
    write(folder / "meta.pickle.pbz2", {"meta_archs": ARCHS})
    result = NATSArchive(folder).read(0)["200"]
    with pytest.raises(UserError, match="unknown NATS-Bench dataset 'mnist'"):
        result.runs_on("mnist")
    with pytest.raises(UserError, match="has no cifar100 runs at hp=200"):
        result.runs_on("cifar100")


# -- the two analyses and commands ------------------------------------------------------------------------------------
def expected_final(hp: str) -> np.ndarray:
    return np.array([TEST_ACC[hp][i][1] for i in range(4)], dtype=float)  # the trainable ones; seeds average out


def test_schedules_on_the_written_files(folder, capsys):
    code, out, _ = cli(capsys, "schedules", "--nats-dir", str(folder), "--json")
    assert code == 0
    data = json.loads(out)
    acc12, acc200 = expected_final("12"), expected_final("200")
    assert data["n"] == 4 and data["untrainable_left_out"] == 1
    assert data["spearman_12_vs_200"] == pytest.approx(stats.spearmanr(acc12, acc200).statistic)
    assert data["spearman_12_vs_200"] == pytest.approx(0.8)
    rank12, rank200 = stats.rankdata(-acc12), stats.rankdata(-acc200)
    corner = data["widest_shallowest"]
    assert (corner["width"], corner["depth"], corner["n"]) == (3, 2, 1)
    assert (corner["mean_rank_12"], corner["mean_rank_200"]) == (rank12[1], rank200[1]) == (1.0, 2.0)
    assert corner["ranks_higher_early"] is True
    widths = np.array([w for w, _ in WIDTH_DEPTH])
    for row in data["by_width"]:
        sel = widths == row["width"]
        assert row["n"] == sel.sum() and row["mean_rank_12"] == pytest.approx(rank12[sel].mean())
        assert row["mean_rank_200"] == pytest.approx(rank200[sel].mean())
        assert row["spearman_12_vs_200"] is None  # two cells a width: undefined
    assert [r["depth"] for r in data["by_depth"]] == [1, 2, 3]
    code, out, _ = cli(capsys, "schedules", "--nats-dir", str(folder))
    assert code == 0 and "Spearman rho, 12 vs 200: +0.800" in out and "ranks higher early" in out


def test_early_selection_on_the_written_curves(folder, capsys):
    code, out, _ = cli(capsys, "early-selection", "--nats-dir", str(folder), "--k", "1,100,190,200",
                       "--candidates", "5", "--trials", "3", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["n"], data["epochs"], data["candidates"]) == (5, 200, 5)
    # Every set holds all five architectures: the pick after k epochs is the best of the written curves at k.
    curves = np.array([curve(*TEST_ACC["200"][i], 200, 0.0) for i in range(5)])
    final = curves[:, -1]
    for row in data["by_k"]:
        pick = int(np.argmax(curves[:, row["k"] - 1]))
        assert row["mean_final_selected"] == pytest.approx(final[pick])
        assert row["mean_final_best"] == pytest.approx(93.0)
        assert row["mean_regret"] == pytest.approx(93.0 - final[pick])
        assert row["share_optimal"] == (1.0 if pick == 0 else 0.0)
        assert row["spearman_k_vs_final"] == pytest.approx(stats.spearmanr(curves[:, row["k"] - 1], final).statistic)
    assert [r["mean_regret"] for r in data["by_k"]] == pytest.approx([5.0, 5.0, 0.0, 0.0])  # A2 leads until 181


def test_early_selection_with_smaller_sets_never_beats_the_final_pick(folder):
    data = schedules.early_selection(NATSArchive(folder), "cifar10", ks=(1, 50), candidates=2, trials=200, seed=3)
    for row in data["by_k"]:
        assert row["mean_regret"] >= 0 and 0 <= row["share_optimal"] <= 1
        assert row["mean_final_selected"] <= row["mean_final_best"]
    again = schedules.early_selection(NATSArchive(folder), "cifar10", ks=(1, 50), candidates=2, trials=200, seed=3)
    assert again == data


@pytest.mark.parametrize("argv", [["schedules"], ["early-selection"], ["schedules", "--nats-dir", "{tmp}"],
                                  ["early-selection", "--nats-dir", "{folder}", "--candidates", "9"],
                                  ["early-selection", "--nats-dir", "{folder}", "--k", "201"]])
def test_commands_without_the_files_say_what_is_needed(folder, tmp_path, capsys, argv):
    (tmp_path / "empty").mkdir()
    lacks_files = "{folder}" not in argv
    argv = [a.replace("{tmp}", str(tmp_path / "empty")).replace("{folder}", str(folder)) for a in argv]
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert (ARCHIVE_NAME in err) == lacks_files
