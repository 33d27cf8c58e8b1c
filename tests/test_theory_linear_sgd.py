"""The widest and narrowest linear cells trained by SGD (cellnas_edu.theory.linear_sgd).

Gradients and block constants against the verifier's autograd functions, the first SGD step against a closed form,
the vectorised trainer against a plain per-seed loop, the sign test against scipy and a hand count, Holm, the
steps-to-threshold rule, and the JSON of the script and the CLI.
"""

from __future__ import annotations

import json
import math
import runpy
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from cellnas_edu.cli import main as cellnas
from cellnas_edu.stats import holm
from cellnas_edu.theory import linear_sgd as ls
from cellnas_edu.theory.gradients import narrowest_weight_gradients, widest_weight_gradients
from cellnas_edu.theory.hessian import narrowest_hessian, symmetric_spectral_norm, widest_hessian
from cellnas_edu.theory.objectives import cross_entropy, quadratic
from cellnas_edu.theory.problems import CellProblem
from cellnas_edu.theory.variance import gradient_variance

pytestmark = pytest.mark.usefixtures("one_torch_thread")
ROOT = Path(__file__).resolve().parents[1]


def _setting(**kw):
    base = dict(ns=(3,), seeds=3, steps=10, diagnostic_seeds=2, curve_points=3)
    base.update(kw)
    return ls.Setting(**base)


def _problem(objective: str, n: int = 3, seed: int = 0):
    """One seed's data of ``objective`` as numpy run data (B = 1) and as the verifier's CellProblem maker."""
    setting = _setting(ns=(n,), seeds=2, objectives=(objective,))
    data = ls.make_data(objective, setting)
    targets = data.targets[seed: seed + 1, :, :n] if objective == "quadratic" else data.targets[seed: seed + 1]
    readout = data.readouts[n][seed: seed + 1] if objective == "cross_entropy" else None
    run = ls.RunData(objective, data.inputs[seed: seed + 1], targets, readout)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    if objective == "quadratic":
        obj, tgt = quadratic(), t(targets[0])
    else:
        obj, tgt = cross_entropy(t(readout[0].reshape(readout.shape[1], -1))), t(targets[0])

    def make(weights):
        return CellProblem(t(weights), t(run.inputs[0]), tgt, obj)

    return run, make, data


@pytest.mark.parametrize("objective", ls.OBJECTIVES)
def test_gradients_and_losses_match_the_verifier(objective):
    """Per-sample gradients of both cells equal autograd (equations (1)-(2)); the mini-batch gradient by equation
    (4) equals their mean; full losses equal the verifier's objective."""
    run, make, _ = _problem(objective)
    rng = np.random.default_rng(3)
    w = rng.normal(size=(1, 3, 4, 4)) / 2
    v = ls.chain_products(w) + 0.1 * rng.normal(size=w.shape)
    problem = make(w[0])
    z_narrow = ls.nodes("narrow", w, run.inputs)
    _, g_n, _ = ls.losses_and_node_gradients(objective, z_narrow, run.targets, run.readout)
    narrow = ls.per_sample_gradients("narrow", w, run.inputs, g_n, z_narrow)[0]
    assert np.allclose(narrow, narrowest_weight_gradients(problem).numpy(), rtol=1e-10, atol=1e-12)
    z_wide = ls.nodes("wide", v, run.inputs)
    _, g_w, _ = ls.losses_and_node_gradients(objective, z_wide, run.targets, run.readout)
    wide = ls.per_sample_gradients("wide", v, run.inputs, g_w, z_wide)[0]
    assert np.allclose(wide, widest_weight_gradients(problem, torch.tensor(v[0])).numpy(), rtol=1e-10, atol=1e-12)
    index = np.array([[0, 5, 5, 17]])
    assert np.allclose(ls.minibatch_gradient("narrow", w, run, index)[0], narrow[index[0]].mean(0), atol=1e-12)
    assert np.allclose(ls.minibatch_gradient("wide", v, run, index)[0], wide[index[0]].mean(0), atol=1e-12)
    assert ls.full_losses("narrow", w, run)[0] == pytest.approx(float(problem.narrowest_loss(problem.weights)),
                                                                rel=1e-12)
    assert ls.full_losses("wide", v, run)[0] == pytest.approx(float(problem.widest_loss(torch.tensor(v[0]))),
                                                              rel=1e-12)


