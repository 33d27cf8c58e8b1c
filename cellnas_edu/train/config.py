"""The training configuration: one dataclass and the paper's presets (Appendix A.3, A.4).

Presets:

`convergence` (Section 4, Appendix A.3 and A.4)
    SGD with learning rate 0.025, momentum 0.9, weight decay 3e-4, batch 80,
    cosine annealing to zero over 600 epochs, `C = 36`, `L = 20` and *no*
    regularisation (no cutout, no auxiliary tower, no drop path: "architectures
    are trained without regularization for a neat empirical study in Section 4").
    The A.1 augmentation (pad 4, random crop, horizontal flip) is data
    pre-processing and stays on. Figure 4 changes only `lr` (0.0025, 0.25).
`generalization` (Section 5, Table 1, Appendix A.4)
    `convergence` plus cutout 16, the auxiliary tower with weight 0.4, drop
    path rising linearly to 0.2 (the NASNet schedule), and gradient-norm
    clipping at 5 as in DARTS' `train.py` (the paper does not mention
    clipping; its A.3 points to DARTS for details).
`cpu-mini`
    A few minutes on two CPU cores: `C = 8`, `L = 5`, 2,000 training and
    1,000 test images, 6 epochs, batch 64, lr 0.05, no augmentation.
`smoke`
    Seconds, for tests: `C = 4`, `L = 4`, 256 training and 100 test
    images, 2 epochs, batch 32, lr 0.1. (With `L = 3` the last cell is a
    reduction cell whose max-pool and skip outputs reach the classifier
    without normalisation, and the first epoch's loss rises even at lr 0.01;
    `L = 4` ends with a normal cell and trains.)

Tiny-ImageNet-200: Appendix A.3 trains "600 epochs on CIFAR10/100 and 300
epochs on Tiny-ImageNet-200", so [`make_config`][cellnas_edu.train.config.make_config] uses 300 epochs for
`tiny-imagenet-200` with the two paper presets unless `epochs` is given."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import asdict, dataclass

from ..constraints import Interval, validate
from ..data import DATASETS as _DATASET_INFO
from ..seeds import MAX_SEED

DATASETS = tuple(_DATASET_INFO)
"""The dataset names, in the order of [`cellnas_edu.data.DATASETS`][cellnas_edu.data.DATASETS] (their one
home)."""
DEVICES = ("auto", "cpu", "cuda")
MAX_LAYERS = 1_000
"""far beyond any network of the paper (20 cells); building one this deep alone takes minutes"""
MAX_RATE = 1e6
"""learning rate and weight decay: above this an SGD step overflows float32 (1e39 did, mid-run); the paper
uses 0.0025 to 0.25"""

SEED = Interval(int, 0, MAX_SEED)
RATE = Interval(float, 0, MAX_RATE, closed="right")
CONSTRAINTS = {
    "epochs": Interval(int, 1), "batch_size": Interval(int, 1), "eval_every": Interval(int, 1),
    "layers": Interval(int, 1, MAX_LAYERS, note="the paper uses 20"),
    "train_subset": Interval(int, 1, none_ok=True), "test_subset": Interval(int, 1, none_ok=True),
    "seed": SEED, "cutout": Interval(int, 0), "num_workers": Interval(int, 0), "bn_recalibration": Interval(int, 0),
    "lr": RATE, "momentum": Interval(float, 0, 1, closed="left"), "weight_decay": Interval(float, 0, MAX_RATE),
    "auxiliary_weight": Interval(float, 0), "drop_path_prob": Interval(float, 0, 1, closed="left"),
    "grad_clip": Interval(float, 0, closed="neither", none_ok=True),
}
"""The range of every numeric field ([`Interval`][cellnas_edu.constraints.Interval]); `init_channels` (even,
at least 2) and `bn_recalibration` (at most `train_subset`) are checked beside them."""

RUNTIME_FIELDS = ("data_root", "device", "compile", "num_workers")
"""Fields that may differ when a run is resumed: where the data lives and how the work is executed.
Bitwise-equal continuation needs the same values."""


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Everything that determines a training run (the interface of [`cellnas_edu.train`][cellnas_edu.train]);
    build it with
    [`make_config`][cellnas_edu.train.config.make_config].

    `batch_size` is the global batch: under `torchrun` each of `W`
    processes takes `batch_size / W` images per step, so the optimiser sees
    the paper's batch of 80 however many processes share the work.
    `arch` is a label; the network is built from `genotype`, the cells as
    data (the JSON layout of [`Genotype.to_dict`][cellnas_edu.cells.cellspec.Genotype.to_dict]
    plus `name`). Give a [`Genotype`][cellnas_edu.cells.cellspec.Genotype] or
    its dict; when `genotype` is omitted, `arch` (a built-in name or a
    genotype JSON file) is resolved once, here, and never read again, so
    `config.json` and the run folder holding it are self-contained.
    `drop_path_prob` is the maximum; epoch `e` (from 1) of `E` uses
    `drop_path_prob * (e - 1) / E` (DARTS: `drop_path_prob * epoch / epochs`
    with epochs counted from 0). `bn_recalibration = N > 0` re-estimates every
    BatchNorm's statistics on the first `N` training images before each
    evaluation ([`cellnas_edu.train.batchnorm`][cellnas_edu.train.batchnorm]); `0` evaluates with the
    running statistics of training, as the paper and DARTS do."""

    arch: str
    genotype: dict | None = None
    dataset: str
    preset: str = "smoke"
    data_root: str | None = None
    epochs: int
    batch_size: int
    lr: float
    momentum: float = 0.9
    weight_decay: float = 3e-4
    init_channels: int
    layers: int
    auxiliary: bool
    auxiliary_weight: float
    drop_path_prob: float
    cutout: int
    augment: bool
    grad_clip: float | None
    train_subset: int | None
    test_subset: int | None
    seed: int = 0
    device: str = "auto"
    channels_last: bool
    amp: bool
    compile: bool
    num_workers: int = 0
    eval_every: int = 1
    bn_recalibration: int = 0

    def __post_init__(self):
        from ..cells.genotypes import genotype_from_dict, resolve_genotype

        if self.genotype is None and isinstance(self.arch, str) and self.arch:
            object.__setattr__(self, "genotype", resolve_genotype(self.arch))
        if hasattr(self.genotype, "to_dict"):  # a Genotype: keep it as JSON data
            object.__setattr__(self, "genotype", {"name": self.genotype.name, **self.genotype.to_dict()})
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            object.__setattr__(self, f.name, _check_type(f.name, _FIELD_TYPES[f.name], value))
        if not self.arch:
            raise ValueError("arch must name a built-in genotype or a genotype JSON file")
        genotype = genotype_from_dict(self.genotype)  # validates; ValueError on a bad cell
        object.__setattr__(self, "genotype", {"name": genotype.name, **genotype.to_dict()})
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r} (known: {', '.join(DATASETS)})")
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r} (known: {', '.join(PRESETS)})")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        for name, constraint in CONSTRAINTS.items():
            validate(name, getattr(self, name), constraint)
        if self.init_channels < 2 or self.init_channels % 2:
            raise ValueError(f"init_channels (C) must be an even number >= 2, got {self.init_channels}")
        if self.auxiliary_weight > 0 and not self.auxiliary:
            raise ValueError("auxiliary_weight > 0 needs auxiliary=True (the auxiliary tower)")
        if self.bn_recalibration and self.train_subset is not None and self.bn_recalibration > self.train_subset:
            raise ValueError(f"bn_recalibration ({self.bn_recalibration} images) must be at most train_subset "
                             f"({self.train_subset})")

    def to_dict(self) -> dict:
        return asdict(self)

    def build_genotype(self):
        """The [`Genotype`][cellnas_edu.cells.cellspec.Genotype] this run trains (from `genotype`, not `arch`)."""
        from ..cells.genotypes import genotype_from_dict

        return genotype_from_dict(self.genotype)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Rebuild from `config.json` (extra keys such as `version` are ignored; missing ones are an error)."""
        if not isinstance(data, dict):
            raise ValueError("a training config must be a JSON object")
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in data and _FIELD_DEFAULTS.get(n, _MISSING) is _MISSING]
        if missing:
            raise ValueError(f"training config lacks field(s): {', '.join(missing)}")
        if data.get("genotype") is None:
            raise ValueError("written before run folders carried their genotype (no 'genotype' field); "
                             "train the run again with this version")
        return cls(**{n: data[n] for n in names if n in data})


_MISSING = dataclasses.MISSING
_FIELD_TYPES = typing.get_type_hints(TrainConfig)
_FIELD_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


def _optional_and_base(kind) -> tuple[bool, type]:
    """`int | None` -> `(True, int)`; `float` -> `(False, float)`."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return True, next(a for a in typing.get_args(kind) if a is not type(None))
    return False, kind


