"""The run folder's format in one place: its file names, and reading its status, metrics and config.

Every reader of a run folder (the trainer's [`rundir`][cellnas_edu.train.rundir],
the convergence summary, the tour, `cellnas landscape`) goes through
[`RunFolder`][cellnas_edu.train.runfolder.RunFolder]; nothing else spells `status.json` or `metrics.jsonl`.
Layout:

```text
config.json     asdict(TrainConfig) + package version; the genotype is in it as data
metrics.jsonl   one line per finished epoch, epochs numbered from 1
checkpoint.pt   the latest epoch (atomic; weights_only-safe)
model.pt        final weights {"state_dict", "genotype", "config"}
status.json     {"state": "running" | "finished" | "diverged", "epochs_done"}
.lock           while a trainer runs: "<pid> train", flock-ed (removed when it ends)
```

A run folder is self-contained: it names no file outside itself, so it can be
copied or moved and still be resumed and measured.

Integrity: one trainer at a time holds the folder's lock
([`RunFolder.lock`][cellnas_edu.train.runfolder.RunFolder.lock]; a second gets one line naming the holder's PID);
holding it, the trainer removes the temporaries a killed write left
([`RunFolder.remove_stale_temporaries`][cellnas_edu.train.runfolder.RunFolder.remove_stale_temporaries]) and, on
resume, truncates a torn
last line of `metrics.jsonl` ([`RunFolder.metrics_torn`][cellnas_edu.train.runfolder.RunFolder.metrics_torn])."""

from __future__ import annotations

import json
import math
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..io import exclusive_lock, read_bounded_text, read_jsonl, remove_stale_temporaries

CONFIG, METRICS, CHECKPOINT, MODEL, STATUS = "config.json", "metrics.jsonl", "checkpoint.pt", "model.pt", "status.json"
LOCK = ".lock"
FILES = (CONFIG, METRICS, CHECKPOINT, MODEL, STATUS)
"""the files of the format; a folder holding nothing else but the lock and stale temporaries counts as empty"""


_NUMBER, _OPTIONAL = "a number", "a number or null"
METRIC_FIELDS = {"epoch": "an integer", "lr": _NUMBER, "train_loss": _OPTIONAL, "train_acc": _NUMBER,
                 "test_loss": _OPTIONAL, "test_acc": _OPTIONAL, "seconds": _NUMBER}
"""the fields of every `metrics.jsonl` record (the trainer writes a non-finite loss as null; `test_*` are null
on epochs `eval_every` skips); an optional `"diverged": true` marks the epoch a run diverged in"""


def metric_record_problem(record, epoch: int) -> str | None:
    """What is wrong with line `epoch` of `metrics.jsonl` (`None` if nothing): not an object, a missing field,
    a value of the wrong type, or an epoch number out of sequence."""
    if not isinstance(record, dict):
        return f"a {type(record).__name__}, expected an object with {', '.join(METRIC_FIELDS)}"
    for name, kind in METRIC_FIELDS.items():
        if name not in record:
            return f"field {name!r} is missing"
        value = record[name]
        if kind == "an integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = (value is None and kind == _OPTIONAL) or (isinstance(value, (int, float))
                                                          and not isinstance(value, bool))
        if not ok:
            return f"field {name!r} is {json.dumps(value)[:40]}, expected {kind}"
    if record["epoch"] != epoch:
        return f"epoch {record['epoch']}, expected {epoch} (one line per epoch, from 1)"
    if "diverged" in record and record["diverged"] is not True:
        return f"field 'diverged' is {json.dumps(record['diverged'])[:40]}, expected true or absent"
    return None


@dataclass
class RunRecord:
    """What one run folder says: its state and its per-epoch test metrics (evaluated or diverged epochs)."""

    state: str  # "missing" | "running" | "finished" | "diverged"
    epochs: list[int]
    test_loss: list[float]
    test_acc: list[float]

    @property
    def done(self) -> bool:
        return self.state in ("finished", "diverged")


