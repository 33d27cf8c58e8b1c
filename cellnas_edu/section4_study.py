r"""The Section 4 study of Chapters 3-5: a pre-registered, powered CPU test of Sections 4.1 and 4.2.

The protocol and the analysis plan are written in `docs/convergence.md`
("The study: protocol and analysis plan") and were committed before the main
run. This module does the work; `examples/section4_study.py` is the thin
command line around it.

Experiments (each one a resumable `cellnas_edu.convergence.run_convergence`
folder under `OUT`, each summarised into `results/<name>/summary.json`):

`section4_pilot`
    DARTS and two connection variants (variant seed 2), 3 seeds, lr 0.025 and
    0.25: the seed variance for the power analysis ([`power_analysis`][cellnas_edu.section4_study.power_analysis]).
`convergence_study`
    DARTS and 10 connection variants of its normal cell (variant seed 1, the
    first seed whose family holds at least two cells of every width from
    1.5c to 3.5c: [`choose_variant_seed`][cellnas_edu.section4_study.choose_variant_seed]), 5 seeds, lr 0.025 and 0.25
    (Section 4.1, Figures 3 and 4).
`operation_variants_study`
    DARTS and 5 operation variants (Figure 5), 5 seeds, lr 0.025.
`landscape_study`
    At the end of training, seeds 0-2 of every cell of `convergence_study`
    at lr 0.025: top Hessian eigenvalue (power iteration) and gradient
    variance (trace of the per-sample gradient covariance, and per parameter)
    on a fixed sample of test images (Section 4.2).

`convergence_followup` and `landscape_followup`
    The pre-registered follow-up at lr 0.025 (Chapter 3): the same family,
    seeds and analysis with a larger training budget (`spec(...,
    epochs=, train_images=, test_images=)`), and the Section 4.2
    measurements re-taken at its final weights.

Every results file holds the per-run records (label, width, depth, lr, seed,
metrics, diverged), so every statistic can be recomputed from it
([`analyze_convergence`][cellnas_edu.section4_study.analyze_convergence],
[`analyze_operations`][cellnas_edu.section4_study.analyze_operations],
[`analyze_landscape`][cellnas_edu.section4_study.analyze_landscape] take the records and nothing else;
`tests/test_section4_study.py` recomputes the committed files)."""

from __future__ import annotations

import json
import math
import resource
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import stats as st

# -- the protocol ----------------------------------------------------------------------------------------------

NETWORK = dict(init_channels=4, layers=5, train_subset=384, test_subset=192, batch_size=32, grad_clip=None)
"""The network and data of every run (on top of the `cpu-mini` preset): about 3 core-seconds a run."""
PILOT_NETWORK = dict(NETWORK, train_subset=640, test_subset=320)
"""The pilot's data size (the plan's first version; amended to `NETWORK` before the main run, see Chapter 3)."""
EPOCHS = 3
DATASET = "fashion-mnist"
PRESET = "cpu-mini"
LEARNING_RATES = (0.025, 0.25)
SEEDS = 5
CONNECTION_VARIANTS = 10
OPERATION_VARIANTS = 5
OPERATION_VARIANT_SEED = 0
PILOT_VARIANT_SEED = 2
LANDSCAPE_SEEDS = 3
LANDSCAPE_SAMPLES = 64
HESSIAN_TOL = 1e-2
HESSIAN_MAX_ITER = 20
WIDTHS_REQUIRED = (1.5, 2.0, 2.5, 3.0, 3.5)
METRICS = ("auc_test_loss", "epoch1_test_loss", "final_test_loss")
PRIMARY_METRIC = "auc_test_loss"
ALPHA = 0.05
DIRECTION = {"width": "less", "depth": "greater"}
"""Pre-registered directions (Section 4.1): wider -> lower loss, deeper -> higher loss."""
N_BOOT = 2000
ANOVA_PERMUTATIONS = 20000


def choose_variant_seed(arch: str = "DARTS", count: int = CONNECTION_VARIANTS, per_width: int = 2,
                        widths=WIDTHS_REQUIRED, limit: int = 100) -> int:
    """The first variant seed whose family (original included) has `per_width` cells of every width in `widths`.

    The rule was fixed before training, so the family spans the whole width
    range with no hand-picking of cells."""
    from .cells.genotypes import resolve_genotype
    from .convergence import experiment_cells

    genotype = resolve_genotype(arch)
    for seed in range(limit):
        cells = experiment_cells(genotype, "connections", count, seed)
        found = [float(c.width) for c in cells]
        if all(found.count(w) >= per_width for w in widths):
            return seed
    raise ValueError(f"no variant seed below {limit} gives {per_width} cells of every width {widths}")


TINY = dict(network=dict(init_channels=2, layers=4, train_subset=64, test_subset=40, batch_size=32, grad_clip=None),
            epochs=2, connection_variants=3, operation_variants=2, variant_seed=1, seeds=2)
