"""What DARTS finds over search seeds, against the connection space (Chapter 8; protocol: docs/search.md).

Runs `cellnas search darts` at the CPU size for every seed (two searches at a time, one thread each;
each search resumable in runs/darts_search/seed<S>), then compares the found normal cells' widths and depths
with Chapter 2's connection space and with the cells DARTS can derive (exact p-values,
`cellnas_edu.search.against_space`) and writes results/darts_search/summary.json:

    python examples/darts_search_seeds.py                 # 6 seeds, about half an hour on 2 cores
    python examples/darts_search_seeds.py --seeds 3       # fewer
    python examples/darts_search_seeds.py --tiny          # test scale (seconds)

`--paper` runs DARTS' CIFAR-10 search instead (on CUDA; `--data-root` holds cifar-10-batches-py), one
search at a time.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cellnas_edu.search import against_space
from cellnas_edu.search.darts import make_search_config, run_search

TINY = dict(dataset="synthetic", search_images=96, batch_size=16, init_channels=4, layers=3, epochs=2)
"""The test scale: a few seconds a search."""


def _one_search(config_dict: dict, out: str, threads: int | None) -> dict:
    """One search in a worker process (one torch thread: two searches share two cores better than one)."""
    from contextlib import nullcontext

    from cellnas_edu.search.darts import SearchConfig
    from cellnas_edu.train.cpu import torch_threads

    with torch_threads(threads) if threads else nullcontext():
        return run_search(SearchConfig(**config_dict), out, resume=True, progress=False)


def search_configs(args) -> list:
    overrides = dict(TINY) if args.tiny else {}
    if args.data_root:
        overrides["data_root"] = args.data_root
    preset = "paper" if args.paper else "cpu"
    return [make_search_config(preset, seed=seed, **overrides) for seed in range(args.seeds)]


def record(result: dict) -> dict:
    """The per-seed record kept in the results file (enough to recompute every statistic)."""
    return {"seed": result["config"]["seed"], "genotype": result["genotype"], "normal": result["normal"],
            "reduce": result["reduce"], "valid_loss": result["valid_loss"], "valid_acc": result["valid_acc"],
            "seconds": result["seconds"], "steps": result["steps"], "widths_by_epoch": result["widths_by_epoch"],
            "depths_by_epoch": result["depths_by_epoch"], "space": result["space"]}


def analyze(records: list[dict]) -> dict:
    """The pre-registered comparison (normal cells; reduction cells descriptively)."""
    from cellnas_edu.cells.genotypes import genotype_from_dict
    from cellnas_edu.stats import sign_test

    genotypes = [genotype_from_dict(r["genotype"]) for r in records]
    normal = against_space.compare_with_space([g.normal for g in genotypes])
    reduce = against_space.compare_with_space([g.reduce for g in genotypes])
    widened = [r["widths_by_epoch"][-1] - r["widths_by_epoch"][0] for r in records]
    found = [{"seed": r["seed"], "width": r["normal"]["width"], "depth": r["normal"]["depth"],
              "reduce_width": r["reduce"]["width"], "reduce_depth": r["reduce"]["depth"],
              "at_least_as_wide": r["space"]["connection_space"]["at_least_as_wide"],
              "at_most_as_deep": r["space"]["connection_space"]["at_most_as_deep"],
              "derivable_at_least_as_wide": r["space"]["derivable"]["at_least_as_wide"],
              "valid_acc": r["valid_acc"], "minutes": r["seconds"] / 60} for r in records]
    return {
        "found": found,
        "search_minutes_total": sum(row["minutes"] for row in found),
        "valid_acc_min": min(row["valid_acc"] for row in found),
        "valid_acc_max": max(row["valid_acc"] for row in found),
        "median_search_minutes": statistics.median(row["minutes"] for row in found),
        "normal": normal,
        "reduce": reduce,
        "width_change_from_initialisation": {"values": widened,
                                              "sign_test": sign_test(widened, "greater").to_json()},
        "distinct_normal_cells": len({tuple(g.normal.edges) for g in genotypes}),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="search seeds 0..N-1 (default 6)")
    parser.add_argument("--jobs", type=int, default=2, help="searches at a time (default 2)")
    parser.add_argument("--tiny", action="store_true", help="test scale")
    parser.add_argument("--paper", action="store_true", help="DARTS' CIFAR-10 search (CUDA)")
    parser.add_argument("--data-root")
    parser.add_argument("--out", default="runs/darts_search", help="run folders (default runs/darts_search)")
    parser.add_argument("--results", help="results root (default: the repository's results/)")
    parser.add_argument("--results-name", default="darts_search")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs must be at least 1")
    from tqdm import tqdm

    from cellnas_edu.results import write_summary

    began = time.perf_counter()
    configs = search_configs(args)
    folders = [str(Path(args.out) / f"seed{c.seed}") for c in configs]
    jobs = 1 if args.paper else min(args.jobs, len(configs))
    results = []
    with tqdm(total=len(configs), desc="DARTS searches", unit="search", file=sys.stderr) as bar:
        if jobs == 1:
            for config, folder in zip(configs, folders):
                results.append(_one_search(config.to_dict(), folder, None if args.paper else 2))
                bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(_one_search, c.to_dict(), f, 1) for c, f in zip(configs, folders)]
                for future in futures:
                    results.append(future.result())
                    bar.update(1)
    records = [record(r) for r in results]
    protocol = {k: v for k, v in configs[0].protocol().items() if k != "seed"}
    protocol.update(seeds=len(configs), jobs=jobs, threads_per_search=1 if jobs > 1 else None)
    data = {"protocol": protocol, "records": records, "analysis": analyze(records)}
    command = "python examples/darts_search_seeds.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    path = write_summary(args.results_name, data, command=command.strip(), seconds=time.perf_counter() - began,
                         root=Path(args.results) if args.results else None)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
