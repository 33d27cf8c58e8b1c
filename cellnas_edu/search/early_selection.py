r"""Random search by early evaluation: does judging candidates after $k$ epochs favour wide cells?

**The question.** Observation 3.1 of the paper (Section 3) is that the cells
found by popular NAS algorithms are the widest and nearly the shallowest of
their search spaces. Section 4.1 explains it by *when* candidates are judged:
"popular NAS algorithms typically evaluate the performance of a candidate
architecture prematurely before the convergence of its model parameters".
AmoebaNet (Real et al., 2019) trains every candidate for only a few epochs;
DARTS (Liu et al., 2019) trains weights and architecture together. If wide,
shallow cells converge faster (Section 4.1), a search that reads the loss
early picks them; one that reads it late need not. This module runs that
argument as an experiment a learner can watch.

**The experiment.** For every learning rate and every repetition
$r = 0, \dots, R-1$:

1. draw $N$ distinct random connection variants of the normal cell
   (Appendix A.2; [`variant_family`][cellnas_edu.cells.variants.variant_family] with variant seed $r$);
   the reduction cell stays the original's;
2. train each candidate $c$ **once** for the full budget of $K$ epochs
   (training seed $r$), recording its test loss $L_c(k)$ after every epoch;
3. at every checkpoint $k$ of `select_at`, a search with budget $k$
   selects $\hat c_r(k) = \arg\min_c L_c(k)$,
   the candidate with the lowest test loss after epoch $k$
   ([`select`][cellnas_edu.search.early_selection.select]).

Selection at $k < K$ is **truncated training**: the learning-rate schedule
(cosine annealing) spans all $K$ epochs, so $L_c(k)$ is the loss of a run
interrupted after $k$ epochs, not of a run whose schedule was fitted to $k$
epochs. That is how an early-stopping search such as AmoebaNet's sees its
candidates, and it lets one training run answer every $k$ at once.

The held-out test subset plays the role of the search's validation set:
nothing here is a claim about generalisation (that is Section 5).

**The hypotheses** (repetitions are the units; $w_r(k)$, $d_r(k)$ are the
width and depth of $\hat c_r(k)$, $\bar w_r$, $\bar d_r$ the mean width
and depth of repetition $r$'s candidates, $k_1$ the smallest checkpoint):

* **H1** (primary): the selected width falls as $k$ grows. Page-type
  trend test ([`stratified_spearman`][cellnas_edu.stats.permutation.stratified_spearman],
  repetitions as blocks, $x = k$, $y = w_r(k)$, alternative "less"),
  exact over independent within-repetition permutations; with the exact
  sign test on $\Delta_r = w_r(k_1) - w_r(K)$, alternative "greater".
* **H2** (primary): early evaluation selects cells wider than the average
  candidate: $e_r = w_r(k_1) - \bar w_r$. Its test is exact under the null
  that the search picks one of each repetition's candidates at random
  ([`uniform_selection_test`][cellnas_edu.stats.sums.uniform_selection_test],
  alternative "greater"); effect size $\bar e$ with a bootstrap 95%
  interval. The sign-flip test of $\sum_r e_r$
  ([`sign_flip_test`][cellnas_edu.stats.signs.sign_flip_test]) and the sign test are reported
  beside it, but the sign-flip test assumes each $e_r$ symmetric about 0,
  which a random pick among candidates of unequal widths is not (the book's
  first analysis used it, and its p-value was too small). The same at every
  $k$ is reported as description.
* Holm's adjustment ([`holm`][cellnas_edu.stats.multiple.holm]) runs over the primary family
  $\{H1, H2\} \times$ learning rates (H1's stratified p, H2's uniform-selection p).
* Secondary, unadjusted: the same for depth in the opposite direction (the
  selected depth rises with $k$; the early-selected cell is shallower than
  the average candidate).
* Descriptive: at each $k$, in how many repetitions the widest candidate was
  selected, next to the number expected if the selection ignored width.

A candidate whose loss is not finite (a diverged run) counts as $+\infty$:
it is never selected while another candidate has a finite loss.

**Running it.** [`run_early_selection`][cellnas_edu.search.early_selection.run_early_selection] trains into
`OUT/lr<lr>/rep<r>/<label>/` (one run folder of
[`cellnas_edu.train.train`][cellnas_edu.train.train] per candidate), writes `OUT/experiment.json` (the
protocol and every candidate's genotype, width and depth) and rewrites
`OUT/summary.json` after every run. It is resumable: finished runs are skipped,
an interrupted one continues from its checkpoint, and another protocol in the
same folder is refused. The command line is `cellnas search random`.

References: H. Shu, W. Wang, D. Cai, *Understanding Architectures Learnt by
Cell-based Neural Architecture Search*, ICLR 2020 (Section 3, Observation 3.1;
Section 4.1). E. Real, A. Aggarwal, Y. Huang, Q. V. Le, *Regularized Evolution
for Image Classifier Architecture Search*, AAAI 2019 (AmoebaNet)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..cells.genotypes import genotype_from_dict, resolve_genotype
from ..cells.tables import format_table
from ..cells.topology import format_width
from ..constraints import Interval, is_integer, validate
from ..convergence.spec import lr_key
from ..errors import UserError
from ..experiments.protocol import Protocol
from ..experiments.runner import PlannedRun, prepare, run_all
from ..io import atomic_write_json
from ..stats import (
    MAX_SIGN_FLIP_UNITS,
    bootstrap_mean_interval,
    holm,
    sign_flip_test,
    sign_test,
    stratified_spearman,
    uniform_selection_test,
)

DEFAULT_OVERRIDES = dict(init_channels=4, layers=5, train_subset=640, test_subset=320, batch_size=32, grad_clip=None)
"""The network and data of every run on top of the `cpu-mini` preset: the network of the book's Section 4
follow-up study ([`PILOT_NETWORK`][cellnas_edu.section4_study.PILOT_NETWORK]); about 12 core-seconds a run of 8
epochs."""
TINY = dict(candidates=3, repetitions=2, epochs=2, dataset="synthetic",
            overrides=dict(init_channels=2, layers=4, train_subset=64, test_subset=40, batch_size=32,
                           grad_clip=None))
"""The test scale (`--tiny`, the `tiny` preset of
[`EarlySelectionSpec`][cellnas_edu.search.early_selection.EarlySelectionSpec]): seconds for the whole
experiment."""
SET_BY_SPEC = ("arch", "genotype", "lr", "seed", "epochs", "dataset", "preset")
"""Trainer fields the spec sets itself; `overrides` may not name them."""
N_BOOT = 2000
PRIMARY = ("H1", "H2")
_EXTENDABLE = ("lrs", "repetitions", "select_at")
"""Fields of the spec that may change when an experiment is resumed (learning rates and repetitions may be
added; the checkpoints only read the runs)."""


# -- the protocol ---------------------------------------------------------------------------------------------------


def doubling_checkpoints(epochs: int) -> tuple[int, ...]:
    """`1, 2, 4, ...` up to `epochs`, and `epochs` itself: `8 -> (1, 2, 4, 8)`, `6 -> (1, 2, 4, 6)`."""
    checkpoints = {epochs}
    k = 1
    while k < epochs:
        checkpoints.add(k)
        k *= 2
    return tuple(sorted(checkpoints))


@dataclass(frozen=True)
class EarlySelectionSpec(Protocol):
    """The protocol of one early-selection experiment, validated when built (`ValueError` naming the field).

    Presets (`EarlySelectionSpec.from_preset(name, **overrides)`): `cpu`, the pre-registered study (the
    defaults below), and `tiny`, the test scale ([`TINY`][cellnas_edu.search.early_selection.TINY]).

    `candidates` connection variants per repetition, `repetitions`
    repetitions (variant and training seed `r` for repetition `r`),
    `epochs` of training each, selection after every epoch of `select_at`
    (default: [`doubling_checkpoints`][cellnas_edu.search.early_selection.doubling_checkpoints] of `epochs`,
    `(1, 2, 4, 8)` for 8 epochs). `overrides` are extra
    [`TrainConfig`][cellnas_edu.train.TrainConfig] fields on top of `preset`."""

    arch: str = "DARTS"
    candidates: int = 6
    repetitions: int = 8
    epochs: int = 8
    select_at: tuple[int, ...] | None = None
    lrs: tuple[float, ...] = (0.025, 0.25)
    dataset: str = "fashion-mnist"
    preset: str = "cpu-mini"
    overrides: dict = field(default_factory=lambda: dict(DEFAULT_OVERRIDES))

    PRESETS: ClassVar[dict[str, dict]] = {
        "cpu": dict(candidates=6, repetitions=8, epochs=8, dataset="fashion-mnist", overrides=DEFAULT_OVERRIDES),
        "tiny": TINY,
    }
    CONSTRAINTS: ClassVar[dict[str, tuple[str, Interval]]] = {
        "candidates": ("--candidates", Interval(int, 2, note="a search chooses between candidates")),
        "repetitions": ("--repetitions", Interval(int, 1, MAX_SIGN_FLIP_UNITS,
                                                  note="the exact sign-flip test enumerates 2^R sign patterns")),
        "epochs": ("--epochs", Interval(int, 1)),
    }

    def __post_init__(self):
        if not isinstance(self.arch, str) or not self.arch:
            raise ValueError(f"--arch must name a built-in genotype or a genotype JSON file, got {self.arch!r}")
        self.check_constraints()
        select_at = doubling_checkpoints(self.epochs) if self.select_at is None else self.select_at
        object.__setattr__(self, "select_at", _checked_checkpoints(select_at, self.epochs))
        object.__setattr__(self, "lrs", _checked_lrs(self.lrs))
        if not isinstance(self.overrides, dict):
            raise ValueError(f"overrides must be a dict of trainer fields, got {self.overrides!r}")
        taken = sorted(set(self.overrides) & set(SET_BY_SPEC))
        if taken:
            raise ValueError(f"overrides may not set {', '.join(taken)}: the spec sets them")
        if self.overrides.get("eval_every", 1) != 1:
            raise ValueError("overrides: eval_every must be 1 (selection reads the test loss after every epoch)")
        genotype = resolve_genotype(self.arch)  # unknown name or bad file: ValueError / UserError
        variants = draw_candidates(genotype, self.candidates, 0)  # more candidates than exist: ValueError
        config_for(self, variants[0], self.lrs[0], 0)  # bad dataset, preset or override: ValueError

    def protocol(self) -> dict:
        """Everything that must stay the same when the experiment is resumed.

        Learning rates and repetitions may be added, and the checkpoints
        `select_at` changed (they only read the runs); where the data live and
        how the work is executed (the trainer's runtime fields: `data_root`,
        `device`, `compile`, `num_workers`) may change."""
        from ..convergence.spec import resumable_protocol

        return resumable_protocol(self, _EXTENDABLE)

    def to_json(self) -> dict:
        """Every field, as JSON data (tuples as lists):
        [`to_dict`][cellnas_edu.experiments.protocol.Protocol.to_dict]."""
        return self.to_dict()

    @classmethod
    def from_json(cls, data: dict) -> EarlySelectionSpec:
        """Rebuild from [`to_json`][cellnas_edu.search.early_selection.EarlySelectionSpec.to_json] (a summary's
        `experiment`)."""
        return cls.from_dict(data)


def _checked_checkpoints(select_at, epochs: int) -> tuple[int, ...]:
    if not isinstance(select_at, (tuple, list)) or not select_at:
        raise ValueError(f"--select-at must list at least one epoch, got {select_at!r}")
    if not all(is_integer(k) for k in select_at):
        raise ValueError(f"--select-at must list whole epochs, got {list(select_at)}")
    if list(select_at) != sorted(set(select_at)):
        raise ValueError(f"--select-at must be increasing without repeats, got {list(select_at)}")
    if select_at[0] < 1 or select_at[-1] > epochs:
        raise ValueError(f"--select-at epochs must lie in 1..{epochs} (--epochs), got {list(select_at)}")
    if select_at[-1] != epochs:
        raise ValueError(f"--select-at must include the full budget {epochs} (--epochs): H1 compares the "
                         f"selection at the first checkpoint with the one at the end, got {list(select_at)}")
    return tuple(select_at)


def _checked_lrs(lrs) -> tuple[float, ...]:
    if not isinstance(lrs, (tuple, list)) or not lrs:
        raise ValueError(f"--lrs must list at least one learning rate, got {lrs!r}")
    for lr in lrs:
        validate("each learning rate", lr, Interval(float, 0, closed="neither"))
    if len({lr_key(lr) for lr in lrs}) != len(lrs):
        raise ValueError(f"learning rates repeat: {', '.join(map(str, lrs))}")
    return tuple(float(lr) for lr in lrs)


def draw_candidates(genotype, count: int, repetition: int):
    """Repetition `r`'s candidates: `count` distinct connection variants of the normal cell, variant seed `r`.

    Labelled `C1..CN` by width (ascending) and depth (descending) as in
    Table 2; `Variant.draw` is the order in which they were drawn."""
    from ..cells.variants import variant_family

    return variant_family(genotype, kind="connections", count=count, seed=repetition, cell="normal", distinct=True)


def candidates_by_repetition(spec: EarlySelectionSpec) -> dict[int, list]:
    """`{r: repetition r's candidates}` for every repetition of `spec`."""
    genotype = resolve_genotype(spec.arch)
    return {r: draw_candidates(genotype, spec.candidates, r) for r in range(spec.repetitions)}


def config_for(spec: EarlySelectionSpec, variant, lr: float, repetition: int):
    """The trainer's config of one candidate: `arch` is its label, the genotype travels as data."""
    from ..train import make_config

    return make_config(spec.preset, arch=variant.label, genotype=variant.genotype, lr=float(lr), seed=repetition,
                       epochs=spec.epochs, dataset=spec.dataset, **spec.overrides)