"""The tiny scale the tests run the whole pipeline at (seconds): same code, smaller everything."""


PAPER = dict(preset="convergence", dataset="cifar10", seeds=3)
"""Paper scale (Appendix A.3/A.4): the `convergence` preset on CIFAR-10, the Table 2 family, on a GPU."""


SCALES = ("tiny", "cpu", "paper")
"""The scales every experiment of the study is declared at: the tests' (seconds), the committed CPU study's, the
paper's (Appendix A.3/A.4, on a GPU)."""
SCALE_TRAINING = {
    "tiny": dict(preset=PRESET, dataset=DATASET, network=TINY["network"], epochs=TINY["epochs"], seeds=TINY["seeds"]),
    "cpu": dict(preset=PRESET, dataset=DATASET, network=NETWORK, epochs=EPOCHS, seeds=SEEDS),
    "paper": dict(preset=PAPER["preset"], dataset=PAPER["dataset"], network=None, epochs=None, seeds=PAPER["seeds"]),
}
"""Per scale: the trainer preset, the data, the network (`None`: the preset's), the epochs (`None`: the
preset's) and the default number of seeds."""
STUDY_PRESETS = {
    "section4_pilot": {
        "tiny": dict(kind="connections", count=2, variant_seed=PILOT_VARIANT_SEED, lrs=(0.025,), seeds=2),
        "cpu": dict(kind="connections", count=2, variant_seed=PILOT_VARIANT_SEED, lrs=(0.025,), seeds=3,
                    network=PILOT_NETWORK),
        "paper": dict(kind="connections", count=2, variant_seed=PILOT_VARIANT_SEED, lrs=(0.025,), seeds=3),
    },
    "convergence_study": {
        "tiny": dict(kind="connections", count=TINY["connection_variants"], variant_seed=TINY["variant_seed"],
                     lrs=LEARNING_RATES),
        "cpu": dict(kind="connections", count=CONNECTION_VARIANTS, variant_seed=choose_variant_seed,
                    lrs=LEARNING_RATES),
        "paper": dict(kind="connections", family="table2", variant_seed=0, lrs=LEARNING_RATES),
    },
    "operation_variants_study": {
        "tiny": dict(kind="operations", count=TINY["operation_variants"], variant_seed=OPERATION_VARIANT_SEED,
                     lrs=(0.025,)),
        "cpu": dict(kind="operations", count=OPERATION_VARIANTS, variant_seed=OPERATION_VARIANT_SEED,
                    lrs=(0.025,)),
        "paper": dict(kind="operations", count=OPERATION_VARIANTS, variant_seed=OPERATION_VARIANT_SEED,
                      lrs=(0.025,)),
    },
}
"""Per experiment and scale, the cells and learning rates of its `ConvergenceSpec`. `variant_seed` may be the
rule that chooses it ([`choose_variant_seed`][cellnas_edu.section4_study.choose_variant_seed]); `seeds`, where
given, is part of the design (the pilot's) and not changed by the caller's; `network`, where given, is the
experiment's own data size (the pilot's first version) and not changed by `train_images`/`test_images`."""


def spec(name: str, seeds: int | None = None, *, tiny: bool = False, paper: bool = False, lrs=None,
         data_root: str | None = None, epochs: int | None = None, train_images: int | None = None,
         test_images: int | None = None):
    """The `ConvergenceSpec` of experiment `name` ([`STUDY_PRESETS`][cellnas_edu.section4_study.STUDY_PRESETS]
    at the scale of [`SCALE_TRAINING`][cellnas_edu.section4_study.SCALE_TRAINING]).

    `tiny`: the test scale (seconds). `paper`: the paper's protocol
    (600 epochs, C = 36, L = 20, CIFAR-10 under `data_root`, the Table 2
    family of 13 connection variants); it writes the same results schema, so
    a GPU user's `summary.json` replaces the CPU one and the book rebuilds
    with paper-scale numbers.

    `epochs`, `train_images` and `test_images` change only the training
    budget (the follow-up of Chapter 3 at the paper's learning rate); left at
    `None` they keep the study's values, so the committed study is
    reproduced unchanged.
    """
    from .convergence import ConvergenceSpec

    if tiny and paper:
        raise ValueError("tiny and paper exclude each other")
    scale = "tiny" if tiny else "paper" if paper else "cpu"
    training = SCALE_TRAINING[scale]
    network = dict(training["network"] or {})
    if train_images is not None:
        network["train_subset"] = int(train_images)
    if test_images is not None:
        network["test_subset"] = int(test_images)
    if name not in STUDY_PRESETS:
        raise ValueError(f"unknown experiment {name!r}")
    design = dict(STUDY_PRESETS[name][scale])
    if paper:
        overrides, epochs = ({"data_root": data_root} if data_root else {}), None
    else:
        overrides = dict(design.pop("network", network))
        epochs = int(epochs) if epochs is not None else training["epochs"]
    if callable(design["variant_seed"]):
        design["variant_seed"] = design["variant_seed"]()
    design["lrs"] = tuple(lrs or design["lrs"])
    design.setdefault("seeds", seeds or training["seeds"])
    return ConvergenceSpec(arch="DARTS", preset=training["preset"], dataset=training["dataset"], epochs=epochs,
                           overrides=overrides, **design)


