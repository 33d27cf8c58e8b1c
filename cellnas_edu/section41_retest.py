"""The pre-registered re-test of Section 4.1 with BatchNorm recalibrated (Chapter 3).

Why a re-test. The book's one positive Section 4 verdict (wide, shallow
cells converge faster at learning rate 0.25) was measured with evaluation-mode
BatchNorm whose running statistics lag weights that move fast: test losses
reached thousands while the training loss fell steadily. This study measures
what Section 4.1 is about, with the measurement fixed, under a protocol and an
analysis plan written to `results/section41_retest/plan.json` before any run
of it exists.

Protocol ([`PROTOCOL`][cellnas_edu.section41_retest.PROTOCOL]): DARTS and its 10
connection variants of Chapter 3 (the same family, variant seed 1), 8 seeds,
learning rates 0.025 and 0.25, 640 training and 320 test images of
Fashion-MNIST, 4 epochs, the `cpu-mini` network (C = 4, 5 cells), one torch
thread per run; before every evaluation every BatchNorm's statistics are
re-estimated on the 640 unaugmented training images
([`recalibrate_batchnorm`][cellnas_edu.train.batchnorm.recalibrate_batchnorm]).

Analysis plan ([`analyze`][cellnas_edu.section41_retest.analyze]):

* Primary: 8 hypotheses, {width, depth} x {AUC of the recalibrated test loss,
  AUC of the training loss} x {lr 0.025, lr 0.25}; the paper expects the loss
  to fall with width (Spearman < 0) and rise with depth (> 0). Each hypothesis
  has two co-primary tests, the cell-level exact Spearman test on the 11 cell
  means and the seed-blocked exact test (the per-seed rank statistics summed);
  a hypothesis is *supported* only if both reject (an intersection-union
  test, whose p-value is the larger of the two), with Holm's step-down over
  the 8 at alpha = 0.05.
* Secondary (reported, not adjusted): the same statistics on cell medians and
  on log-means, and on the final recalibrated test error (100 - accuracy).
* A null result is stated with its power
  ([`plan`][cellnas_edu.section41_retest.plan] simulates it before the run).

Width and depth are correlated in this family, and the number of
convolutions is not held fixed; the chapter says so next to the verdict."""

from __future__ import annotations

import math

import numpy as np

from . import section4_study as s4
from . import stats as st

NAME = "section41_retest"
SEEDS = 8
LEARNING_RATES = (0.025, 0.25)
EPOCHS = 4
TRAIN_IMAGES, TEST_IMAGES = 640, 320
RECALIBRATION_IMAGES = 640
VARIANT_SEED = 1
PRIMARY_METRICS = ("auc_test_loss", "auc_train_loss")
SECONDARY_METRICS = ("final_test_error",)
PROPERTIES = ("width", "depth")
ALPHA = 0.05
FAMILY_SIZE = len(PRIMARY_METRICS) * len(PROPERTIES) * len(LEARNING_RATES)

PROTOCOL = {
    "arch": "DARTS", "kind": "connections", "family": "random", "variants": s4.CONNECTION_VARIANTS,
    "variant_seed": VARIANT_SEED, "learning_rates": list(LEARNING_RATES), "seeds": SEEDS, "epochs": EPOCHS,
    "dataset": s4.DATASET, "preset": s4.PRESET, "init_channels": 4, "layers": 5, "train_subset": TRAIN_IMAGES,
    "test_subset": TEST_IMAGES, "batch_size": 32, "grad_clip": None, "bn_recalibration": RECALIBRATION_IMAGES,
    "threads_per_run": 1, "workers": 2,
}
"""every setting the numbers depend on (torch version and thread count are recorded by each run's config)"""

TINY = dict(seeds=2, train_subset=64, test_subset=40, init_channels=2, layers=4, variants=3, epochs=2,
            bn_recalibration=64)
"""the test scale: the same code in seconds"""


