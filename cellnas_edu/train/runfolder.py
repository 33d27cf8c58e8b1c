"""The run folder: its format, every read and write of it, whether a run may start or resume in it, and
reading a trained run back (Section 4.1, Appendix A.3: one folder per trained network).

[`RunFolder`][cellnas_edu.train.runfolder.RunFolder] is the only code that spells the folder's file names:
the trainer, the convergence summary, the studies, the tour and `cellnas landscape` all go through it.
Beside it, [`plan_run`][cellnas_edu.train.runfolder.plan_run] decides (reading only) where a run starts and
[`load_run`][cellnas_edu.train.runfolder.load_run] rebuilds a trained network. Layout:

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

Rules: a folder holding a run with another configuration is never touched;
a folder holding a run with the same configuration is only continued with
`resume`; recorded epochs are never rewritten. A crash between appending an
epoch's metrics and writing its checkpoint leaves `metrics.jsonl` one epoch
ahead; resuming truncates it (atomically) to the checkpoint's epoch and
repeats that epoch, which gives the same numbers.

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
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .. import __version__
from ..cells.cellspec import Genotype
from ..cells.genotypes import genotype_from_dict
from ..errors import UserError
from ..io import (
    append_jsonl,
    atomic_write_json,
    atomic_write_text,
    exclusive_lock,
    read_bounded_text,
    read_jsonl,
    remove_stale_temporaries,
)
from .checkpoint import load_checkpoint, load_weights_file, save_checkpoint, save_weights_file
from .config import TrainConfig, config_differences

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
    """What one run folder says: its state, its per-epoch test metrics (evaluated or diverged epochs) and its
    training time (the sum of every recorded epoch's `seconds`)."""

    state: str  # "missing" | "running" | "finished" | "diverged"
    epochs: list[int]
    test_loss: list[float]
    test_acc: list[float]
    seconds: float = 0.0

    @property
    def done(self) -> bool:
        return self.state in ("finished", "diverged")


@dataclass(frozen=True)
class RunFolder:
    """One run folder: the paths of its files, and every read and write of them."""

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

    # -- writes (the trainer's, holding the lock) ---------------------------------------------------------------

    def write_config(self, config: TrainConfig) -> None:
        """Write `config.json`: the configuration, the package version and the numerics it ran under."""
        from .determinism import NUMERICS_KEY, numerics

        atomic_write_json(self.config_path, {**config.to_dict(), "version": __version__,
                                             NUMERICS_KEY: numerics(config.device)})

    def write_metrics(self, metrics: list[dict]) -> None:
        """Replace `metrics.jsonl` atomically (used only to start it and to truncate after a crash)."""
        atomic_write_text(self.metrics_path, "".join(json.dumps(m) + "\n" for m in metrics))

    def append_metrics(self, record: dict) -> None:
        """Append one epoch's record to `metrics.jsonl` (flushed and fsynced)."""
        append_jsonl(self.metrics_path, record)

    def write_status(self, state: str, epochs_done: int) -> None:
        """Write `status.json` atomically: `state` (`"running"`, `"finished"`, `"diverged"`) after `epochs_done`."""
        atomic_write_json(self.status_path, {"state": state, "epochs_done": epochs_done})

    def save_checkpoint(self, checkpoint: dict) -> None:
        """Write `checkpoint.pt` atomically (see [`save_checkpoint`][cellnas_edu.train.checkpoint.save_checkpoint])."""
        save_checkpoint(self.checkpoint_path, checkpoint)

    def save_model(self, payload: dict) -> None:
        """Write `model.pt` (`{"state_dict", "genotype", "config"}`) atomically with its digest."""
        save_weights_file(self.model_path, payload)

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
        return RunRecord(state, epochs_seen, losses, accs, sum(float(m["seconds"]) for m in metrics))


# -- starting or resuming a run, and reading one back ---------------------------------------------------------


@dataclass
class RunPlan:
    """What [`plan_run`][cellnas_edu.train.runfolder.plan_run] found: how many epochs are done and what to do next.

    `state`: `"fresh"` (start at epoch 1), `"resume"` (continue after
    `epochs_done`), `"finished"` or `"diverged"` (nothing to do)."""

    state: str
    epochs_done: int = 0
    metrics: list[dict] = field(default_factory=list)
    rewrite_metrics: bool = False
    notes: list[str] = field(default_factory=list)


def plan_run(out_dir: Path, config: TrainConfig, genotype: Genotype, resume: bool) -> RunPlan:
    """Decide, reading only, whether and where a run starts in `out_dir` (`UserError` if it may not).

    Call it holding the folder's lock ([`RunFolder.lock`][cellnas_edu.train.runfolder.RunFolder.lock]). On resume the
    checkpoint is the authority: it must have been trained with this very
    configuration (`config.json` edited after the fact, e.g. epochs 4 -> 6
    or another lr, is refused: the cosine schedule and every recorded epoch
    depend on them, so a longer or different run is a new run in a new
    folder), and `metrics.jsonl` is cut back to the records it vouches for
    (a torn last line, or lines of epochs after the checkpoint)."""
    folder = RunFolder(out_dir)
    out_dir = folder.path
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: exists and is not a folder")
    if folder.is_empty():
        return RunPlan("fresh")
    if not folder.config_path.exists():
        raise UserError(f"{out_dir}: exists, is not empty and holds no run ({CONFIG}); choose another --out")
    differences = config_differences(folder.read_config(), config)
    if differences:
        shown = "; ".join(differences[:3]) + ("; ..." if len(differences) > 3 else "")
        raise UserError(f"{out_dir} holds a run with a different config ({shown}); choose another --out")
    metrics = folder.metrics()
    torn = folder.metrics_torn()
    has_checkpoint = folder.checkpoint_path.exists()
    if not resume:
        if has_checkpoint or metrics or torn:
            raise UserError(f"{out_dir} already holds this run ({len(metrics)} epoch(s) recorded); "
                            "pass --resume to continue it or choose another --out")
        return RunPlan("fresh")
    torn_note = f"{METRICS} ended in a torn line (a crash in the middle of a write): cut back to complete records"
    done, recorded = 0, []
    if has_checkpoint:
        checkpoint = load_checkpoint(folder.checkpoint_path)
        check_genotype(checkpoint["genotype"], genotype, folder.checkpoint_path)
        check_trained_config(checkpoint["config"], config, folder.checkpoint_path)
        done, recorded = int(checkpoint["epoch"]), list(checkpoint["metrics"])
    if len(metrics) > done and metrics[done].get("diverged"):
        return RunPlan("diverged", done, recorded[:done] + [metrics[done]], rewrite_metrics=torn,
                       notes=[f"the run diverged at epoch {done + 1}; nothing to resume"] + ([torn_note] * torn))
    if not has_checkpoint:
        plan = RunPlan("fresh", rewrite_metrics=bool(metrics) or torn)
        if metrics or torn:
            plan.notes.append(f"no checkpoint: dropping {len(metrics)} metrics line(s) and starting at epoch 1")
        return plan
    plan = RunPlan("finished" if done >= config.epochs else "resume", done, recorded[:done])
    if len(metrics) > done:
        plan.rewrite_metrics = True
        plan.notes.append(f"{METRICS} had {len(metrics)} epoch(s) but the checkpoint {done}: "
                          f"truncated to epoch {done} (a crash between the two writes)")
    elif len(metrics) < done:
        plan.rewrite_metrics = True
        plan.notes.append(f"{METRICS} had {len(metrics)} epoch(s), the checkpoint {done}: restored from the checkpoint")
    elif metrics != plan.metrics:
        plan.rewrite_metrics = True
        plan.notes.append(f"{METRICS} differs from the epochs the checkpoint recorded: restored from the checkpoint")
    if torn:
        plan.rewrite_metrics = True
        plan.notes.append(torn_note)
    if plan.state == "finished":
        plan.notes.append(f"the run already finished its {done} epochs; nothing to do")
    return plan


def check_trained_config(trained: dict, config: TrainConfig, path: Path,
                         against: str = f"{CONFIG} and the flags") -> None:
    """Refuse weights trained with another configuration than `config` (what `against` says)."""
    differences = config_differences(trained, config)
    if differences:
        shown = "; ".join(differences[:3]) + ("; ..." if len(differences) > 3 else "")
        raise UserError(f"{path} was trained with another config than {against} say ({shown}); "
                        f"was {CONFIG} edited? A changed run (e.g. more epochs) needs a new --out")


def check_genotype(stored: dict, genotype: Genotype, path: Path) -> None:
    """Refuse weights (at `path`) of another architecture than `genotype`."""
    try:
        same = genotype_from_dict(stored) == genotype
    except ValueError:
        same = False
    if not same:
        raise UserError(f"{path}: checkpoint of another architecture than {genotype.name or 'the configured one'}")


@dataclass
class LoadedRun:
    """A run read back by [`load_run`][cellnas_edu.train.runfolder.load_run]: its config, genotype, network (eval mode)
    and metrics."""

    config: TrainConfig
    genotype: Genotype
    model: torch.nn.Module
    metrics: list[dict]
    run_dir: Path
    weights: str  # "final" (model.pt) or "checkpoint" (checkpoint.pt)
    epoch: int  # epochs of training behind the weights


def load_run(run_dir, *, map_location="cpu", weights: str = "best available") -> LoadedRun:
    """Rebuild the trained network of a run folder; weights are loaded with `weights_only=True`.

    `weights`: `"final"` (`model.pt`), `"checkpoint"` (`checkpoint.pt`)
    or `"best available"` (`model.pt` if present, else the checkpoint).
    Raises a one-line [`UserError`][cellnas_edu.errors.UserError] for a missing folder, a missing or
    corrupt weights file, and weights of another architecture."""
    from ..nets.model import network_for_dataset

    if weights not in ("final", "checkpoint", "best available"):
        raise ValueError(f"weights must be 'final', 'checkpoint' or 'best available', got {weights!r}")
    folder = RunFolder(run_dir)
    run_dir = folder.path
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run folder")
    try:
        config = TrainConfig.from_dict(folder.read_config())
    except ValueError as exc:
        raise UserError(f"{folder.config_path}: {exc}") from None
    use_final = weights == "final" or (weights == "best available" and folder.model_path.exists())
    if use_final:
        if not folder.model_path.exists():
            raise UserError(f"{run_dir}: no final weights ({MODEL}); the run has not finished")
        data = load_weights_file(folder.model_path, map_location)
        state_dict, stored_genotype, source = data["state_dict"], data["genotype"], folder.model_path
        epoch = config.epochs
    else:
        if not folder.checkpoint_path.exists():
            raise UserError(f"{run_dir}: no checkpoint ({CHECKPOINT}); no epoch has finished")
        data = load_checkpoint(folder.checkpoint_path, map_location)
        state_dict, stored_genotype, source = data["model"], data["genotype"], folder.checkpoint_path
        epoch = int(data["epoch"])
        if epoch > config.epochs:
            raise UserError(f"{source}: epoch {epoch} of a {config.epochs}-epoch run")
    if not isinstance(data["config"], dict):
        raise UserError(f"{source}: not a cellnas weights file (config is not a dict)")
    if data["config"].get("arch") != config.arch:
        raise UserError(f"{source}: checkpoint of another architecture ({data['config'].get('arch')!r}, "
                        f"the run folder says {config.arch!r})")
    genotype = config.build_genotype()  # the run folder's own copy: no file outside it is read
    check_genotype(stored_genotype, genotype, source)
    check_trained_config(data["config"], config, source, against=CONFIG)  # e.g. epochs edited 4 -> 6
    model = network_for_dataset(genotype, config.dataset, C=config.init_channels, layers=config.layers,
                                auxiliary=config.auxiliary, drop_path_prob=0.0)
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as exc:
        raise UserError(f"{source}: weights do not fit the configured network "
                        f"({str(exc).splitlines()[0][:160]})") from None
    if isinstance(map_location, (str, torch.device)):
        model.to(map_location)
    model.eval()
    return LoadedRun(config, genotype, model, folder.metrics(), run_dir,
                     "final" if use_final else "checkpoint", epoch)
