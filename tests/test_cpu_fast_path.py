"""The CPU fast path of the trainer (cellnas_edu.train.cpu): same math, thread and chunk rules."""

from __future__ import annotations

import pytest
import torch

from cellnas_edu.train import cpu

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _NoBar:
    def update(self, n):
        pass


def _steps(channels_last: bool, foreach: bool, monkeypatch, steps: int = 3):
    """Losses and final weights of ``steps`` training steps of a tiny DARTS network (same seed, same batches)."""
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.nets.model import network_for_dataset
    from cellnas_edu.train import make_config
    from cellnas_edu.train.loop import _train_one_epoch, _WithAuxiliary, build_optimizer

    monkeypatch.setattr(cpu, "CPU_FOREACH", foreach)
    config = make_config("smoke", arch="DARTS", dataset="synthetic", device="cpu", grad_clip=5.0,
                         channels_last=channels_last)
    torch.manual_seed(0)
    net = network_for_dataset(get_genotype("DARTS"), "fashion-mnist", C=4, layers=4, auxiliary=False)
    device = torch.device("cpu")
    use_cl = cpu.channels_last_for(device, config.channels_last)
    assert use_cl == channels_last
    if use_cl:
        net = net.to(memory_format=torch.channels_last)
    optimizer, _ = build_optimizer(net.parameters(), config, device)
    assert optimizer.defaults["foreach"] is (True if foreach else None)
    generator = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):  # steps=0: the initial weights
        x = torch.randn(16, 1, 28, 28, generator=generator)
        y = torch.randint(0, 10, (16,), generator=generator)
        sums = _train_one_epoch(_WithAuxiliary(net), net, [(x, y)], optimizer, config, device, use_cl, _NoBar(), 1)
        losses.append(float(sums[0] / sums[2]))
    return losses, {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}


def test_fast_path_trains_the_same_network_as_plain_eager(monkeypatch):
    """Channels-last and multi-tensor SGD change the order of float additions, not the math."""
    eager_losses, _ = _steps(False, False, monkeypatch)
    fast_losses, _ = _steps(True, True, monkeypatch)
    assert fast_losses == pytest.approx(eager_losses, rel=1e-4, abs=1e-6)
    assert eager_losses[-1] != eager_losses[0]  # the weights did change between steps
    # One step's weight update agrees to ~1e-3 (measured 8.5e-4 on one thread): the channels-last BatchNorm kernels
    # sum in a different, less accurate order (their gradients are 1e-6 to 1e-4 off float64 where NCHW's are 1e-7
    # to 1e-6). Later steps amplify such differences as any reordering does (3e-2 after three steps at lr 0.1).
    initial = _steps(False, False, monkeypatch, steps=0)[1]
    eager = _steps(False, False, monkeypatch, steps=1)[1]
    fast = _steps(True, True, monkeypatch, steps=1)[1]
    floats = [n for n, v in initial.items() if v.is_floating_point() and "running" not in n]
    eager_update = torch.cat([(eager[n] - initial[n]).flatten() for n in floats])
    fast_update = torch.cat([(fast[n] - initial[n]).flatten() for n in floats])
    assert float((fast_update - eager_update).norm() / eager_update.norm()) < 5e-3
    running = [n for n in initial if "running_mean" in n]
    for n in running:
        torch.testing.assert_close(fast[n], eager[n], rtol=1e-4, atol=1e-5)


def test_cuda_keeps_torch_defaults_for_foreach():
    assert cpu.foreach_for(torch.device("cpu")) is True
    assert cpu.foreach_for(torch.device("cuda")) is None
    assert cpu.channels_last_for(torch.device("cuda"), True) and not cpu.channels_last_for("cpu", False)


@pytest.mark.parametrize("jobs, cores, load, expected", [
    (2, 8, 0.0, 1), (4, 2, 0.0, 1), (16, 16, 0.0, 1),  # several runs share the cores: one thread each
    (1, 8, 0.0, 8), (1, 2, 0.1, 2),                    # one run on an idle machine: all cores
    (1, 8, 3.2, 5), (1, 2, 1.0, 1), (1, 2, 6.0, 1),    # a busy machine: the idle cores, at least one
])
def test_choose_threads(jobs, cores, load, expected):
    assert cpu.choose_threads(jobs, cores=cores, load=load) == expected


def test_choose_threads_rejects_bad_jobs():
    with pytest.raises(ValueError):
        cpu.choose_threads(0)


