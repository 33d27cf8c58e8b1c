"""Safe file output: atomic writes and append-only JSON lines.

Every file the package writes goes through these helpers, so an interrupted
run never leaves a half-written result behind: data is written to a temporary
file in the same folder, flushed, fsynced and renamed over the target
(`os.replace` is atomic on POSIX).

* Permissions: `tempfile.mkstemp` creates files with mode `0600`; the
  temporary file is given the mode an ordinary `open` would have given the
  target (`0666` less the umask) before the rename.
* Errors: an `OSError` while writing (a read-only folder, a path under a
  file, `/proc`, a full disk) becomes a one-line
  [`UserError`][cellnas_edu.errors.UserError] naming the target, not the
  temporary file.
* What a path may name: a new file or an existing regular file (replaced
  atomically). A folder, a device node (`/dev/null`), a FIFO or a socket is
  refused with one line before anything is written: renaming over them would
  replace the node itself, for every user of the machine. A symlink is written
  *through*: its final target (which must itself be a new path or a regular
  file) is replaced atomically in the target's folder, and the link stays a
  link ([`writable_target`][cellnas_edu.io.writable_target]).
* An empty path is an error (`Path("")` would silently mean the current folder).
* A process killed between `mkstemp` and the rename leaves
  `.<name>.<random>.tmp` behind; [`remove_stale_temporaries`][cellnas_edu.io.remove_stale_temporaries] removes
  those of given targets (a run folder calls it when it starts, holding its
  lock, so no live writer is affected)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import UserError, describe_os_error


def default_file_mode() -> int:
    """The mode `open(path, "w")` gives a new file: `0666` less the process umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _cannot_write(path: Path, exc: OSError) -> UserError:
    """`cannot write PATH: reason`; the path in the error is named only where it is not PATH or its temporary."""
    names = [os.fsdecode(n) for n in (exc.filename, exc.filename2) if n is not None]
    if all(Path(n) == path or Path(n).name.startswith(f".{path.name}.") for n in names):
        exc = OSError(exc.errno, exc.strerror or str(exc))  # the temporary file's name would only confuse
    return UserError(f"cannot write {path}: {describe_os_error(exc)}")


_NOT_A_FILE = (
    (stat.S_ISDIR, "is a folder, not a file"),
    (stat.S_ISCHR, "is a device, not a regular file"),
    (stat.S_ISBLK, "is a device, not a regular file"),
    (stat.S_ISFIFO, "is a FIFO (named pipe), not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


def writable_target(path: Path | str) -> Path:
    """The regular file a write to `path` replaces: `path` itself, or a symlink's final target.

    Raises a one-line [`UserError`][cellnas_edu.errors.UserError] for an empty path
    and for a path (or link target) that exists but is not a regular file:
    a folder, a device node, a FIFO or a socket. A new path is accepted; its
    folder is created by the writer. A symlink loop is refused."""
    if isinstance(path, str) and not path.strip():
        raise UserError("an empty path: give a file name")
    path = Path(path)
    target = path
    if path.is_symlink():
        try:
            target = path.resolve(strict=False)
        except (OSError, RuntimeError):  # a loop of links
            raise UserError(f"cannot write {path}: a symlink loop") from None
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    for test, reason in _NOT_A_FILE:
        if test(mode):
            named = f"{path} (a symlink to {target})" if target != path else str(path)
            raise UserError(f"cannot write {named}: {reason}; cellnas writes only regular files")
    return target


def _atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    path = writable_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), default_file_mode())
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        writable_target(path)  # it may have become a folder, a FIFO, ... while we wrote
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise


_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")


def remove_stale_temporaries(folder: Path, names: Iterable[str] | None = None, *,
                             prefix: str | None = None) -> list[Path]:
    """Remove the temporaries `atomic_write_bytes` left in `folder` for the targets `names` (all if
    `None`; with `prefix`, targets whose name starts with it) when a process was killed mid-write; returns
    what was removed. Call it only while holding the lock of those targets: a live writer's temporary would be
    removed too."""
    folder = Path(folder)
    wanted = None if names is None else set(names)
    removed = []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if (match and (wanted is None or match["name"] in wanted)
                and (prefix is None or match["name"].startswith(prefix)) and entry.is_file()):
            try:
                entry.unlink()
                removed.append(entry)
            except FileNotFoundError:
                pass
    return removed


