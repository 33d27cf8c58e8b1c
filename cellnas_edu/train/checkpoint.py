"""Checkpoints that load with `torch.load(..., weights_only=True)`, and the RNG state they carry.

A checkpoint holds only tensors, dicts, lists, numbers and strings, so loading
it never runs pickled code: the model, optimiser and scheduler state dicts,
the finished epoch, the metrics recorded so far, the genotype and config as
plain dicts, and the random-number-generator states of every process (Python
`random`, NumPy, torch CPU and CUDA) as lists and tensors. Restoring all of
them, plus a data order that depends only on `seed + epoch`, makes a resumed
run repeat an uninterrupted one exactly.

Integrity: every checkpoint and weights file carries the SHA-256 digest of
its own contents ([`content_digest`][cellnas_edu.train.checkpoint.content_digest]:
every key, number, string and tensor's dtype, shape and bytes), stored under
`"sha256"` in the same file, so it is written atomically with what it vouches
for. The readers ([`load_checkpoint`][cellnas_edu.train.checkpoint.load_checkpoint],
[`load_weights_file`][cellnas_edu.train.checkpoint.load_weights_file] and the
search's checkpoint reader) check the structure first and then the digest: a
flipped bit in a weight, or a field edited by hand, is refused with one line
naming the file."""

from __future__ import annotations

import hashlib
import math
import random
from pathlib import Path

import numpy as np
import torch

from ..constraints import is_integer
from ..errors import UserError
from ..io import atomic_save

CHECKPOINT_FORMAT = 1
DIGEST_KEY = "sha256"
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


def _feed(digest, obj) -> None:
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        digest.update(f"D{len(obj)}".encode())
        for key, value in obj.items():
            _feed(digest, key)
            _feed(digest, value)
    elif isinstance(obj, (list, tuple)):
        digest.update(f"{'L' if isinstance(obj, list) else 'U'}{len(obj)}".encode())
        for value in obj:
            _feed(digest, value)
    elif isinstance(obj, str):
        data = obj.encode("utf-8", "surrogatepass")
        digest.update(f"S{len(data)}:".encode() + data)
    elif obj is None or isinstance(obj, (bool, int, float)):
        digest.update(f"{type(obj).__name__}:{obj!r};".encode())
    else:
        raise TypeError(f"cannot digest a {type(obj).__name__}")