def test_torch_threads_restores():
    before = torch.get_num_threads()
    with cpu.torch_threads(2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before


MB = 1024 ** 2


@pytest.mark.parametrize("per_sample, available, expected", [
    (185 * MB, 8 * 1024 * MB, 16),   # 8 GB free: half of it holds 22 samples, capped at 16
    (185 * MB, 2 * 1024 * MB, 5),    # 2 GB free: 1024 MB / 185 MB = 5
    (185 * MB, 300 * MB, 1),         # almost nothing free: still one sample at a time
    (185 * MB, 0, 1),
    (1 * MB, 64 * 1024 * MB, 16),
])
def test_choose_chunk_respects_the_memory_budget(per_sample, available, expected):
    chunk = cpu.choose_chunk(per_sample, available)
    assert chunk == expected
    assert chunk == 1 or chunk * per_sample <= cpu.CHUNK_MEMORY_FRACTION * available


def test_choose_chunk_rejects_nonpositive_sizes():
    with pytest.raises(ValueError):
        cpu.choose_chunk(0, 1 << 30)


def test_available_memory_reads_meminfo_and_cgroup(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    8000000 kB\n")
    assert cpu._meminfo_available(str(meminfo)) == 8_000_000 * 1024
    assert cpu._meminfo_available(str(tmp_path / "missing")) is None
    cgroup = tmp_path / "cg"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text("max\n")
    assert cpu._cgroup_available(str(cgroup)) is None
    (cgroup / "memory.max").write_text(str(3 * 1024 ** 3))
    (cgroup / "memory.current").write_text(str(1024 ** 3))
    assert cpu._cgroup_available(str(cgroup)) == 2 * 1024 ** 3
    monkeypatch.setattr(cpu, "_meminfo_available", lambda: 8 * 1024 ** 3)
    monkeypatch.setattr(cpu, "_cgroup_available", lambda: 2 * 1024 ** 3)
    assert cpu.available_memory() == (2 * 1024 ** 3, "cgroup")
    monkeypatch.setattr(cpu, "_cgroup_available", lambda: None)
    assert cpu.available_memory() == (8 * 1024 ** 3, "MemAvailable")
    monkeypatch.setattr(cpu, "_meminfo_available", lambda: None)
    assert cpu.available_memory() == (cpu.FALLBACK_AVAILABLE_BYTES, "fallback")


def test_per_sample_gradient_bytes_counts_parameters_and_activations():
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.nets.model import count_parameters, network_for_dataset

    net = network_for_dataset(get_genotype("DARTS"), "fashion-mnist", C=4, layers=4, auxiliary=False).eval()
    P = count_parameters(net)
    small = cpu.per_sample_gradient_bytes(net, torch.randn(2, 1, 28, 28), P)
    assert small > 12 * P  # more than the three P-float copies: activations count too
    big = network_for_dataset(get_genotype("DARTS"), "fashion-mnist", C=8, layers=4, auxiliary=False).eval()
    assert cpu.per_sample_gradient_bytes(big, torch.randn(2, 1, 28, 28), count_parameters(big)) > 2 * small


def test_auto_chunk_follows_the_injected_memory():
    from cellnas_edu.cells.genotypes import get_genotype
    from cellnas_edu.nets.model import count_parameters, network_for_dataset

    net = network_for_dataset(get_genotype("DARTS"), "fashion-mnist", C=4, layers=4, auxiliary=False).eval()
    x, P = torch.randn(3, 1, 28, 28), count_parameters(net)
    per_sample = cpu.per_sample_gradient_bytes(net, x, P)
    chunk, info = cpu.auto_chunk(net, x, P, "cpu", available=(int(6.5 * per_sample), "injected"))
    assert chunk == 3 and info["chunk"] == 3 and info["chunk_memory_source"] == "injected"
    assert info["chunk_bytes_per_sample"] == per_sample and info["chunk_available_bytes"] == int(6.5 * per_sample)
    assert cpu.auto_chunk(net, x, P, "cpu", available=(1 << 40, "injected"))[0] == cpu.MAX_AUTO_CHUNK


def test_keep_freed_memory_applies_on_glibc_and_is_idempotent():
    """`mallopt` is glibc's: on Linux with glibc both settings apply (mallopt returns 1), and a second call is a
    no-op that still reports them applied; elsewhere nothing is changed and the answer is False."""
    import platform

    from cellnas_edu.train.cpu import keep_freed_memory

    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is glibc
    assert keep_freed_memory() is glibc
