"""The topology subcommands: cells, analyze, variants, adapt, draw, space (through cellnas_edu.cli.main)."""

import json

import pytest

from cellnas_edu.cells.genotypes import builtin_names, get_genotype, save_genotype
from cellnas_edu.cli import main


def run_json(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def call(argv):
    """``cellnas ARGV``: the return code, also when argparse exits (bad flags exit 2 through SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def assert_one_line_error(capsys, argv, *fragments):
    code = call(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_cells_json(capsys):
    rows = run_json(capsys, ["cells", "--json"])
    assert len(rows) == 2 * len(builtin_names())
    assert all(set(row) == {"name", "cell", "width", "depth"} for row in rows)
    assert all(isinstance(row["width"], float) and isinstance(row["depth"], int) for row in rows)
    table = {(row["name"], row["cell"]): (row["width"], row["depth"]) for row in rows}
    assert table[("DARTS_V2", "normal")] == (3.5, 3)
    assert table[("AmoebaNet", "normal")] == (4.0, 4)
    assert table[("AmoebaNet_ADAPT", "normal")] == (3.0, 2)
    assert table[("DARTS_ADAPT", "normal")] == (4.0, 2)
    assert table[("NASNet", "reduce")] == (3.5, 3)


def test_cells_text(capsys):
    assert main(["cells"]) == 0
    out = capsys.readouterr().out
    assert "DARTS_V2" in out and "3.5c" in out and "AmoebaNet_ADAPT" in out


def test_analyze_a_user_file(capsys, tmp_path):
    path = tmp_path / "mine.json"
    save_genotype(get_genotype("SNAS_MILD"), path)
    rows = run_json(capsys, ["analyze", str(path), "--json"])
    assert rows == [
        {"name": "mine", "cell": "normal", "width": 4.0, "depth": 2},
        {"name": "mine", "cell": "reduce", "width": 2.5, "depth": 3},
    ]
    assert main(["analyze", str(path)]) == 0 and "mine" in capsys.readouterr().out


def _write(tmp_path, data, name="bad.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def _darts_dict():
    return get_genotype("DARTS_V2").to_dict()


@pytest.mark.parametrize(
    "edit, fragments",
    [
        (lambda d: d["normal"].__setitem__(7, ["dil_conv_3x3", 5]),
         ["normal cell", "node 5, operation 2", "source 5 does not precede node 5"]),
        (lambda d: d["reduce"].__setitem__(2, ["conv_9x9", 0]), ["reduce cell", "node 3, operation 1", "conv_9x9"]),
        (lambda d: d["normal"].pop(), ["normal cell", "odd number"]),
        (lambda d: d.__setitem__("normal_concat", [2, 9]), ["normal cell", "concat entry 9 is out of range"]),
        (lambda d: d.pop("reduce_concat"), ["missing key", "reduce_concat"]),
        (lambda d: d["normal"].__setitem__(0, ["sep_conv_3x3", "0"]), ["node 2, operation 1", "integer"]),
    ],
)
def test_analyze_malformed_files(capsys, tmp_path, edit, fragments):
    data = _darts_dict()
    edit(data)
    path = _write(tmp_path, data)
    line = assert_one_line_error(capsys, ["analyze", path, "--json"], "cellnas analyze: error:", *fragments)
    assert path in line


def test_analyze_not_json_and_missing_file(capsys, tmp_path):
    assert_one_line_error(capsys, ["analyze", _write(tmp_path, "{oops")], "not valid JSON", "line 1")
    assert_one_line_error(capsys, ["analyze", str(tmp_path / "nope.json")], "no such file")
    assert_one_line_error(capsys, ["analyze", _write(tmp_path, [1, 2])], "must be a JSON object")


def test_unknown_architecture(capsys):
    assert_one_line_error(capsys, ["space", "ResNet"], "unknown architecture 'ResNet'", "DARTS_V2")
    assert_one_line_error(capsys, ["variants", "ResNet", "--json"], "unknown architecture")
    assert_one_line_error(capsys, ["adapt", "ResNet"], "unknown architecture")
    assert_one_line_error(capsys, ["variants", "DARTS", "--kind", "edges"], "invalid choice")


def test_variants_json(capsys):
    data = run_json(capsys, ["variants", "DARTS", "--count", "5", "--seed", "2020", "--json"])
    assert data["name"] == "DARTS_V2" and data["original"] == {"width": 3.5, "depth": 3}
    assert [v["label"] for v in data["variants"]] == ["C1", "C2", "C3", "C4", "C5"]
    first = data["variants"][0]
    assert (first["width"], first["depth"]) == (2.0, 5)
    assert [src for _, src in first["genotype"]["normal"]] == [1, 1, 0, 2, 1, 3, 4, 4]
    assert first["genotype"]["reduce"] == _darts_dict()["reduce"]
    again = run_json(capsys, ["variants", "DARTS", "--count", "5", "--seed", "2020", "--json"])
    assert again == data


def test_variants_from_a_file_and_output(capsys, tmp_path):
    path = _write(tmp_path, _darts_dict(), "darts.json")
    out = tmp_path / "family.json"
    data = run_json(capsys, ["variants", path, "--kind", "operations", "--count", "3", "--json", "-o", str(out)])
    assert json.loads(out.read_text()) == data
    assert all((v["width"], v["depth"]) == (3.5, 3) for v in data["variants"])
    assert_one_line_error(capsys, ["variants", "DARTS", "--count", "-2"], "--count must be between 0 and 10000")


def test_adapt_json_and_output(capsys, tmp_path):
    out = tmp_path / "amoeba_adapt.json"
    data = run_json(capsys, ["adapt", "AmoebaNet", "--json", "-o", str(out)])
    assert data["adapted_name"] == "AmoebaNet_ADAPT"
    assert data["cells"][0] == {"cell": "normal", "before": {"width": 4.0, "depth": 4},
                                "after": {"width": 3.0, "depth": 2}}
    assert data["cells"][1]["after"] == {"width": 3.0, "depth": 2}
    assert json.loads(out.read_text()) == data["genotype"]
    assert run_json(capsys, ["analyze", str(out), "--json"])[0]["width"] == 3.0
    assert main(["adapt", "DARTS"]) == 0 and "3.5c, 3  ->  4c, 2" in capsys.readouterr().out


def test_space_json_schema(capsys):
    data = run_json(capsys, ["space", "DARTS", "--json"])
    assert {"name", "cell", "count", "histogram", "original", "fraction_at_least_as_wide"} <= set(data)
    assert data["name"] == "DARTS_V2" and data["cell"] == "normal" and data["count"] == 14_400
    assert data["original"] == {"width": 3.5, "depth": 3}
    assert all(set(b) == {"width", "depth", "count"} for b in data["histogram"])
    assert sum(b["count"] for b in data["histogram"]) == 14_400
    assert {"width": 4.0, "depth": 2, "count": 256} in data["histogram"]
    assert data["max_width"] == 4.0 and data["min_depth"] == 2
    wider = sum(b["count"] for b in data["histogram"] if b["width"] >= 3.5)
    assert data["fraction_at_least_as_wide"] == pytest.approx(wider / 14_400)
    reduce = run_json(capsys, ["space", "DARTS", "--cell", "reduce", "--json"])
    assert reduce["cell"] == "reduce" and reduce["original"] == {"width": 2.5, "depth": 3}


def test_space_text(capsys):
    assert main(["space", "SNAS"]) == 0
    out = capsys.readouterr().out
    assert "14,400" in out and "256*" in out


def test_draw(capsys, tmp_path):
    data = run_json(capsys, ["draw", "DARTS", "-o", str(tmp_path / "d.svg"), "--variants", "3", "--json"])
    assert [p["caption"] for p in data["panels"]][0] == "DARTS, 3.5c, 3" and len(data["panels"]) == 4
    assert (tmp_path / "d.svg").read_text().count("c[k-2]") == 4
    assert main(["draw", "AmoebaNet", "--cell", "reduce", "-o", str(tmp_path / "a.png")]) == 0
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert_one_line_error(capsys, ["draw", "DARTS", "-o", str(tmp_path / "d.gif")], "use .png or .svg")
    assert_one_line_error(capsys, ["draw", "DARTS"], "required", "-o")


def test_space_command_is_fast_and_does_not_import_torch():
    """`cellnas space NASNet --json` enumerates 518,400 variants with numpy only, start-up included, in seconds."""
    import subprocess
    import sys
    import time

    code = ("import sys; from cellnas_edu.cli import main; rc = main(['space', 'NASNet', '--json']); "
            "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["count"] == 518_400
    assert elapsed < 10, f"took {elapsed:.1f} s"
