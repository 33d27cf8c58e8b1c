"""The pre-registered Section 4 study of Chapters 3-5 (protocol: docs/convergence.md).

Stages, each resumable (finished runs are skipped) and each writing its
``results/<experiment>/summary.json``:

    python examples/section4_study.py pilot                    # seed variance + power analysis
    python examples/section4_study.py convergence --lrs 0.025  # Section 4.1 at lr 0.025 (add 0.25 later)
    python examples/section4_study.py landscape                # Section 4.2: Hessian + gradient variance
    python examples/section4_study.py convergence              # both learning rates (Figures 3, 4)
    python examples/section4_study.py operations               # Figure 5
    python examples/section4_study.py analyze                  # rewrite every results file from the runs

The follow-up of Chapter 3 at the paper's learning rate changes only the training budget:

    python examples/section4_study.py convergence --lrs 0.025 --epochs 4 --train-images 640 --test-images 320 \
        --out runs/section4_followup --results-name convergence_followup
    python examples/section4_study.py landscape --epochs 4 --train-images 640 --test-images 320 \
        --out runs/section4_followup --results-name landscape_followup --runs-of convergence_followup

``--tiny`` runs the same pipeline at test scale (seconds); ``--results`` and
``--out`` choose where results and runs go. The library does the work
(:mod:`cellnas_edu.section4_study`, :mod:`cellnas_edu.stats`).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

from cellnas_edu import convergence as _convergence
from cellnas_edu import section4_study as s4
from cellnas_edu.cli import path_arg, results_name_arg
from cellnas_edu.convergence import run_dir
from cellnas_edu.errors import UserError
from cellnas_edu.results import write_summary
from cellnas_edu.train.runfolder import RunFolder

STAGES = ("pilot", "convergence", "landscape", "operations", "analyze")


def run_convergence(spec, out, **kwargs):
    """The package's runner without its per-run curve plots (the study draws its figures from results/)."""
    return _convergence.run_convergence(spec, out, plot=False, **kwargs)


def _command(argv) -> str:
    return "python examples/section4_study.py " + " ".join(shlex.quote(a) for a in argv)


def _timing(clock: s4.Clock, key: str) -> dict:
    entry = clock.add(key)
    return {"wall_seconds": round(entry["wall_seconds"], 1), "cpu_seconds": round(entry["cpu_seconds"], 1)}


def _write(name, data, args, timing, root):
    path = write_summary(name, {**data, "timing": timing}, command=_command(args.argv),
                         seconds=timing["wall_seconds"], root=root)
    print(f"wrote {path}", file=sys.stderr)


def pilot(args, clock, root):
    spec = s4.spec("section4_pilot", tiny=args.tiny, paper=args.paper, data_root=args.data_root)
    out = Path(args.out) / "pilot"
    run_convergence(spec, out, resume=True, progress=False, jobs=args.jobs, n_boot=100)
    records = s4.run_records(out, spec)
    variance = s4.pilot_variance(records)
    family = s4.spec("convergence_study", tiny=args.tiny, paper=args.paper)
    from cellnas_edu.cells.genotypes import resolve_genotype
    from cellnas_edu.convergence import experiment_cells

    widths = [float(c.width) for c in experiment_cells(resolve_genotype("DARTS"), "connections", family.count,
                                                        family.variant_seed, family.family)]
    observed = sorted({round(abs(v["standardized_slope"]), 2) for v in variance["per_lr"]
                       if v["standardized_slope"] is not None})
    effects = sorted({0.25, 0.5, 1.0, *observed})
    power = s4.power_analysis(widths, effects=effects, seeds_options=(3, 5, 8),
                              simulations=100 if args.tiny else 1000)
    timing = _timing(clock, "pilot")
    data = {"protocol": s4.protocol_json(spec), "family_widths": widths, "records": records,
            "variance": variance, "power": power, "runs": len(records),
            "core_seconds_per_run": _per_run(timing, records)}
    _write("section4_pilot", data, args, timing, root)


def _budget(args) -> dict:
    """The training-budget options (``--epochs``, ``--train-images``, ``--test-images``); empty = the study's."""
    return {k: v for k, v in (("epochs", args.epochs), ("train_images", args.train_images),
                              ("test_images", args.test_images)) if v is not None}


