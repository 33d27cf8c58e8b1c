"""Training throughput (images/s) of the 20-cell, C = 36 DARTS network (Appendix A.3): ours against a plain baseline.

*Ours* is the package's network (:func:`cellnas_edu.nets.model.build_network`)
trained by the package's own training step (``cellnas_edu.train.loop``: the
inner loop of :func:`cellnas_edu.train.train`). On CUDA that step runs the
network in channels-last memory format under bf16 autocast, compiled with
``torch.compile``; on the CPU it is the CPU fast path of
``cellnas_edu.train.cpu`` (fp32, channels-last, multi-tensor SGD and clipping).

The ``cpu-mini`` rows (:func:`measure_cpu_mini`, always on the CPU) compare
the package's CPU training step on the ``cpu-mini`` network (DARTS cell,
C = 8, 5 cells, 1x28x28, batch 64) with plain eager fp32 on the same network,
and each choice of the fast path alone, in interleaved rounds.

*Plain* is ``reference_darts.py``: an independent, straightforward eager fp32
DARTS ``NetworkCIFAR`` written like the original DARTS code, trained by the
DARTS ``train.py`` step (zero_grad, forward, cross-entropy, backward, clip
at 5, SGD step, ``loss.item()`` for the log). Both have the same parameter
count (asserted), both clip gradients at 5, both use SGD with momentum 0.9 and
weight decay 3e-4, batch 80 on a GPU (Appendix A.3), CIFAR-sized 3x32x32
inputs (random, fixed seed: throughput does not depend on pixel values) and
``cudnn.benchmark`` on.

Protocol: both networks warm up first (this includes compilation), then
``repeats`` rounds time *ours* and *plain* one after the other, in the order
ours-plain, plain-ours, ... (so a slow moment of a shared machine hits both
and neither always goes first), each timing ``steps`` optimisation steps
between device synchronisations. The reported figure is the median over
rounds of ``batch * steps / seconds``.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

#: (layers, C, batch, warm-up steps, timed steps, repeats) per setting.
SIZES = {
    ("cuda", "full"): (20, 36, 80, 15, 30, 6),
    ("cuda", "quick"): (20, 36, 80, 8, 10, 4),
    ("cpu", "full"): (20, 36, 16, 1, 2, 4),
    ("cpu", "quick"): (20, 36, 8, 1, 1, 4),
    ("any", "tiny"): (3, 4, 4, 1, 1, 1),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _NoBar:
    """Stands in for the trainer's tqdm bar (only ``update`` is called)."""

    def update(self, n):
        pass


def build_pair(layers: int, C: int, device: torch.device, seed: int = 0):
    """The package's DARTS network and the reference one, same size, on ``device``; parameter counts equal."""
    from reference_darts import NetworkCIFAR

    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.nets.model import build_network, count_parameters

    genotype = get_genotype("DARTS")
    torch.manual_seed(seed)
    ours = build_network(genotype, num_classes=10, C=C, layers=layers, auxiliary=False)
    d = genotype.to_dict()
    torch.manual_seed(seed)
    plain = NetworkCIFAR(C, 10, layers, False, [tuple(p) for p in d["normal"]], d["normal_concat"],
                         [tuple(p) for p in d["reduce"]], d["reduce_concat"])
    n_ours = count_parameters(ours)
    n_plain = sum(p.numel() for p in plain.parameters())
    assert n_ours == n_plain, f"parameter counts differ: ours {n_ours}, plain {n_plain}"
    return ours.to(device), plain.to(device), n_ours


def make_ours_step(net: nn.Module, device: torch.device, batch: int):
    """A function ``run(batches)`` doing the package's training step over ``batches`` (list of ``(x, y)``)."""
    from cellnas_edu.train import cpu, make_config
    from cellnas_edu.train.loop import _train_one_epoch, _WithAuxiliary, build_optimizer

    cuda = device.type == "cuda"
    config = make_config("convergence", arch="DARTS", dataset="cifar10", batch_size=batch, grad_clip=5.0,
                         device=device.type, channels_last=True, amp=True, compile=cuda)
    channels_last = cpu.channels_last_for(device, config.channels_last)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    step_model = _WithAuxiliary(net)
    if config.compile:
        step_model = torch.compile(step_model)
    optimizer, _ = build_optimizer(net.parameters(), config, device)

    def run(batches):
        return _train_one_epoch(step_model, net, batches, optimizer, config, device, channels_last, _NoBar(), 1)

    return run, config


