"""Bad input gets one line and exit 2, never a traceback; bugs keep their traceback.

The fuzz tests call :func:`cellnas_edu.cli.main` in-process over argument
lists and file contents drawn by Hypothesis: every call must return 0 or 2
(an uncaught exception fails the test with its traceback), and an exit 2 must
print exactly one line on stderr. A handful of cases run as subprocesses, as a
user would meet them.
"""

import errno
import json
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cellnas_edu.cli import main
from cellnas_edu.errors import UserError, one_line_message, refuse_if_too_big
from cellnas_edu.io import atomic_write_text, default_file_mode, remove_stale_temporaries

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, argv):
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code, err, *needles):
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("cellnas") and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


# -- the categories of one_line_message -----------------------------------------------------------------------------
def test_one_line_message_categories():
    assert one_line_message(UserError("x\ny")) == "x"
    assert one_line_message(FileNotFoundError(errno.ENOENT, "No such file or directory", "/a/b")) == \
        "/a/b: No such file or directory"
    assert one_line_message(NotADirectoryError(errno.ENOTDIR, "Not a directory", "/f/x")) == \
        "/f/x: a part of the path is a file, not a folder"
    assert "input nested too deeply" in one_line_message(RecursionError("maximum recursion depth exceeded"))
    assert one_line_message(zlib.error("invalid stored block lengths")).startswith("corrupt or truncated file")
    assert "BadZipFile" in one_line_message(zipfile.BadZipFile("File is not a zip file"))
    assert one_line_message(MemoryError()).startswith("out of memory")
    assert one_line_message(RuntimeError("DefaultCPUAllocator: can't allocate memory: 1e12 bytes")).startswith(
        "out of memory")
    assert "out of range" in one_line_message(OverflowError("int too large to convert"))
    for bug in (TypeError("f() got an unexpected keyword"), KeyError("x"), AttributeError("y"), IndexError(),
                RuntimeError("mat1 and mat2 shapes cannot be multiplied"), AssertionError()):
        assert one_line_message(bug) is None


def test_programming_errors_keep_their_traceback(monkeypatch):
    import cellnas_edu.cli.cells as cells

    def broken(args):
        raise TypeError("a bug")

    monkeypatch.setattr(cells, "run", broken)
    with pytest.raises(TypeError, match="a bug"):
        main(["cells"])


def test_refuse_if_too_big_names_the_estimate():
    refuse_if_too_big(10, "tiny", available=100)
    with pytest.raises(UserError, match=r"huge needs about 2.0 GiB of memory, more than the 1.0 GiB available"):
        refuse_if_too_big(2 * 1024**3, "huge", available=1024**3)


# -- the atomic writer: OS errors name the target; permissions follow the umask; stale temporaries ---------------------
@pytest.mark.parametrize("where, needle", [
    ("folder", "is a folder, not a file"),
    ("under-file", "a part of the path is a file, not a folder"),
    ("proc", "No such file or directory"),
])
def test_draw_output_that_cannot_be_written(tmp_path, capsys, where, needle):
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "file").write_text("x")
    target = {"folder": tmp_path / "folder.png", "under-file": tmp_path / "file" / "x.png",
              "proc": Path("/proc/cellnas-test.png")}[where]
    code, _, err = run_cli(capsys, ["draw", "DARTS", "-o", target])
    assert_one_line(code, err, f"cannot write {target}", needle)
    assert ".tmp" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.png"]  # no temporary left


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_draw_into_a_read_only_folder(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = run_cli(capsys, ["draw", "DARTS", "-o", folder / "x.png"])
    finally:
        folder.chmod(0o755)
    assert_one_line(code, err, "Permission denied")


def test_train_out_under_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(capsys, ["train", "--arch", "DARTS", "--dataset", "synthetic", "--preset", "smoke",
                                    "--out", tmp_path / "file" / "run", "--no-progress"])
    assert_one_line(code, err, str(tmp_path / "file"))


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_get_the_mode_the_umask_implies(tmp_path, umask):
    old = os.umask(umask)
    try:
        assert default_file_mode() == 0o666 & ~umask
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_remove_stale_temporaries(tmp_path):
    stale = [tmp_path / ".checkpoint.pt.ab12cd_9.tmp", tmp_path / ".metrics.jsonl.zzzzzzzz.tmp"]
    keep = [tmp_path / "checkpoint.pt", tmp_path / ".other.pt.ab12cd_9.tmp", tmp_path / "x.tmp"]
    for path in stale + keep:
        path.write_text("x")
    removed = remove_stale_temporaries(tmp_path, ["checkpoint.pt", "metrics.jsonl"])
    assert sorted(removed) == sorted(stale)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in stale)


