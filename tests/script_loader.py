"""Load one of the repository's scripts (examples/, scripts/, benchmarks/) as a module, for tests.

The scripts are not part of the installed package, so tests import them by file path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_script(relative_path: str, name: str | None = None) -> ModuleType:
    """The module at `ROOT / relative_path`, executed fresh (named `name`, default the file's stem)."""
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
