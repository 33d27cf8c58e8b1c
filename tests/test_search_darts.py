"""First-order DARTS at tiny size (Chapter 8): the derivation rule, the supernet, the search loop, resume.

Each test checks a value that a plausible bug would change: the derivation against a literal transcription
of DARTS' ``_parse``, the mixed operation against the sum that includes ``none``, the exact null
distributions against brute-force enumerations of Chapter 2's space, and a resumed search against an
uninterrupted one, bit for bit.
"""

import json
import math
from collections import Counter
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from cellnas_edu.cells.genotypes import load_genotype
from cellnas_edu.cells.space import connection_space, decode_sources
from cellnas_edu.cells.topology import cell_depth, cell_width
from cellnas_edu.cli import main
from cellnas_edu.nets.ops import Zero
from cellnas_edu.search import against_space, darts
from cellnas_edu.search.derive import derivable_cells, derive_cell, derive_genotype
from cellnas_edu.search.supernet import NONE_INDEX, SEARCH_OPERATIONS, MixedOp, SuperNet, edge_sources

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = dict(dataset="synthetic", search_images=96, batch_size=16, init_channels=4, layers=3, epochs=2,
            device="cpu")
TINY_FLAGS = ["--dataset", "synthetic", "--search-images", "96", "--batch-size", "16", "--channels", "4",
              "--layers", "3", "--epochs", "2", "--device", "cpu", "--no-progress"]


# -- the derivation rule (the graded checks of Chapter 8's exercises run here against the package) ----------
from cellnas_edu.exercises.checks.ch8_search import (  # noqa: E402, F401 - collected here
    darts_parse,
    test_a_derived_cell_never_keeps_none_and_reads_two_distinct_nodes,
    test_derivation_matches_darts_parse_including_ties,
    test_none_never_wins_even_when_it_dominates_every_edge,
    test_six_cells_at_the_maximum_width,
    test_sum_tail_is_the_brute_force_tail,
    weight_matrices,
)


@settings(max_examples=50, deadline=None)
@given(weight_matrices)
def test_softmax_keeps_each_edges_operation_but_may_reorder_edges(weights):
    softmax = F.softmax(torch.tensor(weights, dtype=torch.float64), dim=-1).tolist()
    for row, soft in zip(weights, softmax):  # within a row the order of the candidates is unchanged
        keep = [o for o in range(8) if o != NONE_INDEX]
        assert max(keep, key=lambda o: (row[o], -o)) == max(keep, key=lambda o: (soft[o], -o))


def test_a_large_none_logit_weakens_an_edge_only_after_the_softmax():
    weights = [[0.0] * 8 for _ in range(14)]
    sep = SEARCH_OPERATIONS.index("sep_conv_3x3")
    weights[0][sep], weights[0][NONE_INDEX] = 2.0, 5.0  # edge 0 -> 2: best logit, but 'none' dominates it
    weights[1][sep] = 1.0                                # edge 1 -> 2
    weights[2][sep] = 1.0                                # node 3 gets these two; irrelevant here
    logits_cell = derive_cell(weights)
    softmax_cell = derive_cell(F.softmax(torch.tensor(weights), dim=-1).tolist())
    assert logits_cell.node_inputs(2)[0] == ("sep_conv_3x3", 0)   # by logits edge 0 ranks first
    assert softmax_cell.node_inputs(2)[0] == ("sep_conv_3x3", 1)  # by softmax weight edge 1 does


def test_all_ties_go_to_the_lowest_sources_and_the_first_candidate():
    tied = derive_cell([[0.0] * 8 for _ in range(14)])
    assert tied.sources == (0, 1, 0, 1, 0, 1, 0, 1) and set(tied.ops) == {"max_pool_3x3"}


def test_a_hand_built_architecture_gives_the_expected_wide_cell():
    # Every node prefers its two input edges with sep_conv_3x3: the widest cell, 4c and depth 2.
    weights = [[0.0] * 8 for _ in range(14)]
    for row, (_node, source) in zip(weights, edge_sources()):
        if source < 2:
            row[SEARCH_OPERATIONS.index("sep_conv_3x3")] = 1.0
    cell = derive_cell(weights)
    assert cell_width(cell) == 4 and cell_depth(cell) == 2
    genotype = derive_genotype(weights, weights, name="wide")
    assert genotype.normal == genotype.reduce == cell


def test_malformed_weights_are_refused_precisely():
    with pytest.raises(ValueError, match="do not make a cell"):
        derive_cell([[0.0] * 8] * 13)
    with pytest.raises(ValueError, match="one per candidate"):
        derive_cell([[0.0] * 7] * 14)
    with pytest.raises(ValueError, match="finite"):
        derive_cell([[math.nan] * 8] * 14)
    with pytest.raises(ValueError, match="empty"):
        derive_cell([])