def _holder(lock_path: Path) -> str:
    try:
        text = lock_path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "another process"
    pid, _, what = text.partition(" ")
    return f"process {pid}" + (f" ({what})" if what else "") if pid.isdigit() else "another process"


@contextlib.contextmanager
def exclusive_lock(folder: Path, name: str, what: str, *, hint: str = "") -> Iterator[Path]:
    """Hold an exclusive `fcntl.flock` on `folder/name` for the `with` block, or raise a one-line
    [`UserError`][cellnas_edu.errors.UserError] naming the PID of the process that holds it.

    The lock file holds `"<pid> <what>"` and is removed on release (after
    checking that it is still the file this process locked, so two processes
    never hold locks on two different files of the same name). A process that
    dies releases its lock with it (the kernel drops flocks of closed files);
    its lock file stays and is taken over by the next process. `folder` is
    created if missing, and removed again on release if this call created it
    and it is still empty (a run refused later leaves nothing behind)."""
    folder = Path(folder)
    created = not folder.exists()
    lock_path = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, default_file_mode())
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise UserError(f"{folder} is in use by {_holder(lock_path)}{hint}") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed the file between our open and our lock: lock the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {what}\n".encode())
    except OSError as exc:
        raise _cannot_write(lock_path, exc) from None
    try:
        yield lock_path
    finally:
        try:
            os.unlink(lock_path)
        except FileNotFoundError:
            pass
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty


def atomic_write_bytes(path: Path, data: bytes) -> None:
    _atomic(path, lambda handle: handle.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_save(path: Path, save: Callable[[IO[bytes]], None]) -> None:
    """Atomic write through a callback that writes to a binary handle (`torch.save`, `np.savez`, figures)."""
    _atomic(path, save)


def append_jsonl(path: Path, record: dict) -> None:
    """Append one JSON object as a line, flushed and fsynced (to a new or regular file only, like the atomic
    writer)."""
    path = writable_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise _cannot_write(path, exc) from None


MAX_TEXT_BYTES = 64 * 2**20
"""the largest JSON, JSON-lines or text file any command reads (64 MiB: a run's metrics for 100,000 epochs fit)"""
MAX_DATA_BYTES = 1 * 2**30
"""the largest single data file (a CIFAR batch is 31 MB, the whole CIFAR-100 training file 158 MB)"""


def read_bounded_bytes(path: Path | str, limit: int = MAX_TEXT_BYTES, what: str = "file") -> bytes:
    """The bytes of `path`, read at most `limit` of them: a larger file (or an endless one such as `/dev/zero`)
    is a one-line [`UserError`][cellnas_edu.errors.UserError] instead of filling the memory. `FileNotFoundError`
    and other `OSError`s propagate (the CLI turns them into one line naming the file)."""
    path = Path(path)
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UserError(f"{path}: larger than {limit // 2**20} MiB, too large for a {what}; is it the right file?")
    return data


def read_bounded_text(path: Path | str, limit: int = MAX_TEXT_BYTES, what: str = "text file") -> str:
    """[`read_bounded_bytes`][cellnas_edu.io.read_bounded_bytes] decoded as UTF-8 (`UnicodeDecodeError` becomes
    one line naming the file)."""
    data = read_bounded_bytes(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}); is it the right file?") from None


def read_jsonl(path: Path) -> list[dict]:
    """Read a JSON-lines file (at most `MAX_TEXT_BYTES`), ignoring a torn last line left by a crash."""
    records = []
    path = Path(path)
    if not path.exists():
        return records
    lines = read_bounded_text(path, what="JSON-lines file").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise ValueError(f"{path}: line {number} is not valid JSON") from None
    return records
