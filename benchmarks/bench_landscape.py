"""Cost of the Section 4.2 measurements on the 20-cell, C = 36 DARTS network, against plain baselines.

Three questions, each answered by timing side by side in one process, the
two contenders interleaved in every round (a slow moment of a shared machine
hits both), reporting the median over rounds of the per-round ratio:

1. **Loss surface**: one grid point of :math:`s(\\alpha, \\beta)`
   (:class:`~cellnas_edu.landscape.PerturbedWeights` ``.set`` +
   :func:`~cellnas_edu.landscape.mean_loss` + ``float``) against one plain
   evaluation pass over the same ``N`` preloaded images (no-grad forward,
   summed cross-entropy, one ``.item()``). Target: ratio <= 1.15.
2. **Gradient variance**: :func:`~cellnas_edu.landscape.gradient_variance`
   over ``N`` images (``vmap`` per-sample gradients in chunks, Chan's
   float64 merge) against a batched forward + backward over the same ``N``
   images in batches of the chunk size (``torch.autograd.grad`` of the mean
   loss; what one SGD step costs). Target on the CPU: ratio <= 1.5. Also the
   speed-up over a per-sample loop (one forward + backward per image, timed on
   a few images and scaled to ``N``).
3. **Memory** of the gradient variance against the chunk size: on CUDA the
   peak allocated memory (``torch.cuda.max_memory_allocated``); on the CPU the
   per-sample gradient block ``chunk x P x 4`` bytes (what the chunk adds) and
   the process's resident high-water mark (``getrusage``; monotone, so chunk
   sizes run in increasing order and the growth is what each size added).

Finally the cost of the paper's grid (51 x 51 points, 10,000 CIFAR-10 test
images) is projected from the measured per-image costs. On the CPU it is a
projection twice over: CPU hours from the measured cost, and GPU hours from
the network's measured FLOPs per image at an *assumed* effective GPU
throughput (:data:`ASSUMED_GPU_TFLOPS`, stated in the notes).

On a shared CPU run it as ``python benchmarks/run.py --only landscape --quick
--threads 1``: with one thread the times are the process's CPU time, which
other processes disturb much less than wall time (with more threads, wall
time is used).

The inputs are random CIFAR-sized images with a fixed seed (cost does not
depend on pixel values), the network is in evaluation mode (as the
measurements are), without the auxiliary head.
"""

from __future__ import annotations

import resource
import statistics
import time

import torch
import torch.nn.functional as F

from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.landscape import (
    PerturbedWeights,
    gradient_variance,
    landscape_parameters,
    mean_loss,
    random_direction_pair,
)
from cellnas_edu.nets.model import build_network

#: per setting: layers, C, surface images N, eval batch, gradvar images, chunk, chunk sweep, loop images, repeats
SIZES = {
    ("cuda", "full"): (20, 36, 2000, 500, 512, 64, (32, 64, 128), 32, 5),
    ("cuda", "quick"): (20, 36, 1000, 500, 256, 64, (32, 64), 16, 3),
    ("cpu", "full"): (20, 36, 128, 64, 64, 32, (8, 16, 32, 64), 8, 5),
    ("cpu", "quick"): (20, 36, 32, 32, 32, 16, (8, 16, 32), 4, 5),
    ("any", "tiny"): (3, 4, 8, 8, 8, 4, (2, 4), 2, 2),
}

PAPER_POINTS = 51 * 51
PAPER_IMAGES = 10_000
#: Assumed sustained fp32 throughput of one current data-centre GPU on this network (depthwise-separable
#: convolutions on 32x32 maps keep utilisation far below peak). Only used for the CPU-side projection.
ASSUMED_GPU_TFLOPS = 5.0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _single_threaded_cpu(device: torch.device) -> bool:
    return device.type == "cpu" and torch.get_num_threads() == 1


def _timed(fn, device) -> float:
    """Seconds of ``fn()``: process CPU time on a single-threaded CPU (``run.py --threads 1``), else wall time."""
    clock = time.process_time if _single_threaded_cpu(device) else time.perf_counter
    _sync(device)
    start = clock()
    fn()
    _sync(device)
    return clock() - start


def _plain_eval(model, x, y, batch):
    with torch.no_grad():
        total = torch.zeros((), dtype=torch.float64, device=x.device)
        for s in range(0, len(y), batch):
            total += F.cross_entropy(model(x[s:s + batch]), y[s:s + batch], reduction="sum").double()
        return float(total) / len(y)


