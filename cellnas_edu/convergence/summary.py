"""Reading the run folders of an experiment and summarising them (the content of `summary.json`)."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

from ..cells.tables import format_table
from ..cells.topology import format_width
from ..stats import mean_interval, one_way_anova, spearman_with_bootstrap
from ..train.runfolder import RunFolder
from .spec import ConvergenceSpec, ExperimentCell, lr_key, run_dir
from .stats import area_under_curve, describe_correlation

# -- statistics over the folder -------------------------------------------------------------------------------------


def _interval_json(values):
    return mean_interval(values).to_json()


def run_records(out_dir: Path, spec: ConvergenceSpec, cells: list[ExperimentCell], epochs: int) -> list[dict]:
    """One flat record per (learning rate, cell, seed): its state and, when finished, its final numbers."""
    records = []
    for lr in spec.lrs:
        for cell in cells:
            for seed in range(spec.seeds):
                run = RunFolder(run_dir(out_dir, lr, cell.label, seed)).record(epochs)
                record = {"lr": lr_key(lr), "label": cell.label, "seed": seed, "state": run.state,
                          "epochs_done": len(run.epochs)}
                if run.state == "finished":
                    record.update(final_test_loss=run.test_loss[-1], final_test_acc=run.test_acc[-1],
                                  auc_test_loss=area_under_curve(run.test_loss, run.epochs))
                elif run.state == "diverged":
                    finite = [e for e, v in zip(run.epochs, run.test_loss) if math.isfinite(v)]
                    record.update(diverged_at=next((e for e, v in zip(run.epochs, run.test_loss)
                                                    if not math.isfinite(v)), None),
                                  last_finite_epoch=finite[-1] if finite else None)
                records.append(record)
    return records


def _seed_json(record: dict) -> dict:
    if record["state"] == "diverged":
        return {"diverged": True, "epochs_done": record["epochs_done"]}
    return {key: record[key] for key in ("final_test_loss", "final_test_acc", "auc_test_loss", "epochs_done")}


def _cell_row(cell: ExperimentCell, records: list[dict], parameters: int | None) -> dict:
    """The summary row of one cell at one learning rate, from its runs' records."""
    finished = [r for r in records if r["state"] == "finished"]
    diverged = [r for r in records if r["state"] == "diverged"]
    return {
        "label": cell.label,
        "original": cell.original,
        "width": float(cell.width),
        "width_c": format_width(cell.width),
        "depth": cell.depth,
        "parameters": parameters,
        "seeds": {f"seed{r['seed']}": _seed_json(r) for r in records if r["state"] in ("finished", "diverged")},
        "finished_seeds": [r["seed"] for r in finished],
        "diverged_seeds": [r["seed"] for r in diverged],
        "pending_seeds": [r["seed"] for r in records if r["state"] not in ("finished", "diverged")],
        "final_test_loss": _interval_json([r["final_test_loss"] for r in finished]),
        "auc_test_loss": _interval_json([r["auc_test_loss"] for r in finished]),
        "final_test_acc": _interval_json([r["final_test_acc"] for r in finished]),
    }


