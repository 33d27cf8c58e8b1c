r"""Results as data: every number the book quotes comes from a committed file.

Each experiment a chapter quotes writes one small JSON file,
`results/<experiment>/summary.json`, holding

* `provenance`: `{"command", "version", "git_commit", "date", "machine", "seconds"}`,
  how the file was made (`provenance`);
* the per-run records the statistics were computed from, so that every
  statistic can be recomputed from the file alone;
* the statistics themselves.

The textbook never types a result in by hand. A page writes a **quote**:

```text
{{ linear_cells_sgd:configs[n=2,lr=0.1].sign_test.p_value:.3g }}
```

that is `experiment:path[:format]`, and the site build replaces it by the
value in the file (`scripts/mkdocs_results_hook.py` calls `render`). The path is
dotted; `[3]` indexes a list and `[key=value,...]` selects the one element
of a list of objects whose fields match (numbers compare numerically, so
`lr=0.25` matches `0.25`). The format is a Python format spec (`.3f`,
`.2e`, `d`, `.1%`) with a few additions: `pct` (`.1%` without the
space problem), `min` (seconds shown as minutes, one decimal), `s` (the
value as text), `yn` (a truth value as yes or no), `w` (a name as words:
`cross_entropy` as cross entropy). A quote that cannot be resolved fails the build
(`QuoteError`), and `tests/test_results_quotes.py` renders every page
and fails on any such quote, so a page cannot drift from its file.

A whole table is quoted with `{{ table experiment:path:col,col/format,... }}`:
`path` selects a list of objects and each column names a field with an
optional format (`label,width,auc_mean/.3f`). A column may name its header
after `=` (`auc_mean/.3f=mean AUC`; the field's name is the header
otherwise), and two fields joined by `+` are one interval column,
`[low, high]` (`rho_low+rho_high/+.2f=95% interval`); joined by `;` a pair,
`a / b` (`wide_median;narrow_median=wide / narrow`), by `&` a count, `a of b`.
A table quoted on an indented line (inside a collapsible block) keeps
that indentation on every row. Headers are for readers: words, not field names (`tests/test_results_quotes.py` holds the
book's tables to that); they may not hold `,` or `|`."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .io import atomic_write_json, read_bounded_text

RESULTS_DIRNAME = "results"
"""The folder, relative to the repository root, that holds `<experiment>/summary.json`."""

PROVENANCE_KEYS = ("command", "version", "git_commit", "date", "machine", "seconds")
"""The keys every `provenance` object carries."""

_REPO_ROOT = Path(__file__).resolve().parent.parent


class QuoteError(ValueError):
    """A quote on a page names a file, key or format that does not exist."""


def default_root() -> Path:
    """The `results/` folder of the source checkout (`$CELLNAS_RESULTS` overrides it)."""
    env = os.environ.get("CELLNAS_RESULTS")
    return Path(env) if env else _REPO_ROOT / RESULTS_DIRNAME


def _git_commit(cwd: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=cwd, capture_output=True, text=True, timeout=10, check=False,
    )
    return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def machine_description() -> str:
    """One line naming the hardware a result was measured on (CPU cores, GPU if any)."""
    parts = [f"{platform.system()} {platform.machine()}", f"{os.cpu_count()} CPU cores"]
    try:  # torch is optional here: the cell modules must not need it
        import sys

        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            parts.append(f"GPU {torch.cuda.get_device_name(0)}")
        elif torch is not None:
            parts.append(f"torch {torch.__version__} CPU")
    except Exception:  # pragma: no cover - a broken CUDA set-up only loses the GPU name
        pass
    return ", ".join(parts)


def provenance(command: str, seconds: float, *, cwd: Path | None = None) -> dict[str, Any]:
    """The `provenance` object of a results file: what made it, from which code, where, how long.

    `command` is the command line a reader runs to regenerate the file;
    `seconds` is its wall time, which the book quotes as the run time."""
    from . import __version__

    return {
        "command": command,
        "version": __version__,
        "git_commit": _git_commit(cwd or _REPO_ROOT),
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": machine_description(),
        "seconds": round(float(seconds), 3),
    }


def summary_path(experiment: str, root: Path | None = None) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", experiment):
        raise QuoteError(f"experiment name {experiment!r} may only hold letters, digits, '_', '.', '-'")
    return Path(root or default_root()) / experiment / "summary.json"


def write_summary(
    experiment: str, data: dict[str, Any], *, command: str, seconds: float, root: Path | None = None
) -> Path:
    """Write `results/<experiment>/summary.json` atomically: `provenance` first, then `data`."""
    if "provenance" in data:
        raise ValueError("data must not carry its own 'provenance'; pass command= and seconds=")
    path = summary_path(experiment, root)
    atomic_write_json(path, {"provenance": provenance(command, seconds), **data})
    return path


def validate_summary(summary: Any, path: Path) -> dict[str, Any]:
    """Check that a loaded summary is an object with a complete `provenance`."""
    if not isinstance(summary, dict):
        raise QuoteError(f"{path}: a summary must be a JSON object")
    prov = summary.get("provenance")
    if not isinstance(prov, dict):
        raise QuoteError(f"{path}: missing 'provenance' object")
    missing = [key for key in PROVENANCE_KEYS if key not in prov]
    if missing:
        raise QuoteError(f"{path}: provenance lacks {', '.join(missing)}")
    if not isinstance(prov["seconds"], (int, float)) or prov["seconds"] < 0:
        raise QuoteError(f"{path}: provenance.seconds must be a non-negative number")
    return summary


def load_summary(experiment: str, root: Path | None = None) -> dict[str, Any]:
    path = summary_path(experiment, root)
    try:
        text = read_bounded_text(path, what="results file")
    except FileNotFoundError:
        raise QuoteError(f"{path}: no such results file (run the experiment's command to create it)") from None
    try:
        summary = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise QuoteError(f"{path}: not valid JSON ({exc})") from None
    return validate_summary(summary, path)


# --- paths --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def _matches(item: Any, field: str, wanted: str) -> bool:
    if not isinstance(item, dict) or field not in item:
        return False
    value = item[field]
    if isinstance(value, bool) or value is None:
        return str(value).lower() == wanted.lower()
    if isinstance(value, (int, float)):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    return str(value) == wanted


def lookup(data: Any, path: str) -> Any:
    """Follow a dotted path with `[i]` indices and `[key=value,...]` selectors (see the module doc)."""
    if not path:
        return data
    position = 0
    current = data
    for match in _TOKEN.finditer(path):
        if match.start() != position and path[position:match.start()] != ".":
            raise QuoteError(f"malformed path {path!r} near {path[position:]!r}")
        position = match.end()
        key, selector = match.group(1), match.group(2)
        if key is not None:
            if not isinstance(current, dict) or key not in current:
                raise QuoteError(f"no key {key!r} in path {path!r}")
            current = current[key]
        elif re.fullmatch(r"-?\d+", selector.strip()):
            index = int(selector)
            if not isinstance(current, list) or not -len(current) <= index < len(current):
                raise QuoteError(f"index [{index}] out of range in path {path!r}")
            current = current[index]
        else:
            conditions = [part.split("=", 1) for part in selector.split(",")]
            if any(len(c) != 2 for c in conditions):
                raise QuoteError(f"selector [{selector}] must be key=value[,key=value...] in path {path!r}")
            if not isinstance(current, list):
                raise QuoteError(f"selector [{selector}] applied to a non-list in path {path!r}")
            found = [
                item for item in current if all(_matches(item, k.strip(), v.strip()) for k, v in conditions)
            ]
            if len(found) != 1:
                raise QuoteError(f"selector [{selector}] matches {len(found)} elements (need exactly 1) in {path!r}")
            current = found[0]
    if position != len(path):
        raise QuoteError(f"malformed path {path!r}")
    return current


# --- formatting ---------------------------------------------------------------------------------


def format_value(value: Any, fmt: str = "") -> str:
    """Format a quoted value; `None` renders as an em dash, signs with a true minus."""
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        raise QuoteError(f"cannot quote a whole {type(value).__name__}; name one value")
    try:
        if fmt == "pct":
            text = f"{100 * float(value):.1f}%"
        elif fmt == "min":
            text = f"{float(value) / 60:.1f}"
        elif fmt == "yn":
            text = "yes" if value else "no"
        elif fmt == "w":
            text = str(value).replace("_", " ")
        elif fmt == "s" or (fmt == "" and isinstance(value, str)):
            text = str(value)
        elif fmt == "":
            text = str(value) if isinstance(value, int) else f"{float(value):.4g}"
        else:
            text = format(value, fmt)
    except (TypeError, ValueError) as exc:
        raise QuoteError(f"cannot format {value!r} with {fmt!r}: {exc}") from None
    return text.replace("-", "−") if isinstance(value, (int, float)) and not isinstance(value, bool) else text


@dataclass(frozen=True)
class Quote:
    """One `{{ ... }}` quote of a page: the experiment, the path and the format."""

    experiment: str
    path: str
    fmt: str
    table: bool = False

    @classmethod
    def parse(cls, body: str) -> Quote:
        body = body.strip()
        table = body.startswith("table ")
        if table:
            body = body[len("table "):].strip()
        parts = body.split(":")
        if len(parts) == 2:
            experiment, path, fmt = parts[0], parts[1], ""
        elif len(parts) >= 3:
            experiment, path, fmt = parts[0], parts[1], ":".join(parts[2:])
        else:
            raise QuoteError(f"quote {{{{ {body} }}}} must read experiment:path[:format]")
        return cls(experiment.strip(), path.strip(), fmt.strip(), table)


#: how a column of two fields shows them: an interval, a pair (wide / narrow), a count (3 of 5)
_JOINS = {"+": "[{0},\u00a0{1}]", ";": "{0} /\u00a0{1}", "&": "{0} of\u00a0{1}"}


def _table_columns(columns: str) -> list[tuple[list[str], str, str, str]]:
    """``[(fields, join, format, header), ...]`` of a table quote's column list (see the module doc)."""
    spec = []
    for column in columns.split(","):
        body, _, header = column.strip().partition("=")
        name, _, fmt = body.strip().partition("/")
        joins = [j for j in _JOINS if j in name]
        join = joins[0] if len(joins) == 1 else ""
        fields = [f.strip() for f in (name.split(join) if join else [name])]
        if len(joins) > 1 or not all(fields) or len(fields) > 2:
            raise QuoteError(f"table column {column.strip()!r} must name a field, or two joined by + ; or &")
        if "|" in header:
            raise QuoteError(f"table header {header!r} may not hold '|'")
        spec.append((fields, join, fmt.strip(), header.strip() or name.strip()))
    return spec


