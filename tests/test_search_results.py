"""The committed results of Chapter 8 are what their records say, under the pre-registered protocol.

Every statistic Chapter 8 quotes is recomputed here from the per-run records of the results files (and the
records themselves from their genotypes), so a hand-edited number, a changed protocol or an analysis that
drifted from the code fails.
"""

import json
import math

import pytest
from script_loader import load_script

from cellnas_edu.cells.genotypes import genotype_from_dict
from cellnas_edu.cells.topology import cell_depth, cell_width
from cellnas_edu.results import load_summary
from cellnas_edu.search import against_space, early_selection


def _finite(loss):
    return loss if loss is not None and math.isfinite(loss) else math.inf


def _json(value):
    return json.loads(json.dumps(value))


@pytest.fixture(scope="module")
def darts_search():
    return load_summary("darts_search")


@pytest.fixture(scope="module")
def early():
    return load_summary("early_selection")


def test_darts_search_ran_the_preregistered_protocol(darts_search):
    protocol = darts_search["protocol"]
    assert protocol["seeds"] == 6 and [r["seed"] for r in darts_search["records"]] == list(range(6))
    expected = dict(preset="cpu", dataset="fashion-mnist", search_images=2560, epochs=8, batch_size=64,
                    init_channels=8, layers=5, lr=0.025, arch_lr=3e-3, augment=False)
    assert {k: protocol[k] for k in expected} == expected
    assert all(r["steps"] == 8 * (1280 // 64) for r in darts_search["records"])


def test_darts_search_records_agree_with_their_genotypes(darts_search):
    for record in darts_search["records"]:
        genotype = genotype_from_dict(record["genotype"])
        assert record["normal"] == {"width": float(cell_width(genotype.normal)), "depth": cell_depth(genotype.normal)}
        assert record["reduce"] == {"width": float(cell_width(genotype.reduce)), "depth": cell_depth(genotype.reduce)}
        assert record["widths_by_epoch"][-1] == record["normal"]["width"]
        assert record["depths_by_epoch"][-1] == record["normal"]["depth"]
        assert len(record["widths_by_epoch"]) == 9  # the initialisation and 8 epochs
        assert _json(against_space.placement(genotype.normal)) == record["space"]


def test_darts_search_analysis_is_recomputed_from_the_records(darts_search):
    script = load_script("examples/darts_search_seeds.py")
    assert _json(script.analyze(darts_search["records"])) == darts_search["analysis"]
    # and the p-values once more, independently of the script: the exact tail of the six-fold convolution
    widths = [int(2 * r["normal"]["width"]) for r in darts_search["records"]]
    counts = against_space.null_counts("connection_space")[0]
    stored = darts_search["analysis"]["normal"]["tests"]["connection_space"]["wider"]
    assert stored["p_value"] == float(against_space.sum_tail(counts, widths, "greater"))


def test_early_selection_ran_the_preregistered_protocol(early):
    protocol = early["protocol"]
    assert protocol["candidates"] == 6 and protocol["epochs"] == 8 and protocol["arch"] == "DARTS"
    assert protocol["dataset"] == "fashion-mnist"
    assert protocol["overrides"] == dict(init_channels=4, layers=5, train_subset=640, test_subset=320,
                                         batch_size=32, grad_clip=None)
    assert early["experiment"]["repetitions"] == 8 and early["experiment"]["select_at"] == [1, 2, 4, 8]
    assert early["experiment"]["lrs"] == [0.025, 0.25]
    assert early["complete"] and early["runs_done"] == early["runs_total"] == 96
    assert len(early["records"]) == 96


def test_early_selection_analysis_is_recomputed_from_the_records(early):
    spec = early_selection.EarlySelectionSpec(**{k: (tuple(v) if isinstance(v, list) else v)
                                                  for k, v in early["experiment"].items()})
    assert _json(early_selection.analyze(early["records"], spec)) == early["analysis"]
    script = load_script("examples/early_selection.py")
    assert {**_json(script.quotable(early["analysis"])),
            "accuracy": _json(script.accuracy_by_k(early["records"], early["analysis"]))} == early["quotable"]
    # the selections once more, from the losses: the lowest test loss after epoch k
    for lr, block in early["analysis"]["learning_rates"].items():
        for repetition in block["repetitions"]:
            runs = [r for r in early["records"] if r["lr"] == lr and r["repetition"] == repetition["repetition"]]
            for selected in repetition["selected"]:
                k = selected["k"]
                best = min(runs, key=lambda r, k=k: (_finite(r["test_loss"][k - 1]), r["draw"]))
                assert (best["label"], best["width"]) == (selected["label"], selected["width"])
