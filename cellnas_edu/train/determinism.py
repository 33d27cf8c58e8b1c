"""What a run's numbers depend on besides its config: thread count, torch version, determinism flags.

torch's CPU kernels split float reductions across intra-op threads, so the
same run with 1 and with 2 threads differs in the last bits after the first
step and visibly after an epoch (training loss 2.33849 vs 2.33766 on a tiny
`cellnas train` run). A run that records numbers therefore uses a FIXED
thread count: [`DEFAULT_THREADS`][cellnas_edu.train.determinism.DEFAULT_THREADS]
unless `--threads`, written once into its `config.json` (or search/study
manifest) under `"numerics"` and reused on `--resume`; a resume under another
explicit count is refused with one line. Folders written before the field
existed are treated as unknown: they resume only with an explicit `--threads`."""

from __future__ import annotations

import torch

from ..errors import UserError

DEFAULT_THREADS = 1
"""Torch intra-op threads of a run that records numbers, unless `--threads` (not the machine's load)."""

NUMERICS_KEY = "numerics"


def numerics(device: str | torch.device = "auto", threads: int | None = None) -> dict:
    """The settings the numbers depend on, as recorded in config.json and manifests.

    `threads` defaults to torch's current count (call it inside the run's threads)."""
    device = torch.device(device if str(device) != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    record = {"threads": torch.get_num_threads() if threads is None else int(threads),
              "torch": torch.__version__, "device": device.type,
              "deterministic_algorithms": torch.are_deterministic_algorithms_enabled()}
    if device.type == "cuda":
        record.update(cudnn_deterministic=torch.backends.cudnn.deterministic,
                      cudnn_benchmark=torch.backends.cudnn.benchmark)
    return record


def resume_threads(recorded: dict | None, requested: int | None, where) -> int:
    """The thread count a resumed run must use: the recorded one; `requested` must match it when both are known.

    `recorded` is the folder's `"numerics"` block (`None` for a folder written before it existed: then
    `--threads` is required)."""
    known = recorded.get("threads") if isinstance(recorded, dict) else None
    if known is None:
        if requested is None:
            raise UserError(f"{where} does not record its thread count (written before it was recorded); "
                            f"resume with the --threads it was run with or start a new folder")
        return requested
    if requested is not None and requested != known:
        plural = "thread" if known == 1 else "threads"
        raise UserError(f"{where} was run with {known} {plural}; resume with --threads {known} or start a new folder")
    return int(known)