def epochs_of(spec_) -> int:
    """The epochs a spec resolves to (the preset's when `spec_.epochs` is `None`)."""
    from .train.config import PRESETS

    return spec_.epochs or PRESETS[spec_.preset]["epochs"]


# -- per-run records --------------------------------------------------------------------------------------------


def run_records(out_dir, spec_) -> list[dict]:
    """One record per (lr, cell, seed) that is finished or diverged: the data every statistic is computed from.

    Metrics of a diverged run are `None` where the loss was not finite;
    the analysis counts a diverged run's loss as `+inf` (worse than any)."""
    from .cells.genotypes import resolve_genotype
    from .convergence import experiment_cells, run_dir
    from .convergence.stats import area_under_curve
    from .train.runfolder import RunFolder

    cells = experiment_cells(resolve_genotype(spec_.arch), spec_.kind, spec_.count, spec_.variant_seed, spec_.family)
    records = []
    for lr in spec_.lrs:
        for cell in cells:
            for seed in range(spec_.seeds):
                record = RunFolder(run_dir(out_dir, lr, cell.label, seed)).record(epochs_of(spec_))
                if not record.done:
                    continue
                losses = record.test_loss
                finite = all(math.isfinite(v) for v in losses)
                diverged = record.state == "diverged"

                def clean(v):
                    return float(v) if v is not None and math.isfinite(v) else None

                records.append({
                    "label": cell.label, "original": cell.original, "width": float(cell.width),
                    "depth": int(cell.depth), "lr": float(lr), "seed": seed, "diverged": diverged,
                    "metrics": {
                        "auc_test_loss": area_under_curve(losses, record.epochs) if finite and not diverged else None,
                        "epoch1_test_loss": clean(losses[0]) if losses else None,
                        "final_test_loss": clean(losses[-1]) if losses and not diverged else None,
                        "final_test_acc": clean(record.test_acc[-1]) if record.test_acc and not diverged else None,
                        "test_loss_curve": [clean(v) for v in losses],
                    },
                    "seconds": round(record.seconds, 2),
                })
    return records


def _value(record: dict, metric: str) -> float:
    v = record["metrics"].get(metric)
    return math.inf if v is None else float(v)


def _cells(records: list[dict]) -> list[dict]:
    seen = {}
    for r in records:
        seen.setdefault(r["label"], {"label": r["label"], "width": r["width"], "depth": r["depth"],
                                     "original": r.get("original", False)})
    return list(seen.values())


# -- analysis: Section 4.1 ----------------------------------------------------------------------------------------


def _trend(records: list[dict], prop: str, metric: str, n_boot: int = N_BOOT) -> dict:
    """Cell-level exact Spearman, bootstrap interval over seeds, blocked exact test, per-seed sign test."""
    alternative = DIRECTION[prop]
    cells = _cells(records)
    x = [c[prop] for c in cells]
    by_cell = [[_value(r, metric) for r in records if r["label"] == c["label"]] for c in cells]
    means = [math.inf if any(math.isinf(v) for v in vals) else float(np.mean(vals)) for vals in by_cell]
    cell_level = st.exact_spearman(x, means, alternative)
    opposite = st.exact_spearman(x, means, "greater" if alternative == "less" else "less")
    boot = st.bootstrap_spearman_over_seeds(x, by_cell, n_boot=n_boot, seed=0)
    seeds = sorted({r["seed"] for r in records})
    blocks = []
    for s in seeds:
        rows = [r for r in records if r["seed"] == s]
        by_label = {r["label"]: r for r in rows}
        xs_, ys_ = [], []
        for c in cells:
            if c["label"] in by_label:
                xs_.append(c[prop])
                ys_.append(_value(by_label[c["label"]], metric))
        blocks.append((xs_, ys_))
    blocked = st.stratified_spearman(blocks, alternative)
    sign = st.sign_test(blocked.block_rhos, alternative)
    per_seed = st.bootstrap_mean_interval(blocked.block_rhos, n_boot=n_boot, seed=1)
    return {
        "property": prop, "metric": metric, "alternative": alternative,
        "paper_expects": "negative" if alternative == "less" else "positive",
        "cells": len(cells), "seeds": len(seeds),
        "rho": cell_level.rho, "p_exact": cell_level.p_value, "p_fraction": cell_level.p_fraction,
        "p_exact_opposite": opposite.p_value, "rho_low": boot["low"], "rho_high": boot["high"], "bootstrap": boot,
        "blocked_mean_rho": blocked.mean_rho, "blocked_rho_low": per_seed["low"], "blocked_rho_high": per_seed["high"],
        "blocked_p_exact": blocked.p_value, "per_seed_rho": blocked.block_rhos,
        "sign_successes": sign.successes, "sign_trials": sign.trials, "sign_p_exact": sign.p_value,
        "sign_p_fraction": sign.p_fraction,
    }