# -- the cases of the sweep ------------------------------------------------------------------------------------------
TRAIN = ["train", "--arch", "DARTS", "--dataset", "synthetic", "--preset", "smoke", "--no-progress"]


def test_huge_learning_rate_is_refused_before_anything_is_written(tmp_path, capsys):
    code, _, err = run_cli(capsys, TRAIN + ["--out", tmp_path / "run", "--lr", "1e39"])
    assert_one_line(code, err, "lr must be a positive number at most 1e+06, got 1e+39")
    assert not (tmp_path / "run").exists()


def test_set_preset_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, TRAIN + ["--out", tmp_path / "run", "--set", "preset=cpu-mini"])
    assert_one_line(code, err, "preset is chosen by --preset")


@pytest.mark.parametrize("flags, needle", [
    (["--C", "100000"], "a network with C = 100000 and 4 cells (batch 32, 4 nodes in the normal cell) needs about"),
    (["--layers", "100000"], "layers must be an integer between 1 and 1000 (the paper uses 20), got 100000"),
    (["--seed", str(2**64)], "seed must be between 0 and 2**63 - 1"),
])
def test_train_requests_that_cannot_fit_or_overflow(tmp_path, capsys, flags, needle):
    code, _, err = run_cli(capsys, TRAIN + ["--out", tmp_path / "run"] + flags)
    assert_one_line(code, err, needle)
    assert not (tmp_path / "run").exists()


def test_landscape_grid_that_cannot_fit_is_refused_before_reading(tmp_path, capsys):
    code, _, err = run_cli(capsys, ["landscape", tmp_path / "no-run", "--steps", "100001"])
    assert_one_line(code, err, "a 100001x100001 grid needs about", "GiB")


@pytest.mark.parametrize("argv", [
    ["convergence", "DARTS", "--threads-per-job", "0", "--out", "x"],
    ["convergence", "DARTS", "--jobs", "0", "--out", "x"],
    ["variants", "DARTS", "--seed", str(2**64)],
    ["draw", "DARTS", "-o", "x.png", "--variants", "2", "--seed", str(2**64)],
    ["landscape", "x", "--seed", "-1"],
    ["theory", "--seed", str(2**64)],
    ["variants", "DARTS", "--count", str(10**9)],
    ["draw", "DARTS", "-o", "x.png", "--variants", str(10**9)],
    ["params", "--layers", str(10**9)],
])
def test_out_of_range_flags(capsys, argv):
    code, _, err = run_cli(capsys, argv)
    assert_one_line(code, err)


