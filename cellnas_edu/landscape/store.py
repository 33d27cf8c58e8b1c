"""`landscape.npz`: the grid, what is done, and the settings it was computed with (resumable).

Layout (`np.savez`, no pickles):

* `alpha`, `beta`: the axes, `steps` values each from `-span` to
  `span`, built as `span * k / K` for `k = -K..K` so that the centre is
  exactly `0` (`steps = 2K + 1` must be odd);
* `loss[i, j] = s(alpha[i], beta[j])` (`indexing='ij'`; transpose for
  `contour(alpha, beta, ...)`), NaN where not computed yet, and the boolean
  `loss_done` (a point whose loss is NaN or inf, which happens at the far
  corners of a sharp landscape, is still *done*);
* `grad_var` and `grad_var_done` likewise (the trace of Section 4.2.2,
  see [`gradvar`][cellnas_edu.landscape.gradvar]), all NaN / False unless asked;
* the settings that define the grid ([`SETTINGS`][cellnas_edu.landscape.store.SETTINGS]): a file is resumed only
  with the same settings; `sample_indices` (the `M` test images);
* results: `eval_loss`, `grad_var_num_parameters`, the Hessian fields, the
  genotype and its normal-cell width and depth.

Every write is atomic ([`cellnas_edu.io.atomic_save`][cellnas_edu.io.atomic_save]), so an interrupted
run leaves the last complete snapshot."""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io import atomic_save

FILENAME = "landscape.npz"

SETTINGS = ("steps", "span", "samples", "seed", "ignore_bias_bn", "normalization", "dataset", "weights_fingerprint")
"""settings that must match for a file to be resumed"""


def grid_axis(steps: int, span: float) -> np.ndarray:
    """`steps` points from `-span` to `span` containing `0.0` exactly (`steps` odd)."""
    validate_grid(steps, span)
    half = (steps - 1) // 2
    if half == 0:
        return np.zeros(1)
    return span * np.arange(-half, half + 1, dtype=np.float64) / half


MAX_SPAN = 1000.0
"""the largest `--span`: beyond it every weight is dominated by the direction and the float32 loss overflows"""


def validate_grid(steps: int, span: float) -> None:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"--steps must be a positive integer, got {steps}")
    if steps % 2 == 0:
        raise ValueError(f"--steps must be odd so that the grid contains alpha = beta = 0 exactly, got {steps}")
    if not (isinstance(span, (int, float)) and math.isfinite(span) and 0 < span <= MAX_SPAN):
        raise ValueError(f"--span must be a number above 0 and at most {MAX_SPAN:g}, got {span:g} (the directions "
                         "are filter-normalised: a span of 1 already moves every filter by its own norm)")