def _batched_backward(model, params, x, y, batch):
    tensors = list(params.values())
    for s in range(0, len(y), batch):
        loss = F.cross_entropy(model(x[s:s + batch]), y[s:s + batch])
        torch.autograd.grad(loss, tensors)


def _per_sample_loop(model, params, x, y):
    tensors = list(params.values())
    for i in range(len(y)):
        torch.autograd.grad(F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]), tensors)


def _forward_flops(model, x) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / x.shape[0]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(quick: bool = True, device: str = "cpu", tiny: bool = False) -> dict:
    dev = torch.device(device)
    key = ("any", "tiny") if tiny else (dev.type, "quick" if quick else "full")
    layers, C, n_surface, eval_batch, n_gradvar, chunk, sweep, n_loop, repeats = SIZES[key]
    torch.manual_seed(0)
    model = build_network(get_genotype("DARTS"), num_classes=10, C=C, layers=layers, auxiliary=False).to(dev).eval()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(max(n_surface, n_gradvar), 3, 32, 32, generator=g).to(dev)
    y = torch.randint(0, 10, (len(x),), generator=g).to(dev)
    params = landscape_parameters(model, x[:2])
    num_params = sum(p.numel() for p in params.values())
    weights = PerturbedWeights(params, *random_direction_pair(params))
    xs, ys = x[:n_surface], y[:n_surface]
    xg, yg = x[:n_gradvar], y[:n_gradvar]

    # memory first, chunk sizes ascending (the CPU's high-water mark only grows); this is also the warm-up
    memory_rows = []
    rss_before = _rss_mib()
    for c in sweep:
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
            base = torch.cuda.memory_allocated(dev)
            gradient_variance(model, params, xg[: 2 * c], yg[: 2 * c], chunk=c)
            measured = (torch.cuda.max_memory_allocated(dev) - base) / 2**20
            memory_rows.append({"chunk": c, "peak_extra_mib": round(measured, 1),
                                "per_sample_grad_block_mib": round(c * num_params * 4 / 2**20, 1)})
        else:
            gradient_variance(model, params, xg[: 2 * c], yg[: 2 * c], chunk=c)
            memory_rows.append({"chunk": c, "rss_high_water_growth_mib": round(_rss_mib() - rss_before, 1),
                                "per_sample_grad_block_mib": round(c * num_params * 4 / 2**20, 1)})

    # warm-up (vmap's first call builds its batching rules; cudnn picks algorithms)
    _plain_eval(model, xs[:eval_batch], ys[:eval_batch], eval_batch)
    gradient_variance(model, params, xg[:chunk], yg[:chunk], chunk=chunk)
    _batched_backward(model, params, xg[:chunk], yg[:chunk], chunk)

    surface_ratios, plain_times, point_times = [], [], []
    grad_ratios, grad_times, backward_times = [], [], []
    points = iter([(0.1, -0.2), (-0.3, 0.05), (0.25, 0.25), (-0.1, -0.4), (0.2, 0.0), (0.0, 0.3), (0.4, -0.1)] * 3)
    for r in range(repeats):
        a, b = next(points)

        def point(a=a, b=b):
            weights.set(a, b)
            float(mean_loss(model, xs, ys, eval_batch))

        def plain():
            _plain_eval(model, xs, ys, eval_batch)

        pair = [("point", point), ("plain", plain)] if r % 2 == 0 else [("plain", plain), ("point", point)]
        times = {}
        for name, fn in pair:
            weights.set(a, b)  # the plain pass runs at the same weights, set outside its timing
            times[name] = _timed(fn, dev)
        point_times.append(times["point"])
        plain_times.append(times["plain"])
        surface_ratios.append(times["point"] / times["plain"])

        def gradvar():
            gradient_variance(model, params, xg, yg, chunk=chunk)

        def backward():
            _batched_backward(model, params, xg, yg, chunk)

        order = [gradvar, backward] if r % 2 == 0 else [backward, gradvar]
        t = {fn: _timed(fn, dev) for fn in order}
        grad_times.append(t[gradvar])
        backward_times.append(t[backward])
        grad_ratios.append(t[gradvar] / t[backward])
    weights.restore()

    loop_time = statistics.median(_timed(lambda: _per_sample_loop(model, params, xg[:n_loop], yg[:n_loop]), dev)
                                  for _ in range(2)) / n_loop * n_gradvar
    gradvar_s = statistics.median(grad_times)

    flops = _forward_flops(model, x[:2])
    per_image_eval = statistics.median(point_times) / n_surface
    per_image_gradvar = gradvar_s / n_gradvar
    surface_hours = PAPER_POINTS * PAPER_IMAGES * per_image_eval / 3600
    gradvar_hours = PAPER_POINTS * PAPER_IMAGES * per_image_gradvar / 3600
    result = {
        "threads": torch.get_num_threads(),
        "network": f"DARTS, {layers} cells, C={C}, {num_params:,} parameters in the landscape",
        "surface_point_vs_eval_pass": round(statistics.median(surface_ratios), 3),
        "surface_point_s": round(statistics.median(point_times), 4),
        "eval_pass_s": round(statistics.median(plain_times), 4),
        "gradvar_vs_batched_fwd_bwd": round(statistics.median(grad_ratios), 3),
        "gradvar_s": round(gradvar_s, 4),
        "batched_fwd_bwd_s": round(statistics.median(backward_times), 4),
        "gradvar_speedup_vs_loop": round(loop_time / gradvar_s, 2),
        "forward_gflops_per_image": round(flops / 1e9, 3),
        "memory": memory_rows,
        f"paper_grid_{dev.type}_hours_surface": round(surface_hours, 1),
        f"paper_grid_{dev.type}_hours_gradvar": round(gradvar_hours, 1),
    }
    notes = [
        f"surface: {n_surface} images, batch {eval_batch}; gradvar: {n_gradvar} images, chunk {chunk}; "
        f"{repeats} interleaved rounds, medians of per-round ratios"
        + ("; 1 CPU thread: times are process CPU time (a shared machine disturbs them less than wall time)"
           if _single_threaded_cpu(dev) else f"; wall time, {torch.get_num_threads()} CPU thread(s)"),
        "targets: surface point <= 1.15x an eval pass; gradvar <= 1.5x batched fwd+bwd (CPU)",
        f"paper grid (51x51 points, 10,000 images) of this network ({layers} cells, C={C}) from the measured "
        f"per-image cost on {dev.type}: "
        f"{surface_hours:.1f} h for the loss surface, {gradvar_hours:.1f} h for the gradient variance "
        "(which also yields the loss)",
    ]
    if dev.type == "cpu":
        gpu_surface = PAPER_POINTS * PAPER_IMAGES * flops / (ASSUMED_GPU_TFLOPS * 1e12) / 3600
        ratio = gradvar_s / statistics.median(point_times) * n_surface / n_gradvar
        result["paper_grid_gpu_hours_surface_projected"] = round(gpu_surface, 2)
        result["paper_grid_gpu_hours_gradvar_projected"] = round(gpu_surface * ratio, 2)
        notes.append(
            f"GPU projection (NOT measured): {flops / 1e9:.2f} GFLOP per image forward at an assumed "
            f"{ASSUMED_GPU_TFLOPS:g} TFLOP/s effective fp32 -> {gpu_surface:.2f} GPU-hours for the surface, "
            f"x{ratio:.1f} (the measured gradvar/forward cost ratio) = {gpu_surface * ratio:.2f} GPU-hours with "
            "the gradient variance")
        notes.append("CPU memory: the RSS high-water mark is process-wide and monotone; the per-sample gradient "
                     "block chunk x P x 4 bytes is what a chunk adds")
    rows = [
        {"measure": "surface point / eval pass", "ratio": result["surface_point_vs_eval_pass"],
         "ours_s": result["surface_point_s"], "baseline_s": result["eval_pass_s"]},
        {"measure": "gradvar / batched fwd+bwd", "ratio": result["gradvar_vs_batched_fwd_bwd"],
         "ours_s": result["gradvar_s"], "baseline_s": result["batched_fwd_bwd_s"]},
        {"measure": "per-sample loop / gradvar (speed-up)", "ratio": result["gradvar_speedup_vs_loop"],
         "ours_s": result["gradvar_s"], "baseline_s": round(loop_time, 4)},
    ]
    return {"rows": rows, "notes": notes, **result}


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps(run(quick=not args.full, device=args.device, tiny=args.tiny), indent=2))
