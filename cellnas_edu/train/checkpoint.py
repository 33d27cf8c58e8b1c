"""Checkpoints that load with ``torch.load(..., weights_only=True)``, and the RNG state they carry.

A checkpoint holds only tensors, dicts, lists, numbers and strings, so loading
it never runs pickled code: the model, optimiser and scheduler state dicts,
the finished epoch, the metrics recorded so far, the genotype and config as
plain dicts, and the random-number-generator states of every process (Python
``random``, NumPy, torch CPU and CUDA) as lists and tensors. Restoring all of
them, plus a data order that depends only on ``seed + epoch``, makes a resumed
run repeat an uninterrupted one exactly.
"""

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
    """Seed Python ``random``, NumPy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state(device: torch.device | None = None) -> dict:
    """This process's generator states as plain lists and tensors (``weights_only``-safe)."""
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
    """Restore what :func:`rng_state` returned (the CUDA part only where this process uses CUDA)."""
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


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Load with ``weights_only=True``; a corrupt, truncated or foreign file raises a one-line ``UserError``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no checkpoint")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, zipfile errors ...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: corrupt or truncated checkpoint ({reason[:160]})") from None
    if not isinstance(checkpoint, dict) or any(k not in checkpoint for k in _CHECKPOINT_KEYS):
        raise UserError(f"{path}: not a cellnas training checkpoint")
    if checkpoint["format"] != CHECKPOINT_FORMAT:
        raise UserError(f"{path}: checkpoint format {checkpoint['format']!r}, expected {CHECKPOINT_FORMAT}")
    return checkpoint


def load_weights_file(path: Path, map_location="cpu") -> dict:
    """Load ``model.pt`` (``{"state_dict", "genotype", "config"}``) with ``weights_only=True``."""
    path = Path(path)
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: corrupt or truncated weights file ({reason[:160]})") from None
    if not isinstance(data, dict) or any(k not in data for k in ("state_dict", "genotype", "config")):
        raise UserError(f"{path}: not a cellnas weights file")
    return data