def run_folder(out_dir, lr: float, repetition: int, label: str) -> Path:
    """`OUT/lr<lr>/rep<r>/<label>`."""
    return Path(out_dir) / f"lr{lr_key(lr)}" / f"rep{repetition}" / label


# -- selection and statistics (pure: no training, no files) -----------------------------------------------------------


def loss_after(losses, k: int) -> float:
    """The test loss after epoch `k` (`losses[k - 1]`); missing, `None`, NaN or infinite count as `+inf`."""
    value = losses[k - 1] if k <= len(losses) else None
    if value is None or not math.isfinite(value):
        return math.inf
    return float(value)


def select(losses_by_candidate: dict, k: int):
    """The candidate with the lowest test loss after epoch `k`.

    `losses_by_candidate[label]` is the per-epoch test loss, epoch 1 first.
    A missing, `None`, NaN or infinite loss counts as `+inf` (a diverged run
    is worse than any finite one). Ties go to the candidate that comes first
    in the dict's order; [`analyze`][cellnas_edu.search.early_selection.analyze] passes the candidates in the
    order they were **drawn**, which is random, so a tie favours no width
    (the labels `C1..CN` are sorted by width and would). Returns `None` when
    no candidate has a finite loss after epoch `k`. `ValueError` for no
    candidates, `k < 1`, or `k` beyond every candidate's curve."""
    if not losses_by_candidate:
        raise ValueError("select needs at least one candidate")
    if not is_integer(k) or k < 1:
        raise ValueError(f"k must be an epoch (an integer >= 1), got {k!r}")
    if k > max(len(losses) for losses in losses_by_candidate.values()):
        raise ValueError(f"no candidate has a test loss after epoch {k}")
    best, best_loss = None, math.inf
    for label, losses in losses_by_candidate.items():
        loss = loss_after(losses, k)
        if loss < best_loss:
            best, best_loss = label, loss
    return best