@dataclass
class LandscapeData:
    """The contents of `landscape.npz` (see the module docstring)."""

    settings: dict
    alpha: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    loss_done: np.ndarray
    grad_var: np.ndarray
    grad_var_done: np.ndarray
    sample_indices: np.ndarray
    info: dict = field(default_factory=dict)

    @classmethod
    def empty(cls, settings: dict, sample_indices: np.ndarray) -> LandscapeData:
        axis = grid_axis(int(settings["steps"]), float(settings["span"]))
        shape = (axis.size, axis.size)
        return cls(
            settings=dict(settings),
            alpha=axis.copy(),
            beta=axis.copy(),
            loss=np.full(shape, np.nan),
            loss_done=np.zeros(shape, dtype=bool),
            grad_var=np.full(shape, np.nan),
            grad_var_done=np.zeros(shape, dtype=bool),
            sample_indices=np.asarray(sample_indices, dtype=np.int64),
        )

    @property
    def center(self) -> tuple[int, int]:
        return (self.alpha.size // 2, self.beta.size // 2)

    @property
    def center_loss(self) -> float:
        return float(self.loss[self.center])

    def has_grad_var(self) -> bool:
        return bool(self.grad_var_done.all())

    def save(self, path: Path) -> None:
        arrays = {
            "alpha": self.alpha, "beta": self.beta, "loss": self.loss, "loss_done": self.loss_done,
            "grad_var": self.grad_var, "grad_var_done": self.grad_var_done, "sample_indices": self.sample_indices,
            "settings_json": np.array(json.dumps(self.settings, sort_keys=True)),
            "info_json": np.array(json.dumps(self.info, sort_keys=True)),
        }
        for key, value in {**self.settings, **self.info}.items():
            if isinstance(value, (bool, int, float, str)) and key not in arrays:
                arrays[key] = np.array(value)
        atomic_save(Path(path), lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path: Path) -> LandscapeData:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:  # an object array (a pickle) is refused here
                data = cls(
                    settings=json.loads(str(npz["settings_json"])),
                    alpha=npz["alpha"], beta=npz["beta"], loss=npz["loss"], loss_done=npz["loss_done"],
                    grad_var=npz["grad_var"], grad_var_done=npz["grad_var_done"],
                    sample_indices=npz["sample_indices"], info=json.loads(str(npz["info_json"])),
                )
            data._check()
            return data
        except FileNotFoundError:
            raise UserError(f"{path}: no such file") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error, TypeError,
                RecursionError) as exc:
            reason = (str(exc).strip().splitlines() or [""])[0][:200]
            raise UserError(f"{path}: not a readable landscape file ({type(exc).__name__}: {reason})") from None

    def _check(self) -> None:
        """Structure and dtypes of a loaded file (`ValueError`): a hand-edited file fails here, not later."""
        if not isinstance(self.settings, dict) or not isinstance(self.info, dict):
            raise ValueError("settings_json and info_json must be JSON objects")
        for name in ("alpha", "beta"):
            axis = getattr(self, name)
            if axis.ndim != 1 or axis.size < 1 or axis.dtype.kind != "f":
                raise ValueError(f"{name} must be a non-empty 1-D float array, got {axis.dtype} {axis.shape}")
        shape = (self.alpha.size, self.beta.size)
        for name, kind in (("loss", "f"), ("loss_done", "b"), ("grad_var", "f"), ("grad_var_done", "b")):
            array = getattr(self, name)
            if array.shape != shape or array.dtype.kind != kind:
                raise ValueError(f"{name} is {array.dtype} {array.shape}, expected "
                                 f"{'float' if kind == 'f' else 'bool'} {shape}")
        if self.sample_indices.ndim != 1 or self.sample_indices.dtype.kind not in "iu":
            raise ValueError(f"sample_indices must be a 1-D integer array, got {self.sample_indices.dtype}")


def settings_mismatch(existing: dict, wanted: dict) -> list[str]:
    """`["steps: 11 in the file, 21 now", ...]` for every setting of
    [`SETTINGS`][cellnas_edu.landscape.store.SETTINGS] that differs."""
    return [f"{key}: {existing.get(key)!r} in the file, {wanted.get(key)!r} now"
            for key in SETTINGS if existing.get(key) != wanted.get(key)]


def open_for_resume(path: Path, settings: dict, sample_indices: np.ndarray, overwrite: bool) -> LandscapeData:
    """The existing data to resume if the settings match, a fresh grid if there is none or `overwrite`.

    A file with other settings is a one-line [`UserError`][cellnas_edu.errors.UserError]
    (nothing is written here: a fresh grid replaces the file only at its first save)."""
    path = Path(path)
    if overwrite or not path.exists():
        return LandscapeData.empty(settings, sample_indices)
    data = LandscapeData.load(path)
    differences = settings_mismatch(data.settings, settings)
    if differences:
        raise UserError(f"{path} was computed with other settings ({'; '.join(differences)}); "
                        "pass --overwrite to replace it")
    if not np.array_equal(data.sample_indices, sample_indices):
        raise UserError(f"{path} used another sample of test images; pass --overwrite to replace it")
    return data
