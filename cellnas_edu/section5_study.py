"""Section 5 at student scale: the five popular cells against their widest-and-shallowest adaptations (Table 1).

Table 1 trains each popular cell (NASNet, AmoebaNet, ENAS, DARTS, SNAS) and its
adaptation (Figure 25: every node reads the two cell inputs, depth 2) with
Appendix A.4's regularization and compares test errors; the differences it
reports are 0.06 to 0.94 points of error. This study repeats the design on
the CPU, under a protocol and an analysis plan written to
`results/section5_study_plan/summary.json` before any of its runs exists.

Protocol ([`PROTOCOL`][cellnas_edu.section5_study.PROTOCOL]): the 5 pairs, 8
seeds each (a seed gives both networks of a pair the same data order and
initial state of the generators), Fashion-MNIST, 640 training and 320 test
images, 4 epochs at learning rate 0.025, the `cpu-mini` network (C = 4, 5
cells), BatchNorm recalibrated on the 640 training images before every
evaluation, one thread per run; A.4's regularization scaled to the images
(cutout 14, half the side of a 28-pixel image as 16 is of a 32-pixel one),
drop path up to 0.2, the auxiliary tower with weight 0.4, gradient clipping
at 5.

Analysis plan ([`analyze`][cellnas_edu.section5_study.analyze]):

* Primary (Holm over the two, alpha 0.05, two-sided): the final recalibrated
  test error and the AUC of the recalibrated test loss, adapted minus
  original, over the 40 (pair, seed) differences of these five pairs. The
  error is a whole number of the 320 test images, so its test is the exact
  sign-flip (permutation) test of the summed differences, computed by
  convolution; the AUC's is the exact Wilcoxon signed-rank test.
  Effect sizes: the mean difference with its t-interval, per pair too.
* Secondary: the same per pair (8 differences each, unadjusted); the
  cell-level sign-flip test over the 5 pair means, whose smallest possible
  two-sided p-value is 1/16, so it cannot reach 0.05 (stated, not hidden);
  the AUC of the training loss.
* Power ([`plan`][cellnas_edu.section5_study.plan]) is simulated before the run
  from the seed SD of the final error in committed runs of the same network
  and data; the chapter says which differences the study can detect and
  whether Table 1's can be among them.

The inference is about these five pairs (fixed effects), not about cells in
general; an adapted cell is shallower everywhere but not wider everywhere
(Chapter 7's table), and adaptation changes the parameter count a little."""

from __future__ import annotations

import math

import numpy as np

from .stats import holm, mean_interval, sign_flip_test, signed_rank_test

NAME = "section5_study"
PAIRS = (("NASNet", "NASNet_ADAPT"), ("AmoebaNet", "AmoebaNet_ADAPT"), ("ENAS", "ENAS_ADAPT"),
         ("DARTS_V2", "DARTS_ADAPT"), ("SNAS_MILD", "SNAS_ADAPT"))
"""(original, adapted): Table 1's rows (DARTS is its second-order cell, SNAS its mild-constraint cell)"""
SEEDS = 8
METRICS = ("final_test_error", "auc_test_loss")
SECONDARY_METRICS = ("auc_train_loss",)
ALPHA = 0.05
TABLE1_CIFAR10_ERRORS = {"NASNet": (2.65, 2.80), "AmoebaNet": (2.76, 2.91), "ENAS": (2.64, 2.76),
                         "DARTS_V2": (2.67, 2.73), "SNAS_MILD": (2.88, 2.69)}
"""Table 1, CIFAR-10 test error (%), original / adapted"""

PROTOCOL = {
    "pairs": [list(p) for p in PAIRS], "seeds": SEEDS, "dataset": "fashion-mnist", "preset": "cpu-mini",
    "epochs": 4, "lr": 0.025, "init_channels": 4, "layers": 5, "train_subset": 640, "test_subset": 320,
    "batch_size": 32, "bn_recalibration": 640, "cutout": 14, "drop_path_prob": 0.2, "auxiliary": True,
    "auxiliary_weight": 0.4, "grad_clip": 5.0, "augment": True, "threads_per_run": 1, "workers": 2,
}
"""every setting the numbers depend on (each run's config.json records the rest: torch version, threads)"""