@pytest.mark.parametrize("objective", ls.OBJECTIVES)
def test_block_constants_and_variances_match_the_verifier(objective):
    """Block-Lipschitz constants (spectral norms of autograd block Hessians) and per-sample gradient variances of
    both cells, at an identified pair (V = W...W), equal the verifier's."""
    run, make, _ = _problem(objective, seed=1)
    w = np.random.default_rng(4).normal(size=(1, 3, 4, 4)) / 2
    v = ls.chain_products(w)
    problem = make(w[0])
    lip_n, var_n = ls.block_diagnostics("narrow", objective, w, run.inputs, run.targets, run.readout)
    lip_w, var_w = ls.block_diagnostics("wide", objective, v, run.inputs, run.targets, run.readout)
    nh, wh = narrowest_hessian(problem), widest_hessian(problem)
    ng, wg = narrowest_weight_gradients(problem), widest_weight_gradients(problem)
    for i in range(3):
        assert lip_n[0, i] == pytest.approx(symmetric_spectral_norm(nh[i, i]), rel=1e-9)
        assert lip_w[0, i] == pytest.approx(symmetric_spectral_norm(wh[i, i]), rel=1e-9)
        assert var_n[0, i] == pytest.approx(gradient_variance(ng[:, i]), rel=1e-9)
        assert var_w[0, i] == pytest.approx(gradient_variance(wg[:, i]), rel=1e-9)
    # Theorem 4.2's direction at this point: the first narrow block is never smoother than the wide one (quadratic)
    if objective == "quadratic":
        assert lip_n[0, 0] >= lip_w[0, 0] * (1 - 1e-12)


def test_first_step_closed_form_same_function_pairing():
    """Pairing (a), quadratic, n = 2, d = 1, one sample per batch: both cells start as the same function, and with
    a tiny lr the first step lowers the loss by lr * ||grad||^2 to first order, where ||grad||^2 is computable by
    hand: wide (g1 x)^2 + (g2 x)^2, narrow (g1 x + g2 w2 x)^2 + (g2 w1 x)^2."""
    x, t1, t2, w1, w2 = 1.5, 0.3, -0.7, 0.8, 1.2
    inputs = np.array([[[x]]])
    targets = np.array([[[[t1], [t2]]]])
    run = ls.RunData("quadratic", inputs, targets)
    w = np.array([[[[w1]], [[w2]]]])
    v = ls.chain_products(w)
    assert v[0, 1, 0, 0] == pytest.approx(w1 * w2)
    g1, g2 = w1 * x - t1, w2 * w1 * x - t2
    grad_wide = (g1 * x) ** 2 + (g2 * x) ** 2
    grad_narrow = (g1 * x + g2 * w2 * x) ** 2 + (g2 * w1 * x) ** 2
    lr = 1e-6
    batches = np.zeros((1, 1, 1), dtype=int)
    out_w = ls.sgd("wide", v, np.array([lr]), run, batches)
    out_n = ls.sgd("narrow", w, np.array([lr]), run, batches)
    assert out_w["losses"][0, 0] == pytest.approx(out_n["losses"][0, 0], rel=1e-14)
    drop_w = out_w["losses"][0, 0] - out_w["losses"][1, 0]
    drop_n = out_n["losses"][0, 0] - out_n["losses"][1, 0]
    assert drop_w == pytest.approx(lr * grad_wide, rel=1e-5)
    assert drop_n == pytest.approx(lr * grad_narrow, rel=1e-5)
    assert drop_n > drop_w  # here the chain's first step is the larger one


def test_vectorised_trainer_equals_a_per_seed_loop():
    """Stacking runs (several lrs, seeds) gives the same trajectories as running each seed on its own."""
    run, _, data = _problem("cross_entropy")
    setting = _setting(objectives=("cross_entropy",))
    starts = [ls.initial_pair(setting, "gaussian", "independent", 3, s, "cross_entropy")[1] for s in range(2)]
    batches = np.random.default_rng(0).integers(0, 32, size=(15, 2, 4))
    stacked = ls.RunData("cross_entropy", data.inputs[:2], data.targets[:2], data.readouts[3][:2])
    lrs = np.array([0.5, 2.0])
    together = ls.sgd("narrow", np.stack(starts), lrs, stacked, batches, checkpoints=(7,))
    for s in range(2):
        alone = ls.sgd("narrow", starts[s][None], lrs[s:s + 1], stacked.rows([s]), batches[:, s:s + 1],
                       checkpoints=(7,))
        assert np.allclose(alone["losses"][:, 0], together["losses"][:, s], rtol=1e-12, atol=1e-14)
        assert np.allclose(alone["weights"][7][0], together["weights"][7][s], rtol=1e-12, atol=1e-14)


def test_same_function_pairing_starts_equal_and_independent_does_not():
    setting = _setting()
    for init in ls.INITS:
        v, w = ls.initial_pair(setting, init, "same_function", 3, 0, "quadratic")
        assert np.allclose(v[2], w[2] @ w[1] @ w[0]) and np.allclose(v[0], w[0])
        v2, w2 = ls.initial_pair(setting, init, "independent", 3, 0, "quadratic")
        assert np.array_equal(w2, w) and not np.allclose(v2, v)
    with pytest.raises(ValueError):
        ls.init_weights(np.random.default_rng(0), "zeros", 2, 2)