# -- the null distributions -------------------------------------------------------------------------------------
def test_derivable_cells_are_the_distinct_source_part_of_the_connection_space():
    cells = derivable_cells()
    assert len(cells) == 180 == len({c.sources for c in cells})
    # Independent route: enumerate Chapter 2's 14,400 variants, keep those whose two sources differ per node.
    space_cell = cells[0]
    sources = decode_sources(space_cell, range(connection_space(space_cell).count))
    distinct = sources[(sources[:, 0::2] != sources[:, 1::2]).all(axis=1)]
    assert len(distinct) == 180 * 2 ** 4  # each topology in 2 orders per node
    by_topology = Counter()
    for row in distinct:
        variant = space_cell.with_sources([int(s) for s in row])
        by_topology[(cell_width(variant), cell_depth(variant))] += 1
    expected = Counter((cell_width(c), cell_depth(c)) for c in cells)
    assert by_topology == Counter({k: 16 * v for k, v in expected.items()})


def test_null_counts_match_the_space_and_the_derivable_cells():
    widths, depths, total = against_space.null_counts("connection_space")
    assert total == sum(widths.values()) == sum(depths.values()) == 14_400
    assert max(widths) == 8 and widths[8] == 2 ** 8  # 4c: all eight operations read an input node
    widths, depths, total = against_space.null_counts("derivable")
    assert total == 180 and widths[8] == 1 and depths[2] == 1
    with pytest.raises(ValueError, match="null must be"):
        against_space.null_counts("uniform")


def test_six_widest_cells_have_the_exact_tiny_p_value():
    wide = next(c for c in derivable_cells() if cell_width(c) == 4)
    result = against_space.compare_with_space([wide] * 6)
    p = Fraction(2 ** 8, 14_400) ** 6  # every draw must hit the maximum width
    assert result["tests"]["connection_space"]["wider"]["p_value"] == pytest.approx(float(p), rel=1e-12)
    assert result["tests"]["derivable"]["wider"]["p_fraction"] == f"1/{180 ** 6}"
    assert result["tests"]["connection_space"]["wider"]["holm_p"] == pytest.approx(2 * float(p), rel=1e-12)
    placed = against_space.placement(wide)
    assert placed["connection_space"]["at_least_as_wide"] == 2 ** 8 / 14_400
    assert placed["derivable"]["at_most_as_deep"] == 1 / 180


# -- the supernet ---------------------------------------------------------------------------------------------------
def test_mixed_op_equals_the_sum_that_includes_none_and_so_do_its_gradients():
    torch.manual_seed(0)
    op = MixedOp(4, 1)
    x = torch.randn(2, 4, 6, 6)
    alpha = torch.randn(8, requires_grad=True)
    ours = op(x, F.softmax(alpha, -1))
    weights = F.softmax(alpha, -1)
    literal = sum(weights[k] * (Zero(1)(x) if name == "none" else op.candidates[name](x))
                  for k, name in enumerate(SEARCH_OPERATIONS))
    torch.testing.assert_close(ours, literal)
    (g_ours,) = torch.autograd.grad(ours.square().sum(), alpha)
    (g_literal,) = torch.autograd.grad(literal.square().sum(), alpha)
    torch.testing.assert_close(g_ours, g_literal)
    assert g_ours[NONE_INDEX] != 0  # 'none' still competes through the softmax


def test_supernet_shapes_and_parameter_sets():
    net = SuperNet(C=4, layers=3, num_classes=10, in_channels=1)
    assert net.alphas_normal.shape == net.alphas_reduce.shape == (14, 8)
    arch, weights = net.arch_parameters(), net.weight_parameters()
    assert len(arch) == 2 and len(weights) + 2 == len(list(net.parameters()))
    assert not any(p is a for p in weights for a in arch)
    assert net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    # No affine BatchNorm inside the cells (DARTS' search): the only affine one is the stem's.
    affine = [n for n, m in net.named_modules() if isinstance(m, torch.nn.BatchNorm2d) and m.affine]
    assert affine == ["stem.1"]
    with pytest.raises(ValueError, match="at least 3 cells"):
        SuperNet(C=4, layers=2, num_classes=10)