TINY = dict(seeds=2, train_subset=64, test_subset=40, init_channels=2, layers=4, epochs=2, bn_recalibration=64)
"""the test scale"""

_CONFIG_KEYS = ("epochs", "lr", "init_channels", "layers", "train_subset", "test_subset", "batch_size",
                "bn_recalibration", "cutout", "drop_path_prob", "auxiliary", "auxiliary_weight", "grad_clip",
                "augment")


def protocol(tiny: bool = False) -> dict:
    return {**PROTOCOL, **(TINY if tiny else {})}


def config(arch: str, seed: int, *, tiny: bool = False):
    """The [`TrainConfig`][cellnas_edu.train.TrainConfig] of one run."""
    from .train import make_config

    p = protocol(tiny)
    return make_config(p["preset"], arch=arch, dataset=p["dataset"], device="cpu", seed=seed,
                       **{k: p[k] for k in _CONFIG_KEYS})


def runs(tiny: bool = False) -> list[tuple[str, int]]:
    """Every (architecture, seed) of the study, originals and adaptations interleaved."""
    return [(arch, seed) for seed in range(protocol(tiny)["seeds"]) for pair in PAIRS for arch in pair]


def run_record(folder, arch: str, seed: int) -> dict | None:
    """The numbers of one finished run (`None` while it is not finished)."""
    from .convergence.stats import area_under_curve
    from .train.runfolder import RunFolder

    run = RunFolder(folder)
    status = run.status()
    if not status or status.get("state") not in ("finished", "diverged"):
        return None
    metrics = run.metrics()
    diverged = status["state"] == "diverged"
    epochs = [m["epoch"] for m in metrics]
    test, train = [m["test_loss"] for m in metrics], [m["train_loss"] for m in metrics]
    ok = not diverged and all(v is not None and math.isfinite(v) for v in test + train)
    return {"arch": arch, "seed": seed, "diverged": diverged,
            "final_test_error": None if diverged else 100.0 - metrics[-1]["test_acc"],
            "wrong_images": None if diverged else round((100.0 - metrics[-1]["test_acc"]) / 100 *
                                                        run.read_config()["test_subset"]),
            "auc_test_loss": float(area_under_curve(test, epochs)) if ok else None,
            "auc_train_loss": float(area_under_curve(train, epochs)) if ok else None,
            "test_loss_curve": test, "train_loss_curve": train,
            "seconds": round(sum(m["seconds"] for m in metrics), 2)}


def _mean_interval(values) -> dict:
    iv = mean_interval(list(values))
    return {"mean": iv.mean, "low": iv.low, "high": iv.high, "n": len(values)}