def _mean(values) -> float:
    return float(np.mean(values))


def _mean_or_none(values) -> float | None:
    kept = [v for v in values if v is not None]
    return _mean(kept) if kept else None


def repetition_selections(rows: list[dict], select_at, candidates: int) -> dict:
    """One repetition: its candidates' mean width and depth and the cell selected at every `k`.

    `rows` are the repetition's run records. A repetition is `complete`
    when all `candidates` runs are finished or diverged; only complete
    repetitions are selected from."""
    rows = sorted(rows, key=lambda row: row["draw"])
    widths = [row["width"] for row in rows]
    depths = [row["depth"] for row in rows]
    complete = len(rows) == candidates and all(row["state"] in ("finished", "diverged") for row in rows)
    summary = {
        "repetition": rows[0]["repetition"] if rows else None,
        "complete": complete,
        "mean_width": _mean(widths) if rows else None,
        "mean_depth": _mean(depths) if rows else None,
        "widths": widths,
        "depths": depths,
        "widest": [row["label"] for row in rows if row["width"] == max(widths)],
        "diverged": [row["label"] for row in rows if row["state"] == "diverged"],
        "selected": [],
    }
    if not complete:
        return summary
    by_label = {row["label"]: row for row in rows}
    losses = {row["label"]: row["test_loss"] for row in rows}
    for k in select_at:
        label = select(losses, k)
        chosen = by_label.get(label)
        summary["selected"].append({
            "k": k,
            "label": label,
            "width": None if chosen is None else chosen["width"],
            "depth": None if chosen is None else chosen["depth"],
            "test_loss": None if chosen is None else loss_after(chosen["test_loss"], k),
            "widest": chosen is not None and chosen["width"] == max(widths),
        })
    return summary