def test_each_search_step_moves_only_its_own_parameters():
    torch.manual_seed(0)
    net = SuperNet(C=4, layers=3, num_classes=10, in_channels=1)
    w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.1)
    a_opt = torch.optim.Adam(net.arch_parameters(), lr=0.1)
    batch = (torch.randn(4, 1, 12, 12), torch.randint(0, 10, (4,)))
    before_w = [p.detach().clone() for p in net.weight_parameters()]
    before_a = [p.detach().clone() for p in net.arch_parameters()]
    # Freeze the weight step (lr 0): only the architecture moves.
    w_opt.param_groups[0]["lr"] = 0.0
    darts.search_step(net, w_opt, a_opt, batch, batch, grad_clip=5.0)
    assert all(torch.equal(a, b) for a, b in zip(net.weight_parameters(), before_w))
    assert all(not torch.equal(a, b) for a, b in zip(net.arch_parameters(), before_a))
    # Freeze the architecture step: only weights move.
    w_opt.param_groups[0]["lr"], a_opt.param_groups[0]["lr"] = 0.1, 0.0
    before_a = [p.detach().clone() for p in net.arch_parameters()]
    darts.search_step(net, w_opt, a_opt, batch, batch, grad_clip=5.0)
    assert all(torch.equal(a, b) for a, b in zip(net.arch_parameters(), before_a))
    assert any(not torch.equal(a, b) for a, b in zip(net.weight_parameters(), before_w))


