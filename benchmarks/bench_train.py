"""Training throughput (images/s) of the 20-cell, C = 36 DARTS network (Appendix A.3): ours against a plain baseline.

*Ours* is the package's network (:func:`cellnas_edu.nets.model.build_network`)
trained by the package's own training step (``cellnas_edu.train.loop``: the
inner loop of :func:`cellnas_edu.train.train`). On CUDA that step runs the
network in channels-last memory format under bf16 autocast, compiled with
``torch.compile``; on the CPU it is plain eager fp32.

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
    from cellnas_edu.train import make_config
    from cellnas_edu.train.loop import _train_one_epoch, _WithAuxiliary

    cuda = device.type == "cuda"
    config = make_config("convergence", arch="DARTS", dataset="cifar10", batch_size=batch, grad_clip=5.0,
                         device=device.type, channels_last=True, amp=True, compile=cuda)
    channels_last = cuda and config.channels_last
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    step_model = _WithAuxiliary(net)
    if config.compile:
        step_model = torch.compile(step_model)
    optimizer = torch.optim.SGD(net.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)

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
    x_ours = x.contiguous(memory_format=torch.channels_last) if config.channels_last and device.type == "cuda" else x
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
        "ours_features": "channels_last + bf16 autocast + torch.compile" if cuda else "eager fp32",
        "ours_img_s": ours_median,
        "plain_img_s": plain_median,
        "speedup": ours_median / plain_median,
        "ours_img_s_all": ours_rates,
        "plain_img_s_all": plain_rates,
        "threads": torch.get_num_threads(),
        "device_name": torch.cuda.get_device_name(device) if cuda else "cpu",
    }


def run(quick: bool, device: str, tiny: bool = False) -> dict:
    """Harness entry point (``benchmarks/run.py``)."""
    kind = "cuda" if torch.device(device).type == "cuda" else "cpu"
    key = ("any", "tiny") if tiny else (kind, "quick" if quick else "full")
    result = measure(*SIZES[key], device=device)
    goal = ">= 2x faster (bf16, channels_last, compile)" if kind == "cuda" else "no slower (>= ~1x)"
    row = {k: result[k] for k in ("network", "batch", "steps", "repeats", "ours_img_s", "plain_img_s", "speedup")}
    return {
        **result,
        "rows": [row],
        "notes": [
            f"ours: the package's Network + training step ({result['ours_features']}); "
            "plain: benchmarks/reference_darts.py, eager fp32",
            f"equal parameter counts: {result['parameters']:,}; median of {result['repeats']} alternating rounds; "
            f"goal on {kind}: {goal}",
        ],
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv, device="cuda" if torch.cuda.is_available() else "cpu"),
                     indent=2))
