r"""Observation 3.1 with a search of our own: first-order DARTS on the NAS-Bench-201 space, several seeds (Chapter 9).

Section 3 of the paper says that the cells NAS algorithms find are the widest and shallowest of their space.
NATS-Bench reports that DARTS, run on CIFAR-10, converges to the all-skip cell on this space; this study runs the
package's own first-order DARTS ([`search_result`][cellnas_edu.nb201.search.search_result]) on Fashion-MNIST at a
CPU size, once per seed, and asks three questions, in this order, under a plan written to
`results/nb201_darts_search_plan/summary.json` before any search runs:

1. **Where do the found cells sit?** Width, depth, the share of the trainable cells at least as wide and
   at most as deep, whether the cell is undominated (no trainable cell is at least as wide and at most as deep
   and strictly one of them; on this space width 3 needs depth 2, so "widest and shallowest" is the corner
   {(1, 1), (3, 2)}), and the number of convolutions on the longest path (descriptive; one row per seed).
2. **Was the derivation decided, or is it noise?** For each edge, the *margin* (best operation's softmax weight
   minus the second's; 0 at a tie, 1 one-hot, about $10^{-3}$ at the start) and, across seeds, how many seeds
   chose the edge's most frequent operation. If the choice on an edge were noise, each seed would pick any of
   the five operations with probability $1/5$; the exact p-value of the largest agreement count under that null
   ([`agreement_p_value`][cellnas_edu.nb201.search_study.agreement_p_value], by enumeration of the multinomial)
   is computed for every edge, Holm over the six edges at $\alpha = 0.05$. An edge whose final margin is below
   [`DECISIVE_MARGIN`][cellnas_edu.nb201.search_study.DECISIVE_MARGIN] is counted as undecided.
3. **What is a found cell worth?** Its 200-epoch test accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120 in
   NATS-Bench's table, and its percentile among the trainable cells. (The search ran on Fashion-MNIST; the
   look-up says what the cell scores when trained to convergence on the datasets NATS-Bench used, not on the
   one the search saw.)

The power of the agreement test is computed in the plan ([`plan`][cellnas_edu.nb201.search_study.plan]):
with $n$ seeds, the chance that an edge whose favoured operation wins with probability $q$ in each seed is
declared decided after Holm's first step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from ..constraints import Interval, validate
from ..stats import holm

NAME = "nb201_darts_search"
ALPHA = 0.05
DECISIVE_MARGIN = 0.1
"""An edge counts as decided when its best operation's weight exceeds the second's by at least 0.1 (half the
uniform weight of 0.2); fixed in the plan before the runs."""
OPTIONS = 5
"""Operations per edge."""


@dataclass(frozen=True)
class Protocol:
    """Everything the study's numbers depend on; the search settings are the `nb201-cpu` preset of
    [`PRESETS`][cellnas_edu.search.darts.PRESETS] with these overrides."""

    seeds: int = 10
    preset: str = "nb201-cpu"
    dataset: str = "fashion-mnist"
    search_images: int = 10240
    epochs: int = 10
    batch_size: int = 64
    init_channels: int = 8
    cells_per_stage: int = 1
    arch_lr: float = 3e-3
    threads_per_search: int = 1
    workers: int = 2

    def __post_init__(self):
        validate("seeds", self.seeds, Interval(int, 2, 64))

    def search_config(self, seed: int):
        """The search of one seed."""
        from ..search.darts import make_search_config

        return make_search_config(self.preset, dataset=self.dataset, search_images=self.search_images,
                                  epochs=self.epochs, batch_size=self.batch_size,
                                  init_channels=self.init_channels, layers=self.cells_per_stage,
                                  arch_lr=self.arch_lr, seed=seed, device="cpu")


PRESETS = {
    "cpu": Protocol(),
    "tiny": Protocol(seeds=2, dataset="synthetic", search_images=96, epochs=2, batch_size=16, init_channels=4),
}
"""`cpu` (the chapter's study: 10 seeds, minutes each; 10 is the fewest that give power 0.8 when an edge's
favoured operation wins 80% of the seeds, see [`plan`][cellnas_edu.nb201.search_study.plan]) and `tiny` (the
tests' scale: seconds)."""


def agreement_p_value(count: int, seeds: int, options: int = OPTIONS) -> Fraction:
    """Exact $P(\\max_o N_o \\ge \\text{count})$ when each of `seeds` seeds picks one of `options` operations
    uniformly and independently (the null that an edge's choice is noise); by enumeration of the counts."""
    if not 1 <= count <= seeds:
        raise ValueError(f"count must be between 1 and {seeds}, got {count}")
    return _max_count_tail(seeds, count, [Fraction(1, options)] * options)


def _max_count_tail(seeds: int, count: int, probabilities):
    r"""$P(\max_o N_o \ge \text{count})$ for multinomial counts of `seeds` draws with these `probabilities`, by
    enumerating the counts (exact when the probabilities are `Fraction`s)."""
    total = 0
    for counts in _compositions(seeds, len(probabilities)):
        if max(counts) >= count:
            ways = math.factorial(seeds)
            for c in counts:
                ways //= math.factorial(c)
            total += ways * math.prod(p**c for p, c in zip(probabilities, counts))
    return total


def critical_count(seeds: int, level: float) -> int | None:
    """The smallest agreement count whose exact p-value is at most `level` (`None`: no count reaches it)."""
    return next((k for k in range(1, seeds + 1) if agreement_p_value(k, seeds) <= level), None)


def _compositions(n: int, parts: int):
    if parts == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in _compositions(n - first, parts - 1):
            yield (first, *rest)


def power(seeds: int, q: float, alpha: float = ALPHA, edges: int = 6) -> float:
    """The chance that one edge is declared decided at Holm's first (strictest) step, alpha / edges, when its
    favoured operation wins each seed with probability `q` and the others share the rest equally."""
    critical = critical_count(seeds, alpha / edges)
    if critical is None:
        return 0.0
    others = (1 - q) / (OPTIONS - 1)
    return float(_max_count_tail(seeds, critical, [q] + [others] * (OPTIONS - 1)))


def plan(protocol: Protocol) -> dict:
    """The analysis plan and its power, written before any search runs."""
    n = protocol.seeds
    critical = {f"holm_step_{s + 1}": critical_count(n, ALPHA / (6 - s)) for s in range(6)}
    return {
        "protocol": asdict(protocol),
        "questions": [
            "where the found cells sit: width, depth, shares of the trainable cells at least as wide and at most as "
            "deep, convolutions on the longest path (descriptive, per seed)",
            "whether the derivation was decided: per-edge final margins (undecided below "
            f"{DECISIVE_MARGIN}); per-edge agreement across seeds, exact p-value under uniform choice, Holm over "
            "the six edges at alpha 0.05",
            "what a found cell is worth: its 200-epoch test accuracy and percentile on CIFAR-10, CIFAR-100 and "
            "ImageNet16-120 in NATS-Bench's table",
        ],
        "decisive_margin": DECISIVE_MARGIN,
        "alpha": ALPHA,
        "critical_agreement": critical,
        "null_p_of_agreement": {str(k): float(agreement_p_value(k, n)) for k in range(1, n + 1)},
        "power_first_holm_step": {f"{q:.1f}": round(power(n, q), 4) for q in (0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
                                                                               1.0)},
        "seeds_for_power_0.8_at_q_0.8": next(s for s in range(2, 65) if power(s, 0.8) >= 0.8),
    }


def run_record(folder, seed: int) -> dict | None:
    """The per-seed record of a finished search folder (`None` if it has not finished)."""
    from pathlib import Path

    from ..errors import UserError
    from ..search.darts import read_history, read_result
    from .search import NB201_SPACE

    path = Path(folder) / "result.json"
    if not path.exists():
        return None
    result = read_result(path, space=NB201_SPACE)
    if result["status"] != "done":
        return None
    lookup = result["lookup"]
    try:
        history = read_history(folder)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not all(isinstance(r, dict) and isinstance(r.get("margins"), list) and len(r["margins"]) == 6
               for r in history) or [r["epoch"] for r in history] != list(range(result["epochs_done"] + 1)):
        raise UserError(f"{Path(folder) / 'alphas.jsonl'}: not the {result['epochs_done'] + 1} architecture records "
                        "of this search; rerun it")
    return {"seed": seed, "arch": result["arch"], "index": lookup["index"], **result["cell"],
            "share_at_least_as_wide": lookup["share_at_least_as_wide"],
            "share_at_most_as_deep": lookup["share_at_most_as_deep"],
            "accuracy": {d: v["test_accuracy"] for d, v in lookup["accuracy"].items()},
            "percentile": {d: v["percentile"] for d, v in lookup["accuracy"].items()},
            "margins": result["margins"], "max_weights": [max(row) for row in result["weights"]],
            "archs_by_epoch": result["archs_by_epoch"],
            "margins_by_epoch": [r["margins"] for r in history],
            "valid_acc": result["valid_acc"],
            "seconds": result["seconds"], "steps": result["steps"]}


def analyze(records: list[dict]) -> dict:
    """The three questions of the plan, from the per-seed records."""
    from .cell import NB201Cell
    from .operations import EDGES

    n = len(records)
    cells = [NB201Cell.from_arch_string(r["arch"]) for r in records]
    edges = []
    for e, (to, frm) in enumerate(EDGES):
        chosen = [c.ops[e] for c in cells]
        modal = max(sorted(set(chosen)), key=chosen.count)
        margins = [r["margins"][e] for r in records]
        edges.append({"edge": f"{frm}->{to}", "modal_operation": modal, "agreement": chosen.count(modal),
                      "p_value": float(agreement_p_value(chosen.count(modal), n)),
                      "median_margin": float(np.median(margins)), "max_margin": float(max(margins)),
                      "decided_seeds": sum(m >= DECISIVE_MARGIN for m in margins)})
    for edge, adjusted in zip(edges, holm([e["p_value"] for e in edges])):
        edge["p_holm"] = adjusted
        edge["holm_rejects_noise"] = adjusted <= ALPHA
    all_margins = [m for r in records for m in r["margins"]]
    datasets = list(records[0]["accuracy"])
    last_changes = [max((k for k in range(1, len(r["archs_by_epoch"]))
                         if r["archs_by_epoch"][k] != r["archs_by_epoch"][k - 1]), default=0) for r in records]
    per_seed = [{"seed": r["seed"], "arch": r["arch"], "index": r["index"], "width": r["width"], "depth": r["depth"],
                 "convs_on_longest_path": r["convs_on_longest_path"], "live_convolutions": r["live_convolutions"],
                 "median_margin": float(np.median(r["margins"])), "largest_margin": float(max(r["margins"])),
                 "edges_decided": sum(m >= DECISIVE_MARGIN for m in r["margins"]),
                 **{f"{d}_accuracy": r["accuracy"][d] for d in r["accuracy"]},
                 **{f"{d}_percentile": r["percentile"][d] for d in r["percentile"]}} for r in records]
    return {
        "seeds": n,
        "per_seed": per_seed,
        "distinct_cells": len({r["arch"] for r in records}),
        "widths": [r["width"] for r in records], "depths": [r["depth"] for r in records],
        "widest": sum(r["width"] == 3 for r in records), "shallowest": sum(r["depth"] == 1 for r in records),
        "undominated": sum(_undominated(r["width"], r["depth"]) for r in records),
        "mean_share_at_least_as_wide": float(np.mean([r["share_at_least_as_wide"] for r in records])),
        "mean_share_at_most_as_deep": float(np.mean([r["share_at_most_as_deep"] for r in records])),
        "edges": edges,
        "edges_decided_by_holm": sum(e["holm_rejects_noise"] for e in edges),
        "power": {"q": 0.8, "first_holm_step": power(n, 0.8),
                  "critical_agreement_first_step": critical_count(n, ALPHA / 6)},
        "margins": {"median": float(np.median(all_margins)), "max": float(max(all_margins)),
                    "share_decided": sum(m >= DECISIVE_MARGIN for m in all_margins) / len(all_margins),
                    "count": len(all_margins)},
        "largest_weight_max": float(max(w for r in records for w in r["max_weights"])),
        "epoch_of_last_change": last_changes,
        "changed_in_last_epoch": sum(c == len(r["archs_by_epoch"]) - 1 for c, r in zip(last_changes, records)),
        "accuracy": {d: {"mean": float(np.mean([r["accuracy"][d] for r in records])),
                         "min": float(min(r["accuracy"][d] for r in records)),
                         "max": float(max(r["accuracy"][d] for r in records)),
                         "mean_percentile": float(np.mean([r["percentile"][d] for r in records]))}
                     for d in datasets},
        "seconds_per_search": {"mean": float(np.mean([r["seconds"] for r in records])),
                               "max": float(max(r["seconds"] for r in records))},
    }


def _undominated(width: int, depth: int) -> bool:
    """Whether no trainable cell of the space is at least as wide and at most as deep, and strictly one of them.
    (On this space width 3 needs depth 2 or more, so the undominated corner is (width 1, depth 1) and (3, 2).)"""
    from .space import measure

    space = measure()
    t = space.trainable
    better = (space.width[t] >= width) & (space.depth[t] <= depth) & ((space.width[t] > width)
                                                                      | (space.depth[t] < depth))
    return not bool(better.any())


def protocol_preset(name: str) -> Protocol:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    return PRESETS[name]