def spec(*, tiny: bool = False):
    """The [`ConvergenceSpec`][cellnas_edu.convergence.ConvergenceSpec] of the re-test (`tiny`: the test scale)."""
    from .convergence import ConvergenceSpec

    p = dict(PROTOCOL, **(TINY if tiny else {}))
    overrides = {k: p[k] for k in ("init_channels", "layers", "train_subset", "test_subset", "batch_size",
                                   "grad_clip", "bn_recalibration")}
    return ConvergenceSpec(arch=p["arch"], kind=p["kind"], count=p["variants"], variant_seed=p["variant_seed"],
                           family=p["family"], lrs=tuple(p["learning_rates"]), seeds=p["seeds"],
                           preset=p["preset"], dataset=p["dataset"], epochs=p["epochs"], overrides=overrides)


def records(out_dir, spec_) -> list[dict]:
    """[`section4_study.run_records`][cellnas_edu.section4_study.run_records] plus, per run, the AUC of the
    training loss (the mean training loss of each epoch, trapezoids over epochs 1..E as for the test loss) and
    the final test error (100 - the recalibrated final accuracy)."""
    from .convergence import run_dir
    from .convergence.stats import area_under_curve
    from .train.runfolder import RunFolder

    out = s4.run_records(out_dir, spec_)
    for r in out:
        metrics = RunFolder(run_dir(out_dir, r["lr"], r["label"], r["seed"])).metrics()
        train = [m["train_loss"] for m in metrics]
        finite = not r["diverged"] and all(v is not None and math.isfinite(v) for v in train)
        r["metrics"]["train_loss_curve"] = [v if v is None or math.isfinite(v) else None for v in train]
        r["metrics"]["auc_train_loss"] = area_under_curve(train, [m["epoch"] for m in metrics]) if finite else None
        acc = r["metrics"].get("final_test_acc")
        r["metrics"]["final_test_error"] = None if acc is None else 100.0 - acc
    return out


def _cell_values(recs: list[dict], metric: str, aggregate: str) -> tuple[list[dict], list[float]]:
    cells = s4._cells(recs)
    values = []
    for c in cells:
        vals = [s4._value(r, metric) for r in recs if r["label"] == c["label"]]
        if any(math.isinf(v) for v in vals):
            values.append(math.inf)
        elif aggregate == "median":
            values.append(float(np.median(vals)))
        elif aggregate == "logmean":
            values.append(float(np.mean(np.log(vals))))
        else:
            values.append(float(np.mean(vals)))
    return cells, values


def _aggregate_test(recs: list[dict], prop: str, metric: str, aggregate: str) -> dict:
    cells, values = _cell_values(recs, metric, aggregate)
    result = st.exact_spearman([c[prop] for c in cells], values, s4.DIRECTION[prop])
    return {"aggregate": aggregate, "rho": result.rho, "p_exact": result.p_value}


def analyze(recs: list[dict], n_boot: int = s4.N_BOOT) -> dict:
    """Every statistic of the analysis plan (module docstring) from the per-run records."""
    primary, secondary = [], []
    for lr in sorted({r["lr"] for r in recs}):
        at = [r for r in recs if r["lr"] == lr]
        for metric in PRIMARY_METRICS + SECONDARY_METRICS:
            for prop in PROPERTIES:
                trend = s4._trend(at, prop, metric, n_boot)
                row = {"hypothesis": f"{prop}~{metric}@{lr:g}", "lr": lr, "property": prop, "metric": metric,
                       "alternative": trend["alternative"], "rho": trend["rho"], "rho_low": trend["rho_low"],
                       "rho_high": trend["rho_high"], "p_cell": trend["p_exact"],
                       "blocked_mean_rho": trend["blocked_mean_rho"], "blocked_rho_low": trend["blocked_rho_low"],
                       "blocked_rho_high": trend["blocked_rho_high"], "p_blocked": trend["blocked_p_exact"],
                       "per_seed_rho": trend["per_seed_rho"], "cells": trend["cells"], "seeds": trend["seeds"],
                       "p_iut": max(trend["p_exact"], trend["blocked_p_exact"]),
                       "medians": _aggregate_test(at, prop, metric, "median"),
                       "log_means": _aggregate_test(at, prop, metric, "logmean")}
                (primary if metric in PRIMARY_METRICS else secondary).append(row)
    adjusted = st.holm({row["hypothesis"]: row["p_iut"] for row in primary})
    for row in primary:
        row["p_holm"] = adjusted[row["hypothesis"]]
        row["supports_paper"] = row["p_holm"] is not None and row["p_holm"] <= ALPHA
    cells = s4._cells(recs)
    return {
        "alpha": ALPHA, "family": [row["hypothesis"] for row in primary], "primary": primary,
        "secondary": secondary, "supported": sum(row["supports_paper"] for row in primary),
        "width_depth_rho": st.spearman_rho([c["width"] for c in cells], [c["depth"] for c in cells]),
        "cells": {f"{lr:g}": s4.cell_table([r for r in recs if r["lr"] == lr])
                  for lr in sorted({r["lr"] for r in recs})},
        "diverged_runs": sum(r["diverged"] for r in recs), "runs": len(recs),
    }