def test_cosine_schedule_is_darts_cosine_annealing():
    config = darts.make_search_config("cpu", epochs=5)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 5, eta_min=config.lr_min)
    for epoch in range(5):
        assert darts.cosine_lr(config, epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
        opt.step()
        schedule.step()


# -- the search ------------------------------------------------------------------------------------------------------
def test_tiny_search_writes_a_valid_genotype_and_the_architecture_moves(tmp_path, capsys):
    out = tmp_path / "search"
    assert main(["search", "darts", *TINY_FLAGS, "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    genotype = load_genotype(out / "genotype.json")  # a genotype file every command accepts
    assert {"name": "darts_search_seed0", **genotype.to_dict()} == result["genotype"]
    assert result["normal"] == {"width": float(cell_width(genotype.normal)), "depth": cell_depth(genotype.normal)}
    history = darts.read_history(out)
    assert [r["epoch"] for r in history] == [0, 1, 2]
    first, last = torch.tensor(history[0]["weights"]["normal"]), torch.tensor(history[-1]["weights"]["normal"])
    torch.testing.assert_close(last.sum(1), torch.ones(14), atol=1e-5, rtol=0)
    assert (last - first).abs().max() > 1e-3  # the architecture weights moved
    assert genotype.normal == derive_cell(history[-1]["weights"]["normal"])
    assert result["steps"] == 2 * (48 // 16)
    assert result["space"]["connection_space"]["count"] == 14_400
    assert main(["analyze", str(out / "genotype.json")]) == 0


def test_a_resumed_search_ends_bit_for_bit_where_an_uninterrupted_one_does(tmp_path, monkeypatch):
    import cellnas_edu.train.checkpoint as io  # the search writes its checkpoint through save_with_digest

    straight = darts.run_search(darts.make_search_config("cpu", **TINY), tmp_path / "straight", progress=False)
    real_save = io.atomic_save

    def save_then_crash(path, save):
        real_save(path, save)
        if path.name == "checkpoint.pt":
            raise KeyboardInterrupt  # killed right after epoch 1's checkpoint

    monkeypatch.setattr(io, "atomic_save", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        darts.run_search(darts.make_search_config("cpu", **TINY), tmp_path / "resumed", progress=False)
    monkeypatch.setattr(io, "atomic_save", real_save)
    # The checkpoint is the truth: alphas.jsonl is rewritten from its history when the search resumes.
    assert darts.load_search_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["epoch"] == 1
    resumed = darts.run_search(darts.make_search_config("cpu", **TINY), tmp_path / "resumed", resume=True,
                               progress=False)
    assert resumed["genotype"] == straight["genotype"]
    a = darts.read_history(tmp_path / "straight")
    b = darts.read_history(tmp_path / "resumed")
    assert [r["weights"] for r in a] == [r["weights"] for r in b]
    assert [r["train_loss"] for r in a[1:]] == [r["train_loss"] for r in b[1:]]
    sa = darts.load_search_checkpoint(tmp_path / "straight" / "checkpoint.pt")["model"]
    sb = darts.load_search_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["model"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def run_cli(capsys, argv):
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["search", "darts", *TINY_FLAGS, "--epochs", "1", "--out", str(out)]) == 0
    cases = [
        (["--epochs", "1", "--out", str(out)], "pass --resume"),  # a finished search without --resume
        (["--epochs", "3", "--out", str(out), "--resume"], "epochs differ"),
        (["--channels", "3", "--out", str(tmp_path / "odd")], "must be even"),
        (["--search-images", "100000", "--out", str(tmp_path / "big")], "exceeds"),
        (["--batch-size", "64", "--out", str(tmp_path / "batch")], "fewer than one batch"),
    ]
    for extra, needle in cases:
        code, _, err = run_cli(capsys, ["search", "darts", *TINY_FLAGS, *extra])
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, (extra, err)
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    (out / "result.json").unlink()
    code, _, err = run_cli(capsys, ["search", "darts", *TINY_FLAGS, "--epochs", "1", "--out", str(out),
                                    "--resume"])
    assert code == 2 and "corrupt or truncated search checkpoint" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, ["search", "darts", "--channels", "0"])
    assert code == 2 and "must be at least 1" in err


def test_every_file_of_a_search_folder_is_checked(tmp_path, capsys):
    """A hand-edited result.json, a checkpoint claiming more epochs than the search has, and a bit-flipped one:
    one line naming the file (and the field), exit 2, nothing rewritten."""
    from cellnas_edu.train.checkpoint import with_digest

    out = tmp_path / "s"
    assert main(["search", "darts", *TINY_FLAGS, "--out", str(out)]) == 0
    resume = ["search", "darts", *TINY_FLAGS, "--out", str(out), "--resume"]
    result = json.loads((out / "result.json").read_text())
    for change, needle in (({"space": None}, "field 'space' is missing"), ({"epochs_done": "2"}, "'epochs_done'"),
                           ({"widths_by_epoch": [3.5]}, "'widths_by_epoch' has 1 entries, expected 3")):
        edited = {k: v for k, v in {**result, **change}.items() if v is not None}
        (out / "result.json").write_text(json.dumps(edited))
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        code, _, err = run_cli(capsys, resume)
        assert code == 2 and "result.json" in err and needle in err and len(err.strip().splitlines()) == 1, err
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    (out / "result.json").unlink()
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    history = checkpoint["history"] + [dict(checkpoint["history"][-1], epoch=e) for e in range(3, 100)]
    torch.save(with_digest({**checkpoint, "epoch": 99, "history": history}), out / "checkpoint.pt")
    code, _, err = run_cli(capsys, resume)
    assert code == 2 and "epoch 99 of a 2-epoch search" in err and not (out / "result.json").exists(), err
    model = dict(checkpoint["model"])
    name = next(n for n, t in model.items() if t.is_floating_point() and t.numel() > 1)
    model[name] = model[name].clone(memory_format=torch.contiguous_format)
    model[name].view(-1)[0] = 3.3e37  # a flipped bit, the digest unchanged
    torch.save({**checkpoint, "model": model}, out / "checkpoint.pt")
    code, _, err = run_cli(capsys, resume)
    assert code == 2 and "does not match its sha256 digest" in err and "checkpoint.pt" in err, err
    torch.save(with_digest({**checkpoint, "rng": {**checkpoint["rng"], "torch": torch.zeros(3, dtype=torch.uint8)}}),
               out / "checkpoint.pt")
    code, _, err = run_cli(capsys, resume)
    assert code == 2 and "rng: torch is not a torch generator state" in err, err


def test_the_seeds_example_recomputes_its_analysis(tmp_path):
    from script_loader import load_script

    script = load_script("examples/darts_search_seeds.py")
    assert script.main(["--tiny", "--seeds", "2", "--jobs", "1", "--out", str(tmp_path / "runs"),
                        "--results", str(tmp_path / "results")]) == 0
    summary = json.loads((tmp_path / "results" / "darts_search" / "summary.json").read_text())
    assert summary["provenance"]["command"].startswith("python examples/darts_search_seeds.py")
    assert [r["seed"] for r in summary["records"]] == [0, 1]
    assert json.loads(json.dumps(script.analyze(summary["records"]))) == summary["analysis"]


def test_critical_values_are_the_boundary_of_the_exact_tests():
    """A mean width at the critical value rejects at alpha; half a c less (one cell narrower) does not."""
    from fractions import Fraction

    from cellnas_edu.search.against_space import critical_values, null_counts, sum_tail

    widths, depths, _ = null_counts("connection_space", 4)
    crit = critical_values("connection_space", 6, 0.05)
    assert crit["critical_mean_width"] == pytest.approx(37 / 12)  # 3.08c: 18.5c over six cells
    total = round(crit["critical_mean_width"] * 12)  # in half-c units, six cells
    assert sum_tail(widths, [total - 5 * 6] + [6] * 5, "greater") <= Fraction(1, 20)
    assert sum_tail(widths, [total - 1 - 5 * 6] + [6] * 5, "greater") > Fraction(1, 20)
    depth_total = round(crit["critical_mean_depth"] * 6)
    assert sum_tail(depths, [depth_total - 5 * 3] + [3] * 5, "less") <= Fraction(1, 20)
    assert sum_tail(depths, [depth_total + 1 - 5 * 3] + [3] * 5, "less") > Fraction(1, 20)
