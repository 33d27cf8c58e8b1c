r"""First-order DARTS, one trainer configured by a dataclass (Liu et al., 2019; Chapter 8).

DARTS searches by gradient descent on two sets of parameters at once: the network weights $w$ of the
[`SuperNet`][cellnas_edu.search.supernet.SuperNet] and its architecture logits
$\alpha = (\alpha_\text{normal}, \alpha_\text{reduce})$. The training images are split in two halves; the
bilevel problem

$$
\min_\alpha \; \mathcal{L}_\text{val}\big(w^*(\alpha), \alpha\big) \quad \text{s.t.} \quad
w^*(\alpha) = \arg\min_w \mathcal{L}_\text{train}(w, \alpha)
$$

is approximated **first-order** ($w^*(\alpha) \approx w$, DARTS' "first-order approximation") by
alternating, batch by batch,

1. an architecture step: Adam on $\nabla_\alpha \mathcal{L}_\text{val}(w, \alpha)$ over a batch of the
   validation half (learning rate `arch_lr`, betas $(0.5, 0.999)$, weight decay $10^{-3}$);
2. a weight step: SGD with momentum $0.9$ on $\nabla_w \mathcal{L}_\text{train}(w, \alpha)$ over a batch
   of the training half (cosine schedule from `lr` to `lr_min`, weight decay $3 \cdot 10^{-4}$, gradients
   clipped to norm 5).

After every epoch the current architecture is derived
([`derive_genotype`][cellnas_edu.search.derive.derive_genotype]) and written, with the softmax
weights, to `alphas.jsonl`, so a learner can watch the width and depth of the found cell evolve.
This is exactly where the paper's argument bites (Sections 3 and 4): the architecture weights are updated
long before the weights have converged, so whichever candidates make the supernet's loss fall *fastest*
gain weight.

**Sizes.** [`PRESETS`][cellnas_edu.search.darts.PRESETS]: `cpu` (the default: $C = 8$, 5 cells,
2,560 Fashion-MNIST images split 1,280/1,280, 8 epochs, 160 search steps: minutes on a laptop CPU,
Chapter 8 quotes the measured time)
and `paper` (DARTS' search on CIFAR-10: $C = 16$, 8 cells, the 50,000 training images split 25,000/25,000,
batch 64, 50 epochs, for CUDA). At the CPU size the architecture learning rate is $3 \cdot 10^{-3}$,
ten times DARTS' $3 \cdot 10^{-4}$, because the search has about 120 times fewer steps
(160 against 19,550): with DARTS' rate the logits could move by at most $\approx 0.05$ and the derived
cell would be decided by the initialisation noise.

**Run folder** (`--out`): `search.json` (the config and the protocol a resume must match), `alphas.jsonl`
(one record per epoch, epoch 0 being the initialisation), `checkpoint.pt` (loaded with
`weights_only=True`), `genotype.json` (the found genotype, a file every other command accepts) and
`result.json` (the summary). A run is locked while it runs, written atomically, and resumable: an
interrupted search continues from its last epoch and ends with the same architecture, bit for bit, as an
uninterrupted one (the data order of each epoch comes from a generator seeded by `(seed, epoch)`; the
global generators are restored from the checkpoint)."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..constraints import Interval, validate
from ..errors import UserError
from ..seeds import MAX_SEED

_RATE = Interval(float, 0, 1e6, closed="right")
_DECAY = Interval(float, 0, 1e6)
CONSTRAINTS = {
    "epochs": Interval(int, 1, 10_000), "batch_size": Interval(int, 1), "init_channels": Interval(int, 1),
    "search_images": Interval(int, 2, none_ok=True), "train_portion": Interval(float, 0, 1, closed="neither"),
    "lr": _RATE, "arch_lr": _RATE, "momentum": Interval(float, 0, 1, closed="left"),
    "weight_decay": _DECAY, "arch_weight_decay": _DECAY, "grad_clip": Interval(float, 0, closed="neither"),
    "seed": Interval(int, 0, MAX_SEED),
}
"""The range of every numeric field of [`SearchConfig`][cellnas_edu.search.darts.SearchConfig]
([`Interval`][cellnas_edu.constraints.Interval]); `init_channels` must also be even and `lr_min` at most `lr`."""

LAYERS = {"darts": Interval(int, 3, 100, note="two reduction cells and a normal one"),
          "nb201": Interval(int, 1, 30, note="cells per stage")}
"""The range of `layers` on each search space (on NAS-Bench-201's it counts the cells of each of three stages)."""

RUNTIME_FIELDS = ("data_root", "device")
"""Fields that may differ when a search is resumed (where the data are, where it runs)."""

PRESETS: dict[str, dict] = {
    "cpu": dict(dataset="fashion-mnist", search_images=2560, epochs=8, batch_size=64, init_channels=8, layers=5,
                arch_lr=3e-3, augment=False),
    "paper": dict(dataset="cifar10", search_images=None, epochs=50, batch_size=64, init_channels=16, layers=8,
                  arch_lr=3e-4, augment=True),
    "nb201-cpu": dict(space="nb201", dataset="fashion-mnist", search_images=10240, epochs=10, batch_size=64,
                      init_channels=8, layers=1, arch_lr=3e-3, augment=False),
    "nb201-paper": dict(space="nb201", dataset="cifar10", search_images=None, epochs=50, batch_size=64,
                        init_channels=16, layers=5, arch_lr=3e-4, augment=True),
}
"""Search sizes: `cpu` (Chapter 8's default) and `paper` (DARTS' CIFAR-10 search, Liu et al. 2019, Section 3.1)
on the DARTS space; `nb201-cpu` (Chapter 9: C = 8, one cell a stage, 10,240 Fashion-MNIST images split
5,120/5,120, 10 epochs, 800 search steps) and `nb201-paper` (NATS-Bench's DARTS baseline: C = 16, five cells a
stage, CIFAR-10, 50 epochs) on the NAS-Bench-201 space."""

SPACES = ("darts", "nb201")
"""The names of the search spaces: DARTS' (Chapter 8, [`DARTS_SPACE`][cellnas_edu.search.darts.DARTS_SPACE]) and
NAS-Bench-201's (Chapter 9, [`NB201_SPACE`][cellnas_edu.nb201.search.NB201_SPACE]; there `layers` counts the cells
of each of its three stages). The trainer below knows only the [`SearchSpace`][cellnas_edu.search.darts.SearchSpace]
it is handed, so Chapter 9 builds on Chapter 8 and not the other way round."""

SEARCH_FORMAT = 1
_FILES = ("search.json", "alphas.jsonl", "checkpoint.pt", "genotype.json", "result.json")


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """Everything that determines a search; build one with
    [`make_search_config`][cellnas_edu.search.darts.make_search_config].

    `search_images` is the number of training images used (split `train_portion` / rest into the
    weights' and the architecture's halves; `None` = the whole training split)."""

    preset: str = "cpu"
    space: str = "darts"
    dataset: str = "fashion-mnist"
    data_root: str | None = None
    search_images: int | None = 2560
    train_portion: float = 0.5
    epochs: int = 8
    batch_size: int = 64
    init_channels: int = 8
    layers: int = 5
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-3
    arch_weight_decay: float = 1e-3
    augment: bool = False
    seed: int = 0
    device: str = "auto"
    channels_last: bool = True

    def __post_init__(self):
        from ..data import DATASETS

        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r} (known: {', '.join(PRESETS)})")
        if self.space not in SPACES:
            raise ValueError(f"unknown search space {self.space!r} (known: {', '.join(SPACES)})")
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r} (known: {', '.join(DATASETS)})")
        for name, constraint in CONSTRAINTS.items():
            validate(name, getattr(self, name), constraint)
        validate("layers", self.layers, LAYERS[self.space])
        if self.init_channels % 2:
            raise ValueError(f"init_channels (C) must be even, got {self.init_channels}")
        validate("lr_min", self.lr_min, Interval(float, 0, self.lr, note="at most lr"))
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def protocol(self) -> dict:
        """The fields that must not change when a search is resumed. The space is named only when it is not
        DARTS', so that folders written before the NAS-Bench-201 space existed still resume."""
        return {k: v for k, v in self.to_dict().items()
                if k not in RUNTIME_FIELDS and not (k == "space" and v == "darts")}