def convergence(args, clock, root):
    spec = s4.spec("convergence_study", args.seeds, tiny=args.tiny, paper=args.paper, lrs=args.lrs,
                   data_root=args.data_root, **_budget(args))
    out = Path(args.out) / "connections"
    run_convergence(spec, out, resume=True, progress=False, jobs=args.jobs, n_boot=100)
    timing = _timing(clock, "convergence")
    _analyze_convergence(args, spec, out, timing, root)


def _analyze_convergence(args, spec, out, timing, root):
    records = s4.run_records(out, spec)
    protocol = s4.protocol_json(spec)
    if _budget(args):
        protocol["priority"] = "default priority (the follow-up of Chapter 3)"
    data = {"protocol": protocol, "records": records,
            "analysis": s4.analyze_convergence(records, n_boot=args.n_boot),
            "runs": len(records), "core_seconds_per_run": _per_run(timing, records)}
    _write("convergence_study" if args.results_name is None else args.results_name, data, args, timing, root)


def _per_run(timing, records):
    return round(timing["cpu_seconds"] / len(records), 1) if records else None


def landscape(args, clock, root):
    spec = s4.spec("convergence_study", args.seeds, tiny=args.tiny, paper=args.paper, lrs=(0.025,),
                   data_root=args.data_root, **_budget(args))
    out = Path(args.out) / "connections"
    seeds = 2 if args.tiny else s4.LANDSCAPE_SEEDS
    measurements = s4.measure_landscape_runs(out, spec, lr=0.025, seeds=seeds, jobs=args.jobs,
                                             samples=args.landscape_samples, device=args.device)
    timing = _timing(clock, "landscape")
    _analyze_landscape(args, spec, out, measurements, timing, root)


def _analyze_landscape(args, spec, out, measurements, timing, root):
    records = s4.landscape_records(measurements, s4.run_records(out, spec))
    protocol = {"samples": args.landscape_samples, "hessian_tol": s4.HESSIAN_TOL,
                "hessian_max_iter": s4.HESSIAN_MAX_ITER, "lr": 0.025, "weights": "final",
                "runs_of": args.runs_of}
    if _budget(args):
        protocol.update(epochs=s4.epochs_of(spec), train_subset=spec.overrides.get("train_subset"),
                        test_subset=spec.overrides.get("test_subset"))
    data = {"protocol": protocol,
            "records": records, "analysis": s4.analyze_landscape(records, n_boot=args.n_boot),
            "runs": len(records), "core_seconds_per_run": _per_run(timing, records)}
    _write("landscape_study" if args.results_name is None else args.results_name, data, args, timing, root)


def operations(args, clock, root):
    spec = s4.spec("operation_variants_study", args.seeds, tiny=args.tiny, paper=args.paper,
                   data_root=args.data_root)
    conn = s4.spec("convergence_study", args.seeds, tiny=args.tiny, paper=args.paper, lrs=(0.025,),
                   data_root=args.data_root)
    out = Path(args.out) / "operations"
    # DARTS itself is the same run in both studies (same protocol, same seeds): share it instead of retraining
    shared = []
    for seed in range(spec.seeds):
        src = run_dir(Path(args.out) / "connections", 0.025, "DARTS", seed)
        dst = run_dir(out, 0.025, "DARTS", seed)
        if RunFolder(src).record(s4.epochs_of(spec)).state == "finished" and not dst.exists():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("landscape.npz", "section4_landscape.json"))
        if dst.exists():
            shared.append(seed)
    run_convergence(spec, out, resume=True, progress=False, jobs=args.jobs, n_boot=100)
    timing = _timing(clock, "operations")
    _analyze_operations(args, spec, conn, out, timing, root, shared)