def _between_cell_ratio(groups: list[list[float]], widths: list[float]) -> float:
    """SD of the cell means around their least-squares line on width, less what seed noise explains, in units of
    the pooled seed SD (the `cell_sd_ratio` of [`power_analysis`][cellnas_edu.section4_study.power_analysis])."""
    means = np.array([np.mean(g) for g in groups])
    seed_var = sum((len(g) - 1) * np.var(g, ddof=1) for g in groups) / sum(len(g) - 1 for g in groups)
    fit = np.polyval(np.polyfit(widths, means, 1), widths)
    residual_var = float(np.var(means - fit, ddof=2))
    per_mean_noise = seed_var / np.mean([len(g) for g in groups])
    return math.sqrt(max(0.0, residual_var - per_mean_noise) / seed_var)


def plan(pilot_records: list[dict], *, simulations: int = 2000) -> dict:
    """The analysis plan and its power analysis, from committed runs of the same design without recalibration
    (`convergence_followup`: the 11 cells, 5 seeds, 640/320 images, 4 epochs, lr 0.025; its test-loss AUC is
    the committed measurement closest to this study's). The effect sizes simulated are the observed
    standardized slope of the AUC on width and 0.25, 0.5, 1.0 seed SDs per `c`, at the first Holm step
    alpha / 8, for 5 and 8 seeds, without and with the observed between-cell scatter."""
    at = [r for r in pilot_records if r["lr"] == 0.025 and r["metrics"]["auc_test_loss"] is not None]
    variance = s4.pilot_variance(at)["per_lr"][0]
    cells = s4._cells(at)
    widths = [c["width"] for c in cells]
    groups = [[r["metrics"]["auc_test_loss"] for r in at if r["label"] == c["label"]] for c in cells]
    ratio = _between_cell_ratio(groups, widths)
    observed = round(abs(variance["standardized_slope"]), 3)
    power = s4.power_analysis(widths, effects=sorted({observed, 0.25, 0.5, 1.0}), seeds_options=(5, SEEDS),
                              cell_sd_ratios=(0.0, round(ratio, 3)), alpha=ALPHA / FAMILY_SIZE,
                              simulations=simulations, seed=0)
    return {
        "protocol": PROTOCOL, "family_widths": widths, "family_depths": [c["depth"] for c in cells],
        "hypotheses": [f"{p}~{m}@{lr:g}" for lr in LEARNING_RATES for m in PRIMARY_METRICS for p in PROPERTIES],
        "decision_rule": "supported iff max(p_cell, p_blocked) <= Holm's threshold (alpha 0.05 over the 8)",
        "directions": dict(s4.DIRECTION), "alpha": ALPHA, "first_holm_alpha": ALPHA / FAMILY_SIZE,
        "secondary": ["cell medians", "cell log-means", "final recalibrated test error (same tests, unadjusted)"],
        "power_from": {"results": "convergence_followup", "metric": "auc_test_loss", "lr": 0.025,
                       "seed_sd": variance["seed_sd"], "slope_per_c": variance["slope_per_c"],
                       "standardized_slope": variance["standardized_slope"], "between_cell_sd_ratio": ratio,
                       "runs": len(at)},
        "power": power,
        "limits": ["no committed run records a training-loss curve, so the training-loss AUC's power is taken "
                   "to be that of the test-loss AUC at the same standardized slope",
                   "no committed run of this design at lr 0.25 has recalibrated statistics: the power at 0.25 is "
                   "assumed to be that at 0.025"],
    }
