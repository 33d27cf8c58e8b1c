"""Networks built from cells (cellnas_edu.nets.model; Appendix A.3, A.4)."""

import pytest
import torch
from torch.func import functional_call, vmap

from cellnas_edu.cells.genotypes import AmoebaNet_ADAPT, builtin_names, get_genotype
from cellnas_edu.nets.model import Cell, Network, build_network, count_parameters, network_for_dataset

torch.set_num_threads(1)


def small(name="DARTS_V2", **kwargs):
    kwargs = {"num_classes": 10, "C": 8, "layers": 5, **kwargs}
    torch.manual_seed(0)
    return build_network(get_genotype(name), **kwargs)


@pytest.mark.parametrize("name", builtin_names())
def test_cells_of_every_builtin(name):
    """A normal cell keeps the resolution, a reduction cell halves it; both output len(concat) * C channels."""
    genotype = get_genotype(name)
    s0, s1 = torch.randn(2, 12, 8, 8), torch.randn(2, 10, 8, 8)
    for kind, size in (("normal", 8), ("reduce", 4)):
        cell = Cell(genotype.cell(kind), 12, 10, 6, reduction=kind == "reduce", reduction_prev=False)
        assert cell(s0, s1).shape == (2, 6 * len(genotype.cell(kind).concat), size, size)
    after_reduction = Cell(genotype.normal, 12, 10, 6, reduction=False, reduction_prev=True)
    assert after_reduction(torch.randn(2, 12, 16, 16), s1).shape[-2:] == (8, 8)