def analyze(records: list[dict]) -> dict:
    """Every statistic of the analysis plan (module docstring) from the per-run records."""
    by = {(r["arch"], r["seed"]): r for r in records}
    seeds = sorted({r["seed"] for r in records})
    out = {"alpha": ALPHA, "primary": [], "secondary": [], "pairs": []}
    for metric in METRICS + SECONDARY_METRICS:
        diffs, per_pair = [], []
        for original, adapted in PAIRS:
            d = [by[(adapted, s)][metric] - by[(original, s)][metric] for s in seeds
                 if by[(adapted, s)][metric] is not None and by[(original, s)][metric] is not None]
            per_pair.append((original, d))
            diffs += d
        if metric == "final_test_error":
            wrong = [by[(a, s)]["wrong_images"] - by[(o, s)]["wrong_images"] for o, a in PAIRS for s in seeds
                     if by[(a, s)]["wrong_images"] is not None and by[(o, s)]["wrong_images"] is not None]
            p = sign_flip_test(wrong, "two-sided").p_value
            test = "exact sign-flip test of the differences in wrongly classified test images"
        else:
            p = signed_rank_test(diffs)
            test = "exact Wilcoxon signed-rank test"
        pair_means = [float(np.mean(d)) for _, d in per_pair]
        row = {"metric": metric, "test": test, "differences": len(diffs), "p_exact": p,
               "difference": _mean_interval(diffs), "adapted_better_in": sum(bool(v < 0) for v in diffs),
               "adapted_worse_in": sum(bool(v > 0) for v in diffs),
               "pair_means": dict(zip([o for o, _ in per_pair], pair_means)),
               "cell_level_sign_flip_p": sign_flip_test(pair_means, "two-sided").p_value,
               "per_pair": [{"original": o, "difference": _mean_interval(d),
                             "p_exact": signed_rank_test(d) if any(d) else 1.0}
                            for o, d in per_pair]}
        (out["primary"] if metric in METRICS else out["secondary"]).append(row)
    adjusted = holm({row["metric"]: row["p_exact"] for row in out["primary"]})
    for row in out["primary"]:
        row["p_holm"] = adjusted[row["metric"]]
        row["significant"] = row["p_holm"] <= ALPHA
    for original, adapted in PAIRS:
        mine = [by[(original, s)] for s in seeds], [by[(adapted, s)] for s in seeds]
        out["pairs"].append({"original": original, "adapted": adapted, **{
            f"{side}_{metric}": _mean_interval([r[metric] for r in runs_ if r[metric] is not None])
            for side, runs_ in zip(("original", "adapted"), mine) for metric in METRICS}})
    out["runs"], out["diverged_runs"] = len(records), sum(r["diverged"] for r in records)
    return out


def plan(pilot_records: list[dict], *, simulations: int = 2000, seed: int = 0) -> dict:
    """The plan's power analysis: the seed SD of the final test error in committed runs of the same network and
    data (`convergence_followup`, lr 0.025, 640/320 images, 4 epochs, no regularization, not recalibrated),
    then by simulation the power of the primary error test (40 paired differences, two-sided, alpha 0.05/2)
    for true mean differences of 0.25 to 8 points, with paired differences of SD sqrt(2) x the seed SD (the
    two networks of a pair share a seed but not their weights)."""
    at = [r for r in pilot_records if r["lr"] == 0.025 and r["metrics"]["final_test_acc"] is not None]
    labels = sorted({r["label"] for r in at})
    groups = [[100 - r["metrics"]["final_test_acc"] for r in at if r["label"] == lab] for lab in labels]
    seed_sd = math.sqrt(sum((len(g) - 1) * np.var(g, ddof=1) for g in groups) / sum(len(g) - 1 for g in groups))
    test_images = PROTOCOL["test_subset"]
    n = len(PAIRS) * SEEDS
    rng = np.random.default_rng(seed)
    rows = []
    for delta in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0):
        hits = 0
        for _ in range(simulations):
            d = rng.normal(delta, math.sqrt(2) * seed_sd, n)
            wrong = np.round(d / 100 * test_images).astype(int)
            hits += sign_flip_test(wrong.tolist(), "two-sided").p_value <= ALPHA / 2
        rows.append({"difference_points": delta, "power": hits / simulations, "simulations": simulations})
    table1 = [abs(a - o) for o, a in TABLE1_CIFAR10_ERRORS.values()]
    detectable = next((r["difference_points"] for r in rows if r["power"] >= 0.8), None)
    return {"protocol": PROTOCOL, "pairs": [list(p) for p in PAIRS], "alpha": ALPHA,
            "first_holm_alpha": ALPHA / 2, "primary": list(METRICS), "secondary": list(SECONDARY_METRICS),
            "seed_sd_points": seed_sd, "pilot": {"results": "convergence_followup", "lr": 0.025, "runs": len(at)},
            "power": rows, "smallest_difference_with_power_0_8": detectable,
            "table1_cifar10_differences_points": {"min": min(table1), "max": max(table1)},
            "cell_level_min_p": 1 / 16}
