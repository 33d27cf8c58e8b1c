"""Chapter 9's analyses of NATS-Bench's 15,625 trained cells: Section 5 and Observation 3.1 at paper scale.

Everything here reads the shipped table ([`load_results`][cellnas_edu.nb201.data.load_results]) and the per-cell
measures ([`measure`][cellnas_edu.nb201.space.measure]); the plan is the one committed in `docs/nb201.md` before the
analysis ran. Three units of analysis, because isomorphic duplicates inflate $n$:

- ``cells``: every trainable cell (15,284);
- ``live-classes``: one unit per live-graph class ([`NB201Cell.canonical`][cellnas_edu.nb201.cell.NB201Cell.canonical]),
  accuracy averaged over its members (8,764) — the primary unit;
- ``unique-classes``: NATS-Bench's ``UniqueString`` classes whose members agree on width and depth (5,667 of
  6,461; the other 794 mix widths or depths, so no width can be assigned to them).

Intervals of Spearman's $\\rho$ use Fisher's $z$ with the Fieller-Hartley-Pearson variance $1.06/(n-3)$ and their
$p$-values the $t$ approximation: both are **asymptotic**, accurate at these $n$ (thousands), and labelled so."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from .cell import NB201Cell
from .data import DATASETS, NB201Results, load_results
from .space import SpaceMeasures, measure

UNITS = ("live-classes", "cells", "unique-classes")
"""The units of analysis, the primary one first."""

DARTS_CELL = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
"""What first- and second-order DARTS find on NAS-Bench-201 for CIFAR-10 (NATS-Bench's documentation)."""

NEGLIGIBLE = 0.1
"""Correlations with $|\\rho|$ below this are called negligible, whatever their $p$ (the committed plan)."""


@dataclass(frozen=True)
class Correlation:
    """Spearman's $\\rho$ with an asymptotic 95% interval (Fisher $z$, variance $1.06/(n-3)$) and $p$-value."""

    rho: float
    low: float
    high: float
    p_asymptotic: float
    n: int


@dataclass(frozen=True)
class Mean:
    """A mean with its 95% $t$-interval."""

    mean: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Units:
    """One unit of analysis: per unit its width, depth, live convolutions and mean accuracy per dataset."""

    name: str
    width: np.ndarray
    depth: np.ndarray
    live_convolutions: np.ndarray
    accuracy: dict[str, np.ndarray]
    members: np.ndarray

    def __len__(self) -> int:
        return len(self.width)


def spearman(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Spearman's $\\rho$ of `x` and `y` (ties averaged), its asymptotic interval and two-sided $p$-value."""
    n = len(x)
    result = stats.spearmanr(x, y)
    rho = float(result.statistic)
    half = 1.959963984540054 * math.sqrt(1.06 / (n - 3))
    z = math.atanh(rho)
    return Correlation(rho, math.tanh(z - half), math.tanh(z + half), float(result.pvalue), n)


def mean_interval(values: np.ndarray) -> Mean:
    """Mean and 95% $t$-interval."""
    n = len(values)
    mean = float(np.mean(values))
    half = float(stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return Mean(mean, mean - half, mean + half, n)


def welch_difference(a: np.ndarray, b: np.ndarray) -> Mean:
    """Difference of means ``mean(a) - mean(b)`` with its 95% Welch interval (``n`` = ``len(a) + len(b)``)."""
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    diff = float(np.mean(a) - np.mean(b))
    half = float(stats.t.ppf(0.975, df) * math.sqrt(va + vb))
    return Mean(diff, diff - half, diff + half, len(a) + len(b))


def _code_number(codes: tuple[int, ...]) -> int:
    """The six codes read as a base-5 number: one integer per cell, distinct for distinct cells."""
    return sum(c * 5**k for k, c in enumerate(codes))


@dataclass(frozen=True, eq=False)
class Grouping:
    """The trainable cells (`rows`, NATS-Bench indices) grouped into units: `group[k]` is the unit of `rows[k]`,
    `count` the members of each unit, `first` its lowest index, `consistent` whether its members agree on width and
    depth."""

    rows: np.ndarray
    group: np.ndarray
    count: np.ndarray
    first: np.ndarray
    consistent: np.ndarray

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of `values` (one per NATS-Bench index) over each unit's members."""
        return np.bincount(self.group, values[self.rows]) / self.count


def _constant_within(group: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    low, high = np.full(groups, np.iinfo(np.int64).max), np.full(groups, np.iinfo(np.int64).min)
    np.minimum.at(low, group, values)
    np.maximum.at(high, group, values)
    return low == high


def grouping(name: str, results: NB201Results, space: SpaceMeasures) -> Grouping:
    """The trainable cells grouped by the unit of analysis `name` (one of `UNITS`)."""
    if name not in UNITS:
        raise ValueError(f"unknown unit {name!r}; expected one of {', '.join(UNITS)}")
    rows = np.flatnonzero(space.trainable)
    if name == "cells":
        keys = rows
    elif name == "live-classes":
        keys = np.array([_code_number(results.cell(int(i)).canonical().codes) for i in rows])
    else:
        keys = np.array([int(results.unique_digest[i], 16) for i in rows])
    _, group = np.unique(keys, return_inverse=True)
    group = group.ravel()
    count = np.bincount(group)
    first = np.zeros(len(count), dtype=int)
    first[group[::-1]] = rows[::-1]  # one member of each group (its lowest index)
    consistent = (_constant_within(group, space.width[rows].astype(np.int64), len(count))
                  & _constant_within(group, space.depth[rows].astype(np.int64), len(count)))
    return Grouping(rows, group, count, first, consistent)


def units(name: str, results: NB201Results | None = None, space: SpaceMeasures | None = None) -> Units:
    """The units of analysis `name` (one of `UNITS`) of the trainable cells; units whose members disagree on width
    or depth (only ``UniqueString`` classes have any) are left out."""
    results = results or load_results()
    space = space or measure(results.codes)
    g = grouping(name, results, space)
    keep, first = g.consistent, g.first[g.consistent]
    accuracy = {d: g.mean(results.test_accuracy(d))[keep] for d in DATASETS}
    return Units(name, space.width[first].astype(int), space.depth[first].astype(int),
                 space.live_convolutions[first].astype(int), accuracy, g.count[keep])


def inconsistent_unique_classes(results: NB201Results | None = None,
                                space: SpaceMeasures | None = None) -> tuple[int, int]:
    """``(classes, mixed)``: NATS-Bench's ``UniqueString`` classes of trainable cells, and how many of them hold
    members of different width or depth."""
    results = results or load_results()
    g = grouping("unique-classes", results, space or measure(results.codes))
    return len(g.count), int((~g.consistent).sum())


def section5(u: Units, dataset: str) -> dict:
    """A1-A4 of the plan for one unit and one dataset, as plain data."""
    acc = u.accuracy[dataset]
    strata = []
    for convs in range(7):
        sel = u.live_convolutions == convs
        row = {"live_convolutions": convs, "n": int(sel.sum())}
        for name, x in (("width", u.width), ("depth", u.depth)):
            varies = sel.sum() > 3 and len(np.unique(x[sel])) > 1
            row[name] = asdict(spearman(x[sel], acc[sel])) if varies else None
        strata.append(row)

    def pooled(name: str) -> float:
        used = [(s["n"], s[name]["rho"]) for s in strata if s[name] is not None]
        return sum(n * r for n, r in used) / sum(n for n, _ in used)

    groups = []
    for w in (1, 2, 3):
        for d in (1, 2, 3):
            sel = (u.width == w) & (u.depth == d)
            if sel.sum() > 1:
                groups.append({"width": w, "depth": d, **asdict(mean_interval(acc[sel]))})
    corner = (u.width == 3) & (u.depth == 2)
    return {
        "dataset": dataset,
        "n": len(u),
        "width": asdict(spearman(u.width, acc)),
        "depth": asdict(spearman(u.depth, acc)),
        "live_convolutions": asdict(spearman(u.live_convolutions, acc)),
        "within_convolution_strata": strata,
        "pooled_within_strata": {"width": pooled("width"), "depth": pooled("depth")},
        "groups": groups,
        "widest_shallowest_minus_rest": asdict(welch_difference(acc[corner], acc[~corner])),
        "widest_shallowest_share_of_top_1pct": float(corner[acc >= np.quantile(acc, 0.99)].mean()),
    }


def verdict(rows: list[dict]) -> str:
    """The committed decision rule applied to the primary unit's A1/A2 over the three datasets."""
    width_up = all(r["width"]["low"] > 0 for r in rows)
    depth_down = all(r["depth"]["high"] < 0 for r in rows)
    strata_agree = all(r["pooled_within_strata"]["width"] > 0 and r["pooled_within_strata"]["depth"] < 0
                       for r in rows)
    if width_up and depth_down and strata_agree:
        return "wide and shallow generalize better"
    if any(r["width"]["high"] < 0 or r["depth"]["low"] > 0 for r in rows):
        return "wide and shallow do not generalize better"
    return "no consistent relation"


def noise(u: Units, results: NB201Results | None = None, space: SpaceMeasures | None = None) -> dict:
    """Run-to-run noise of NATS-Bench's training, from live-graph classes with two or more members: the pooled
    within-class standard deviation of final test accuracy, against the standard deviation between classes."""
    results = results or load_results()
    g = grouping("live-classes", results, space or measure(results.codes))
    out = {}
    for dataset in DATASETS:
        acc = results.test_accuracy(dataset)
        within = acc[g.rows] - g.mean(acc)[g.group]
        out[dataset] = {"classes_with_duplicates": int((g.count > 1).sum()),
                        "within_sd": math.sqrt(float((within**2).sum()) / int((g.count - 1).sum())),
                        "between_sd": float(np.std(u.accuracy[dataset], ddof=1))}
    return out


def percentile_of(values: np.ndarray, value: float) -> float:
    """Share of `values` strictly below `value`, plus half the ties (mid-rank percentile, 0-100)."""
    return float(100 * ((values < value).mean() + 0.5 * (values == value).mean()))


def observation31(results: NB201Results | None = None, arch: str = DARTS_CELL,
                  space: SpaceMeasures | None = None) -> dict:
    """Where a found cell sits among the trainable cells: the share of them at least as wide and at most as deep
    (both 1/n for the single widest-shallowest cell of a space, as in Chapter 8), and its accuracy percentiles."""
    results = results or load_results()
    space = space or measure(results.codes)
    cell = NB201Cell.from_arch_string(arch)
    index = results.index_of(cell)
    t = space.trainable
    out = {"arch": arch, "index": index, "width": cell.width, "depth": cell.depth,
           "share_at_least_as_wide": float((space.width[t] >= cell.width).mean()),
           "share_at_most_as_deep": float((space.depth[t] <= cell.depth).mean()),
           "accuracy": {}}
    for dataset in DATASETS:
        acc = results.test_accuracy(dataset)
        out["accuracy"][dataset] = {"test_accuracy": float(acc[index]),
                                    "percentile": percentile_of(acc[t], float(acc[index]))}
    return out


def chapter(results: NB201Results | None = None) -> dict:
    """Every number Chapter 9 quotes: the space, Section 5 on the three units and three datasets, the noise, the
    verdict, and Observation 3.1 for DARTS's cell."""
    results = results or load_results()
    space = measure(results.codes)
    t = space.trainable
    classes, mixed = inconsistent_unique_classes(results, space)
    all_units = {name: units(name, results, space) for name in UNITS}
    live = all_units["live-classes"]
    section = {name: [section5(u, d) for d in DATASETS] for name, u in all_units.items()}
    return {
        "space": {
            "cells": len(results), "trainable": int(t.sum()),
            "live_classes": len(live), "unique_classes": classes, "unique_classes_mixed": mixed,
            "unique_classes_used": len(all_units["unique-classes"]),
            "width_depth_counts": [{"width": w, "depth": d, "cells": int(((space.width == w) & (space.depth == d)
                                                                           & t).sum())}
                                   for w in (1, 2, 3) for d in (1, 2, 3)],
            "parameters_min": int(space.parameters.min()), "parameters_max": int(space.parameters.max()),
        },
        "section5": section,
        "verdict": verdict(section["live-classes"]),
        "noise": noise(live, results, space),
        "observation31": observation31(results, space=space),
        "best": {d: _best(results, space, d) for d in DATASETS},
    }


def _best(results: NB201Results, space: SpaceMeasures, dataset: str) -> dict:
    i = int(np.argmax(results.test_accuracy(dataset)))
    return {"index": i, "arch": results.arch_string(i), "width": int(space.width[i]), "depth": int(space.depth[i]),
            "test_accuracy": float(results.test_accuracy(dataset)[i])}


__all__ = ["Correlation", "DARTS_CELL", "Grouping", "Mean", "UNITS", "Units", "chapter", "grouping",
           "inconsistent_unique_classes",
           "mean_interval", "noise", "observation31", "percentile_of", "section5", "spearman", "units", "verdict",
           "welch_difference"]