def cell_table(records: list[dict]) -> list[dict]:
    """Per cell: width, depth, mean and 95% t-interval of each metric over finished seeds, diverged count."""
    rows = []
    for c in _cells(records):
        mine = [r for r in records if r["label"] == c["label"]]
        row = dict(c, seeds=len(mine), diverged=sum(r["diverged"] for r in mine))
        for metric in METRICS + ("final_test_acc",):
            vals = [r["metrics"][metric] for r in mine if r["metrics"].get(metric) is not None]
            iv = st.mean_interval(vals)
            row[metric] = iv.mean
            row[metric + "_low"] = iv.low
            row[metric + "_high"] = iv.high
        rows.append(row)
    return rows


def _divergence(records: list[dict]) -> dict:
    cells = _cells(records)
    counts = [sum(r["diverged"] for r in records if r["label"] == c["label"]) for c in cells]
    total = sum(counts)
    out = {"diverged_runs": total, "runs": len(records),
           "per_cell": [{"label": c["label"], "width": c["width"], "depth": c["depth"], "diverged": k}
                        for c, k in zip(cells, counts)]}
    for prop in ("width", "depth"):
        res = st.exact_spearman([c[prop] for c in cells], counts, DIRECTION[prop])
        out[prop] = res.to_json()
    return out


def analyze_convergence(records: list[dict], n_boot: int = N_BOOT) -> dict:
    """Every statistic of the connection study from its per-run records (see the analysis plan in Chapter 3)."""
    out = {"learning_rates": [], "primary": []}
    lrs = sorted({r["lr"] for r in records})
    cells = _cells(records)
    out["width_depth_rho"] = st.spearman_rho([c["width"] for c in cells], [c["depth"] for c in cells])
    for lr in lrs:
        recs = [r for r in records if r["lr"] == lr]
        block = {"lr": lr, "runs": len(recs), "cells": cell_table(recs), "tests": [], "divergence": _divergence(recs)}
        for metric in METRICS:
            for prop in ("width", "depth"):
                t = _trend(recs, prop, metric, n_boot)
                t["lr"] = lr
                t["primary"] = metric == PRIMARY_METRIC
                block["tests"].append(t)
        out["learning_rates"].append(block)
    primary = {f"{t['property']}@{t['lr']:g}": t["p_exact"] for b in out["learning_rates"] for t in b["tests"]
               if t["primary"]}
    adjusted = st.holm(primary)
    for b in out["learning_rates"]:
        for t in b["tests"]:
            if t["primary"]:
                key = f"{t['property']}@{t['lr']:g}"
                t["p_holm"] = adjusted[key]
                t["supports_paper"] = adjusted[key] is not None and adjusted[key] <= ALPHA
                out["primary"].append({"hypothesis": key, "metric": t["metric"], "rho": t["rho"],
                                       "rho_low": t["rho_low"], "rho_high": t["rho_high"], "p_exact": t["p_exact"],
                                       "p_holm": t["p_holm"], "supports_paper": t["supports_paper"]})
    out["holm_family"] = sorted(primary)
    out["alpha"] = ALPHA
    for b in out["learning_rates"]:
        b["original"] = _original_rank([r for r in records if r["lr"] == b["lr"]])
    return out


def _original_rank(records: list[dict], metric: str = PRIMARY_METRIC) -> dict:
    """Is the original cell the fastest? Its rank per seed (1 = lowest metric) and an exact binomial test.

    Under the null that the cells do not differ, the original is the fastest
    of `n` cells in a seed with probability `1/n`; the p-value is
    `P(X >= k)`, `X ~ Bin(seeds, 1/n)`, exactly."""
    cells = _cells(records)
    original = next((c["label"] for c in cells if c["original"]), None)
    if original is None:
        return {}
    ranks = []
    for s in sorted({r["seed"] for r in records}):
        rows = [r for r in records if r["seed"] == s]
        values = [_value(r, metric) for r in rows]
        rk = st.midranks(values)
        ranks.append(float(rk[[r["label"] for r in rows].index(original)]))
    n = len(cells)
    k = sum(1 for r in ranks if r == 1.0)
    seeds = len(ranks)
    p = st.binomial_tail(k, seeds, Fraction(1, n))
    by_cell = cell_table(records)
    means = [row[metric] if row["diverged"] == 0 else math.inf for row in by_cell]
    mean_rank = float(st.midranks(means)[[row["label"] for row in by_cell].index(original)])
    return {"label": original, "metric": metric, "rank_per_seed": ranks, "fastest_in_seeds": k, "seeds": seeds,
            "cells": n, "p_exact": float(p), "rank_of_cell_mean": mean_rank}


