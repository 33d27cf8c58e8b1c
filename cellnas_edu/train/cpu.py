"""The CPU fast path: which speed-ups the trainer uses on the CPU, and why.

Every choice here was measured, not assumed (`benchmarks/bench_train.py`,
`cpu-mini` rows; ratios in `benchmarks/README.md` and
`results/bench_cpu/summary.json`): the package's training step on the
`cpu-mini` network (DARTS cell, C = 8, 5 cells, 1x28x28, batch 64), one
thread, interleaved rounds against plain eager fp32.

* **channels-last memory format** (`TrainConfig.channels_last`, on in every
  preset): the network's weights and the input batches are kept NHWC, which
  oneDNN's convolutions prefer. Same arithmetic up to float reassociation.
  Used on the CPU as on CUDA.
* **multi-tensor (`foreach`) SGD and gradient clipping**: one kernel per
  step over all ~200 small parameter tensors instead of a Python loop (the
  default on CUDA already; torch leaves it off on the CPU).
* **threads**: a run that records numbers uses a fixed count (1 unless
  `--threads`), recorded in its config.json and reused on `--resume`
  ([`cellnas_edu.train.determinism`][cellnas_edu.train.determinism]): float
  reductions split over another count give other numbers.
  [`choose_threads`][cellnas_edu.train.cpu.choose_threads] (the idle cores)
  is used only by the tour, which records the count it chose.
* **freed memory stays in the process** ([`keep_freed_memory`][cellnas_edu.train.cpu.keep_freed_memory]):
  with trimming off and a fixed 32 MB mmap threshold, the activations of the
  next step reuse pages that are already mapped instead of being faulted in
  again. What it buys is not settled. While the Chapter 8 searches shared
  the machine with other jobs, a supernet step with glibc's defaults spent
  about half its time in the kernel, faulting pages in, and with the setting
  almost none (one uncontrolled A/B measurement, not kept). The controlled
  benchmark on a quiet machine, one and two processes at a time
  (`benchmarks/malloc_reuse.py`, `results/bench_malloc`), shows several
  times fewer page faults and no difference in time. It costs nothing
  measurable, so the trainer and the search use it on the CPU.
* `torch.compile` stays an option (`TrainConfig.compile`): it helps a
  little on the CPU only after a warm-up of minutes (see the README).
* bf16 autocast is **not** used on the CPU (most laptop CPUs have no fast bf16
  and the results would differ from the paper's fp32).

The CUDA path is not changed by anything in this module."""

from __future__ import annotations

import os
from contextlib import contextmanager

import torch

CPU_FOREACH = True
"""Multi-tensor SGD / clipping on the CPU (measured faster on `cpu-mini`; see the module docstring)."""


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit systems
_kept = False


def keep_freed_memory() -> bool:
    """Keep memory freed by torch inside the process instead of returning it to the kernel (glibc only).

    `mallopt(M_TRIM_THRESHOLD, -1)` disables trimming of the heap and
    `mallopt(M_MMAP_THRESHOLD, 32 MiB)` serves every block below 32 MiB from
    the heap, so the activations of the next step reuse pages that are already
    mapped. The process keeps its peak memory until it exits, which is what a
    training process wants. Returns whether the settings were applied (`False`
    on other C libraries, where nothing is changed). Idempotent."""
    global _kept
    if _kept:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_TRIM_THRESHOLD, -1) == 1 and libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) == 1
    except (OSError, AttributeError):
        return False
    _kept = ok
    return ok


def channels_last_for(device: torch.device, requested: bool) -> bool:
    """Whether the network and its inputs run in channels-last format on `device` (CPU and CUDA alike)."""
    return bool(requested) and torch.device(device).type in ("cpu", "cuda")


def foreach_for(device: torch.device) -> bool | None:
    """`foreach` for SGD and `clip_grad_norm_`: `True` on the CPU, `None` (torch's default) elsewhere."""
    return True if torch.device(device).type == "cpu" and CPU_FOREACH else None


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one, else `os.cpu_count()`)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def choose_threads(jobs: int = 1, *, cores: int | None = None, load: float | None = None) -> int:
    """Torch intra-op threads for one of `jobs` runs sharing this machine.

    `jobs > 1`: one thread per process (several processes already fill the
    cores; two threads each spin and wait). One run: the cores that are idle,
    `cores - round(load)` (1-minute load average), at least 1, so a single
    run on an idle laptop uses all its cores and one on a busy machine does not
    fight the others for them."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    cores = usable_cores() if cores is None else cores
    if jobs > 1:
        return 1
    load = _load_average() if load is None else load
    return max(1, min(cores, cores - int(round(load))))


@contextmanager
def torch_threads(threads: int):
    """`torch.set_num_threads(threads)` inside, the previous count restored on exit."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------------------------------------------------------
