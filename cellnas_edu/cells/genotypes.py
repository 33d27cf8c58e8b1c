"""The published cells as data, and JSON load/save of genotypes.

The built-in cells are the normal and reduction cells of the architectures the
paper studies (Section 3, Figure 1) and their widest-and-shallowest adaptations
(Section 5, Figure 25), read from `resources/genotypes.json` which ships with
the package. Names:

|  |  |
|---|---|
| `NASNet` | Zoph et al. 2018 |
| `AmoebaNet` | Real et al. 2019 |
| `ENAS` | Pham et al. 2018 |
| `DARTS_V1` | DARTS, first-order search |
| `DARTS_V2` / `DARTS` | DARTS, second-order search (the cell of Figure 1(d)) |
| `SNAS_MILD` / `SNAS` | SNAS under the mild constraint (Figure 1(e)) |
| `*_ADAPT` | the adapted cells of Figure 25; `DARTS_ADAPT` comes from [`adapt`][cellnas_edu.cells.adaptation.adapt] |

A genotype file is JSON with the DARTS layout:

```text
{"normal": [["sep_conv_3x3", 0], ...], "normal_concat": [2, 3, 4, 5],
 "reduce": [...], "reduce_concat": [...]}
```"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from .adaptation import adapt
from .cellspec import CellSpec, Genotype  # noqa: F401  (re-exported)

_KEYS = ("normal", "normal_concat", "reduce", "reduce_concat")


def genotype_from_dict(data: object, name: str | None = None) -> Genotype:
    """Validate a parsed JSON object and build a [`Genotype`][cellnas_edu.cells.cellspec.Genotype] (`ValueError` on
    any problem)."""
    if not isinstance(data, dict):
        raise ValueError(f"a genotype must be a JSON object with keys {', '.join(_KEYS)}")
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise ValueError(f"missing key(s): {', '.join(missing)}")
    unknown = sorted(set(data) - set(_KEYS) - {"name"})
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(unknown)}")
    return Genotype.from_lists(*(data[k] for k in _KEYS), name=name or data.get("name"))


def load_genotype(path: str | Path) -> Genotype:
    """Read a genotype JSON file. Raises `ValueError` with the file name and the problem."""
    path = Path(path)
    try:
        from ..io import read_bounded_text

        text = read_bounded_text(path, what="genotype file")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ValueError(f"{path}: not a genotype ({str(exc).split(':')[0]})") from None
    except RecursionError:
        raise ValueError(f"{path}: not a genotype (JSON nested too deeply)") from None
    try:
        return genotype_from_dict(data, name=path.stem)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    except RecursionError:
        raise ValueError(f"{path}: not a genotype (nested too deeply)") from None


def save_genotype(genotype: Genotype, path: str | Path) -> None:
    """Write a genotype as JSON (atomically)."""
    from ..io import atomic_write_text

    atomic_write_text(Path(path), json.dumps(genotype.to_dict(), indent=1) + "\n")


def _load_builtins() -> dict[str, Genotype]:
    text = resources.files("cellnas_edu").joinpath("resources/genotypes.json").read_text(encoding="utf-8")
    table = json.loads(text)["genotypes"]
    cells = {name: genotype_from_dict(data, name=name) for name, data in table.items()}
    cells["DARTS_ADAPT"] = adapt(cells["DARTS_V2"], name="DARTS_ADAPT")
    return cells


_BUILTINS = _load_builtins()
ALIASES = {"DARTS": "DARTS_V2", "SNAS": "SNAS_MILD"}
"""Short names used in the paper's figures and tables."""
DISPLAY_NAMES = {"DARTS_V2": "DARTS", "SNAS_MILD": "SNAS"}
"""Names used in the paper's captions for the built-ins whose package names differ (the inverse of
`ALIASES`)."""


def display_name(genotype: Genotype) -> str:
    """The caption name of a genotype (`DARTS_V2` -> `DARTS`); `"cell"` when unnamed."""
    name = genotype.name or "cell"
    return DISPLAY_NAMES.get(name, name)

NASNet = _BUILTINS["NASNet"]
AmoebaNet = _BUILTINS["AmoebaNet"]
ENAS = _BUILTINS["ENAS"]
DARTS_V1 = _BUILTINS["DARTS_V1"]
DARTS_V2 = DARTS = _BUILTINS["DARTS_V2"]
SNAS_MILD = SNAS = _BUILTINS["SNAS_MILD"]
NASNet_ADAPT = _BUILTINS["NASNet_ADAPT"]
AmoebaNet_ADAPT = _BUILTINS["AmoebaNet_ADAPT"]
ENAS_ADAPT = _BUILTINS["ENAS_ADAPT"]
SNAS_ADAPT = _BUILTINS["SNAS_ADAPT"]
DARTS_ADAPT = _BUILTINS["DARTS_ADAPT"]

POPULAR = ("NASNet", "AmoebaNet", "ENAS", "DARTS_V2", "SNAS_MILD")
"""The five architectures of Figure 1, in the figure's order."""
ADAPTED = {
    "NASNet": "NASNet_ADAPT",
    "AmoebaNet": "AmoebaNet_ADAPT",
    "ENAS": "ENAS_ADAPT",
    "DARTS_V2": "DARTS_ADAPT",
    "SNAS_MILD": "SNAS_ADAPT",
}
"""Original -> adapted (Figure 25, Table 1)."""


def builtin_names() -> list[str]:
    """Every built-in name (aliases excluded), originals first."""
    return list(_BUILTINS)


def get_genotype(name: str) -> Genotype:
    """A built-in by name or alias (`ValueError` listing the names otherwise)."""
    key = ALIASES.get(name, name)
    if key not in _BUILTINS:
        known = ", ".join(list(_BUILTINS) + list(ALIASES))
        raise ValueError(f"unknown architecture {name!r} (built-ins: {known})")
    return _BUILTINS[key]


def resolve_genotype(name_or_path: str) -> Genotype:
    """A built-in name, or the path of a genotype JSON file."""
    key = ALIASES.get(name_or_path, name_or_path)
    if key in _BUILTINS:
        return _BUILTINS[key]
    if name_or_path.endswith(".json") or Path(name_or_path).exists():
        return load_genotype(name_or_path)
    return get_genotype(name_or_path)