def _selected(repetition: dict, k: int, prop: str):
    return next(s[prop] for s in repetition["selected"] if s["k"] == k)


def trend_test(repetitions: list[dict], select_at, prop: str, alternative: str) -> dict:
    """Does the selected `prop` move with `k`? Exact stratified Spearman (blocks = repetitions), and the sign
    test on `prop(selected at the first k) - prop(selected at the last k)`."""
    usable = [rep for rep in repetitions if all(s[prop] is not None for s in rep["selected"])]
    blocks = [(list(select_at), [s[prop] for s in rep["selected"]]) for rep in usable]
    first_minus_last = [_selected(rep, select_at[0], prop) - _selected(rep, select_at[-1], prop) for rep in usable]
    # the first-minus-last difference moves against the trend: a width that falls with k is larger at first
    sign_alternative = "greater" if alternative == "less" else "less"
    return {
        "stratified_spearman": stratified_spearman(blocks, alternative).to_json(),
        "first_minus_last": first_minus_last,
        "sign_test": sign_test(first_minus_last, sign_alternative).to_json(),
        "repetitions": len(usable),
    }


def excess_test(repetitions: list[dict], k: int, prop: str, alternative: str, n_boot: int = N_BOOT) -> dict:
    """Is the cell selected at `k` wider (or shallower) than the average candidate? `prop(selected) - mean prop
    of the candidates` per repetition: exact sign-flip test, sign test, mean with a bootstrap 95% interval."""
    mean_key = f"mean_{prop}"
    excess = [_selected(rep, k, prop) - rep[mean_key] for rep in repetitions
              if _selected(rep, k, prop) is not None]
    return {
        "k": k,
        "excess": excess,
        "uniform_selection": uniform_selection_test([rep[f"{prop}s"] for rep in repetitions],
                                                    [_selected(rep, k, prop) for rep in repetitions],
                                                    alternative).to_json(),
        "sign_flip": sign_flip_test(excess, alternative).to_json(),
        "sign_test": sign_test(excess, alternative).to_json(),
        "mean_interval": bootstrap_mean_interval(excess, n_boot=n_boot, seed=0),
        "repetitions": len(excess),
    }


