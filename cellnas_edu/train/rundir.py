"""Whether a run may start or resume in a folder, writing its files, and reading a run back.

The folder's format (file names, status, metrics, config) is
[`RunFolder`][cellnas_edu.train.runfolder.RunFolder]'s.
Rules: a folder holding a run with another configuration is never touched;
a folder holding a run with the same configuration is only continued with
`resume`; recorded epochs are never rewritten. A crash between appending an
epoch's metrics and writing its checkpoint leaves `metrics.jsonl` one epoch
ahead; resuming truncates it (atomically) to the checkpoint's epoch and
repeats that epoch, which gives the same numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .. import __version__
from ..cells.cellspec import Genotype
from ..cells.genotypes import genotype_from_dict
from ..errors import UserError
from ..io import atomic_write_json, atomic_write_text
from .checkpoint import load_checkpoint, load_weights_file
from .config import TrainConfig, config_differences
from .runfolder import CHECKPOINT, CONFIG, METRICS, MODEL, STATUS, RunFolder


@dataclass
class RunPlan:
    """What [`plan_run`][cellnas_edu.train.rundir.plan_run] found: how many epochs are done and what to do next.

    `state`: `"fresh"` (start at epoch 1), `"resume"` (continue after
    `epochs_done`), `"finished"` or `"diverged"` (nothing to do)."""

    state: str
    epochs_done: int = 0
    metrics: list[dict] = field(default_factory=list)
    rewrite_metrics: bool = False
    notes: list[str] = field(default_factory=list)


def read_config_json(run_dir: Path) -> dict:
    return RunFolder(run_dir).read_config()


def read_metrics(run_dir: Path) -> list[dict]:
    return RunFolder(run_dir).metrics()


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
    if not (out_dir / CONFIG).exists():
        raise UserError(f"{out_dir}: exists, is not empty and holds no run ({CONFIG}); choose another --out")
    differences = config_differences(read_config_json(out_dir), config)
    if differences:
        shown = "; ".join(differences[:3]) + ("; ..." if len(differences) > 3 else "")
        raise UserError(f"{out_dir} holds a run with a different config ({shown}); choose another --out")
    metrics = read_metrics(out_dir)
    torn = folder.metrics_torn()
    has_checkpoint = (out_dir / CHECKPOINT).exists()
    if not resume:
        if has_checkpoint or metrics or torn:
            raise UserError(f"{out_dir} already holds this run ({len(metrics)} epoch(s) recorded); "
                            "pass --resume to continue it or choose another --out")
        return RunPlan("fresh")
    torn_note = f"{METRICS} ended in a torn line (a crash in the middle of a write): cut back to complete records"
    done, recorded = 0, []
    if has_checkpoint:
        checkpoint = load_checkpoint(out_dir / CHECKPOINT)
        check_genotype(checkpoint["genotype"], genotype, out_dir / CHECKPOINT)
        check_trained_config(checkpoint["config"], config, out_dir / CHECKPOINT)
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
    try:
        same = genotype_from_dict(stored) == genotype
    except ValueError:
        same = False
    if not same:
        raise UserError(f"{path}: checkpoint of another architecture than {genotype.name or 'the configured one'}")


def write_metrics(out_dir: Path, metrics: list[dict]) -> None:
    """Replace `metrics.jsonl` atomically (used only to truncate after a crash)."""
    atomic_write_text(Path(out_dir) / METRICS, "".join(json.dumps(m) + "\n" for m in metrics))


def write_config(out_dir: Path, config: TrainConfig) -> None:
    from .determinism import NUMERICS_KEY, numerics

    atomic_write_json(Path(out_dir) / CONFIG, {**config.to_dict(), "version": __version__,
                                               NUMERICS_KEY: numerics(config.device)})


def write_status(out_dir: Path, state: str, epochs_done: int) -> None:
    atomic_write_json(Path(out_dir) / STATUS, {"state": state, "epochs_done": epochs_done})


@dataclass
class LoadedRun:
    """A run read back by [`load_run`][cellnas_edu.train.rundir.load_run]: its config, genotype, network (eval mode)
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
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run folder")
    try:
        config = TrainConfig.from_dict(read_config_json(run_dir))
    except ValueError as exc:
        raise UserError(f"{run_dir / CONFIG}: {exc}") from None
    use_final = weights == "final" or (weights == "best available" and (run_dir / MODEL).exists())
    if use_final:
        if not (run_dir / MODEL).exists():
            raise UserError(f"{run_dir}: no final weights ({MODEL}); the run has not finished")
        data = load_weights_file(run_dir / MODEL, map_location)
        state_dict, stored_genotype, source = data["state_dict"], data["genotype"], run_dir / MODEL
        epoch = config.epochs
    else:
        if not (run_dir / CHECKPOINT).exists():
            raise UserError(f"{run_dir}: no checkpoint ({CHECKPOINT}); no epoch has finished")
        data = load_checkpoint(run_dir / CHECKPOINT, map_location)
        state_dict, stored_genotype, source = data["model"], data["genotype"], run_dir / CHECKPOINT
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
    return LoadedRun(config, genotype, model, read_metrics(run_dir), run_dir,
                     "final" if use_final else "checkpoint", epoch)
