"""The resumable runner of an experiment: manifest check, the runs still to do, serial or pooled training.

Shared by [`run_convergence`][cellnas_edu.convergence.runner.run_convergence] (Section 4.1) and
[`run_early_selection`][cellnas_edu.search.early_selection.run_early_selection] (Section 4.1's argument about
premature evaluation, run as a search). A finished or diverged run is skipped, an interrupted one resumes from its
checkpoint, and `after_run` is called after every run, so a study's summary on disk is never more than one run
behind."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..io import atomic_write_json, read_bounded_text
from ..train.cpu import torch_threads
from ..train.determinism import NUMERICS_KEY, numerics, resume_threads
from ..train.runfolder import RunFolder
from .pool import run_in_parallel


def read_manifest(manifest: Path, protocol: dict, resume: bool, what: str) -> dict:
    """The `experiment.json` of an experiment folder that is being resumed, checked against `protocol`.

    Every refusal is a one-line [`UserError`][cellnas_edu.errors.UserError]: the folder already holds `what`
    and `resume` is off; the file is not valid JSON or not a manifest; or a field of the protocol differs
    (named in the message). Used by [`prepare`][cellnas_edu.experiments.runner.prepare] and by the DARTS
    search."""
    out_dir = manifest.parent
    if not resume:
        raise UserError(f"{out_dir} already holds {what}; pass --resume to continue it "
                        "(finished runs are skipped) or choose another --out")
    try:
        old = json.loads(read_bounded_text(manifest, what="manifest"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{manifest} is not valid JSON; remove the folder or choose another --out") from None
    if not isinstance(old, dict) or not isinstance(old.get("protocol"), dict):
        raise UserError(f"{manifest} is not an experiment manifest; choose another --out")
    new = json.loads(json.dumps(protocol))
    changed = [k for k in new if old["protocol"].get(k) != new[k]]
    if changed:
        raise UserError(f"{out_dir} holds an experiment with another protocol ({', '.join(changed)} differ); "
                        "choose another --out")
    return old


def prepare(out_dir: Path, protocol: dict, body: dict, *, resume: bool, threads: int, what: str, runs_glob: str,
            check_trained: Callable[[dict], None] = lambda old: None) -> None:
    """Write `OUT/experiment.json`: `protocol`, the numerics of `threads` torch threads, then `body`.

    When the manifest exists, it is checked with
    [`read_manifest`][cellnas_edu.experiments.runner.read_manifest] (`what` names the experiment in the
    message), the thread count with [`resume_threads`][cellnas_edu.train.determinism.resume_threads], and
    `check_trained(old manifest)` refuses cells that differ from the ones trained before. Without a manifest, run
    folders matching `runs_glob` refuse the folder unless `resume` is on."""
    manifest = out_dir / "experiment.json"
    if manifest.exists():
        old = read_manifest(manifest, protocol, resume, what)
        resume_threads(old.get(NUMERICS_KEY), threads, f"experiment folder {out_dir}")
        check_trained(old)
    elif any(out_dir.glob(runs_glob)) and not resume:
        raise UserError(f"{out_dir} already holds run folders; pass --resume or choose another --out")
    atomic_write_json(manifest, {"protocol": protocol, NUMERICS_KEY: numerics(threads=threads), **body})


@dataclass(frozen=True)
class PlannedRun:
    """One run of an experiment: `key` is handed to `after_run` (a learning rate, for the summaries), `config`
    is its [`TrainConfig`][cellnas_edu.train.TrainConfig], `folder` its run folder, `caption` the progress
    bar's note while it trains."""

    key: Hashable
    config: object
    folder: Path
    caption: str


def run_all(runs: list[PlannedRun], epochs: int, after_run: Callable[[Hashable], None], *, desc: str,
            jobs: int = 1, threads_per_job: int = 1, progress: bool = True, train_progress: bool = False,
            position: int | None = None) -> None:
    """Train every run of `runs` whose folder has not finished (or diverged) its `epochs`.

    `jobs == 1` trains them here, one after another, under `threads_per_job` torch threads (the workers' count:
    the same numbers as `jobs > 1`), with the trainer's own progress bar when `train_progress`; `jobs > 1` trains
    them `jobs` at a time in spawned workers ([`run_in_parallel`][cellnas_edu.experiments.pool.run_in_parallel]).
    `after_run(run.key)` is called in this process after each run. A tqdm bar (`desc`) on stderr counts the runs,
    the finished ones included."""
    from tqdm import tqdm

    todo = [run for run in runs if not RunFolder(run.folder).record(epochs).done]
    bar = tqdm(total=len(runs), initial=len(runs) - len(todo), desc=desc, unit="run", disable=not progress,
               file=sys.stderr, dynamic_ncols=True, position=position)
    try:
        if jobs == 1:
            with torch_threads(threads_per_job):
                _run_serially(todo, train_progress, bar, after_run)
        else:
            run_in_parallel([(run.key, run.config, run.folder) for run in todo], jobs, threads_per_job, bar,
                            after_run)
    finally:
        bar.close()


def _run_serially(todo: list[PlannedRun], train_progress: bool, bar, after_run) -> None:
    from ..train import train

    for run in todo:
        bar.set_postfix_str(run.caption)
        train(run.config, run.folder, resume=True, progress=train_progress)
        after_run(run.key)
        bar.update(1)