def widest_selected(repetitions: list[dict], k: int, candidates: int) -> dict:
    """In how many repetitions the selection at `k` was a widest candidate, and how many to expect if the
    selection ignored width (the sum over repetitions of the share of widest candidates)."""
    return {
        "k": k,
        "count": sum(1 for rep in repetitions if any(s["k"] == k and s["widest"] for s in rep["selected"])),
        "expected_by_chance": sum(len(rep["widest"]) / candidates for rep in repetitions),
        "repetitions": len(repetitions),
    }


def analyze_learning_rate(records: list[dict], spec: EarlySelectionSpec, n_boot: int = N_BOOT) -> dict:
    """The selections and statistics of one learning rate's records."""
    select_at = spec.select_at
    repetitions = []
    for r in sorted({row["repetition"] for row in records}):
        rows = [row for row in records if row["repetition"] == r]
        repetitions.append(repetition_selections(rows, select_at, spec.candidates))
    complete = [rep for rep in repetitions if rep["complete"]]
    first = select_at[0]
    return {
        "repetitions": repetitions,
        "complete_repetitions": len(complete),
        "primary": {
            "H1": {"hypothesis": "the selected width falls as k grows",
                   **trend_test(complete, select_at, "width", "less")},
            "H2": {"hypothesis": f"the cell selected at k = {first} is wider than the average candidate",
                   **excess_test(complete, first, "width", "greater", n_boot)},
        },
        "secondary": {
            "depth_trend": {"hypothesis": "the selected depth rises with k",
                            **trend_test(complete, select_at, "depth", "greater")},
            "depth_excess": {"hypothesis": f"the cell selected at k = {first} is shallower than the average "
                                           "candidate",
                             **excess_test(complete, first, "depth", "less", n_boot)},
        },
        "per_k": [{"k": k,
                   "mean_selected_width": _mean_or_none([_selected(rep, k, "width") for rep in complete]),
                   "width_excess": excess_test(complete, k, "width", "greater", n_boot),
                   "depth_excess": excess_test(complete, k, "depth", "less", n_boot),
                   "widest_selected": widest_selected(complete, k, spec.candidates)}
                  for k in select_at],
    }