def make_search_config(preset: str = "cpu", /, **overrides) -> SearchConfig:
    """A [`SearchConfig`][cellnas_edu.search.darts.SearchConfig]: the preset's sizes, then `overrides`
    (`None` values are ignored, so CLI flags that were not given keep the preset's value)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(SearchConfig)})
    if unknown:
        raise ValueError(f"unknown search setting(s): {', '.join(unknown)}")
    values = dict(PRESETS[preset], preset=preset)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return SearchConfig(**values)


# -- pieces of one search, each small ---------------------------------------------------------------------------
def cosine_lr(config: SearchConfig, epoch: int) -> float:
    """The weights' learning rate in epoch `epoch` (from 0): DARTS' `CosineAnnealingLR(T_max=epochs, eta_min)`."""
    return config.lr_min + 0.5 * (config.lr - config.lr_min) * (1 + math.cos(math.pi * epoch / config.epochs))


def epoch_generator(seed: int, epoch: int):
    """The generator of epoch `epoch`'s data order: a function of `(seed, epoch)` only, so a resumed search
    sees the same batches as an uninterrupted one."""
    import torch

    return torch.Generator().manual_seed((seed * 1_000_003 + 7919 * (epoch + 1)) % 2**63)


def split_indices(labels, config: SearchConfig):
    """The two halves (weights, architecture) of the search images: a stratified subset of `search_images`
    (always drawn with seed 0, so every search seed sees the same images), shuffled once, then split."""
    import torch

    from ..data import subset_indices

    n = len(labels)
    if config.search_images is not None and config.search_images > n:
        raise UserError(f"--search-images {config.search_images} exceeds the {n} training images of "
                        f"{config.dataset}")
    keep = torch.arange(n) if config.search_images is None else subset_indices(labels, config.search_images, 0)
    keep = keep[torch.randperm(len(keep), generator=torch.Generator().manual_seed(0))]
    split = int(config.train_portion * len(keep))
    if split < 1 or split >= len(keep):
        raise UserError(f"{len(keep)} search images cannot be split {config.train_portion:g} / "
                        f"{1 - config.train_portion:g}")
    return keep[:split], keep[split:]


def architecture_record(model, epoch: int) -> dict:
    """The softmax weights and the derived genotype, width and depth after `epoch` (0: the initialisation)."""
    from ..cells.topology import cell_depth, cell_width
    from .derive import derive_genotype

    weights = model.operation_weights()
    genotype = derive_genotype(weights["normal"].tolist(), weights["reduce"].tolist())
    return {
        "epoch": epoch,
        "weights": {kind: [[round(w, 6) for w in row] for row in weights[kind].tolist()] for kind in weights},
        "genotype": genotype.to_dict(),
        "normal": {"width": float(cell_width(genotype.normal)), "depth": cell_depth(genotype.normal)},
        "reduce": {"width": float(cell_width(genotype.reduce)), "depth": cell_depth(genotype.reduce)},
    }


def search_step(model, weight_optimizer, arch_optimizer, train_batch, valid_batch, grad_clip: float,
                foreach: bool | None = None) -> tuple[float, int]:
    """One first-order DARTS step: Adam on $\\alpha$ over `valid_batch`, then SGD on $w$ over `train_batch`.

    Gradients are taken with `torch.autograd.grad` for exactly the parameters each optimiser updates, so
    the architecture step costs no weight gradients and neither step leaks gradient into the other.
    Returns the training batch's summed loss and number of correct predictions."""
    import torch
    import torch.nn.functional as F

    arch = model.arch_parameters()
    x, y = valid_batch
    grads = torch.autograd.grad(F.cross_entropy(model(x), y), arch)
    for p, g in zip(arch, grads):
        p.grad = g
    arch_optimizer.step()

    weights = model.weight_parameters()
    x, y = train_batch
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    grads = torch.autograd.grad(loss, weights)
    for p, g in zip(weights, grads):
        p.grad = g
    torch.nn.utils.clip_grad_norm_(weights, grad_clip, foreach=foreach)
    weight_optimizer.step()
    return float(loss.detach()) * len(y), int((logits.detach().argmax(1) == y).sum())


