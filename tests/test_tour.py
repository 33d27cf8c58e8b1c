"""``cellnas tour``: the README's first command, in its quick mode."""

from __future__ import annotations

import json

import pytest

from cellnas_edu.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.slow
def test_quick_tour_prints_the_cell_table_and_trains(tmp_path, capsys):
    assert main(["tour", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    darts = next(line for line in out.splitlines() if line.startswith("DARTS_V2") and " normal " in line)
    assert "3.5c, 3" in darts and "Figure 1(d): 3.5c, 3" in darts and darts.rstrip().endswith("ok")
    assert "DIFFERS" not in out
    assert "Theorem 4.2" in out and "Theorem 4.3" in out
    assert "test accuracy" in out
    assert "Training on synthetic images, --quick" in out and "Training on real images" not in out
    for name in ("figure1_cells.png", "figure25_adapted_cells.png", "training_curve.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_tour_json_of_the_cells_step(tmp_path, capsys):
    assert main(["tour", "--only", "cells", "--json", "--out", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {(r["architecture"], r["cell"]): r for r in report["cells"]["table"]}
    assert rows[("DARTS_V2 (DARTS)", "normal")]["width, depth"] == "3.5c, 3"
    assert rows[("AmoebaNet_ADAPT", "normal")]["width, depth"] == "3c, 2"  # Figure 25: dead nodes pruned
    assert report["cells"]["mismatches"] == 0
    assert set(report["seconds"]) == {"cells", "total"}


def test_unknown_tour_step_is_a_one_line_error(tmp_path, capsys):
    assert main(["tour", "--only", "dance", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown tour step" in err and len(err.strip().splitlines()) == 1


def test_training_heading_names_the_data_it_trains_on(tmp_path, monkeypatch):
    from pathlib import Path

    from cellnas_edu.cli import tour

    quick = tour.Tour(out=Path(tmp_path), quick=True, json=True)
    assert tour.training_title(quick).startswith("Training on synthetic images, --quick")
    full = tour.Tour(out=Path(tmp_path), quick=False, json=True)
    monkeypatch.setattr(tour, "fashion_mnist_available", lambda: True)
    assert tour.training_title(full).startswith("Training on real images: Fashion-MNIST")
    monkeypatch.setattr(tour, "fashion_mnist_available", lambda: False)
    assert tour.training_title(full).startswith("Training on synthetic images: Fashion-MNIST is not installed")
    assert tour._training_config(full)[0].dataset == "synthetic"