def primary_p_values(per_lr: dict) -> dict[str, float | None]:
    """The primary family: `"<lr>:H1"` (stratified Spearman p) and `"<lr>:H2"` (the exact p of uniform selection
    among each repetition's candidates) per learning rate."""
    family = {}
    for key, block in per_lr.items():
        family[f"{key}:H1"] = block["primary"]["H1"]["stratified_spearman"]["p_value"]
        family[f"{key}:H2"] = block["primary"]["H2"]["uniform_selection"]["p_value"]
    return family


def analyze(records: list[dict], spec: EarlySelectionSpec, n_boot: int = N_BOOT) -> dict:
    """Every selection and statistic, from the per-run records alone (see the module docstring).

    `records` are those of [`run_records`][cellnas_edu.search.early_selection.run_records]: `lr` (its
    folder key), `repetition`, `label`, `draw`, `width`, `depth`, `state`,
    `test_loss` (per epoch, `None` where not finite or not reached). Only
    repetitions whose candidates have all finished (or diverged) enter the
    statistics."""
    per_lr = {}
    for lr in spec.lrs:
        key = lr_key(lr)
        per_lr[key] = analyze_learning_rate([row for row in records if row["lr"] == key], spec, n_boot)
    family = primary_p_values(per_lr)
    adjusted = holm(family)
    for name, p in adjusted.items():
        key, hypothesis = name.split(":")
        per_lr[key]["primary"][hypothesis]["p_holm"] = p
    for block in per_lr.values():
        block["verdict"] = verdict_lines(block, spec)
    return {
        "learning_rates": per_lr,
        "holm": {"family": list(family), "p_values": family, "adjusted": adjusted},
    }


def _p(value) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def verdict_lines(block: dict, spec: EarlySelectionSpec) -> list[str]:
    """Plain sentences for one learning rate's primary tests."""
    h1, h2 = block["primary"]["H1"], block["primary"]["H2"]
    trend, sign = h1["stratified_spearman"], h1["sign_test"]
    interval = h2["mean_interval"]
    lines = []
    if trend["p_value"] is None:
        lines.append("H1: no repetition's selected width changed with k (no informative block): nothing to test")
    else:
        lines.append(f"H1 (selected width falls as k grows): mean per-repetition rho = {trend['mean_rho']:+.2f} over "
                     f"{trend['blocks']} informative repetitions, exact p = {_p(trend['p_value'])} "
                     f"(Holm {_p(h1['p_holm'])}); wider at k = {spec.select_at[0]} than at k = {spec.epochs} in "
                     f"{sign['successes']} of {sign['trials']} (sign test p = {_p(sign['p_value'])})")
    if interval["mean"] is None:
        lines.append("H2: no complete repetition yet")
    else:
        flip = h2["sign_flip"]
        lines.append(f"H2 (selected at k = {h2['k']} wider than the average candidate): mean excess width "
                     f"{interval['mean']:+.3f}c [95% {interval['low']:+.3f}, {interval['high']:+.3f}], exact "
                     f"sign-flip p = {_p(flip['p_value'])} ({flip['p_fraction']}; Holm {_p(h2['p_holm'])}), wider in "
                     f"{h2['sign_test']['successes']} of {h2['sign_test']['trials']} (sign test p = "
                     f"{_p(h2['sign_test']['p_value'])})")
    incomplete = len(block["repetitions"]) - block["complete_repetitions"]
    if incomplete:
        lines.append(f"incomplete: {incomplete} repetition(s) still training are left out")
    return lines