def content_digest(payload: dict) -> str:
    """SHA-256 of everything in `payload` but its `"sha256"` entry: keys in order, numbers by `repr`, strings as
    UTF-8, tensors by dtype, shape and bytes (contiguous, on the CPU). The same for a payload and what
    `torch.load` gives back for it."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in payload.items() if k != DIGEST_KEY})
    return digest.hexdigest()


def with_digest(payload: dict) -> dict:
    """`payload` with its [`content_digest`][cellnas_edu.train.checkpoint.content_digest] under `"sha256"`."""
    return {**{k: v for k, v in payload.items() if k != DIGEST_KEY}, DIGEST_KEY: content_digest(payload)}


def verify_digest(path: Path, payload: dict, what: str) -> None:
    """Refuse (one line naming `path`) a file without a digest or whose contents no longer match it."""
    stored = payload.get(DIGEST_KEY)
    if not isinstance(stored, str):
        raise UserError(f"{path}: the {what} has no {DIGEST_KEY} digest (written by an older cellnas, or edited); "
                        "its contents cannot be verified: rerun it in a new folder")
    if content_digest(payload) != stored:
        raise UserError(f"{path}: the {what} does not match its {DIGEST_KEY} digest (corrupted on disk or edited "
                        "by hand); restore it from a copy or rerun it")


def save_with_digest(path: Path, payload: dict) -> None:
    """`torch.save(with_digest(payload))`, atomically: a crash leaves the previous file intact."""
    data = with_digest(payload)
    atomic_save(Path(path), lambda handle: torch.save(data, handle))


def save_checkpoint(path: Path, checkpoint: dict) -> None:
    """Write atomically (temporary file, fsync, rename) with its digest: a crash leaves the previous checkpoint
    intact."""
    missing = [k for k in _CHECKPOINT_KEYS if k not in checkpoint]
    if missing:
        raise ValueError(f"checkpoint lacks {', '.join(missing)}")
    save_with_digest(path, checkpoint)


def save_weights_file(path: Path, payload: dict) -> None:
    """Write `model.pt` (`{"state_dict", "genotype", "config"}`) atomically with its digest."""
    save_with_digest(path, payload)


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
    verify_digest(path, checkpoint, "checkpoint")
    return checkpoint


def _state_dict_problem(name: str, value) -> str | None:
    if not isinstance(value, dict) or not value:
        return f"{name} is {type(value).__name__ if not isinstance(value, dict) else 'empty'}, expected a state dict"
    bad = [k for k, v in value.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        return f"{name} entry {bad[0]!r} is not a named tensor"
    return None


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def rng_state_problem(state) -> str | None:
    """What is wrong with one process's generator state (`None` if it can be restored): each part must have the
    type and shape this process's own [`rng_state`][cellnas_edu.train.checkpoint.rng_state] has, so a crafted
    state is refused here instead of failing deep inside `random.setstate` or `torch.set_rng_state`."""
    if not isinstance(state, dict):
        return f"a {type(state).__name__}, expected a dict of generator states"
    mine = rng_state()
    python, numpy, cpu = state.get("python"), state.get("numpy"), state.get("torch")
    if (not isinstance(python, dict) or python.get("version") != mine["python"]["version"]
            or not isinstance(python.get("state"), list) or len(python["state"]) != len(mine["python"]["state"])
            or not all(is_integer(v) and 0 <= v < 2**32 for v in python["state"])
            or not (python.get("gauss") is None or _is_real(python.get("gauss")))):
        return "python is not a Python random state (version 3, 625 integers below 2**32, gauss)"
    if (not isinstance(numpy, dict) or numpy.get("kind") != "MT19937"
            or not isinstance(numpy.get("keys"), torch.Tensor) or tuple(numpy["keys"].shape) != (624,)
            or numpy["keys"].dtype != torch.int64 or not is_integer(numpy.get("pos")) or not 0 <= numpy["pos"] <= 624
            or numpy.get("has_gauss") not in (0, 1) or not _is_real(numpy.get("cached_gaussian"))):
        return "numpy is not a NumPy MT19937 state (624 keys, pos 0..624, has_gauss, cached_gaussian)"
    if (not isinstance(cpu, torch.Tensor) or cpu.dtype != torch.uint8
            or tuple(cpu.shape) != tuple(mine["torch"].shape)):
        return f"torch is not a torch generator state ({tuple(mine['torch'].shape)[0]} bytes)"
    cuda = state.get("cuda")
    if cuda is not None and (not isinstance(cuda, torch.Tensor) or cuda.dtype != torch.uint8 or cuda.dim() != 1):
        return "cuda is not a CUDA generator state"
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
    if not is_integer(epoch):
        return f"epoch is {epoch!r}, expected an integer"
    epochs = config.get("epochs")
    if not is_integer(epochs) or epochs < 1:
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
    if not isinstance(scheduler, dict) or not is_integer(scheduler.get("last_epoch")):
        return "scheduler is not a scheduler state dict (last_epoch)"
    if scheduler["last_epoch"] != epoch:
        return f"scheduler stepped {scheduler['last_epoch']} times after epoch {epoch}"
    rng = checkpoint["rng"]
    if not isinstance(rng, list) or not rng:
        return f"rng is {rng!r}, expected one generator state per process"
    for index, state in enumerate(rng):
        problem = rng_state_problem(state)
        if problem:
            return f"rng[{index}]: {problem}"
    metrics = checkpoint["metrics"]
    if (not isinstance(metrics, list) or len(metrics) != epoch
            or not all(isinstance(m, dict) and m.get("epoch") == i for i, m in enumerate(metrics, 1))):
        return f"metrics are not the records of epochs 1..{epoch}"
    return None


def _kind(value) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value) if value is None else "bool"
    if _is_real(value):
        return "number"
    return type(value).__name__


def state_dict_mismatch(name: str, fresh, loaded, _where: str = "") -> str | None:
    """Where a loaded optimizer or scheduler state dict differs in structure from the one this run builds
    (`fresh`): other keys, another kind of value (a number where a number was, lists of the same length), so
    a crafted `lr = "x"` or `param_groups` of another network is refused before it is restored. The
    per-parameter `state` (empty in a fresh optimizer) is checked by
    [`optimizer_state_mismatch`][cellnas_edu.train.checkpoint.optimizer_state_mismatch]."""
    where = _where or name
    if isinstance(fresh, dict):
        if not isinstance(loaded, dict):
            return f"{where} is a {type(loaded).__name__}, expected a dict"
        if not _where and "param_groups" in fresh:  # an optimizer: its per-parameter state is checked elsewhere
            fresh, loaded = {k: v for k, v in fresh.items() if k != "state"}, \
                {k: v for k, v in loaded.items() if k != "state"}
        if set(fresh) != set(loaded):
            extra, missing = sorted(map(str, set(loaded) - set(fresh))), sorted(map(str, set(fresh) - set(loaded)))
            return f"{where} has keys {extra} it should not have" if extra else f"{where} lacks {missing}"
        for key in fresh:
            problem = state_dict_mismatch(name, fresh[key], loaded[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(fresh, (list, tuple)):
        if not isinstance(loaded, (list, tuple)) or len(loaded) != len(fresh):
            size = len(loaded) if isinstance(loaded, (list, tuple)) else type(loaded).__name__
            return f"{where} is {size}, expected {len(fresh)} entries"
        for index, (a, b) in enumerate(zip(fresh, loaded)):
            problem = state_dict_mismatch(name, a, b, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(fresh, torch.Tensor):
        if not isinstance(loaded, torch.Tensor) or loaded.shape != fresh.shape:
            return f"{where} is not a tensor of shape {tuple(fresh.shape)}"
        return None
    if _kind(fresh) != _kind(loaded) and not (fresh is None or loaded is None):
        return f"{where} is {loaded!r:.40}, expected a {_kind(fresh)}"
    if _is_real(loaded) and not math.isfinite(loaded):
        return f"{where} is {loaded!r}, expected a finite number"
    return None


def optimizer_state_mismatch(optimizer: torch.optim.Optimizer, loaded: dict) -> str | None:
    """Does each per-parameter state entry of a loaded optimizer state dict (momentum buffers) have its
    parameter's shape? `param_groups[i]["params"]` holds the parameters' indices."""
    shapes = {}
    for group, saved in zip(optimizer.param_groups, loaded["param_groups"]):
        for parameter, index in zip(group["params"], saved["params"]):
            shapes[index] = tuple(parameter.shape)
    for index, entry in loaded["state"].items():
        if index not in shapes:
            return f"optimizer.state has an entry for parameter {index!r}, which this network does not have"
        if not isinstance(entry, dict):
            return f"optimizer.state[{index}] is a {type(entry).__name__}, expected a dict"
        for key, value in entry.items():
            if not isinstance(value, torch.Tensor):
                if not _is_real(value):
                    return f"optimizer.state[{index}].{key} is {value!r:.40}, expected a tensor or a number"
            elif value.dim() > 0 and tuple(value.shape) != shapes[index]:
                return (f"optimizer.state[{index}].{key} has shape {tuple(value.shape)}, its parameter "
                        f"{shapes[index]}")
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
    verify_digest(path, data, "weights file")
    return data