def test_theory_script_seed_out_of_range():
    result = subprocess.run([sys.executable, str(ROOT / "theory" / "theorem_4_2.py"), "--seed", str(2**64)],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--seed: seed must be between 0 and 2**63 - 1" in result.stderr


def test_subprocess_cases_print_no_traceback(tmp_path):
    """As a user meets them: ``python -m cellnas_edu`` with a nested genotype, a path under a file, a truncated
    landscape file."""
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "file").write_text("x")
    run = tmp_path / "run"
    run.mkdir()
    (run / "landscape.npz").write_bytes(b"PK\x03\x04 truncated")
    cases = [["analyze", tmp_path / "deep.json"], ["draw", "DARTS", "-o", tmp_path / "file" / "x.svg"],
             ["compare-landscapes", run, "--no-plots", "--out", tmp_path / "cmp"]]
    for argv in cases:
        result = subprocess.run([sys.executable, "-m", "cellnas_edu", *map(str, argv)], capture_output=True,
                                text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, (argv, result.stderr)


# -- fuzz: argument lists and file contents --------------------------------------------------------------------------
HOSTILE_VALUES = ["0", "-1", "1", "3", "2", "1e39", "-1e39", "nan", "inf", "1e-320", str(2**64), str(10**30),
                  "99999999", "", " ", "x", "DARTS", "normal", "reduce", "connections", "operations", "none",
                  "auto", "cuda", "cpu", "/proc/x.png", "/", "/dev/null", "{DIR}", "{FILE}", "{FILE}/x.png",
                  "{DIR}/out.png", "{DIR}/out.svg", "{DIR}/out.json", "{GENOTYPE}", "{DEEP}", "--json", "-o",
                  "preset=smoke", "cutout=-3", "lr=1e39", "seed=18446744073709551616", "foo=bar", "a"]

FLAGS = {
    "cells": ["--json"],
    "analyze": ["--json"],
    "variants": ["--kind", "--count", "--seed", "--cell", "--distinct", "-o", "--json"],
    "adapt": ["-o", "--json"],
    "draw": ["-o", "--cell", "--variants", "--kind", "--seed", "--columns", "--no-op-labels", "--json"],
    "space": ["--cell", "--json"],
    "params": ["--C", "--layers", "--no-auxiliary", "--json"],
    "landscape": ["--steps", "--span", "--samples", "--seed", "--chunk", "--batch-size", "--hessian-tol",
                  "--hessian-max-iter", "--weights", "--device", "--overwrite", "--json"],
    "compare-landscapes": ["--out", "--no-plots", "--json"],
    "train": ["--arch", "--preset", "--epochs", "--lr", "--seed", "--batch-size", "--C", "--layers",
              "--train-subset", "--test-subset", "--set", "--device", "--resume"],
}


def _materialise(token: str, scratch: Path) -> str:
    return (token.replace("{DIR}", str(scratch / "dir")).replace("{FILE}", str(scratch / "file"))
            .replace("{GENOTYPE}", str(scratch / "genotype.json")).replace("{DEEP}", str(scratch / "deep.json")))


def _scratch() -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="cellnas-fuzz-"))
    (scratch / "dir").mkdir()
    (scratch / "file").write_text("not a folder")
    (scratch / "genotype.json").write_text(json.dumps({"normal": [["sep_conv_3x3", 0], ["skip_connect", 1]],
                                                       "normal_concat": [2], "reduce": [["max_pool_3x3", 0],
                                                       ["sep_conv_5x5", 1]], "reduce_concat": [2]}))
    (scratch / "deep.json").write_text("[" * 50_000)
    return scratch


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(FLAGS)))
    positional = {"analyze": ["{GENOTYPE}", "{DEEP}", "{FILE}", "{DIR}", "x"], "landscape": ["{DIR}", "{FILE}", "x"],
                  "compare-landscapes": ["{DIR}", "{FILE}", "x"]}
    argv = [command]
    if command in ("variants", "adapt", "draw", "space"):
        argv.append(draw(st.sampled_from(["DARTS", "NASNet", "{GENOTYPE}", "{DEEP}", "{FILE}", "nope", ""])))
    elif command in positional:
        argv.append(draw(st.sampled_from(positional[command])))
    if command == "draw":
        argv += ["-o", draw(st.sampled_from(["{DIR}/out.svg", "{DIR}", "{FILE}/x.png", "/proc/x.png", "x.txt"]))]
    for flag in draw(st.lists(st.sampled_from(FLAGS[command]), max_size=4)):
        argv.append(flag)
        if draw(st.booleans()):
            argv.append(draw(st.sampled_from(HOSTILE_VALUES)))
    if command == "train":  # never train for real: a dataset that is missing, whatever the other flags say
        argv += ["--dataset", "cifar100", "--data-root", "{DIR}", "--out", "{DIR}/run", "--preset", "smoke",
                 "--arch", "DARTS", "--no-progress"]
    if command == "landscape":
        argv.append("--no-progress")
    return argv


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 40)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=command_lines())
def test_fuzz_argument_lists_exit_0_or_2_without_traceback(capsys, argv):
    scratch = _scratch()
    argv = [_materialise(a, scratch) for a in argv]
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, err)
    assert "Traceback" not in err, (argv, err)
    if code == 2:
        assert err.count("\n") == 1, (argv, err)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["sep_conv_3x3", "skip_connect", "none", "max_pool_3x3"]),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["normal", "normal_concat", "reduce", "reduce_concat", "name", "x"]), children, max_size=5),
    max_leaves=25)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 30)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=json_values, raw=st.binary(max_size=64), as_raw=st.booleans(),
       command=st.sampled_from(["analyze", "adapt", "space", "variants"]))