# -- analysis: Figure 5 ------------------------------------------------------------------------------------------


def _spread(records: list[dict], metric: str) -> dict:
    """Between-cell SD of cell means and pooled within-cell (seed) SD of one metric."""
    cells = _cells(records)
    groups = [[r["metrics"][metric] for r in records if r["label"] == c["label"] and r["metrics"][metric] is not None]
              for c in cells]
    groups = [g for g in groups if len(g) >= 2]
    means = [float(np.mean(g)) for g in groups]
    dfs = sum(len(g) - 1 for g in groups)
    pooled = math.sqrt(sum((len(g) - 1) * float(np.var(g, ddof=1)) for g in groups) / dfs) if dfs else 0.0
    return {"between_cell_sd": float(np.std(means, ddof=1)), "seed_sd": pooled,
            "ratio": float(np.std(means, ddof=1)) / pooled if pooled else None}


def analyze_operations(records: list[dict], connection_records: list[dict] | None = None,
                       permutations: int = ANOVA_PERMUTATIONS, n_boot: int = N_BOOT) -> dict:
    """One-way ANOVA over the operation variants (F, asymptotic F-distribution p, Monte-Carlo permutation p with SE).

    With `connection_records` (the connection study at the same lr and
    seeds) it also compares the spread of cell means between the two families
    (Figure 5's contrast: operations change convergence less than connections),
    with a bootstrap interval over seeds of the ratio of between-cell SDs."""
    cells = _cells(records)
    out = {"cells": cell_table(records), "anova": []}
    for metric in METRICS:
        groups = [[r["metrics"][metric] for r in records if r["label"] == c["label"]
                   and r["metrics"][metric] is not None] for c in cells]
        res = st.permutation_anova(groups, permutations=permutations, seed=0)
        out["anova"].append({"metric": metric, **res.to_json(), **_spread(records, metric)})
    if connection_records is not None:
        out["contrast"] = []
        for metric in METRICS:
            ops = _spread(records, metric)
            con = _spread(connection_records, metric)
            boot = _bootstrap_sd_ratio(records, connection_records, metric, n_boot)
            out["contrast"].append({"metric": metric, "operations_between_sd": ops["between_cell_sd"],
                                    "connections_between_sd": con["between_cell_sd"],
                                    "ratio": ops["between_cell_sd"] / con["between_cell_sd"]
                                    if con["between_cell_sd"] else None,
                                    "ratio_low": boot[0], "ratio_high": boot[1]})
    return out


def _bootstrap_sd_ratio(ops: list[dict], con: list[dict], metric: str, n_boot: int) -> tuple[float, float]:
    """Percentile interval of (between-cell SD of the operation variants) / (that of the connection variants),
    resampling the seeds of every cell of both families (replicate by replicate)."""
    def arrays(records):
        return [g for g in (np.asarray([r["metrics"][metric] for r in records if r["label"] == c["label"]
                                        and r["metrics"][metric] is not None]) for c in _cells(records)) if g.size]

    groups = arrays(ops) + arrays(con)
    split = len(arrays(ops))

    def ratio(idx):
        means = [g[i].mean() for g, i in zip(groups, idx)]
        sb = np.std(means[split:], ddof=1)
        return np.std(means[:split], ddof=1) / sb if sb > 0 else None

    boot = st.bootstrap([g.size for g in groups], ratio, n_boot=n_boot, rng=2, order="replicates")
    return boot.quantiles([0.025, 0.975]) or (None, None)


# -- Section 4.2: measurements and analysis ---------------------------------------------------------------------


LANDSCAPE_CACHE = "section4_landscape.json"
"""The file in a run folder that holds that run's Section 4.2 measurement, with the protocol that made it."""


def landscape_protocol(samples: int = LANDSCAPE_SAMPLES) -> dict:
    """Everything that decides a Section 4.2 measurement of one run (the options of
    [`measure_landscape`][cellnas_edu.landscape.measure.measure_landscape] below): stored in every
    `section4_landscape.json`, and a cache made with another protocol is measured again. The device is left out:
    it is where the work runs, as the trainer's runtime fields are."""
    # chunk 16: the per-sample gradients per vmap call the study's measurements were made with
    return dict(steps=1, span=1.0, samples=int(samples), seed=0, gradvar=True, hessian=True, chunk=16,
                hessian_tol=HESSIAN_TOL, hessian_max_iter=HESSIAN_MAX_ITER, weights="final")


