"""Checkpoints that load with `torch.load(..., weights_only=True)`, and the RNG state they carry.

A checkpoint holds only tensors, dicts, lists, numbers and strings, so loading
it never runs pickled code: the model, optimiser and scheduler state dicts,
the finished epoch, the metrics recorded so far, the genotype and config as
plain dicts, and the random-number-generator states of every process (Python
`random`, NumPy, torch CPU and CUDA) as lists and tensors. Restoring all of
them, plus a data order that depends only on `seed + epoch`, makes a resumed
run repeat an uninterrupted one exactly."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..io import atomic_save

CHECKPOINT_FORMAT = 1
_CHECKPOINT_KEYS = ("format", "epoch", "model", "optimizer", "scheduler", "rng", "config", "genotype", "metrics")


def seed_everything(seed: int) -> None:
    """Seed Python `random`, NumPy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state(device: torch.device | None = None) -> dict:
    """This process's generator states as plain lists and tensors (`weights_only`-safe)."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": {"version": version, "state": list(internal), "gauss": gauss},
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": None,
    }
    if device is not None and device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device | None = None) -> None:
    """Restore what [`rng_state`][cellnas_edu.train.checkpoint.rng_state] returned (the CUDA part only where this
    process uses CUDA)."""
    python = state["python"]
    random.setstate((python["version"], tuple(python["state"]), python["gauss"]))
    numpy = state["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["pos"],
                         numpy["has_gauss"], numpy["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    if device is not None and device.type == "cuda" and state.get("cuda") is not None:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


def save_checkpoint(path: Path, checkpoint: dict) -> None:
    """Write atomically (temporary file, fsync, rename): a crash leaves the previous checkpoint intact."""
    missing = [k for k in _CHECKPOINT_KEYS if k not in checkpoint]
    if missing:
        raise ValueError(f"checkpoint lacks {', '.join(missing)}")
    atomic_save(Path(path), lambda handle: torch.save(checkpoint, handle))


def load_weights_only(path: Path, what: str, map_location="cpu"):
    """`torch.load(path, weights_only=True)`; any failure (torch raises `RuntimeError`, `UnpicklingError`,
    `EOFError`, zip errors ...) is a one-line [`UserError`][cellnas_edu.errors.UserError]
    `"<path>: corrupt or truncated <what> (<first line of the reason>)"`. The callers check the structure."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: corrupt or truncated {what} ({reason[:160]})") from None


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Load with `weights_only=True`; a corrupt, truncated or foreign file raises a one-line `UserError`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no checkpoint")
    checkpoint = load_weights_only(path, "checkpoint", map_location)
    if not isinstance(checkpoint, dict) or any(k not in checkpoint for k in _CHECKPOINT_KEYS):
        raise UserError(f"{path}: not a cellnas training checkpoint")
    if checkpoint["format"] != CHECKPOINT_FORMAT:
        raise UserError(f"{path}: checkpoint format {checkpoint['format']!r}, expected {CHECKPOINT_FORMAT}")
    problem = checkpoint_problem(checkpoint)
    if problem:
        raise UserError(f"{path}: invalid checkpoint ({problem})")
    return checkpoint


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _state_dict_problem(name: str, value) -> str | None:
    if not isinstance(value, dict) or not value:
        return f"{name} is {type(value).__name__ if not isinstance(value, dict) else 'empty'}, expected a state dict"
    bad = [k for k, v in value.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        return f"{name} entry {bad[0]!r} is not a named tensor"
    return None


def checkpoint_problem(checkpoint: dict) -> str | None:
    """What is wrong with the structure or ranges of a loaded checkpoint (`None` if nothing): a hand-crafted
    `epoch = -1`, `epoch = "one"`, an epoch beyond the run's, `model = {}`, `rng = []`,
    `optimizer = {}`... are caught here, before anything is restored from them."""
    epoch, config = checkpoint["epoch"], checkpoint["config"]
    if not isinstance(config, dict):
        return f"config is a {type(config).__name__}, expected a dict"
    if not isinstance(checkpoint["genotype"], dict):
        return f"genotype is a {type(checkpoint['genotype']).__name__}, expected a dict"
    if not _is_int(epoch):
        return f"epoch is {epoch!r}, expected an integer"
    epochs = config.get("epochs")
    if not _is_int(epochs) or epochs < 1:
        return f"config epochs is {epochs!r}, expected a positive integer"
    if not 1 <= epoch <= epochs:
        return f"epoch {epoch} outside 1..{epochs} (the run's epochs)"
    problem = _state_dict_problem("model", checkpoint["model"])
    if problem:
        return problem
    optimizer = checkpoint["optimizer"]
    if (not isinstance(optimizer, dict) or not isinstance(optimizer.get("state"), dict)
            or not isinstance(optimizer.get("param_groups"), list) or not optimizer["param_groups"]
            or not all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in optimizer["param_groups"])):
        return "optimizer is not an optimizer state dict (state, param_groups)"
    scheduler = checkpoint["scheduler"]
    if not isinstance(scheduler, dict) or not _is_int(scheduler.get("last_epoch")):
        return "scheduler is not a scheduler state dict (last_epoch)"
    if scheduler["last_epoch"] != epoch:
        return f"scheduler stepped {scheduler['last_epoch']} times after epoch {epoch}"
    rng = checkpoint["rng"]
    if not isinstance(rng, list) or not rng:
        return f"rng is {rng!r}, expected one generator state per process"
    for state in rng:
        if (not isinstance(state, dict) or not isinstance(state.get("torch"), torch.Tensor)
                or state["torch"].dtype != torch.uint8 or not isinstance(state.get("python"), dict)
                or not isinstance(state.get("numpy"), dict)):
            return "rng holds a malformed generator state"
    metrics = checkpoint["metrics"]
    if (not isinstance(metrics, list) or len(metrics) != epoch
            or not all(isinstance(m, dict) and m.get("epoch") == i for i, m in enumerate(metrics, 1))):
        return f"metrics are not the records of epochs 1..{epoch}"
    return None


def load_weights_file(path: Path, map_location="cpu") -> dict:
    """Load `model.pt` (`{"state_dict", "genotype", "config"}`) with `weights_only=True`."""
    path = Path(path)
    data = load_weights_only(path, "weights file", map_location)
    if not isinstance(data, dict) or any(k not in data for k in ("state_dict", "genotype", "config")):
        raise UserError(f"{path}: not a cellnas weights file")
    problem = _state_dict_problem("state_dict", data["state_dict"])
    if problem is None and not (isinstance(data["genotype"], dict) and isinstance(data["config"], dict)):
        problem = "genotype and config must be dicts"
    if problem:
        raise UserError(f"{path}: invalid weights file ({problem})")
    return data
