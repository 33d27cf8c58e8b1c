"""Parameter counts = Table 1 (Section 5), counted two ways, and the ``cellnas params`` command."""

import json

import pytest

from cellnas_edu.cells.genotypes import ADAPTED, builtin_names, get_genotype
from cellnas_edu.cli import main
from cellnas_edu.data import dataset_info
from cellnas_edu.nets.param_counts import (
    TABLE1_DATASETS,
    TABLE1_PARAMS_M,
    analytic_parameters,
    network_parameters,
    paper_params_m,
    parameter_table,
)

#: The 30 entries of Table 1 as (genotype, dataset, Params(M) printed in the paper).
TABLE1 = [
    (name, dataset, values[k])
    for original, row in TABLE1_PARAMS_M.items()
    for dataset, values in row.items()
    for k, name in enumerate((original, ADAPTED[original]))
]


@pytest.fixture(scope="module")
def built_counts():
    """Every built-in network at C=36, L=20 with the auxiliary head, built on the meta device."""
    return {(name, ds): network_parameters(name, ds) for name in builtin_names() for ds in TABLE1_DATASETS}


def test_table1_transcription_has_30_entries():
    assert len(TABLE1) == 30 and len(set((n, d) for n, d, _ in TABLE1)) == 30
    assert paper_params_m("DARTS_ADAPT", "cifar100") == 4.03 and paper_params_m("DARTS_V1", "cifar10") is None


@pytest.mark.parametrize("name,dataset,paper", TABLE1)
def test_network_parameters_match_table1(built_counts, name, dataset, paper):
    """The built network's size, in millions rounded to two decimals, is Table 1's number."""
    assert round(built_counts[(name, dataset)] / 1e6, 2) == paper


def test_table1_rounds_rather_than_truncates(built_counts):
    """NASNet on CIFAR-10 has 4,288,944 parameters: Table 1 prints 4.29, so it rounds."""
    assert built_counts[("NASNet", "cifar10")] == 4_288_944
    assert built_counts[("DARTS_V2", "cifar10")] == 3_825_768


def test_closed_form_count_equals_the_built_network(built_counts):
    for (name, dataset), count in built_counts.items():
        info = dataset_info(dataset)
        assert analytic_parameters(get_genotype(name), num_classes=info.num_classes) == count, (name, dataset)


@pytest.mark.parametrize("C,layers,auxiliary,dataset", [(8, 5, True, "fashion-mnist"), (16, 7, False, "synthetic"),
                                                         (6, 2, True, "tiny-imagenet-200")])
def test_closed_form_count_on_other_settings(C, layers, auxiliary, dataset):
    info = dataset_info(dataset)
    for name in ("NASNet", "AmoebaNet_ADAPT", "DARTS_V1"):
        expected = network_parameters(name, dataset, C=C, layers=layers, auxiliary=auxiliary)
        assert analytic_parameters(get_genotype(name), num_classes=info.num_classes, C=C, layers=layers,
                                   auxiliary=auxiliary, in_channels=info.in_channels) == expected


def test_auxiliary_head_is_what_separates_table1_from_the_darts_script():
    """DARTS' count_parameters_in_MB leaves the head out: 3.35M for DARTS on CIFAR-10, not Table 1's 3.83M."""
    without = analytic_parameters(get_genotype("DARTS_V2"), num_classes=10, auxiliary=False)
    assert round(without / 1e6, 2) == 3.35


def test_parameter_table_rows():
    rows = parameter_table()
    assert len(rows) == 3 * len(builtin_names())
    assert sum(row.paper_params_m is not None for row in rows) == 30
    assert all(row.params_m == row.paper_params_m for row in rows if row.paper_params_m is not None)
    assert all(row.paper_params_m is None for row in parameter_table(C=16))


def test_params_json_schema(capsys):
    assert main(["params", "--json"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert len(rows) == 33
    assert {(r["name"], r["dataset"]) for r in rows} == {(n, d) for n in builtin_names() for d in TABLE1_DATASETS}
    for row in rows:
        assert set(row) == {"name", "dataset", "params_m", "params", "paper_params_m"}
        assert isinstance(row["params"], int) and row["params_m"] == round(row["params"] / 1e6, 2)
    by_key = {(r["name"], r["dataset"]): r for r in rows}
    assert by_key[("SNAS_ADAPT", "tiny-imagenet-200")]["params_m"] == 3.45


def test_params_text_and_options(capsys):
    assert main(["params"]) == 0
    text = capsys.readouterr().out
    assert "DARTS_ADAPT" in text and "3.90 (3.90)" in text
    assert main(["params", "--json", "--no-auxiliary", "--C", "16", "--layers", "8"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["paper_params_m"] is None for r in rows)
    darts = next(r for r in rows if r["name"] == "DARTS_V2" and r["dataset"] == "cifar10")
    assert darts["params"] == analytic_parameters(get_genotype("DARTS_V2"), num_classes=10, C=16, layers=8,
                                                  auxiliary=False)


@pytest.mark.parametrize("argv,fragment", [(["params", "--C", "7"], "even"), (["params", "--layers", "0"], "positive"),
                                           (["params", "--C", "x"], "positive")])
def test_params_bad_input_is_one_line(capsys, argv, fragment):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and fragment in err


def test_table1_counts_the_operations_of_dead_nodes():
    """The adapted cells' dead nodes are built: without them AmoebaNet_ADAPT would be 2.78M, not Table 1's 3.60M."""
    from cellnas_edu.cells.cellspec import Genotype

    def without_dead_operations(cell):  # a parameter-free pooling in place of every dead node's operation
        dead = cell.dead_nodes()
        return cell.with_ops(["max_pool_3x3" if 2 + i // 2 in dead else op for i, op in enumerate(cell.ops)])

    expected = {"AmoebaNet_ADAPT": 2.78, "NASNet_ADAPT": 4.10, "ENAS_ADAPT": 4.20}
    for name, pruned_m in expected.items():
        genotype = get_genotype(name)
        pruned = Genotype(without_dead_operations(genotype.normal), without_dead_operations(genotype.reduce))
        pruned_count = analytic_parameters(pruned, num_classes=10)
        assert round(pruned_count / 1e6, 2) == pruned_m != paper_params_m(name, "cifar10")