# -- reading the run folders and running the experiment ---------------------------------------------------------------


def losses_by_epoch(run, epochs: int) -> list[float | None]:
    """The test loss after epochs `1..epochs` (`None` where not finite or not reached), from a
    [`RunRecord`][cellnas_edu.train.runfolder.RunRecord]."""
    by_epoch = dict(zip(run.epochs, run.test_loss))
    values = [by_epoch.get(epoch) for epoch in range(1, epochs + 1)]
    return [v if v is not None and math.isfinite(v) else None for v in values]


def accuracies_by_epoch(run, epochs: int) -> list[float | None]:
    """The test accuracy (%) after epochs `1..epochs` (`None` where not finite or not reached): not used by the
    selection, recorded so that a reader can see how far from chance the candidates were when selected."""
    by_epoch = dict(zip(run.epochs, run.test_acc))
    values = [by_epoch.get(epoch) for epoch in range(1, epochs + 1)]
    return [v if v is not None and math.isfinite(v) else None for v in values]


def run_records(out_dir, spec: EarlySelectionSpec, candidates: dict[int, list]) -> list[dict]:
    """One record per (learning rate, repetition, candidate): its cell, its state and its test-loss curve."""
    from ..train.runfolder import RunFolder

    records = []
    for lr in spec.lrs:
        for r, variants in candidates.items():
            for v in variants:
                run = RunFolder(run_folder(out_dir, lr, r, v.label)).record(spec.epochs)
                records.append({"lr": lr_key(lr), "repetition": r, "label": v.label, "draw": v.draw,
                                "width": float(v.width), "width_c": format_width(v.width), "depth": v.depth,
                                "state": run.state, "test_loss": losses_by_epoch(run, spec.epochs),
                                "test_acc": accuracies_by_epoch(run, spec.epochs)})
    return records


def summarize(out_dir, spec: EarlySelectionSpec, candidates: dict[int, list], n_boot: int = N_BOOT) -> dict:
    """The content of `summary.json`: the spec, the per-run records and their
    [`analyze`][cellnas_edu.search.early_selection.analyze]."""
    records = run_records(out_dir, spec, candidates)
    done = sum(row["state"] in ("finished", "diverged") for row in records)
    return {
        "experiment": spec.to_json(),
        "protocol": spec.protocol(),
        "note": ("candidates are connection variants of the normal cell (the reduction cell is the original's); "
                 "selection at k < epochs reads the test loss of a run whose learning-rate schedule spans all "
                 "epochs (truncated training)"),
        "runs_done": done,
        "runs_total": len(records),
        "complete": done == len(records),
        "records": records,
        "analysis": analyze(records, spec, n_boot),
    }


def _prepare(out_dir: Path, spec: EarlySelectionSpec, candidates: dict[int, list], resume: bool, threads: int) -> None:
    """Write `experiment.json` (the protocol and every candidate); refuse a different protocol."""

    def check_trained(old: dict) -> None:
        trained = {(c.get("repetition"), c.get("label")): c.get("genotype") for c in old.get("candidates", [])
                   if isinstance(c, dict)}
        for r, variants in candidates.items():
            for v in variants:
                before = trained.get((r, v.label))
                if before is not None and genotype_from_dict(before) != v.genotype:
                    raise UserError(f"{out_dir}: candidate {v.label} of repetition {r} differs from the one "
                                    "trained before; choose another --out")

    prepare(out_dir, spec.protocol(), {
        "experiment": spec.to_json(),
        "candidates": [{"repetition": r, "label": v.label, "draw": v.draw, "width": float(v.width),
                        "width_c": format_width(v.width), "depth": v.depth, "genotype": v.genotype.to_dict()}
                       for r, variants in candidates.items() for v in variants],
    }, resume=resume, threads=threads, what="an experiment", runs_glob="lr*/rep*/*", check_trained=check_trained)