def _measure_one(folder: str, samples: int = LANDSCAPE_SAMPLES, device: str = "cpu") -> dict:
    import torch

    from .landscape.measure import LandscapeOptions, measure_landscape

    torch.set_num_threads(1)
    started = time.perf_counter()
    opts = LandscapeOptions(**landscape_protocol(samples), device=device, progress=False)
    summary = measure_landscape(folder, opts)
    return {"folder": folder, "seconds": time.perf_counter() - started, **{k: summary.get(k) for k in (
        "eval_loss", "top_hessian_eigenvalue", "hessian_iterations", "hessian_converged", "hessian_residual",
        "grad_var_center", "grad_var_per_parameter_center", "grad_var_num_parameters")}}


def read_landscape_cache(path: Path, protocol: dict) -> dict | None:
    """The measurement cached at `path` if it was made with `protocol`, else `None` (measure again).

    A missing file, one that is not valid JSON or not a JSON object (a torn or foreign file), one written before
    caches recorded their protocol, and one made with another protocol all read as `None`: the run is measured
    again and the file rewritten, never reused."""
    from .errors import UserError
    from .io import read_bounded_text

    try:
        cached = json.loads(read_bounded_text(path, what="landscape measurement"))
    except (OSError, UserError, ValueError):  # unreadable, over the size bound, not UTF-8, not JSON
        return None
    if not isinstance(cached, dict) or cached.get("protocol") != json.loads(json.dumps(protocol)):
        return None
    return cached


def measure_landscape_runs(out_dir, spec_, lr: float = 0.025, seeds: int = LANDSCAPE_SEEDS, jobs: int = 2,
                           samples: int = LANDSCAPE_SAMPLES, device: str = "cpu") -> list:
    """Measure seeds `0..seeds-1` of every finished cell at `lr` (resumable: a run measured with the same
    [`landscape_protocol`][cellnas_edu.section4_study.landscape_protocol] is read back from its
    `section4_landscape.json`; the file is written atomically, with the protocol)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .cells.genotypes import resolve_genotype
    from .convergence import experiment_cells, run_dir
    from .io import atomic_write_json
    from .train.runfolder import RunFolder

    cells = experiment_cells(resolve_genotype(spec_.arch), spec_.kind, spec_.count, spec_.variant_seed,
                             spec_.family)
    protocol = landscape_protocol(samples)
    todo, results = [], []
    for cell in cells:
        for seed in range(seeds):
            folder = run_dir(out_dir, lr, cell.label, seed)
            if RunFolder(folder).record(epochs_of(spec_)).state != "finished":
                continue
            cached = read_landscape_cache(folder / LANDSCAPE_CACHE, protocol)
            if cached is not None:
                results.append(cached)
            else:
                todo.append((cell, seed, folder))
    meta = {str(f): (c, s) for c, s, f in todo}

    def keep(result):
        cell, seed = meta[result["folder"]]
        result.update(label=cell.label, width=float(cell.width), depth=int(cell.depth), seed=seed, lr=lr,
                      protocol=protocol)
        atomic_write_json(Path(result["folder"]) / LANDSCAPE_CACHE, result)
        results.append(result)

    if jobs == 1:
        for _, _, folder in todo:
            keep(_measure_one(str(folder), samples, device))
    elif todo:
        folders = [str(f) for _, _, f in todo]
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            for result in pool.map(_measure_one, folders, [samples] * len(folders), [device] * len(folders)):
                keep(result)
    return results


def landscape_records(measurements: list[dict], convergence_records: list[dict]) -> list[dict]:
    """Per measured run: the Section 4.2 numbers next to the run's convergence metrics (AUC, epoch-1 loss)."""
    by_key = {(r["label"], r["seed"], r["lr"]): r for r in convergence_records}
    order = {label: i for i, label in enumerate(dict.fromkeys(r["label"] for r in convergence_records))}
    out = []
    for m in sorted(measurements, key=lambda m: (order[m["label"]], m["seed"])):
        conv = by_key[(m["label"], m["seed"], m["lr"])]
        out.append({"label": m["label"], "original": conv.get("original", False), "width": m["width"],
                    "depth": m["depth"], "lr": m["lr"], "seed": m["seed"],
                    "diverged": conv["diverged"], "metrics": {
                        "top_hessian_eigenvalue": m["top_hessian_eigenvalue"],
                        "hessian_converged": m["hessian_converged"],
                        "hessian_iterations": m["hessian_iterations"],
                        "grad_var_trace": m["grad_var_center"],
                        "grad_var_per_parameter": m["grad_var_per_parameter_center"],
                        "num_parameters": m["grad_var_num_parameters"],
                        "eval_loss": m["eval_loss"],
                        "auc_test_loss": conv["metrics"]["auc_test_loss"],
                        "epoch1_test_loss": conv["metrics"]["epoch1_test_loss"]},
                    "seconds": round(m["seconds"], 2)})
    return out


