"""Code, docs, tests and benchmarks say what they guarantee, not where it was discussed.

Every tracked text file (results/ excepted: data) is scanned for references to a tracker (a `#12`-style
number, an issue or pull-request link, the word for the tracker itself) and for repository paths that do not
exist (a docstring citing `tests/test_gone.py` or a module that moved), so a reader is never sent to something
that is not in the repository.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = re.compile(r"\.(py|md|sh|toml|ya?ml|cfg|txt|ini|js|css|html)$|(^|/)Makefile$")
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

#: a reference to a tracker: `#12` (not a page anchor such as `page.md#1-width`, not a colour), "issue 12",
#: ".../issues/12", ".../pull/12", "PR 12", the tracker named as such, a thread cited as "the issue".
TRACKER = re.compile(
    r"(?<![\w/.&#-])#\d{1,5}(?![\w-])"
    r"|\bissues?\s*#?\s*\d+"
    r"|/(?:issues|pull)/\d+"
    r"|\bPR\s*#?\d+"
    r"|\btracker\b"
    r"|\bthe issue\b",
    re.IGNORECASE,
)
#: a path inside the repository, as the text cites it (a glob such as `bench_*.py` is not a citation).
CITED_PATH = re.compile(r"(?<![\w./$~-])((?:cellnas_edu|tests|scripts|examples|benchmarks|docs|theory)"
                        r"/[\w./-]*\w\.(?:py|md|sh|toml|ya?ml|ipynb))\b")
#: (file, path) pairs that name no file on purpose, with the reason.
NOT_CITATIONS = {
    ("tests/test_gpu_check.py", "tests/test_x.py"): "a made-up pytest log line the parser is tested on",
}


def tracked_text_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return sorted(f for f in listed.splitlines()
                  if TEXT.search(f) and not f.startswith("results/") and f != THIS and (ROOT / f).is_file())


def tracker_references(text: str) -> list[str]:
    return [m.group(0) for m in TRACKER.finditer(text)]


def missing_paths(name: str, text: str) -> list[str]:
    return sorted({m.group(1) for m in CITED_PATH.finditer(text)
                   if not (ROOT / m.group(1)).exists() and (name, m.group(1)) not in NOT_CITATIONS})


def test_no_tracker_references():
    found = []
    for name in tracked_text_files():
        for line_no, line in enumerate((ROOT / name).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            found.extend(f"{name}:{line_no}: {hit!r}" for hit in tracker_references(line))
    assert found == []


def test_every_cited_repository_path_exists():
    found = []
    for name in tracked_text_files():
        found.extend(f"{name}: {path}" for path in missing_paths(name, (ROOT / name).read_text(
            encoding="utf-8", errors="replace")))
    assert found == []


@pytest.mark.parametrize("text", ["fixed in #123", "see issue 41", "issue #7", "github.com/o/r/issues/12",
                                  "github.com/o/r/pull/3", "PR #45", "as the tracker says", "the issue's design"])
def test_the_scanner_sees_a_tracker_reference(text):
    assert tracker_references(text), text


@pytest.mark.parametrize("text", ["[page](exercises.md#1-width-and-depth)", "colour #1f77b4", "# 2 epochs",
                                  "issue a warning", "epoch 12"])
def test_the_scanner_leaves_ordinary_text_alone(text):
    assert tracker_references(text) == [], text


def test_the_scanner_sees_a_missing_path():
    text = "see `tests/test_gone.py` and cellnas_edu/train/runfolder.py, not /tmp/x/tests/a.py or bench_*.py"
    assert missing_paths("x.md", text) == ["tests/test_gone.py"]