def _render_table(rows: Any, columns: str) -> str:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise QuoteError("a table quote must select a list of objects")
    spec = _table_columns(columns)
    lines = ["| " + " | ".join(header for *_, header in spec) + " |", "|" + "---|" * len(spec)]
    for row in rows:
        cells = []
        for fields, join, fmt, _ in spec:
            missing = [name for name in fields if name not in row]
            if missing:
                raise QuoteError(f"table column {missing[0]!r} is not a field of every row")
            values = [format_value(row[name], fmt) for name in fields]
            cells.append(_JOINS[join].format(*values) if join else values[0])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


QUOTE_PATTERN = re.compile(r"\{\{(.+?)\}\}")


def resolve(quote: Quote, root: Path | None = None, cache: dict | None = None) -> str:
    cache = {} if cache is None else cache
    if quote.experiment not in cache:
        cache[quote.experiment] = load_summary(quote.experiment, root)
    value = lookup(cache[quote.experiment], quote.path)
    return _render_table(value, quote.fmt) if quote.table else format_value(value, quote.fmt)


def render(markdown: str, root: Path | None = None, *, source: str = "page") -> str:
    """Replace every quote of a page by its value; any unresolved quote raises `QuoteError`."""
    cache: dict[str, Any] = {}

    def substitute(match: re.Match) -> str:
        try:
            text = resolve(Quote.parse(match.group(1)), root, cache)
            # a table quoted inside an indented block (a collapsible "??? note") keeps every row in the block
            indent = markdown[markdown.rfind("\n", 0, match.start()) + 1: match.start()]
            return text.replace("\n", "\n" + indent) if indent and not indent.strip() else text
        except QuoteError as exc:
            line = markdown.count("\n", 0, match.start()) + 1
            raise QuoteError(f"{source}:{line}: {{{{{match.group(1)}}}}}: {exc}") from None

    return QUOTE_PATTERN.sub(substitute, markdown)


def quotes_in(markdown: str) -> list[Quote]:
    """Every quote of a page, parsed (for tests and tooling)."""
    return [Quote.parse(m.group(1)) for m in QUOTE_PATTERN.finditer(markdown)]