def _check_type(name: str, kind, value):
    """Check (and normalise int -> float) one field value against its annotation."""
    optional, base = _optional_and_base(kind)
    if value is None:
        if optional:
            return None
        raise ValueError(f"{name} must not be None")
    if base is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        return value
    if base is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        return float(value)
    if base is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{name} must be a JSON object, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    return value


def field_type(name: str) -> type:
    """The base type of a field (`int | None` -> `int`): what a command-line flag for it parses."""
    return _optional_and_base(_FIELD_TYPES[name])[1]


def parse_field(name: str, text: str):
    """Parse a command-line `key=value` string into the type of field `name` (`ValueError` if it fails)."""
    if name not in _FIELD_TYPES:
        raise ValueError(f"unknown config field {name!r} (fields: {', '.join(_FIELD_TYPES)})")
    optional, base = _optional_and_base(_FIELD_TYPES[name])
    lowered = text.strip().lower()
    if optional and lowered in ("none", "null", ""):
        return None
    try:
        if base is bool:
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if base is int:
            return int(text)
        if base is float:
            return float(text)
        if base is dict:
            import json

            return json.loads(text)
    except ValueError:
        raise ValueError(f"{name}: cannot read {text!r} as {base.__name__}") from None
    return text


_PAPER = dict(
    epochs=600, batch_size=80, lr=0.025, momentum=0.9, weight_decay=3e-4, init_channels=36, layers=20,
    augment=True, train_subset=None, test_subset=None, channels_last=True, amp=True, compile=False,
)