@example(data=None, raw=b"[" * 100_000, as_raw=True, command="analyze")  # RecursionError in json
@example(data=None, raw=b'{"normal": [' + b"9" * 5000 + b"]}", as_raw=True, command="adapt")  # > 4300 digits
@example(data=None, raw=b"\xff\xfe{", as_raw=True, command="space")  # not UTF-8
def test_fuzz_genotype_file_contents(capsys, data, raw, as_raw, command):
    scratch = _scratch()
    path = scratch / "g.json"
    if as_raw:
        path.write_bytes(raw)
    else:
        path.write_text(json.dumps(data))
    argv = [command, str(path)] + (["--count", "2"] if command == "variants" else [])
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err, (argv, err)
    if code == 2:
        assert err.count("\n") == 1 and str(path) in err, (argv, err)


def _pickled(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)


cifar_payloads = st.one_of(
    st.binary(max_size=200),
    st.builds(_pickled, json_values),
    st.builds(lambda values, n: _pickled({b"data": np.asarray(values, dtype=np.int64).reshape(n, -1)
                                          if len(values) % n == 0 else values, b"fine_labels": list(range(n))}),
              st.lists(st.integers(-300, 300), min_size=0, max_size=12), st.integers(1, 3)),
    st.builds(lambda n, label: _pickled({b"data": np.zeros((n, 3072), np.uint8), b"fine_labels": [label] * n}),
              st.integers(0, 2), st.integers(-(2**65), 2**65)),
)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 25)), deadline=None)
@given(payload=cifar_payloads)
@example(payload=_pickled({b"data": [[300] * 3072], b"fine_labels": [0]}))  # OverflowError in np.asarray(uint8)
@example(payload=_pickled({b"data": np.full((1, 3072), 300), b"fine_labels": [0]}))  # silently wrapped to 44
@example(payload=_pickled({b"data": np.zeros((0, 3072), np.uint8), b"fine_labels": []}))  # zero-size
def test_fuzz_cifar_batch_contents(payload):
    """A CIFAR-100 'test' file with arbitrary contents: either one line naming the file, or exactly the
    pixels and labels the file holds (nothing wrapped, cast or dropped)."""
    from cellnas_edu.data import load_dataset

    scratch = _scratch()
    folder = scratch / "cifar-100-python"
    folder.mkdir()
    (folder / "test").write_bytes(payload)
    try:
        dataset = load_dataset("cifar100", root=scratch, train=False)
    except UserError as exc:
        assert str(folder / "test") in str(exc) and "\n" not in str(exc)
        return
    stored = pickle.loads(payload, encoding="bytes")  # safe here: the payloads are built by this test
    stored = {k.decode() if isinstance(k, bytes) else k: v for k, v in stored.items()}
    assert np.array_equal(dataset.images.numpy().reshape(len(dataset), -1), np.asarray(stored["data"]))
    assert dataset.labels.tolist() == list(stored["fine_labels"])