def _analyze_operations(args, spec, conn, out, timing, root, shared):
    records = s4.run_records(out, spec)
    conn_records = [r for r in s4.run_records(Path(args.out) / "connections", conn) if r["lr"] == 0.025]
    data = {"protocol": s4.protocol_json(spec), "darts_runs_shared_with_convergence_study": shared,
            "records": records, "analysis": s4.analyze_operations(records, conn_records or None, n_boot=args.n_boot),
            "runs": len(records), "core_seconds_per_run": _per_run(timing, [r for r in records
                                                                           if r["label"] != "DARTS"])}
    _write("operation_variants_study", data, args, timing, root)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--out", type=path_arg, default="runs/section4",
                        help="folder of the runs (default runs/section4)")
    parser.add_argument("--results", default=None, help="results root (default: the repository's results/)")
    parser.add_argument("--lrs", type=float, nargs="+", default=None, help="learning rates of this invocation")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes, one thread each (default 2)")
    parser.add_argument("--n-boot", type=int, default=s4.N_BOOT, help="bootstrap replicates")
    parser.add_argument("--tiny", action="store_true", help="the test scale: seconds, not minutes")
    parser.add_argument("--paper", action="store_true",
                        help="the paper's protocol on a GPU (CIFAR-10, 600 epochs, C=36, L=20, Table 2 family)")
    parser.add_argument("--data-root", default=None, help="dataset folder (with --paper: CIFAR-10)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per cell (default 5; 3 with --paper)")
    parser.add_argument("--landscape-samples", type=int, default=s4.LANDSCAPE_SAMPLES,
                        help="test images of the Section 4.2 measurements (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default: the study's 3; the follow-up of Chapter 3 changes it)")
    parser.add_argument("--train-images", type=int, default=None, help="training images (default: the study's)")
    parser.add_argument("--test-images", type=int, default=None, help="test images (default: the study's)")
    parser.add_argument("--results-name", type=results_name_arg, default=None,
                        help="results experiment this stage writes (default convergence_study / landscape_study)")
    parser.add_argument("--runs-of", default="convergence_study",
                        help="the convergence results the landscape stage's runs belong to (its protocol's runs_of)")
    parser.add_argument("--device", default="cpu", help="device of the Section 4.2 measurements (cpu | cuda)")
    args = parser.parse_args(argv)
    args.argv = argv
    root = Path(args.results) if args.results else None
    clock = s4.Clock(Path(args.out) / "timing.json")
    stage = {"pilot": pilot, "convergence": convergence, "landscape": landscape, "operations": operations,
             "analyze": analyze}[args.stage]
    try:
        stage(args, clock, root)
    except UserError as exc:  # a damaged or foreign file of the run folders: one line naming it
        print(f"section4_study.py: error: {exc}", file=sys.stderr)
        return 2


def analyze(args, clock, root):
    """Recompute every results file from the run folders (no training), keeping the recorded run times."""
    import json

    timing = json.loads((Path(args.out) / "timing.json").read_text())

    def t(key):
        return {k: round(v, 1) for k, v in timing[key].items()}

    # The Section 4.2 caches are checked before any results file is rewritten.
    measurements = []
    if "landscape" in timing:
        protocol = s4.landscape_protocol(args.landscape_samples)
        for path in sorted((Path(args.out) / "connections").glob(f"0.025/*/seed*/{s4.LANDSCAPE_CACHE}")):
            cached = s4.read_landscape_cache(path, protocol)
            if cached is None:  # damaged, or measured with another protocol: never analysed as if it were this one
                raise UserError(f"{path} was not measured with this protocol ({protocol}) or is damaged; "
                                "rerun the landscape stage")
            measurements.append(cached)

    conn = s4.spec("convergence_study", args.seeds, tiny=args.tiny, paper=args.paper, data_root=args.data_root)
    _analyze_convergence(args, conn, Path(args.out) / "connections", t("convergence"), root)
    if "operations" in timing:
        ops = s4.spec("operation_variants_study", args.seeds, tiny=args.tiny, paper=args.paper,
                      data_root=args.data_root)
        conn25 = s4.spec("convergence_study", args.seeds, tiny=args.tiny, paper=args.paper, lrs=(0.025,),
                         data_root=args.data_root)
        shared = [s for s in range(ops.seeds) if run_dir(Path(args.out) / "operations", 0.025, "DARTS", s).exists()]
        _analyze_operations(args, ops, conn25, Path(args.out) / "operations", t("operations"), root, shared)
    if "landscape" in timing:
        _analyze_landscape(args, conn25_spec(args), Path(args.out) / "connections", measurements, t("landscape"),
                           root)


def conn25_spec(args):
    return s4.spec("convergence_study", args.seeds, tiny=args.tiny, paper=args.paper, lrs=(0.025,),
                   data_root=args.data_root)


if __name__ == "__main__":
    sys.exit(main())