def summarize(out_dir: Path, spec: ConvergenceSpec, cells: list[ExperimentCell], epochs: int,
              params: dict[str, int] | None = None, n_boot: int = 2000) -> dict:
    """The quantitative summary of everything finished so far (the content of `summary.json`).

    First one flat record per run ([`run_records`][cellnas_edu.convergence.summary.run_records]), then the aggregation
    per learning rate: a row per cell, Spearman correlations, ANOVA, verdict."""
    out_dir = Path(out_dir)
    params = params or {}
    records = run_records(out_dir, spec, cells, epochs)
    per_lr = {}
    for lr in spec.lrs:
        key = lr_key(lr)
        at_lr = [r for r in records if r["lr"] == key]
        rows = [_cell_row(cell, [r for r in at_lr if r["label"] == cell.label], params.get(cell.label))
                for cell in cells]
        diverged_runs = [{"label": r["label"], "seed": r["seed"], "epoch": r["diverged_at"],
                          "last_finite_epoch": r["last_finite_epoch"]} for r in at_lr if r["state"] == "diverged"]
        finished = [r for r in at_lr if r["state"] == "finished"]
        finals = {c.label: [r["final_test_loss"] for r in finished if r["label"] == c.label] for c in cells}
        aucs = {c.label: [r["auc_test_loss"] for r in finished if r["label"] == c.label] for c in cells}
        usable = [r for r in rows if finals[r["label"]]]
        correlations, verdict = {}, []
        for prop in ("width", "depth"):
            for metric, name, values in (("final test loss", "final_test_loss", finals),
                                         ("AUC of test loss", "auc_test_loss", aucs)):
                corr = spearman_with_bootstrap([r[prop] for r in usable], [values[r["label"]] for r in usable],
                                               n_boot=n_boot)
                entry = f"{prop}_vs_{name}"
                correlations[entry] = {**corr.to_json(), "paper_expects": "negative" if prop == "width" else "positive",
                                       "statement": describe_correlation(prop, metric, corr)}
                verdict.append(correlations[entry]["statement"])
        anova = one_way_anova([finals[r["label"]] for r in usable])
        if anova is not None:
            verdict.append(
                f"do cells differ beyond seed noise (final test loss, one-way ANOVA over {anova['n_cells']} cells)? "
                f"F = {anova['F'] if anova['F'] is None else round(anova['F'], 3)}, asymptotic p = "
                f"{'n/a' if anova['p_value'] is None else format(anova['p_value'], '.3g')}; range of cell means "
                f"{anova['range_of_cell_means']:.4f} vs pooled seed sd {anova['pooled_seed_sd']:.4f}"
            )
        if diverged_runs:
            verdict.append("diverged (kept out of the means): " + ", ".join(
                f"{d['label']} seed{d['seed']}" for d in diverged_runs))
        if any(r["pending_seeds"] for r in rows):
            verdict.append("incomplete: some runs have not finished; numbers cover the finished runs only")
        single = [r["label"] for r in usable if len(finals[r["label"]]) < 2]
        if single:
            verdict.append("cells with one finished seed have no interval: " + ", ".join(single))
        per_lr[key] = {"cells": rows, "diverged": diverged_runs, "correlations": correlations,
                              "anova_final_test_loss": anova, "verdict": verdict}
    done = sum(r["state"] in ("finished", "diverged") for r in records)
    total = len(records)
    return {
        "experiment": {**asdict(spec), "lrs": list(spec.lrs), "epochs_resolved": epochs},
        "note": "variants resample the normal cell; the reduction cell is the original's (Section 4.1, Table 2)",
        "runs_done": done,
        "runs_total": total,
        "complete": done == total,
        "learning_rates": per_lr,
    }


def format_summary(summary: dict) -> str:
    """A plain-text report: one table per learning rate, then the verdict lines."""
    lines = []
    for lr, block in summary["learning_rates"].items():
        lines.append(f"learning rate {lr}")
        header = ("cell", "width", "depth", "params", "seeds", "final test loss [95% CI]", "AUC [95% CI]",
                  "final acc %")
        table = []
        for r in block["cells"]:
            def fmt(iv, digits=4):
                if iv["mean"] is None:
                    return "-"
                if iv["low"] is None:
                    return f"{iv['mean']:.{digits}f}"
                return f"{iv['mean']:.{digits}f} [{iv['low']:.{digits}f}, {iv['high']:.{digits}f}]"

            seeds = f"{len(r['finished_seeds'])}" + (f"+{len(r['diverged_seeds'])}div" if r["diverged_seeds"] else "")
            table.append((r["label"], r["width_c"], str(r["depth"]),
                          "-" if r["parameters"] is None else f"{r['parameters'] / 1e6:.3f}M", seeds,
                          fmt(r["final_test_loss"]), fmt(r["auc_test_loss"]), fmt(r["final_test_acc"], 2)))
        lines.append(format_table(header, table, indent="  "))
        lines.extend(f"  - {v}" for v in block["verdict"])
        lines.append("")
    lines.append(f"runs: {summary['runs_done']}/{summary['runs_total']} done; {summary['note']}")
    return "\n".join(lines)
