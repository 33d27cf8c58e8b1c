"""The package's one restricted unpickler: plain data and NumPy values, never a crafted global.

Two formats the book reads are pickles: CIFAR's "python version" batches
([`cellnas_edu.data.readers`][]) and NATS-Bench's archives
([`cellnas_edu.nb201.natsbench`][]). `pickle.load` of a crafted file runs
arbitrary code (a `__reduce__` that names `os.system`), so both go through
[`RestrictedUnpickler`][cellnas_edu.safe_pickle.RestrictedUnpickler]. Builtin containers and scalars (dict, list,
tuple, set, str, bytes, int, float, bool, None) need no global at all; the
only globals admitted are those of `ALLOWED_GLOBALS`:

* NumPy arrays and scalars (`numpy.ndarray`, `numpy.dtype`, `_reconstruct`,
  `_frombuffer`, `scalar`; the last checked to be one number of a numeric dtype);
* what protocol-2 pickles write for `bytes` (`_codecs.encode` of latin-1 text, `bytes()`);
* `collections.OrderedDict`, built empty and filled item by item (NATS-Bench's
  per-epoch times are ordered dicts).

Every other global is refused (`pickle.UnpicklingError` naming it) before it
is imported, and persistent ids are refused. Nothing here imports torch, and
NumPy is imported only when a pickle names it."""

from __future__ import annotations

import collections
import importlib
import io
import pickle


def _numpy_global(module: str, name: str):
    """`numpy._core.<module>.<name>` (NumPy 2), else `numpy.core.<module>.<name>` (NumPy 1)."""
    try:
        return getattr(importlib.import_module(f"numpy._core.{module}"), name)
    except (ImportError, AttributeError):
        return getattr(importlib.import_module(f"numpy.core.{module}"), name)


def _numpy(name: str):
    return getattr(importlib.import_module("numpy"), name)


def _safe_codecs_encode(text, encoding="utf-8"):
    """`_codecs.encode` as protocol-2 pickles of `bytes` use it: latin-1 text to bytes, nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode only of text as latin1")
    return text.encode("latin1")


def _safe_empty_bytes(*args):
    """`bytes()` as protocol-2 pickles write an empty `bytes`; `bytes(10**12)` and the like are refused."""
    if args:
        raise pickle.UnpicklingError("bytes(...) only without arguments")
    return b""


def _safe_ordered_dict(*args):
    """`collections.OrderedDict()` as its pickles build it: empty, then filled item by item."""
    if args:
        raise pickle.UnpicklingError("collections.OrderedDict(...) only without arguments")
    return collections.OrderedDict()


def _safe_numpy_scalar(dtype, data=None):
    """`numpy.core.multiarray.scalar`, only for one boolean, integer or floating-point number."""
    numpy = importlib.import_module("numpy")
    if not isinstance(dtype, numpy.dtype) or dtype.kind not in "biuf" or not isinstance(data, bytes) \
            or len(data) != dtype.itemsize:
        raise pickle.UnpicklingError("numpy scalar only of one boolean, integer or floating-point number")
    return _numpy_global("multiarray", "scalar")(dtype, data)


ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): lambda: _numpy("ndarray"),
    ("numpy", "dtype"): lambda: _numpy("dtype"),
    ("numpy.core.multiarray", "_reconstruct"): lambda: _numpy_global("multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): lambda: _numpy_global("multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"): lambda: _numpy_global("numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): lambda: _numpy_global("numeric", "_frombuffer"),
    ("numpy.core.multiarray", "scalar"): lambda: _safe_numpy_scalar,
    ("numpy._core.multiarray", "scalar"): lambda: _safe_numpy_scalar,
    ("_codecs", "encode"): lambda: _safe_codecs_encode,
    ("__builtin__", "bytes"): lambda: _safe_empty_bytes,
    ("builtins", "bytes"): lambda: _safe_empty_bytes,
    ("collections", "OrderedDict"): lambda: _safe_ordered_dict,
}
"""`(module, name)` -> a factory of what the pickle gets for that global; nothing else may be named."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler of builtin containers and scalars, NumPy arrays and scalars, and ordered dicts; nothing else.

    Refuses every global outside `ALLOWED_GLOBALS` before importing it, and every persistent id, with a
    `pickle.UnpicklingError` whose message starts with "refused"."""

    def find_class(self, module: str, name: str):
        factory = ALLOWED_GLOBALS.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(f"refused to load global {module}.{name}: only dicts, lists, tuples, sets, "
                                         "strings, bytes, numbers and numpy arrays are allowed")
        return factory()

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent id: only plain data is allowed")


def restricted_loads(data: bytes, encoding: str = "ASCII"):
    """Unpickle `data` with [`RestrictedUnpickler`][cellnas_edu.safe_pickle.RestrictedUnpickler] (`encoding` for
    Python 2 strings, as in `pickle.loads`)."""
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


__all__ = ["ALLOWED_GLOBALS", "RestrictedUnpickler", "restricted_loads"]