def test_divergence_and_steps_to_threshold():
    """A chain at a huge lr diverges and gets None; a reached threshold gives the first step at or below it."""
    run, _, _ = _problem("quadratic")
    w = np.stack([np.eye(4)] * 3)[None] * 1.5
    out = ls.sgd("narrow", np.concatenate([w, w]), np.array([5.0, 1e-9]), ls.RunData(
        "quadratic", np.repeat(run.inputs, 2, 0), np.repeat(run.targets, 2, 0)),
        np.zeros((30, 2, 4), dtype=int))
    assert out["diverged"].tolist() == [True, False]
    assert np.isnan(out["losses"][-1, 0]) and np.isfinite(out["losses"][-1, 1])
    losses = np.array([[5.0, 5.0, 5.0], [3.0, 5.0, np.nan], [1.0, 4.0, np.nan], [0.5, 4.0, np.nan]])
    got = ls.steps_to_threshold(losses, np.array([1.0, 1.0, 10.0]), np.array([False, False, True]))
    assert got == [2, None, None]  # the third reached it at step 0 but diverged


def test_sign_test_counts_and_exact_p_value():
    """None is slower than any count, ties and double None dropped; p equals scipy's exact binomial test and the
    hand sum 2 * sum_{k <= min} C(m, k) / 2^m."""
    wide = [3, 5, None, 7, 2, 4, None, 1, 1, 6]
    narrow = [4, 5, None, None, 9, 3, 8, 2, 0, 10]
    result = ls.sign_test(wide, narrow)
    assert (result["narrow_slower"], result["narrow_faster"], result["ties"]) == (5, 3, 2)
    assert result["p_value"] == pytest.approx(stats.binomtest(5, 8, 0.5).pvalue, rel=1e-12)
    hand = min(1.0, 2 * sum(math.comb(8, k) for k in range(0, 4)) / 2**8)
    assert result["p_value"] == pytest.approx(hand, rel=1e-12)
    assert result["fraction_narrow_slower"] == pytest.approx(5 / 8)
    lo, hi = result["fraction_ci95"]
    assert lo < 5 / 8 < hi
    assert ls.sign_test([None, 1], [None, 1])["p_value"] == 1.0


def test_holm():
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])
    assert holm([0.2, 0.01]) == pytest.approx([0.2, 0.02])


def test_cross_entropy_optimum_is_a_minimum():
    """f* of the classification data is below the loss of any other read-out matrix tried."""
    _, _, data = _problem("cross_entropy")
    x, y = data.inputs[0], data.targets[0]
    best = data.f_star[3][0]
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = rng.normal(size=(3, 4))
        logits = x @ m.T
        loss = np.mean(np.logaddexp.reduce(logits, axis=1) - (y * logits).sum(1))
        assert loss >= best - 1e-9
    assert 0 <= best < math.log(3) == data.f_zero[3][0]


def _check_schema(result):
    assert isinstance(result["seconds"], float)
    assert result["configs"]
    for c in result["configs"]:
        assert {"n", "lr", "objective", "init", "pairing", "seeds", "threshold", "wide", "narrow",
                "sign_test"} <= set(c)
        for cell in ("wide", "narrow"):
            steps = c[cell]["steps_to_threshold"]
            assert len(steps) == c["seeds"] and all(s is None or isinstance(s, int) for s in steps)
            assert isinstance(c[cell]["diverged"], int)
            assert sum(s is None for s in steps) >= c[cell]["diverged"]
        t = c["sign_test"]
        assert isinstance(t["narrow_slower"], int) and isinstance(t["narrow_faster"], int)
        assert 0 <= t["p_value"] <= 1 and t["p_value"] <= t["p_holm"] <= 1
        assert t["p_value"] == pytest.approx(
            stats.binomtest(t["narrow_slower"], t["narrow_slower"] + t["narrow_faster"]).pvalue
            if t["narrow_slower"] + t["narrow_faster"] else 1.0)
    v = result["verdict"]
    assert v["narrow_slower"] + v["narrow_faster"] + v["neither"] == v["configs"] == len(result["configs"])


def test_script_and_cli_json(capsys):
    module = runpy.run_path(str(ROOT / "theory" / "linear_cells_sgd.py"), run_name="theory_script")
    assert module["main"](["--json", "--quick"]) == 0
    script = json.loads(capsys.readouterr().out)
    _check_schema(script)
    assert {c["n"] for c in script["configs"]} == {2, 3}
    assert cellnas(["theory", "sgd", "--quick", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    _check_schema(cli)
    for a, b in zip(script["configs"], cli["configs"]):
        assert a["wide"]["steps_to_threshold"] == b["wide"]["steps_to_threshold"]
        assert a["narrow"]["steps_to_threshold"] == b["narrow"]["steps_to_threshold"]


def test_bad_arguments_exit_2(capsys):
    assert cellnas(["theory", "sgd", "--seed", "-1"]) == 2
    assert "seed" in capsys.readouterr().err
    assert cellnas(["theory", "nonsense"]) == 2


def test_both_reached_sign_test_drops_unfinished_seeds():
    wide = [3, 5, None, 7, 2, 4, None]
    narrow = [4, 5, None, None, 9, 3, 8]
    out = ls.both_reached_sign_test(wide, narrow)
    assert out["pairs"] == 4 and (out["narrow_slower"], out["narrow_faster"], out["ties"]) == (2, 1, 1)
    assert out["p_value"] == pytest.approx(stats.binomtest(2, 3).pvalue)
