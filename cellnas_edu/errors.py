"""The exception type that the command line turns into a one-line error, and the rule for all others.

The `cellnas` command prints `cellnas <command>: error: <message>` on one
line and exits with status 2, never a traceback, for every error that bad
input or the environment causes. [`one_line_message`][cellnas_edu.errors.one_line_message] decides which those
are; anything else is a programming error and keeps its traceback (exit 1),
so that a bug is never disguised as a user mistake."""

from __future__ import annotations

import errno
import os
import pickle
import zipfile
import zlib


class UserError(Exception):
    """Bad input from the user (a file, a flag, a dataset that is missing).

    The `cellnas` command prints `cellnas <command>: error: <message>` on one
    line and exits with status 2; no traceback. Library code raises
    `ValueError` for malformed values (as [`CellSpec`][cellnas_edu.cells.cellspec.CellSpec]
    does) and `UserError` for problems with the environment (missing files,
    corrupt checkpoints); the command line converts both."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message (its type name if empty), at most `limit` characters."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_os_error(exc: OSError) -> str:
    """`"PATH: reason"` for an `OSError` (both paths of a rename), with a hint for the common ones."""
    reason = exc.strerror or first_line(exc)
    replaced = {  # what the reason means in these commands
        errno.EISDIR: "is a folder, not a file",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EEXIST: "exists and is not a folder",
    }
    added = {errno.EACCES: "no permission", errno.EROFS: "read-only", errno.ENOSPC: "disk full"}
    if exc.errno in replaced:
        reason = replaced[exc.errno]
    elif exc.errno in added and added[exc.errno] not in reason.lower():
        reason = f"{reason} ({added[exc.errno]})"
    names = [os.fspath(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(map(str, names))}: {reason}" if names else reason


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    text = str(exc)
    return name == "OutOfMemoryError" or (isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "out of memory" in text.lower()))


def one_line_message(exc: BaseException) -> str | None:
    """The one-line message for an error of input or environment, or `None` for a programming error.

    Input and environment (exit 2, one line):

    * [`UserError`][cellnas_edu.errors.UserError], `ValueError` (also `UnicodeError`, `json.JSONDecodeError`);
    * `OSError` of any kind (permissions, read-only or full disks, a folder
      where a file is meant, `/proc`...): the path(s) and the reason;
    * corrupt files: `zlib.error`, `zipfile.BadZipFile`, `EOFError`,
      `pickle.UnpicklingError`;
    * `RecursionError` (a deeply nested JSON file), `OverflowError` (a
      number beyond what a type can hold), and running out of memory
      (`MemoryError`, torch's allocation failures).

    Everything else (`TypeError`, `AttributeError`, `KeyError`,
    `IndexError`, other `RuntimeError`\\ s...) is a bug in this package and
    keeps its traceback."""
    if isinstance(exc, (UserError, ValueError)):
        return first_line(exc)
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    if isinstance(exc, RecursionError):
        return f"input nested too deeply to read ({first_line(exc)})"
    if _is_out_of_memory(exc):
        return (f"out of memory ({first_line(exc, 160)}); ask for less (a smaller --batch-size, --C, --layers, "
                "--steps or --samples)")
    if isinstance(exc, (zlib.error, zipfile.BadZipFile, EOFError, pickle.UnpicklingError)):
        return f"corrupt or truncated file ({type(exc).__name__}: {first_line(exc)})"
    if isinstance(exc, OverflowError):
        return f"a number is out of range ({first_line(exc)})"
    return None


# -- memory estimates -----------------------------------------------------------------------------------------------
GIB = 1024**3


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (`MemAvailable`), or `None` where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def refuse_if_too_big(estimate_bytes: float, what: str, *, available: int | None = None, hint: str = "") -> None:
    """Raise a one-line [`UserError`][cellnas_edu.errors.UserError] if `estimate_bytes` exceeds the memory available,
    before allocating.

    `available` defaults to [`available_memory`][cellnas_edu.errors.available_memory]; where that is unknown
    the limit is 1 TiB (a request beyond it cannot be meant)."""
    limit = available_memory() if available is None else available
    limit = 1024 * GIB if limit is None else limit
    if estimate_bytes > limit:
        raise UserError(f"{what} needs about {estimate_bytes / GIB:,.1f} GiB of memory, more than the "
                        f"{limit / GIB:,.1f} GiB available; ask for less{hint}")