LANDSCAPE_QUANTITIES = ("top_hessian_eigenvalue", "grad_var_trace", "grad_var_per_parameter")
"""Section 4.2's predictions: wider / shallower -> smaller eigenvalue and variance; smaller -> faster (lower
AUC)."""


def analyze_landscape(records: list[dict], n_boot: int = N_BOOT) -> dict:
    """Section 4.2 at student scale: each quantity against width, depth and convergence speed (AUC)."""
    tests = []
    for q in LANDSCAPE_QUANTITIES:
        for prop in ("width", "depth"):
            t = _trend(records, prop, q, n_boot)
            tests.append({"quantity": q, **t})
        # mechanism: larger curvature / variance -> slower convergence (higher AUC), a positive association
        tests.append({"quantity": q, **_association(records, q, "auc_test_loss", n_boot)})
    adjusted = st.holm({f"{t['quantity']}|{t['property']}": t["p_exact"] for t in tests})
    for t in tests:
        t["p_holm"] = adjusted[f"{t['quantity']}|{t['property']}"]
    cells = cell_table_landscape(records)
    params = [r["metrics"]["num_parameters"] for r in records]
    return {"tests": tests, "cells": cells, "alpha": ALPHA,
            "converged_runs": sum(bool(r["metrics"]["hessian_converged"]) for r in records),
            "min_parameters": min(params) if params else None, "max_parameters": max(params) if params else None}


def _association(records: list[dict], q: str, metric: str, n_boot: int) -> dict:
    """Cell means of `q` against cell means of `metric` (exact, one-sided 'greater'), plus the blocked test."""
    cells = _cells(records)
    qv = [[_value(r, q) for r in records if r["label"] == c["label"]] for c in cells]
    mv = [[_value(r, metric) for r in records if r["label"] == c["label"]] for c in cells]
    qm = [float(np.mean(v)) for v in qv]
    mm = [float(np.mean(v)) for v in mv]
    res = st.exact_spearman(qm, mm, "greater")
    seeds = sorted({r["seed"] for r in records})
    blocks = []
    for s in seeds:
        rows = [r for r in records if r["seed"] == s]
        blocks.append(([_value(r, q) for r in rows], [_value(r, metric) for r in rows]))
    blocked = st.stratified_spearman(blocks, "greater")
    sign = st.sign_test(blocked.block_rhos, "greater")
    boot = st.bootstrap([len(v) for v in qv],  # the same seeds of a cell for both quantities (paired)
                        lambda idx: st.spearman_rho([np.mean(np.asarray(v)[i]) for v, i in zip(qv, idx)],
                                                    [np.mean(np.asarray(v)[i]) for v, i in zip(mv, idx)]),
                        n_boot=n_boot, rng=3, order="replicates")
    low, high = boot.quantiles([0.025, 0.975])
    return {"property": metric, "metric": q, "alternative": "greater", "paper_expects": "positive",
            "cells": len(cells), "seeds": len(seeds), "rho": res.rho, "p_exact": res.p_value,
            "p_fraction": res.p_fraction, "rho_low": float(low), "rho_high": float(high),
            "blocked_mean_rho": blocked.mean_rho, "blocked_p_exact": blocked.p_value,
            "per_seed_rho": blocked.block_rhos, "sign_successes": sign.successes, "sign_trials": sign.trials,
            "sign_p_exact": sign.p_value}


def cell_table_landscape(records: list[dict]) -> list[dict]:
    rows = []
    for c in _cells(records):
        mine = [r for r in records if r["label"] == c["label"]]
        row = dict(c, seeds=len(mine))
        for q in LANDSCAPE_QUANTITIES + ("auc_test_loss",):
            vals = [r["metrics"][q] for r in mine if r["metrics"][q] is not None]
            row[q] = float(np.mean(vals)) if vals else None
        row["num_parameters"] = mine[0]["metrics"]["num_parameters"]
        rows.append(row)
    return rows


# -- power analysis ----------------------------------------------------------------------------------------------