# memory available (for the per-sample gradient chunk of the gradient-variance pass)

def _meminfo_available(path: str = "/proc/meminfo") -> int | None:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available(root: str = "/sys/fs/cgroup") -> int | None:
    """`memory.max - memory.current` of a cgroup-v2 limit (or v1's `limit - usage`); `None` if unlimited."""
    for limit_name, usage_name in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            with open(os.path.join(root, limit_name)) as handle:
                limit = handle.read().strip()
            if limit == "max" or int(limit) >= 1 << 60:
                continue
            with open(os.path.join(root, usage_name)) as handle:
                usage = int(handle.read().strip())
            return max(0, int(limit) - usage)
        except (OSError, ValueError):
            continue
    return None


FALLBACK_AVAILABLE_BYTES = 2 * 1024 ** 3
"""Assumed when nothing can be read (a small laptop's free memory)."""


def available_memory() -> tuple[int, str]:
    """`(bytes, source)`: the smaller of `/proc/meminfo` MemAvailable and the cgroup's remaining limit,
    or [`FALLBACK_AVAILABLE_BYTES`][cellnas_edu.train.cpu.FALLBACK_AVAILABLE_BYTES] when neither can be read."""
    found = [(v, s) for v, s in ((_meminfo_available(), "MemAvailable"), (_cgroup_available(), "cgroup"))
             if v is not None]
    if not found:
        return FALLBACK_AVAILABLE_BYTES, "fallback"
    return min(found)


def available_device_memory(device: torch.device) -> tuple[int, str]:
    """Free memory where the tensors live: `torch.cuda.mem_get_info` on CUDA,
    [`available_memory`][cellnas_edu.train.cpu.available_memory] else."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free), "cuda free"
    return available_memory()


def per_sample_gradient_bytes(model: torch.nn.Module, example: torch.Tensor, num_parameters: int) -> int:
    """Estimated memory of one sample in a `vmap` per-sample-gradient call.

    Three `P`-float copies (the gradient, its deviation in the accumulator,
    the backward's intermediates) plus twice the float32 outputs of every leaf
    module on one sample (activations kept for the backward, and their
    gradients), counted with forward hooks on a one-sample forward pass.
    At the paper's network (C = 36, 20 cells, 32x32, 3,349,342 parameters)
    this gives 220 MB per sample, above the ~185 MB growth measured (on the
    safe side): 16 samples with 8 GB free, 9 with 4 GB, 4 with 2 GB."""
    elements = [0]

    def count(_module, _inputs, output):
        for t in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(t, torch.Tensor):
                elements[0] += t[0].numel() if t.dim() > 0 else 1

    hooks = [m.register_forward_hook(count) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(example[:1])
    finally:
        for hook in hooks:
            hook.remove()
    return 4 * (3 * int(num_parameters) + 2 * elements[0])


CHUNK_MEMORY_FRACTION = 0.5
"""The share of the available memory the per-sample gradients may take."""
MAX_AUTO_CHUNK = 16
"""Largest chunk chosen automatically (the previous fixed default; `--chunk` sets larger ones by hand)."""


def choose_chunk(bytes_per_sample: int, available_bytes: int, *, fraction: float = CHUNK_MEMORY_FRACTION,
                 maximum: int = MAX_AUTO_CHUNK) -> int:
    """Samples per `vmap` call: as many as fit in `fraction` of `available_bytes`, between 1 and `maximum`."""
    if bytes_per_sample <= 0:
        raise ValueError(f"bytes_per_sample must be positive, got {bytes_per_sample}")
    return int(max(1, min(maximum, (fraction * max(0, available_bytes)) // bytes_per_sample)))


def auto_chunk(model: torch.nn.Module, example: torch.Tensor, num_parameters: int, device,
               available: tuple[int, str] | None = None) -> tuple[int, dict]:
    """The per-sample-gradient chunk from the memory available on `device` (or `available` =
    `(bytes, source)`, injected by tests), and what it was chosen from (for the landscape file's info)."""
    per_sample = per_sample_gradient_bytes(model, example, num_parameters)
    free, source = available_device_memory(device) if available is None else available
    chunk = choose_chunk(per_sample, free)
    info = {"chunk": chunk, "chunk_rule": (f"auto: min({MAX_AUTO_CHUNK}, {CHUNK_MEMORY_FRACTION:g} x available / "
                                           "bytes per sample), at least 1"),
            "chunk_bytes_per_sample": per_sample, "chunk_available_bytes": free, "chunk_memory_source": source}
    return chunk, info


__all__ = ["auto_chunk", "available_device_memory", "available_memory", "channels_last_for", "choose_chunk",
           "choose_threads", "foreach_for", "per_sample_gradient_bytes", "torch_threads", "usable_cores"]