def run_early_selection(spec: EarlySelectionSpec, out_dir, *, resume: bool = False, progress: bool = True,
                        jobs: int = 1, threads_per_job: int = 1, n_boot: int = N_BOOT) -> dict:
    """Train every (learning rate, repetition, candidate) of `spec` not yet done; return (and write) the summary.

    Finished and diverged runs are skipped; an interrupted run resumes from
    its checkpoint. `OUT/summary.json` is rewritten atomically after every
    run, so the results so far are always on disk. `jobs > 1` trains that
    many runs at once in worker processes with `threads_per_job` torch
    threads each (as [`run_convergence`][cellnas_edu.convergence.runner.run_convergence], through the one
    runner [`run_all`][cellnas_edu.experiments.runner.run_all]); results do not
    depend on `jobs`. A tqdm bar on stderr shows the runs, their rate and the ETA."""
    for name, value in (("jobs", jobs), ("threads_per_job", threads_per_job)):
        validate(name, value, Interval(int, 1))
    out_dir = Path(out_dir)
    candidates = candidates_by_repetition(spec)
    _prepare(out_dir, spec, candidates, resume, threads_per_job)

    def write_summary(lr=None) -> dict:
        summary = summarize(out_dir, spec, candidates, n_boot)
        atomic_write_json(out_dir / "summary.json", summary)
        return summary

    runs = [PlannedRun(lr, config_for(spec, v, lr, r), run_folder(out_dir, lr, r, v.label),
                       f"lr {lr_key(lr)} rep{r} {v.label}")
            for lr in spec.lrs for r, variants in candidates.items() for v in variants]
    run_all(runs, spec.epochs, write_summary, desc="early-selection runs", jobs=jobs,
            threads_per_job=threads_per_job, progress=progress, train_progress=False)
    return write_summary()


# -- the report -------------------------------------------------------------------------------------------------------


def _selection_caption(selection: dict) -> str:
    if selection["label"] is None:
        return "-"
    return f"{selection['label']} ({selection['width']:g}c, {selection['depth']})"


def _interval(iv: dict) -> str:
    if iv["mean"] is None:
        return "-"
    return f"{iv['mean']:+.3f} [{iv['low']:+.3f}, {iv['high']:+.3f}]"


def format_early_selection(summary: dict) -> str:
    """A plain-text report: per learning rate the selections, a table per `k`, the tests and the verdict."""
    spec = summary["experiment"]
    select_at = spec["select_at"]
    lines = []
    for key, block in summary["analysis"]["learning_rates"].items():
        lines.append(f"learning rate {key}: the cell with the lowest test loss after epoch k "
                     f"({spec['candidates']} candidates per repetition)")
        header = ("rep", "mean width", "mean depth", *(f"k={k}" for k in select_at))
        rows = []
        for rep in block["repetitions"]:
            chosen = [_selection_caption(s) for s in rep["selected"]] or ["(training)"] * len(select_at)
            rows.append((str(rep["repetition"]), f"{rep['mean_width']:.3f}c", f"{rep['mean_depth']:.2f}", *chosen))
        lines.append(format_table(header, rows, indent="  "))
        lines.append("")
        header = ("k", "mean selected width", "width - mean [95% CI]", "sign-flip p", "depth - mean [95% CI]",
                  "widest selected (chance)")
        rows = []
        for entry in block["per_k"]:
            widest = entry["widest_selected"]
            width = entry["mean_selected_width"]
            rows.append((str(entry["k"]), "-" if width is None else f"{width:.3f}c",
                         _interval(entry["width_excess"]["mean_interval"]),
                         _p(entry["width_excess"]["sign_flip"]["p_value"]),
                         _interval(entry["depth_excess"]["mean_interval"]),
                         f"{widest['count']}/{widest['repetitions']} ({widest['expected_by_chance']:.2f})"))
        lines.append(format_table(header, rows, indent="  "))
        lines.extend(f"  - {line}" for line in block["verdict"])
        trend = block["secondary"]["depth_trend"]["stratified_spearman"]
        excess = block["secondary"]["depth_excess"]["sign_flip"]
        lines.append(f"  - secondary (unadjusted): depth rises with k, exact p = {_p(trend['p_value'])}; selected at "
                     f"k = {select_at[0]} shallower than average, sign-flip p = {_p(excess['p_value'])}")
        lines.append("")
    lines.append(f"Holm over the primary family ({', '.join(summary['analysis']['holm']['family'])})")
    lines.append(f"runs: {summary['runs_done']}/{summary['runs_total']} done; {summary['note']}")
    return "\n".join(lines)