PRESETS: dict[str, dict] = {
    "convergence": dict(
        _PAPER, auxiliary=False, auxiliary_weight=0.0, drop_path_prob=0.0, cutout=0, grad_clip=None,
    ),
    "generalization": dict(
        _PAPER, auxiliary=True, auxiliary_weight=0.4, drop_path_prob=0.2, cutout=16, grad_clip=5.0,
    ),
    "cpu-mini": dict(
        epochs=6, batch_size=64, lr=0.05, momentum=0.9, weight_decay=3e-4, init_channels=8, layers=5,
        auxiliary=False, auxiliary_weight=0.0, drop_path_prob=0.0, cutout=0, augment=False, grad_clip=5.0,
        train_subset=2000, test_subset=1000, channels_last=True, amp=True, compile=False,
    ),
    "smoke": dict(
        epochs=2, batch_size=32, lr=0.1, momentum=0.9, weight_decay=3e-4, init_channels=4, layers=4,
        auxiliary=False, auxiliary_weight=0.0, drop_path_prob=0.0, cutout=0, augment=False, grad_clip=5.0,
        train_subset=256, test_subset=100, channels_last=True, amp=True, compile=False,
    ),
}
"""preset name -> field values (Appendix A.3 / A.4 for the first two)."""

PAPER_EPOCHS_BY_DATASET = {"tiny-imagenet-200": 300}
"""Appendix A.3: 300 epochs on Tiny-ImageNet-200 (instead of 600) in the paper's presets."""


def make_config(preset: str, /, **overrides) -> TrainConfig:
    """The preset's values with `overrides` on top (`ValueError` for an unknown preset or field).

    `arch` and `dataset` have no preset value and must be given. With the
    `convergence` and `generalization` presets, `tiny-imagenet-200` gets
    300 epochs unless `epochs` is overridden (Appendix A.3)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    if "preset" in overrides:
        raise ValueError("preset is chosen by --preset (the preset argument), not as an override"
                         f" (got preset={overrides['preset']!r})")
    unknown = sorted(set(overrides) - set(_FIELD_TYPES))
    if unknown:
        raise ValueError(f"unknown config field(s) {', '.join(unknown)} (fields: {', '.join(_FIELD_TYPES)})")
    for name in ("arch", "dataset"):
        if name not in overrides:
            raise ValueError(f"make_config needs {name}=")
    values = dict(PRESETS[preset], preset=preset)
    if preset in ("convergence", "generalization") and "epochs" not in overrides:
        values["epochs"] = PAPER_EPOCHS_BY_DATASET.get(overrides["dataset"], values["epochs"])
    values.update(overrides)
    return TrainConfig(**values)


def config_differences(saved: dict, config: TrainConfig, ignore=RUNTIME_FIELDS) -> list[str]:
    """`"field: saved -> new"` for every field (outside `ignore`) whose value differs."""
    current = config.to_dict()
    out = []
    for name, value in current.items():
        if name in ignore:
            continue
        if name not in saved and _FIELD_DEFAULTS.get(name, _MISSING) == value:
            continue  # a field added later, at its default: the saved run used that behaviour
        old = saved.get(name, "<missing>")
        if old != value:
            out.append(f"{name}: {old!r} -> {value!r}")
    return out
