"""The protocol of a convergence experiment: which cells, which preset, which learning rates and seeds."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from ..cells.cellspec import Genotype
from ..cells.genotypes import display_name
from ..cells.topology import cell_depth, cell_width, format_width
from ..constraints import Interval, validate

PAPER_LEARNING_RATES = (0.025, 0.0025, 0.25)
"""The learning rates of Figures 3 and 4 (Appendix A.3)."""
FAMILIES = ("random", "table2")
"""How the variants are chosen: seeded random draws (Appendix A.2), or draws matching Table 2's widths and
depths."""
_EXTENDABLE = ("lrs", "seeds")
"""Fields of [`ConvergenceSpec`][cellnas_edu.convergence.spec.ConvergenceSpec] that may change between
invocations on one folder."""


@dataclass(frozen=True)
class ConvergenceSpec:
    """The protocol of one experiment: which cells, which trainer preset, which learning rates and seeds.

    `overrides` are extra [`TrainConfig`][cellnas_edu.train.TrainConfig] fields
    (`init_channels`, `layers`, `train_subset`, ...) applied to every run
    on top of `preset`; `epochs` defaults to the preset's (600 for `convergence`)."""

    arch: str
    kind: str = "connections"
    count: int = 4
    variant_seed: int = 0
    family: str = "random"
    lrs: tuple[float, ...] = (0.025,)
    seeds: int = 3
    preset: str = "convergence"
    dataset: str = "cifar10"
    epochs: int | None = None
    overrides: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in ("connections", "operations"):
            raise ValueError(f"--variants must be 'connections' or 'operations', got {self.kind!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"--family must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.family == "table2" and self.kind != "connections":
            raise ValueError("--family table2 is a family of connection variants (Table 2); use --variants connections")
        validate("--count", self.count, Interval(int, 0))
        validate("--seeds", self.seeds, Interval(int, 1))
        if not self.lrs:
            raise ValueError("at least one learning rate is needed")
        for lr in self.lrs:
            validate("each learning rate", lr, Interval(float, 0, closed="neither"))
        if len({lr_key(lr) for lr in self.lrs}) != len(self.lrs):
            raise ValueError(f"learning rates repeat: {', '.join(map(str, self.lrs))}")
        validate("--epochs", self.epochs, Interval(int, 1, none_ok=True))

    def protocol(self) -> dict:
        """Everything that must stay the same when the experiment is resumed.

        Learning rates and seeds may be added; where the data live and how the
        work is executed (the trainer's runtime fields: `data_root`,
        `device`, `compile`, `num_workers`) may change."""
        return resumable_protocol(self, _EXTENDABLE)


def resumable_protocol(spec, extendable: tuple[str, ...]) -> dict:
    """The fields of an experiment's spec dataclass that must not change when the experiment is resumed: all but
    `extendable` (what may be added later, such as seeds or learning rates), with `overrides` stripped of the
    trainer's runtime fields (where the data live and how the work is executed)."""
    from ..train.config import RUNTIME_FIELDS

    data = asdict(spec)
    for key in extendable:
        data.pop(key)
    data["overrides"] = {k: v for k, v in data["overrides"].items() if k not in RUNTIME_FIELDS}
    return data


@dataclass(frozen=True)
class ExperimentCell:
    """One trained cell: `label` (the original's name, or `C1..CK`), its genotype, width and depth."""

    label: str
    genotype: Genotype
    width: Fraction
    depth: int
    original: bool

    def caption(self) -> str:
        return f"{self.label} ({format_width(self.width)}, {self.depth})"


def lr_key(lr: float) -> str:
    """Folder name of a learning rate: `0.025` -> `"0.025"`."""
    return f"{lr:g}"


def _safe_label(name: str) -> str:
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "original"
    return "original" if re.fullmatch(r"C\d+", label) else label


def experiment_cells(genotype: Genotype, kind: str, count: int, seed: int = 0,
                     family: str = "random") -> list[ExperimentCell]:
    """The original cell followed by `count` variants of its normal cell, labelled `C1..CK` (Table 2 order).

    `family="table2"` ignores `count` and returns 13 connection variants
    with exactly the widths and depths of the genotype's row of Table 2
    ([`table2_variants`][cellnas_edu.convergence.spec.table2_variants])."""
    from ..cells.variants import variant_family

    normal = genotype.normal
    cells = [ExperimentCell(_safe_label(display_name(genotype)), genotype, cell_width(normal), cell_depth(normal),
                            True)]
    if family == "table2":
        variants = table2_variants(genotype, seed)
    else:
        variants = variant_family(genotype, kind=kind, count=count, seed=seed, cell="normal", distinct=True)
    for variant in variants:
        cells.append(ExperimentCell(variant.label, variant.genotype, variant.width, variant.depth, False))
    return cells


def table2_variants(genotype: Genotype, seed: int = 0, pool: int = 4000):
    """Connection variants with the widths and depths of Table 2, `C1..C13` in the table's order.

    The paper publishes only the width and depth of its 13 random variants of
    DARTS, ENAS, AmoebaNet and NASNet (Table 2), not the cells. This draws a
    seeded pool of distinct random connection variants (Appendix A.2) and,
    for each column of Table 2 in turn, takes the earliest draw with that
    width and depth not taken yet: a family with the paper's topology
    statistics, reproducible from `seed`."""
    from dataclasses import replace

    from ..cells.genotypes import ALIASES
    from ..cells.variants import variant_family
    from ..paper import TABLE2_VARIANTS

    key = ALIASES.get(genotype.name or "", genotype.name or "")
    if key not in TABLE2_VARIANTS:
        raise ValueError(f"Table 2 lists variants of {', '.join(TABLE2_VARIANTS)} only, not {genotype.name!r}")
    drawn = sorted(variant_family(genotype, "connections", count=pool, seed=seed, distinct=True),
                   key=lambda v: v.draw)
    taken, family = set(), []
    for index, (width, depth) in enumerate(TABLE2_VARIANTS[key], 1):
        match = next((v for v in drawn if v.draw not in taken and (float(v.width), v.depth) == (width, depth)), None)
        if match is None:
            raise ValueError(f"no variant of width {width:g}c and depth {depth} among {pool} draws (seed {seed})")
        taken.add(match.draw)
        family.append(replace(match, label=f"C{index}"))
    return family


def run_dir(out_dir: Path, lr: float, label: str, seed: int) -> Path:
    """`OUT/<lr>/<label>/seed<k>`."""
    return Path(out_dir) / lr_key(lr) / label / f"seed{seed}"