@pytest.mark.parametrize("name", builtin_names())
def test_small_network_forward_cifar_size(name):
    net = small(name).train()
    logits, aux = net.forward_with_aux(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", ["DARTS_V2", "AmoebaNet", "NASNet_ADAPT"])
@pytest.mark.parametrize("in_channels,size,stem_stride", [(3, 64, 2), (1, 28, 1), (3, 20, 1)])
def test_small_network_forward_other_sizes(name, in_channels, size, stem_stride):
    """Tiny-ImageNet (64x64, stem stride 2), Fashion-MNIST (1x28x28: 7x7 maps at the auxiliary head), odd sizes."""
    net = small(name, num_classes=7, in_channels=in_channels, stem_stride=stem_stride, drop_path_prob=0.2).train()
    logits, aux = net.forward_with_aux(torch.randn(2, in_channels, size, size))
    assert logits.shape == aux.shape == (2, 7)
    logits.sum().add(aux.sum()).backward()


def test_reductions_at_one_and_two_thirds():
    """Appendix A.3: cells L//3 and 2L//3 halve the resolution and double the channels."""
    net = small(layers=6).eval()
    shapes = []
    for cell in net.cells:
        cell.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
    net(torch.randn(1, 3, 32, 32))
    assert [cell.reduction for cell in net.cells] == [False, False, True, False, True, False]
    assert [s[1] for s in shapes] == [32, 32, 16, 16, 8, 8]
    assert [s[0] for s in shapes] == [32, 32, 64, 64, 128, 128]  # 4 concatenated nodes x C, 2C, 4C


def test_tiny_imagenet_stem_halves_the_input():
    net = network_for_dataset(get_genotype("DARTS"), "tiny-imagenet-200", C=8, layers=3).eval()
    assert net.stem[0].stride == (2, 2) and net.classifier.out_features == 200
    seen = []
    net.cells[0].register_forward_hook(lambda m, i, o: seen.append(i[0].shape[-1]))
    net(torch.randn(1, 3, 64, 64))
    assert seen == [32]
    assert network_for_dataset(get_genotype("DARTS"), "fashion-mnist", C=8, layers=3).stem[0].in_channels == 1


def test_auxiliary_logits_only_in_training():
    net = small()
    x = torch.randn(2, 3, 32, 32)
    assert net.train().forward_with_aux(x)[1] is not None
    assert net.eval().forward_with_aux(x)[1] is None
    assert small(auxiliary=False).train().forward_with_aux(x)[1] is None
    assert net.train()(x).shape == (2, 10)  # forward: logits only


def test_auxiliary_head_is_darts_head_on_8x8_maps():
    """On 8x8 maps the head pools 5x5 with stride 3 (DARTS AuxiliaryHeadCIFAR), not adaptively."""
    head = small().auxiliary_head.eval()
    x = torch.randn(2, head.features[0].in_channels, 8, 8)
    pooled = torch.nn.functional.avg_pool2d(torch.relu(x), 5, stride=3)
    assert torch.allclose(head(x), head.classifier(head.features(pooled).flatten(1)))


def test_dead_nodes_do_not_change_the_logits():
    """Dead nodes are built (their parameters count, Table 1) but feed nothing (Section 3.2)."""
    assert AmoebaNet_ADAPT.normal.dead_nodes() == {2, 3}
    net = small("AmoebaNet_ADAPT").eval()
    x = torch.randn(2, 3, 32, 32)
    before = net(x)
    cell = net.cells[0]
    dead_ops = [cell._ops[k] for k in range(4)]  # the four operations of nodes 2 and 3
    assert sum(p.numel() for op in dead_ops for p in op.parameters()) > 0
    with torch.no_grad():
        for op in dead_ops:
            for p in op.parameters():
                p.add_(torch.randn_like(p))
    assert torch.equal(net(x), before)
    live_op = cell._ops[4]
    with torch.no_grad():
        for p in live_op.parameters():
            p.add_(torch.randn_like(p))
    assert not torch.equal(net(x), before)


def test_drop_path_zero_is_identity_and_positive_drops_in_training_only():
    net = small().train()
    x = torch.randn(4, 3, 32, 32)
    torch.manual_seed(1)
    reference = net(x)
    torch.manual_seed(2)  # different random state: no randomness is used at probability 0
    assert torch.equal(net(x), reference)
    net.drop_path_prob = 0.5
    assert not torch.allclose(net(x), reference)
    net.eval()
    eval_with_drop = net(x)
    net.drop_path_prob = 0.0
    assert torch.equal(net(x), eval_with_drop)


def test_functional_call_and_vmap_over_parameters_in_eval_mode():
    """The landscape tools evaluate many parameter vectors at once (Section 4.2)."""
    net = small(C=4, layers=3).eval()
    params = {k: v.detach() for k, v in net.named_parameters()}
    batched = {k: torch.stack([v, v + 0.01 * torch.randn_like(v), v]) for k, v in params.items()}
    x = torch.randn(2, 3, 16, 16)
    out = vmap(lambda p: functional_call(net, p, (x,)))(batched)
    reference = net(x)
    assert out.shape == (3, 2, 10)
    assert torch.allclose(out[0], reference, atol=1e-5) and torch.allclose(out[2], reference, atol=1e-5)
    assert not torch.allclose(out[1], reference)


def test_attributes_and_errors():
    net = small(drop_path_prob=0.1)
    assert isinstance(net, Network) and net.genotype.name == "DARTS_V2" and net.drop_path_prob == 0.1
    assert count_parameters(net) - count_parameters(net, include_auxiliary=False) == sum(
        p.numel() for p in net.auxiliary_head.parameters())
    for bad, fragment in (({"C": 7}, "even"), ({"layers": 0}, "layers"), ({"stem_stride": 3}, "stem_stride"),
                          ({"drop_path_prob": 1.0}, "drop_path_prob"), ({"num_classes": 0}, "num_classes")):
        with pytest.raises(ValueError, match=fragment):
            small(**bad)
    with pytest.raises(ValueError, match="unknown dataset"):
        network_for_dataset(get_genotype("DARTS"), "imagenet")


@pytest.mark.gpu
def test_cuda_channels_last_bf16_compile_forward_backward():
    """CUDA path of the trainer: channels_last, bf16 autocast, torch.compile, drop path and auxiliary head."""
    net = small(drop_path_prob=0.2).cuda().to(memory_format=torch.channels_last).train()
    compiled = torch.compile(net.forward_with_aux)
    x = torch.randn(8, 3, 32, 32, device="cuda").to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (8,), device="cuda")
    for drop in (0.0, 0.1, 0.15):
        net.drop_path_prob = drop
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits, aux = compiled(x)
            loss = torch.nn.functional.cross_entropy(logits, y) + 0.4 * torch.nn.functional.cross_entropy(aux, y)
        loss.backward()
        assert torch.isfinite(loss).item()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
        net.zero_grad()
    net.eval()
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        eager = net(x).float()
        assert torch.allclose(torch.compile(net)(x).float(), eager, atol=0.1, rtol=0.05)

