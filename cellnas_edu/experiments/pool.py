"""The worker pool of [`run_all`][cellnas_edu.experiments.runner.run_all] (`jobs > 1`).

Independent runs fill a multi-core machine better than intra-op threads do
for small networks; each worker is a spawned process with its own torch
thread count. Results do not depend on the number of workers."""

from __future__ import annotations

from pathlib import Path


def _train_in_worker(config_dict: dict, folder: str, threads: int) -> str:
    """One run in a worker process: its own torch thread count, no progress bar."""
    import torch

    from ..train import TrainConfig, train

    torch.set_num_threads(threads)
    train(TrainConfig.from_dict(config_dict), folder, resume=True, progress=False)
    return folder


def run_in_parallel(runs, jobs: int, threads_per_job: int, bar, after_run) -> None:
    """Train `runs` (`(key, TrainConfig, folder)`) `jobs` at a time in spawned workers.

    `after_run(key)` is called in this process after each run; a worker's error is re-raised here."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")  # no fork of a process that holds torch threads
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        key_of = {}
        try:
            for key, config, folder in runs:
                future = pool.submit(_train_in_worker, config.to_dict(), str(folder), threads_per_job)
                key_of[future] = key
            pending = set(key_of)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    finished = Path(future.result())  # re-raises a worker's error here
                    bar.set_postfix_str(f"{finished.parent.name} {finished.name} done")
                    after_run(key_of[future])
                    bar.update(1)
        except BaseException:
            for future in key_of:
                future.cancel()
            raise