def pilot_variance(records: list[dict], metric: str = PRIMARY_METRIC) -> dict:
    """Pooled within-cell seed SD and the OLS slope of the cell means on width, per learning rate."""
    out = []
    for lr in sorted({r["lr"] for r in records}):
        recs = [r for r in records if r["lr"] == lr and r["metrics"][metric] is not None]
        cells = _cells(recs)
        groups = [[r["metrics"][metric] for r in recs if r["label"] == c["label"]] for c in cells]
        dfs = sum(len(g) - 1 for g in groups)
        pooled = math.sqrt(sum((len(g) - 1) * float(np.var(g, ddof=1)) for g in groups if len(g) > 1) / dfs) \
            if dfs else None
        widths = [c["width"] for c in cells]
        means = [float(np.mean(g)) for g in groups]
        slope = float(np.polyfit(widths, means, 1)[0]) if len(set(widths)) > 1 else None
        out.append({"lr": lr, "metric": metric, "seed_sd": pooled, "slope_per_c": slope,
                    "standardized_slope": None if not pooled or slope is None else slope / pooled,
                    "runs": len(recs), "diverged": sum(r["diverged"] for r in records if r["lr"] == lr),
                    "cells": [{"label": c["label"], "width": c["width"], "depth": c["depth"], "mean": m,
                               "seeds": len(g)} for c, m, g in zip(cells, means, groups)]})
    return {"per_lr": out}


def power_analysis(widths, effects=(0.25, 0.5, 1.0), seeds_options=(3, 5, 8), cell_sd_ratios=(0.0, 1.0),
                   alpha=ALPHA / 4, simulations: int = 2000, seed: int = 0) -> list[dict]:
    """Power of the cell-level exact Spearman test and the blocked test by simulation.

    Model: `metric[cell, seed] = -effect * width[cell] + cell_sd_ratio * u[cell] + e[cell, seed]` in units
    of the seed SD (`u, e ~ N(0, 1)`); `effect` is the standardized slope per unit `c` of width.
    The exact null distributions give the critical values, so only the statistics are simulated.
    `alpha` defaults to the first Holm step of the four primary hypotheses (0.05 / 4)."""
    rng = np.random.default_rng(seed)
    widths = np.asarray(widths, dtype=float)
    n = widths.size
    a = st.doubled_ranks(st.midranks(widths))
    b = 2 * np.arange(1, n + 1)
    null = st.rank_sum_distribution(a, b)
    # smallest S with P(S <= s) <= alpha (we test "less")
    cum, crit = 0, None
    for k, c in enumerate(null.counts):
        cum += int(c)
        if Fraction(cum, null.total) <= Fraction(alpha).limit_denominator(10 ** 9):
            crit = null.offset + k
        else:
            break
    rows = []
    for effect in effects:
        for ratio in cell_sd_ratios:
            for seeds in seeds_options:
                block_null = st.FloatDistribution.of(null)
                for _ in range(seeds - 1):
                    block_null = block_null.convolve(st.FloatDistribution.of(null))
                below = np.nonzero(np.cumsum(block_null.probs) <= alpha)[0]
                bcrit = block_null.offset + int(below[-1]) if below.size else None
                hits_cell = hits_block = 0
                for _ in range(simulations):
                    u = rng.standard_normal(n) * ratio
                    e = rng.standard_normal((seeds, n))
                    y = -effect * widths + u + e
                    s_cell = int(np.dot(a, st.doubled_ranks(st.midranks(y.mean(axis=0)))))
                    t_block = sum(int(np.dot(a, st.doubled_ranks(st.midranks(row)))) for row in y)
                    hits_cell += crit is not None and s_cell <= crit
                    hits_block += bcrit is not None and t_block <= bcrit
                rows.append({"standardized_slope": effect, "cell_sd_ratio": ratio, "seeds": seeds,
                             "power_cell_level": hits_cell / simulations,
                             "power_blocked": hits_block / simulations, "alpha": alpha,
                             "simulations": simulations})
    return rows


# -- bookkeeping ----------------------------------------------------------------------------------------------


@dataclass
class Clock:
    """Wall and CPU seconds of this process and its finished children, added to `OUT/timing.json`."""

    path: Path

    def __post_init__(self):
        self.wall0 = time.perf_counter()
        self.cpu0 = self._cpu()

    @staticmethod
    def _cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def add(self, key: str) -> dict:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        entry = data.setdefault(key, {"wall_seconds": 0.0, "cpu_seconds": 0.0})
        now_wall, now_cpu = time.perf_counter(), self._cpu()
        entry["wall_seconds"] += now_wall - self.wall0
        entry["cpu_seconds"] += now_cpu - self.cpu0
        self.wall0, self.cpu0 = now_wall, now_cpu
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=1))
        return entry


def protocol_json(spec_, *, study: bool = True) -> dict:
    """The protocol of a results file; `study` adds how this book's CPU study was executed."""
    data = {"arch": spec_.arch, "kind": spec_.kind, "family": spec_.family, "variants": spec_.count,
            "variant_seed": spec_.variant_seed, "learning_rates": list(spec_.lrs), "seeds": spec_.seeds,
            "epochs": epochs_of(spec_), "dataset": spec_.dataset, "preset": spec_.preset, **spec_.overrides}
    if study:
        data.update(threads_per_run=1, workers=2, priority="nice 5 for the pilot; the main run moved to the "
                    "default priority (Chapter 3, amendment)")
    return data