def make_plain_step(net: nn.Module):
    from reference_darts import plain_train_step

    optimizer = torch.optim.SGD(net.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
    criterion = nn.CrossEntropyLoss()

    def run(batches):
        net.train()
        for x, y in batches:
            loss = plain_train_step(net, optimizer, x, y, criterion, grad_clip=5.0)
            loss.item()  # DARTS logs every step's loss (a host sync on a GPU)

    return run


def _timed(run, batches, device) -> float:
    _sync(device)
    started = time.perf_counter()
    run(batches)
    _sync(device)
    return time.perf_counter() - started


def measure(layers: int, C: int, batch: int, warmup: int, steps: int, repeats: int, device: str = "cpu") -> dict:
    """Images/s of both implementations under the protocol of the module docstring."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    ours_net, plain_net, params = build_pair(layers, C, device)
    ours, config = make_ours_step(ours_net, device, batch)
    plain = make_plain_step(plain_net)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, generator=generator).to(device)
    y = torch.randint(0, 10, (batch,), generator=generator).to(device)
    # each implementation gets the batch already on the device, in the memory format it computes in
    x_ours = x.contiguous(memory_format=torch.channels_last) if config.channels_last else x
    ours_batches, plain_batches = [(x_ours, y)] * steps, [(x, y)] * steps

    for run, one in ((ours, [(x_ours, y)]), (plain, [(x, y)])):
        for _ in range(warmup):
            run(one)
    _sync(device)
    ours_rates, plain_rates = [], []
    for round_ in range(repeats):
        order = ("ours", "plain") if round_ % 2 == 0 else ("plain", "ours")  # ABBA: no first-mover bias
        for name in order:
            if name == "ours":
                ours_rates.append(batch * steps / _timed(ours, ours_batches, device))
            else:
                plain_rates.append(batch * steps / _timed(plain, plain_batches, device))
    ours_median, plain_median = statistics.median(ours_rates), statistics.median(plain_rates)
    cuda = device.type == "cuda"
    return {
        "network": f"DARTS, {layers} cells, C={C}",
        "parameters": params,
        "batch": batch,
        "steps": steps,
        "repeats": repeats,
        "warmup": warmup,
        "ours_features": ("channels_last + bf16 autocast + torch.compile" if cuda
                          else "CPU fast path: fp32, channels_last, foreach SGD + clipping"),
        "ours_img_s": ours_median,
        "plain_img_s": plain_median,
        "speedup": ours_median / plain_median,
        "ours_img_s_all": ours_rates,
        "plain_img_s_all": plain_rates,
        "threads": torch.get_num_threads(),
        "device_name": torch.cuda.get_device_name(device) if cuda else "cpu",
    }


# ---------------------------------------------------------------------------------------------------------------
# cpu-mini: the CPU fast path against plain eager fp32 on the same network

#: (C, layers, batch, warm-up steps, timed steps, repeats) of the cpu-mini rows.
CPU_MINI_SIZES = {"full": (8, 5, 64, 2, 4, 9), "quick": (8, 5, 64, 1, 3, 5), "tiny": (4, 3, 8, 1, 1, 1)}


def _cpu_mini_net(C: int, layers: int, channels_last: bool, seed: int = 0) -> nn.Module:
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.nets.model import network_for_dataset

    torch.manual_seed(seed)
    net = network_for_dataset(get_genotype("DARTS"), "fashion-mnist", C=C, layers=layers, auxiliary=False)
    return net.to(memory_format=torch.channels_last) if channels_last else net


def _cpu_mini_config(batch: int):
    from cellnas_edu.train import make_config

    return make_config("cpu-mini", arch="DARTS", dataset="fashion-mnist", batch_size=batch, device="cpu")


def make_cpu_mini_ours(C: int, layers: int, batch: int, compile: bool = False):
    """The package's CPU training step on cpu-mini, built as ``cellnas_edu.train.loop._Run.build`` builds it."""
    from cellnas_edu.train import cpu
    from cellnas_edu.train.loop import _train_one_epoch, _WithAuxiliary, build_optimizer

    device = torch.device("cpu")
    config = _cpu_mini_config(batch)
    channels_last = cpu.channels_last_for(device, config.channels_last)
    net = _cpu_mini_net(C, layers, channels_last)
    optimizer, _ = build_optimizer(net.parameters(), config, device)
    step_model = _WithAuxiliary(net)
    if compile:
        step_model = torch.compile(step_model)

    def run(batches):
        return _train_one_epoch(step_model, net, batches, optimizer, config, device, channels_last, _NoBar(), 1)

    return run


def make_cpu_mini_variant(C: int, layers: int, *, channels_last: bool = False, foreach: bool = False):
    """Plain eager fp32 (both off) or one choice of the fast path alone: the same step written out (zero_grad,
    forward, cross-entropy, backward, clip at 5, SGD with the cpu-mini preset's momentum and weight decay)."""
    config = _cpu_mini_config(64)
    net = _cpu_mini_net(C, layers, channels_last)
    optimizer = torch.optim.SGD(net.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay, foreach=foreach or None)
    parameters = list(net.parameters())

    def run(batches):
        net.train()
        for x, y in batches:
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(parameters, config.grad_clip, foreach=foreach or None)
            optimizer.step()

    return run


def make_cpu_mini_eval(C: int, layers: int, channels_last: bool):
    """Evaluation (``cellnas_edu.train.loop.evaluation_sums``) of cpu-mini, NCHW or channels-last."""
    from cellnas_edu.train.loop import evaluation_sums

    net = _cpu_mini_net(C, layers, channels_last)

    def run(batches):
        evaluation_sums(net, batches, "cpu", channels_last=channels_last).tolist()

    return run


def _interleaved(contenders: dict, batches, warmup: int, repeats: int, threads: dict | None = None,
                 cpu_times: dict | None = None) -> dict:
    """``{name: [wall seconds per round]}``, each round timing every contender once, the order reversed every other
    round; ``threads`` optionally sets torch's thread count per contender while it runs; ``cpu_times`` (a dict)
    receives the process CPU seconds of the same rounds (with one thread, what a busy machine disturbs least)."""
    threads = threads or {}
    before = torch.get_num_threads()
    try:
        for name, run in contenders.items():
            torch.set_num_threads(threads.get(name, before))
            for _ in range(warmup):
                run(batches[:1])
        times = {name: [] for name in contenders}
        cpu_times = {} if cpu_times is None else cpu_times
        cpu_times.update({name: [] for name in contenders})
        names = list(contenders)
        for round_ in range(repeats):
            for name in names if round_ % 2 == 0 else names[::-1]:
                torch.set_num_threads(threads.get(name, before))
                started, cpu_started = time.perf_counter(), time.process_time()
                contenders[name](batches)
                times[name].append(time.perf_counter() - started)
                cpu_times[name].append(time.process_time() - cpu_started)
    finally:
        torch.set_num_threads(before)
    return times


def _load_average() -> float | None:
    try:
        import os

        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def measure_cpu_mini(size: str = "quick", compile: bool = False) -> dict:
    """The ``cpu-mini`` rows: ours (the package's CPU step) against plain eager fp32, each choice alone, the
    evaluation pass, the thread default, and optionally ``torch.compile`` (with its warm-up time)."""
    from cellnas_edu.train.cpu import choose_threads, usable_cores

    C, layers, batch, warmup, steps, repeats = CPU_MINI_SIZES[size]
    name = "cpu-mini" if size != "tiny" else f"cpu-mini (tiny: C={C}, {layers} cells)"
    generator = torch.Generator().manual_seed(0)
    batches = [(torch.randn(batch, 1, 28, 28, generator=generator), torch.randint(0, 10, (batch,), generator=generator))
               for _ in range(steps)]
    load_before = _load_average()
    threads = torch.get_num_threads()
    train_cpu, evaluation_cpu = {}, {}
    train = _interleaved({
        "plain": make_cpu_mini_variant(C, layers),
        "ours": make_cpu_mini_ours(C, layers, batch),
        "channels_last": make_cpu_mini_variant(C, layers, channels_last=True),
        "foreach": make_cpu_mini_variant(C, layers, foreach=True),
    }, batches, warmup, repeats, cpu_times=train_cpu)
    evaluation = _interleaved({"plain": make_cpu_mini_eval(C, layers, False),
                               "ours": make_cpu_mini_eval(C, layers, True)}, batches, warmup, repeats,
                              cpu_times=evaluation_cpu)

    def rate(times):
        return batch * steps / statistics.median(times)

    def ratio(a, b):  # median over rounds of the per-round speed ratio b_time / a_time
        return statistics.median(tb / ta for ta, tb in zip(a, b))

    base = f"{name}: DARTS cell, C={C}, {layers} cells, 1x28x28"
    rows = [
        {"network": name, "what": "train step: ours (package, CPU fast path) vs plain eager fp32",
         "batch": batch, "steps": steps, "repeats": repeats, "threads": threads,
         "ours_img_s": rate(train["ours"]), "plain_img_s": rate(train["plain"]),
         "speedup": ratio(train["ours"], train["plain"]),
         "speedup_cpu_time": ratio(train_cpu["ours"], train_cpu["plain"])},
        {"network": name, "what": "train step: channels-last only vs plain", "batch": batch, "steps": steps,
         "repeats": repeats, "threads": threads, "ours_img_s": rate(train["channels_last"]),
         "plain_img_s": rate(train["plain"]), "speedup": ratio(train["channels_last"], train["plain"]),
         "speedup_cpu_time": ratio(train_cpu["channels_last"], train_cpu["plain"])},
        {"network": name, "what": "train step: foreach SGD + clipping only vs plain", "batch": batch, "steps": steps,
         "repeats": repeats, "threads": threads, "ours_img_s": rate(train["foreach"]),
         "plain_img_s": rate(train["plain"]), "speedup": ratio(train["foreach"], train["plain"]),
         "speedup_cpu_time": ratio(train_cpu["foreach"], train_cpu["plain"])},
        {"network": name, "what": "evaluation: channels-last vs NCHW (no grad)", "batch": batch, "steps": steps,
         "repeats": repeats, "threads": threads, "ours_img_s": rate(evaluation["ours"]),
         "plain_img_s": rate(evaluation["plain"]), "speedup": ratio(evaluation["ours"], evaluation["plain"]),
         "speedup_cpu_time": ratio(evaluation_cpu["ours"], evaluation_cpu["plain"])},
    ]
    cores = usable_cores()
    if cores > 1 and size != "tiny":
        chosen = choose_threads(1)
        by_threads = _interleaved({"one": make_cpu_mini_ours(C, layers, batch),
                                   "all": make_cpu_mini_ours(C, layers, batch)}, batches, warmup, repeats,
                                  threads={"one": 1, "all": cores})
        rows.append({"network": name, "what": f"train step (ours): {cores} threads vs 1 "
                                               f"(choose_threads picked {chosen} at this load)",
                     "batch": batch, "steps": steps, "repeats": repeats, "threads": cores,
                     "ours_img_s": rate(by_threads["all"]), "plain_img_s": rate(by_threads["one"]),
                     "speedup": ratio(by_threads["all"], by_threads["one"])})
    compile_info = None
    if compile:
        compiled = make_cpu_mini_ours(C, layers, batch, compile=True)
        started = time.perf_counter()
        compiled(batches[:1])
        compiled(batches[:1])
        warm = time.perf_counter() - started
        timed = _interleaved({"compiled": compiled, "ours": make_cpu_mini_ours(C, layers, batch)}, batches, warmup,
                             repeats)
        compile_info = {"warmup_seconds": round(warm, 1)}
        rows.append({"network": name, "what": f"train step: ours + torch.compile vs ours (warm-up {warm:.0f} s)",
                     "batch": batch, "steps": steps, "repeats": repeats, "threads": threads,
                     "ours_img_s": rate(timed["compiled"]), "plain_img_s": rate(timed["ours"]),
                     "speedup": ratio(timed["compiled"], timed["ours"])})
    return {"network": base, "rows": rows, "load_average": {"before": load_before, "after": _load_average()},
            "compile": compile_info, "seconds_all": {"train": train, "evaluation": evaluation},
            "cpu_seconds_all": {"train": train_cpu, "evaluation": evaluation_cpu}}


def run(quick: bool, device: str, tiny: bool = False, cpu_compile: bool = False, cpu_mini_only: bool = False) -> dict:
    """Harness entry point (``benchmarks/run.py``): the DARTS row on ``device`` (unless ``cpu_mini_only``), then
    the ``cpu-mini`` rows, always on the CPU (``cpu_compile``: also ``torch.compile``, minutes of warm-up)."""
    kind = "cuda" if torch.device(device).type == "cuda" else "cpu"
    key = ("any", "tiny") if tiny else (kind, "quick" if quick else "full")
    mini = measure_cpu_mini("tiny" if tiny else "quick" if quick else "full", compile=cpu_compile)
    if cpu_mini_only:
        headline = mini["rows"][0]
        return {"network": headline["network"], "speedup": headline["speedup"], "rows": mini["rows"],
                "cpu_mini": mini, "notes": _cpu_mini_notes(mini)}
    result = measure(*SIZES[key], device=device)
    goal = ">= 2x faster (bf16, channels_last, compile)" if kind == "cuda" else "no slower (>= ~1x)"
    row = {k: result[k] for k in ("network", "batch", "steps", "repeats", "ours_img_s", "plain_img_s", "speedup")}
    return {
        **result,
        "rows": [row, *mini["rows"]],
        "cpu_mini": mini,
        "notes": _cpu_mini_notes(mini) + [
            f"ours: the package's Network + training step ({result['ours_features']}); "
            "plain: benchmarks/reference_darts.py, eager fp32",
            f"equal parameter counts: {result['parameters']:,}; median of {result['repeats']} alternating rounds; "
            f"goal on {kind}: {goal}",
        ],
    }


def _cpu_mini_notes(mini: dict) -> list[str]:
    load = mini["load_average"]
    return [f"{mini['network']}: every cpu-mini row is on the CPU, contenders interleaved per round, speedup = median "
            f"over rounds of the per-round time ratio; 1-min load average {load['before']} before, {load['after']} "
            "after; goal: ours >= 1.25x plain on one thread"]


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv, device="cuda" if torch.cuda.is_available() else "cpu"),
                     indent=2))