def evaluate_supernet(model, dataset, indices, device, channels_last: bool, batch_size: int = 256):
    """Mean loss and accuracy (%) of the supernet on `indices` of `dataset`, in eval mode."""
    import torch
    import torch.nn.functional as F

    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            x, y = _batch(dataset, indices[start:start + batch_size], device, channels_last)
            logits = model(x)
            loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
    model.train()
    return loss_sum / len(indices), 100.0 * correct / len(indices)


def _batch(dataset, indices, device, channels_last: bool):
    import torch

    x, y = dataset.batch(indices, device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


# -- the run folder ------------------------------------------------------------------------------------------------
def _read_json(path: Path) -> dict:
    from ..io import read_bounded_text

    try:
        data = json.loads(read_bounded_text(path, what="search record"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError):
        raise UserError(f"{path} is not valid JSON; remove the folder or choose another --out") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a search record; remove the folder or choose another --out")
    return data


def _check_folder(out_dir: Path, config: SearchConfig, resume: bool) -> None:
    saved_path = out_dir / "search.json"
    if not saved_path.exists():
        if any((out_dir / name).exists() for name in _FILES):
            raise UserError(f"{out_dir} holds search files but no search.json; choose another --out")
        return
    from ..experiments.runner import read_manifest

    read_manifest(saved_path, config.protocol(), resume, "a search")


def _record_problem(record, epoch: int, space: SearchSpace) -> bool:
    """Whether a history record is not the architecture record of `epoch` on `space`."""
    return not (isinstance(record, dict) and record.get("epoch") == epoch and space.record_ok(record))


def load_search_checkpoint(path: Path, epochs: int | None = None, space: SearchSpace | None = None) -> dict:
    """Load `checkpoint.pt` with `weights_only=True` and check it: its keys, an epoch within `1..epochs` (the
    search's), one history record per epoch, restorable generator states, and its SHA-256 digest. Anything
    corrupt, foreign or edited is a one-line `UserError` naming the file."""
    from ..train.checkpoint import load_weights_only, rng_state_problem, verify_digest

    checkpoint = load_weights_only(path, "search checkpoint")
    keys = ("format", "epoch", "model", "weight_optimizer", "arch_optimizer", "rng", "history")
    if not isinstance(checkpoint, dict) or any(k not in checkpoint for k in keys):
        raise UserError(f"{path}: not a cellnas search checkpoint")
    if checkpoint["format"] != SEARCH_FORMAT:
        raise UserError(f"{path}: search checkpoint format {checkpoint['format']!r}, expected {SEARCH_FORMAT}")
    epoch, history = checkpoint["epoch"], checkpoint["history"]
    if (isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1 or not isinstance(history, list)
            or len(history) != epoch + 1):
        records = len(history) if isinstance(history, list) else f"a {type(history).__name__} of"
        raise UserError(f"{path}: invalid search checkpoint (epoch {epoch!r}, {records} history records)")
    if epochs is not None and epoch > epochs:
        raise UserError(f"{path}: invalid search checkpoint (epoch {epoch} of a {epochs}-epoch search)")
    space = space or DARTS_SPACE
    if any(_record_problem(r, i, space) for i, r in enumerate(history)):
        raise UserError(f"{path}: invalid search checkpoint (history is not the records of epochs 0..{epoch})")
    problem = rng_state_problem(checkpoint["rng"])
    if problem:
        raise UserError(f"{path}: invalid search checkpoint (rng: {problem})")
    verify_digest(path, checkpoint, "search checkpoint")
    return checkpoint


RESULT_FIELDS = {"status": str, "epochs_done": int, "config": dict, "genotype": dict, "normal": dict,
                 "reduce": dict, "valid_loss": float, "valid_acc": float, "seconds": float, "steps": int,
                 "space": dict, "widths_by_epoch": list, "depths_by_epoch": list}
"""the fields of a search's `result.json` and their types (`float` accepts integers)"""


def read_result(path: Path, epochs: int | None = None, space: SearchSpace | None = None) -> dict:
    """Read and check a search's `result.json`: every field of the space's `result_fields` (DARTS':
    [`RESULT_FIELDS`][cellnas_edu.search.darts.RESULT_FIELDS]) with its type, the space named in its config, one
    width and depth per epoch (0..epochs_done), and `epochs_done` equal to `epochs` where given. One line naming
    the file and the field otherwise."""
    space = space or DARTS_SPACE
    result = _read_json(path)
    config = result.get("config")
    found = config.get("space", "darts") if isinstance(config, dict) else None
    if found is not None and found != space.name:
        raise UserError(f"{path}: a search on the {found!r} space, not on {space.name!r}; choose another --out")
    for name, kind in space.result_fields.items():
        value = result.get(name)
        ok = (isinstance(value, (int, float)) if kind is float else isinstance(value, kind)) \
            and not isinstance(value, bool)
        if not ok:
            shown = "missing" if name not in result else f"{value!r:.40}"
            raise UserError(f"{path}: field {name!r} is {shown}, expected {'a' if kind is not int else 'an'} "
                            f"{kind.__name__}; remove the folder or choose another --out")
    done = result["epochs_done"]
    if epochs is not None and done != epochs:
        raise UserError(f"{path}: epochs_done is {done}, this search has {epochs} epochs")
    for name in ("widths_by_epoch", "depths_by_epoch"):
        if len(result[name]) != done + 1:
            raise UserError(f"{path}: field {name!r} has {len(result[name])} entries, expected {done + 1} "
                            "(epochs 0..epochs_done)")
    return result


# -- the search ------------------------------------------------------------------------------------------------------
def run_search(config: SearchConfig, out_dir, *, resume: bool = False, progress: bool = True,
               space: SearchSpace | None = None) -> dict:
    """Run (or continue) one first-order DARTS search into `out_dir` on `space` (default: DARTS'; it must be the
    space `config` names); return (and write) `result.json`."""
    space = space or DARTS_SPACE
    if space.name != config.space:
        raise ValueError(f"the config is for the {config.space!r} space, the search was given {space.name!r}")
    from ..io import exclusive_lock, remove_stale_temporaries

    out_dir = Path(out_dir)
    with exclusive_lock(out_dir, ".lock", "search", hint="; wait for it or choose another --out"):
        remove_stale_temporaries(out_dir, _FILES)
        _check_folder(out_dir, config, resume)
        result_path = out_dir / "result.json"
        if result_path.exists():
            result = read_result(result_path, space=space)
            if result["status"] == "done" and result["epochs_done"] == config.epochs:
                return read_result(result_path, config.epochs, space)
        return _search(config, out_dir, progress, space)


def _search(config: SearchConfig, out_dir: Path, progress: bool, space: SearchSpace) -> dict:
    import torch
    from tqdm import tqdm

    from ..data import load_dataset
    from ..io import atomic_write_json, atomic_write_text
    from ..train.checkpoint import rng_state, save_with_digest, seed_everything, set_rng_state
    from ..train.cpu import channels_last_for, foreach_for, keep_freed_memory
    from ..train.distributed import resolve_device

    device = resolve_device(config.device)
    if device.type == "cpu":
        keep_freed_memory()  # no page faults for reused activations (cellnas_edu.train.cpu)
    channels_last = channels_last_for(device, config.channels_last)
    data = load_dataset(config.dataset, root=config.data_root, train=True, augment=config.augment)
    if device.type == "cuda":
        data.images, data.labels = data.images.to(device), data.labels.to(device)
    train_idx, valid_idx = split_indices(data.labels.cpu(), config)
    info = data.info

    seed_everything(config.seed)
    model = space.build(config, info).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    foreach = foreach_for(device)
    weight_optimizer = torch.optim.SGD(model.weight_parameters(), lr=config.lr, momentum=config.momentum,
                                       weight_decay=config.weight_decay, foreach=foreach)
    arch_optimizer = torch.optim.Adam(model.arch_parameters(), lr=config.arch_lr, betas=(0.5, 0.999),
                                      weight_decay=config.arch_weight_decay)

    checkpoint_path = out_dir / "checkpoint.pt"
    history, seconds = [space.record(model, 0)], 0.0
    start_epoch = 0
    if checkpoint_path.exists():
        checkpoint = load_search_checkpoint(checkpoint_path, config.epochs, space)
        from ..train.checkpoint import optimizer_state_mismatch, state_dict_mismatch

        for name, optimizer in (("weight_optimizer", weight_optimizer), ("arch_optimizer", arch_optimizer)):
            problem = (state_dict_mismatch(name, optimizer.state_dict(), checkpoint[name])
                       or optimizer_state_mismatch(optimizer, checkpoint[name]))
            if problem:
                raise UserError(f"{checkpoint_path}: does not fit this search ({problem})")
        try:
            model.load_state_dict(checkpoint["model"])
            weight_optimizer.load_state_dict(checkpoint["weight_optimizer"])
            arch_optimizer.load_state_dict(checkpoint["arch_optimizer"])
            set_rng_state(checkpoint["rng"], device)
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise UserError(f"{checkpoint_path}: does not fit this search ({str(exc).splitlines()[0][:160]})") \
                from None
        start_epoch, history = checkpoint["epoch"], checkpoint["history"]
        seconds = float(history[-1].get("seconds_total", 0.0))
    from ..train.determinism import NUMERICS_KEY, numerics

    atomic_write_json(out_dir / "search.json", {"format": SEARCH_FORMAT, "protocol": config.protocol(),
                                                "config": config.to_dict(), NUMERICS_KEY: numerics(device)})
    atomic_write_text(out_dir / "alphas.jsonl", "".join(json.dumps(r) + "\n" for r in history))

    steps = min(len(train_idx), len(valid_idx)) // config.batch_size
    if steps < 1:
        raise UserError(f"each half holds {min(len(train_idx), len(valid_idx))} images, fewer than one batch of "
                        f"{config.batch_size}; use more --search-images or a smaller --batch-size")
    bar = tqdm(total=config.epochs * steps, initial=start_epoch * steps, desc="DARTS search", unit="step",
               disable=not progress, file=sys.stderr, dynamic_ncols=True)
    model.train()
    try:
        for epoch in range(start_epoch, config.epochs):
            began = time.perf_counter()
            for group in weight_optimizer.param_groups:
                group["lr"] = cosine_lr(config, epoch)
            generator = epoch_generator(config.seed, epoch)
            train_order = train_idx[torch.randperm(len(train_idx), generator=generator)]
            valid_order = valid_idx[torch.randperm(len(valid_idx), generator=generator)]
            loss_sum, correct, seen = 0.0, 0, 0
            for step in range(steps):
                window = slice(step * config.batch_size, (step + 1) * config.batch_size)
                train_batch = _batch(data, train_order[window], device, channels_last)
                valid_batch = _batch(data, valid_order[window], device, channels_last)
                batch_loss, batch_correct = search_step(model, weight_optimizer, arch_optimizer, train_batch,
                                                        valid_batch, config.grad_clip, foreach)
                if not math.isfinite(batch_loss):
                    raise UserError(f"the search diverged in epoch {epoch + 1} (non-finite training loss); "
                                    "lower --lr or --arch-lr")
                loss_sum, correct, seen = loss_sum + batch_loss, correct + batch_correct, seen + config.batch_size
                bar.update(1)
                bar.set_postfix_str(f"epoch {epoch + 1}/{config.epochs} loss {loss_sum / seen:.3f}")
            valid_loss, valid_acc = evaluate_supernet(model, data, valid_idx, device, channels_last)
            seconds += time.perf_counter() - began
            record = space.record(model, epoch + 1)
            record.update(lr=cosine_lr(config, epoch), train_loss=loss_sum / seen, train_acc=100.0 * correct / seen,
                          valid_loss=valid_loss, valid_acc=valid_acc, seconds_total=round(seconds, 3))
            history.append(record)
            checkpoint = {"format": SEARCH_FORMAT, "epoch": epoch + 1, "model": model.state_dict(),
                          "weight_optimizer": weight_optimizer.state_dict(),
                          "arch_optimizer": arch_optimizer.state_dict(), "rng": rng_state(device),
                          "history": history}
            save_with_digest(checkpoint_path, checkpoint)
            atomic_write_text(out_dir / "alphas.jsonl", "".join(json.dumps(r) + "\n" for r in history))
            bar.set_postfix_str(f"epoch {epoch + 1} valid acc {valid_acc:.1f}% " + space.describe(record))
    finally:
        bar.close()

    result = space.result(config, history, config.epochs * steps, out_dir)
    atomic_write_json(out_dir / "result.json", result)
    return result


def _build_supernet(config: SearchConfig, info):
    from .supernet import SuperNet

    return SuperNet(C=config.init_channels, layers=config.layers, num_classes=info.num_classes,
                    in_channels=info.in_channels, stem_stride=info.stem_stride)


def _darts_result(config: SearchConfig, history: list[dict], steps: int, out_dir: Path) -> dict:
    """The summary of a finished DARTS-space search; also writes the found genotype to `genotype.json`."""
    from ..cells.genotypes import genotype_from_dict, save_genotype
    from .against_space import placement

    final = history[-1]
    genotype = genotype_from_dict(final["genotype"], name=f"darts_search_seed{config.seed}")
    save_genotype(genotype, out_dir / "genotype.json")
    result = {
        "status": "done",
        "epochs_done": config.epochs,
        "config": config.to_dict(),
        "genotype": {"name": genotype.name, **genotype.to_dict()},
        "normal": final["normal"],
        "reduce": final["reduce"],
        "valid_loss": final["valid_loss"],
        "valid_acc": final["valid_acc"],
        "seconds": final["seconds_total"],
        "steps": steps,
        "space": placement(genotype.normal),  # where it lies in Chapter 2's space and among derivable cells
        "widths_by_epoch": [r["normal"]["width"] for r in history],
        "depths_by_epoch": [r["normal"]["depth"] for r in history],
    }
    return result


def read_history(out_dir) -> list[dict]:
    """The per-epoch architecture records of a search folder (`alphas.jsonl`)."""
    from ..io import read_jsonl

    return read_jsonl(Path(out_dir) / "alphas.jsonl")


def format_result(result: dict) -> str:
    """The text report of `cellnas search darts`."""
    from ..cells.tables import format_table

    space = result["space"]
    rows = [(str(epoch), f"{width:g}c", str(depth))
            for epoch, (width, depth) in enumerate(zip(result["widths_by_epoch"], result["depths_by_epoch"]))]
    lines = [
        f"first-order DARTS, {result['config']['dataset']}, C = {result['config']['init_channels']}, "
        f"{result['config']['layers']} cells, {result['steps']} search steps in {result['seconds']:.0f} s",
        f"found normal cell: width {result['normal']['width']:g}c, depth {result['normal']['depth']}; "
        f"reduction cell: width {result['reduce']['width']:g}c, depth {result['reduce']['depth']}",
        f"supernet on the architecture half: loss {result['valid_loss']:.3f}, accuracy {result['valid_acc']:.1f}%",
        f"in Chapter 2's connection space ({space['connection_space']['count']:,} cells): "
        f"{100 * space['connection_space']['at_least_as_wide']:.1f}% are at least as wide, "
        f"{100 * space['connection_space']['at_most_as_deep']:.1f}% at most as deep",
        f"among the {space['derivable']['count']} cells DARTS can derive: "
        f"{100 * space['derivable']['at_least_as_wide']:.1f}% are at least as wide, "
        f"{100 * space['derivable']['at_most_as_deep']:.1f}% at most as deep",
        "",
        "the derived normal cell after each epoch (0 = initialisation):",
        format_table(["epoch", "width", "depth"], rows),
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class SearchSpace:
    """What the trainer needs to know of a search space; everything else is shared.

    `build(config, info)` makes the supernet (with `arch_parameters`, `weight_parameters` and
    `operation_weights`); `record(model, epoch)` is the architecture record of an epoch (`alphas.jsonl`);
    `record_ok(record)` checks one read back from a checkpoint; `result(config, history, steps, out_dir)` is the
    summary written to `result.json`, whose fields and types are `result_fields`; `describe(record)` is the
    progress bar's note on the derived cell and `report(result)` the text a command prints."""

    name: str
    build: Callable
    record: Callable
    record_ok: Callable
    result: Callable
    result_fields: dict
    describe: Callable
    report: Callable


DARTS_SPACE = SearchSpace(
    name="darts", build=_build_supernet, record=architecture_record,
    record_ok=lambda r: isinstance(r.get("genotype"), dict) and isinstance(r.get("normal"), dict),
    result=_darts_result, result_fields=RESULT_FIELDS,
    describe=lambda r: f"normal cell {r['normal']['width']:g}c, depth {r['normal']['depth']}",
    report=format_result)
"""DARTS' space (Chapter 8): [`SuperNet`][cellnas_edu.search.supernet.SuperNet], genotypes, Chapter 2's
connection space."""
