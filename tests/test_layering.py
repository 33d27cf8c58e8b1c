"""The package's layers: the shared utilities and the statistics at the bottom, then cells below nets below
train below experiments (the one runner of many runs) below convergence/landscape/search, the studies, the
exercises and the command line on top; theory alone (but for the shared utilities and the statistics).

Checked on the source with ``ast`` (every ``import`` and ``from ... import``,
also inside functions), and once at run time: importing ``cellnas_edu.cells``
does not import torch.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cellnas_edu"

#: the shared utilities at the bottom: they import nothing of the package but each other (and its `__version__`).
UTILITIES = {"errors", "io", "seeds", "constraints", "safe_pickle", "paper", "results", "page"}
#: theory stands alone: nothing of the package but these shared utilities.
THEORY_ALLOWED = {"theory", "errors", "io", "seeds", "stats"}
#: stats is the bottom layer: numpy, scipy and the standard library, nothing of the package but its errors.
STATS_ALLOWED = {"stats", "errors"}
#: what sits above every library package: the command line, the exercises and the studies' drivers.
ABOVE_LIBRARIES = {"cli", "__main__", "exercises", "section4_study", "section41_retest", "section5_study"}
LIBRARIES = {"stats", "cells", "nets", "data", "train", "experiments", "convergence", "landscape", "theory", "nb201",
             "search"}
EVERYTHING = UTILITIES | ABOVE_LIBRARIES | LIBRARIES

#: package or top-level module -> the cellnas_edu packages/modules it must never import (one row for each, which
#: test_every_package_and_module_has_a_row checks).
FORBIDDEN = {
    "cells": {"nets", "data", "train", "experiments", "convergence", "landscape", "theory", "nb201", "search"}
    | ABOVE_LIBRARIES,
    "nets": {"train", "experiments", "convergence", "landscape", "theory", "nb201", "search"} | ABOVE_LIBRARIES,
    "data": {"train", "experiments", "convergence", "landscape", "theory", "nb201", "search"} | ABOVE_LIBRARIES,
    "train": {"experiments", "convergence", "landscape", "theory", "nb201", "search"} | ABOVE_LIBRARIES,
    # the one runner of an experiment's many runs: above the trainer, below the studies' libraries that use it
    "experiments": {"convergence", "landscape", "theory", "nb201", "search"} | ABOVE_LIBRARIES,
    "convergence": {"landscape", "theory", "nb201", "search"} | ABOVE_LIBRARIES,
    "landscape": {"convergence", "theory", "nb201", "search"} | ABOVE_LIBRARIES,
    "nb201": {"convergence", "landscape", "theory"} | ABOVE_LIBRARIES,  # Chapter 9 searches with Chapter 8's trainer
    "search": {"theory", "nb201"} | ABOVE_LIBRARIES,
    "theory": EVERYTHING - THEORY_ALLOWED,
    "stats": EVERYTHING - STATS_ALLOWED,
    "exercises": {"cli", "__main__"} | (ABOVE_LIBRARIES - {"exercises"}),
    "section4_study": {"cli", "__main__", "exercises", "section41_retest", "section5_study"},
    "section41_retest": {"cli", "__main__", "exercises", "section5_study"},
    "section5_study": {"cli", "__main__", "exercises", "section4_study", "section41_retest"},
    "cli": {"__main__"},
    "__main__": EVERYTHING - {"cli"},
    **{name: EVERYTHING - UTILITIES for name in UTILITIES},
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, absolute module)`` of every cellnas_edu import in one file."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names if a.name.startswith("cellnas_edu"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x: each name may be a module
                    out.extend((node.lineno, f"{name}.{a.name}") for a in node.names)
                    continue
            else:
                name = node.module or ""
            if name.startswith("cellnas_edu"):
                out.append((node.lineno, name))
    return out


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def sources(package: str) -> list[Path]:
    """The files of a package (its folder) or of a top-level module."""
    folder = PACKAGE / package
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{package}.py"]


def violations(package: str, allowed=None, forbidden=()) -> list[str]:
    found = []
    for path in sources(package):
        for line, module in imported_modules(path):
            layer = layer_of(module)
            if layer is None or layer == package:
                continue
            if layer in forbidden or (allowed is not None and layer not in allowed):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module} "
                             f"({package} must not import {layer})")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_back_up(package):
    assert violations(package, forbidden=FORBIDDEN[package]) == []


def test_every_package_and_module_has_a_row():
    """A new package or top-level module needs its row (what it must never import) before it can pass."""
    present = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    present |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and any(p.rglob("*.py"))}
    assert present == set(FORBIDDEN), f"no row: {sorted(present - set(FORBIDDEN))}; " \
                                      f"no such package: {sorted(set(FORBIDDEN) - present)}"


def test_theory_imports_nothing_else_from_the_package():
    assert violations("theory", allowed=THEORY_ALLOWED) == []


def test_stats_imports_nothing_else_from_the_package():
    assert violations("stats", allowed=STATS_ALLOWED) == []


def test_stats_imports_only_numpy_scipy_and_the_standard_library():
    """Third-party imports of the statistics package: numpy and scipy, nothing else (no torch, no matplotlib)."""
    third_party = set()
    for path in sorted((PACKAGE / "stats").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and not node.level else [])
            third_party.update(n.split(".")[0] for n in names if n.split(".")[0] not in sys.stdlib_module_names)
    assert third_party <= {"numpy", "scipy"}, third_party
    assert heavy_modules_loaded(("cellnas_edu.stats",), ("torch", "matplotlib", "scipy")) == "[]"


def test_the_checker_sees_a_violation(tmp_path):
    """The ast walk resolves relative imports (guards the guard)."""
    probe = PACKAGE / "cells" / "topology.py"
    modules = [m for _, m in imported_modules(probe)]
    assert "cellnas_edu.cells.cellspec" in modules


def heavy_modules_loaded(modules: tuple[str, ...], heavy: tuple[str, ...]) -> str:
    """Which of `heavy` a fresh interpreter has loaded after importing `modules` (printed as a list)."""
    code = (f"import sys, {', '.join(modules)}; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PACKAGE.parent)
    return result.stdout.strip()


def test_importing_cells_does_not_import_torch():
    heavy = heavy_modules_loaded(("cellnas_edu.cells", "cellnas_edu.cells.space", "cellnas_edu.cells.variants",
                                  "cellnas_edu.cells.tables", "cellnas_edu.cells.drawing", "cellnas_edu.paper",
                                  "cellnas_edu.nets.param_counts"), ("torch", "matplotlib", "scipy"))
    assert heavy == "[]", f"cells/paper/param_counts imported {heavy}"


def test_the_nb201_tables_import_no_torch():
    """Chapter 9's analysis runs on the shipped table alone: the cell, the space, the data and the analysis load
    neither torch nor matplotlib."""
    heavy = heavy_modules_loaded(("cellnas_edu.nb201.cell", "cellnas_edu.nb201.space", "cellnas_edu.nb201.data",
                                  "cellnas_edu.nb201.params", "cellnas_edu.nb201.naslib", "cellnas_edu.nb201.drawing",
                                  "cellnas_edu.nb201.analysis", "cellnas_edu.nb201.natsbench",
                                  "cellnas_edu.nb201.schedules"), ("torch", "matplotlib"))
    assert heavy == "[]", f"nb201 imported {heavy}"


def test_the_restricted_unpickler_imports_nothing_heavy():
    """The one restricted unpickler serves torch-free readers (NATS-Bench's archive) as well as CIFAR's: it loads
    neither torch nor, until a pickle names it, numpy."""
    heavy = heavy_modules_loaded(("cellnas_edu.safe_pickle",), ("torch", "numpy"))
    assert heavy == "[]", f"safe_pickle imported {heavy}"