@dataclass(frozen=True)
class RunFolder:
    """One run folder: the paths of its files and readers for them."""

    path: Path

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def status_path(self) -> Path:
        return self.path / STATUS

    def lock(self, what: str = "train") -> AbstractContextManager[Path]:
        """Exclusive lock on the folder for a `with` block (created if missing; `UserError` naming the PID
        of the holder otherwise). See [`cellnas_edu.io.exclusive_lock`][cellnas_edu.io.exclusive_lock]."""
        return exclusive_lock(self.path, LOCK, what, hint="; wait for it to finish or choose another --out")

    def remove_stale_temporaries(self) -> list[Path]:
        """Remove `.<file>.<random>.tmp` left by a process killed while writing (call holding
        [`lock`][cellnas_edu.train.runfolder.RunFolder.lock])."""
        return remove_stale_temporaries(self.path, FILES)

    def is_empty(self) -> bool:
        """Nothing but (possibly) the lock file: a fresh run may start here."""
        try:
            return all(entry.name == LOCK for entry in self.path.iterdir())
        except FileNotFoundError:
            return True

    def metrics_torn(self) -> bool:
        """Does `metrics.jsonl` end in an incomplete line (a crash in the middle of an append)?"""
        try:
            with open(self.metrics_path, "rb") as handle:
                handle.seek(0, 2)
                if handle.tell() == 0:
                    return False
                handle.seek(-1, 2)
                return handle.read(1) != b"\n"
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise UserError(f"{self.metrics_path}: unreadable ({exc})") from None

    def read_config(self) -> dict:
        """`config.json` as a dict (`UserError` if missing or unreadable)."""
        try:
            data = json.loads(read_bounded_text(self.config_path, what="training config"))
        except FileNotFoundError:
            raise UserError(f"{self.path}: not a run folder (no {CONFIG})") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"{self.config_path}: unreadable ({exc})") from None
        if not isinstance(data, dict):
            raise UserError(f"{self.config_path}: not a training config")
        return data

    def metrics(self) -> list[dict]:
        """The records of `metrics.jsonl`, each checked against
        [`METRIC_FIELDS`][cellnas_edu.train.runfolder.METRIC_FIELDS] (`[]` when absent; a one-line `UserError`
        naming the line and the field when corrupt or hand-edited; a torn last line is ignored)."""
        try:
            records = read_jsonl(self.metrics_path)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{self.metrics_path}: unreadable ({exc})") from None
        for epoch, record in enumerate(records, 1):
            problem = metric_record_problem(record, epoch)
            if problem:
                raise UserError(f"{self.metrics_path}: line {epoch}: {problem}")
        return records

    def status(self) -> dict | None:
        """`status.json` as a dict; `None` when absent; `{}` while it is being written (unreadable)."""
        try:
            data = json.loads(read_bounded_text(self.status_path, what="status file"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, epochs: int) -> RunRecord:
        """The run's state and test curve, judged against a protocol of `epochs` epochs.

        `"diverged"`: the status says so, a metrics line is flagged
        `diverged`, or a recorded test loss is not finite (the trainer writes
        a non-finite loss as null). `"finished"` needs `epochs` metrics
        lines: a run that finished a shorter protocol counts as `"running"`."""
        status = self.status()
        if status is None:
            return RunRecord("missing", [], [], [])
        if not status:
            return RunRecord("running", [], [], [])
        metrics = self.metrics()
        # An epoch is on the curve if it was evaluated (eval_every may skip some) or if it diverged. A null test
        # loss next to a test accuracy means the test loss was NaN/inf.
        curve = [m for m in metrics if m.get("test_acc") is not None or m.get("diverged")]
        epochs_seen = [int(m["epoch"]) for m in curve]
        losses = [math.nan if m.get("test_loss") is None else float(m["test_loss"]) for m in curve]
        accs = [math.nan if m.get("test_acc") is None else float(m["test_acc"]) for m in curve]
        state = status.get("state", "running")
        if (state == "diverged" or any(m.get("diverged") for m in metrics)
                or not all(math.isfinite(v) for v in losses)):
            state = "diverged"
        elif state == "finished" and len(metrics) < epochs:
            state = "running"  # finished a shorter protocol: not this experiment's run
        return RunRecord(state, epochs_seen, losses, accs)
