"""What a write may replace (cellnas_edu.io): regular files and new paths only; symlinks are written through.

Renaming a temporary file over `/dev/null`, a FIFO or a socket would replace
the node itself; these tests check that nothing is written and the node is
still what it was, and that every file argument of the CLI refuses an empty
path instead of writing nothing."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cellnas_edu.errors import UserError
from cellnas_edu.io import append_jsonl, atomic_write_json, atomic_write_text, writable_target


def _cellnas(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cellnas_edu", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_dev_null_is_refused_and_left_a_device():
    before = os.stat("/dev/null")
    with pytest.raises(UserError, match=r"cannot write /dev/null: is a device, not a regular file"):
        atomic_write_text("/dev/null", "x")
    with pytest.raises(UserError, match=r"/dev/null: is a device"):
        append_jsonl(Path("/dev/null"), {"a": 1})
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


def test_fifo_socket_and_folder_are_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    folder = tmp_path / "folder"
    folder.mkdir()
    try:
        for path, reason in ((fifo, "FIFO"), (sock_path, "socket"), (folder, "folder")):
            with pytest.raises(UserError, match=rf"cannot write {path}: is a (\w+ )?\(?{reason}"):
                atomic_write_json(path, {"a": 1})
        assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISSOCK(os.stat(sock_path).st_mode)
        assert list(folder.iterdir()) == []
        assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "pipe", "sock"]  # no temporary left
    finally:
        server.close()


def test_symlink_is_written_through_atomically(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert target.read_text() == "new"
    # a dangling link creates its target
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to("sub/created.json")
    atomic_write_text(dangling, "made")
    assert dangling.is_symlink() and (tmp_path / "sub" / "created.json").read_text() == "made"
    # a chain of links ends at the last one's target
    chain = tmp_path / "chain.json"
    chain.symlink_to(link.name)
    atomic_write_text(chain, "via chain")
    assert target.read_text() == "via chain" and link.is_symlink() and chain.is_symlink()


def test_symlink_to_a_device_or_a_loop_is_refused(tmp_path):
    to_null = tmp_path / "null"
    to_null.symlink_to("/dev/null")
    with pytest.raises(UserError, match=r"null \(a symlink to /dev/null\): is a device"):
        atomic_write_text(to_null, "x")
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    with pytest.raises(UserError, match="symlink loop"):
        atomic_write_text(loop, "x")


def test_empty_path_is_an_error():
    with pytest.raises(UserError, match="an empty path"):
        writable_target("")
    with pytest.raises(UserError, match="an empty path"):
        atomic_write_text("  ", "x")


def test_a_regular_file_keeps_being_replaced(tmp_path):
    path = tmp_path / "a.json"
    atomic_write_json(path, [1])
    atomic_write_json(path, [2])
    assert path.read_text() == "[\n  2\n]\n" and writable_target(path) == path


@pytest.mark.parametrize("args", [
    ("variants", "DARTS", "-o", ""),
    ("adapt", "DARTS", "-o", ""),
    ("draw", "DARTS", "-o", ""),
    ("analyze", ""),
    ("train", "--out", ""),
    ("convergence", "DARTS", "--out", "x", "--results-name", ""),
    ("convergence", "DARTS", "--out", ""),
    ("search", "random", "--out", ""),
    ("landscape", ""),
])
def test_cli_refuses_empty_paths(args, tmp_path):
    result = _cellnas(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    assert len(result.stderr.strip().splitlines()) == 1
    assert "an empty" in result.stderr and "'.'" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_section4_study_refuses_an_empty_results_name(tmp_path):
    script = Path(__file__).resolve().parents[1] / "examples" / "section4_study.py"
    result = subprocess.run([sys.executable, str(script), "convergence", "--results-name", "", "--out",
                             str(tmp_path / "runs"), "--results", str(tmp_path / "results")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "an empty name" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [("variants", "DARTS", "-o"), ("adapt", "DARTS", "-o"),
                                     ("draw", "DARTS", "-o")])
def test_cli_refuses_dev_null_and_fifo(command, tmp_path):
    fifo = tmp_path / "out.png" if command[0] == "draw" else tmp_path / "out.json"
    os.mkfifo(fifo)
    targets = [(str(fifo), "is a FIFO")] + ([] if command[0] == "draw" else [("/dev/null", "is a device")])
    for target, reason in targets:  # (draw refuses /dev/null earlier: no .png or .svg extension)
        result = _cellnas(*command, target)
        assert result.returncode == 2 and reason in result.stderr and target in result.stderr, result
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)
