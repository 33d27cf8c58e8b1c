r"""A family of landscapes side by side, against cell width and depth (Section 4.2, Appendix B.3/B.4).

Section 4.2 concludes that wider and shallower cells give a smoother loss
landscape (smaller Lipschitz constant, Figure 6) and a smaller gradient
variance near the optimum (Figures 7, 8). For a family of runs this module
tabulates, per run:

* **sharpness**: the top Hessian eigenvalue at $w^*$ when every run has
  one (`cellnas landscape --hessian`); otherwise the *slice curvature*, the
  central second difference of the 1-D slices averaged over both directions,

    $$
    \kappa = \frac12 \sum_{d \in \{\alpha, \beta\}} \frac{s(+h) - 2 s(0) + s(-h)}{h^2},
    $$

    which is the curvature *along the two filter-normalised directions* (a
    lower bound on the largest eigenvalue's scale, in other units): the table
    says which of the two it holds;

* **near-optimum gradient variance**: the mean of $g$ over the central
  region $|\alpha|, |\beta| \le \mathrm{span}/5$;

* the normal cell's width and depth (Section 3.2, [`cellnas_edu.cells.topology`][cellnas_edu.cells.topology]).

Spearman rank correlations ([`spearman_rho`][cellnas_edu.stats.ranks.spearman_rho]) of each measure
with width and with depth summarise the family. The paper's claim predicts a
negative correlation with width and a positive one with depth. One run (one
training seed) per cell gives no interval: a rank correlation over a handful
of cells is a description of this family, not a test."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..stats import spearman_rho
from .store import FILENAME, LandscapeData

CAVEAT = ("one run (one training seed) per cell: the measures have no interval, and a rank correlation over "
          "this many cells describes the family rather than testing the claim")
CENTRAL_FRACTION = 0.2


@dataclass(frozen=True)
class RunLandscape:
    """One row of the comparison table."""

    run_dir: str
    label: str
    width: float
    depth: int
    eval_loss: float | None
    top_hessian_eigenvalue: float | None
    slice_curvature: float | None
    near_optimum_grad_var: float | None
    num_parameters: int | None = None  #: P, the parameters the evaluation loss depends on (the gradient's length)
    near_optimum_grad_var_per_parameter: float | None = None  #: the same mean of g / P (Appendix B.4's scale)


def _finite_or_none(value):
    """JSON has no NaN or infinity: a non-finite measure (a grid that overflowed) is reported as `None`."""
    return value if value is None or math.isfinite(value) else None


def slice_curvature(data: LandscapeData) -> float | None:
    """The central second difference of $s(\\alpha, 0)$ and $s(0, \\beta)$, averaged (needs steps >= 3)."""
    if data.alpha.size < 3:
        return None
    i, j = data.center
    h_a = data.alpha[i + 1] - data.alpha[i]
    h_b = data.beta[j + 1] - data.beta[j]
    loss = data.loss
    along_alpha = (loss[i + 1, j] - 2 * loss[i, j] + loss[i - 1, j]) / h_a ** 2
    along_beta = (loss[i, j + 1] - 2 * loss[i, j] + loss[i, j - 1]) / h_b ** 2
    return float(0.5 * (along_alpha + along_beta))


def near_optimum_mean(values: np.ndarray, data: LandscapeData, fraction: float = CENTRAL_FRACTION) -> float:
    """Mean of `values` over $|\\alpha|, |\\beta| \\le$ `fraction * span` (at least the centre)."""
    radius = fraction * float(data.settings["span"]) * (1 + 1e-12)
    rows = np.abs(data.alpha) <= radius
    cols = np.abs(data.beta) <= radius
    return float(np.mean(values[np.ix_(rows, cols)]))


def load_landscape(run_dir: Path) -> LandscapeData:
    """`RUN_DIR/landscape.npz` with a complete loss grid (one-line [`UserError`][cellnas_edu.errors.UserError]
    otherwise)."""
    path = Path(run_dir) / FILENAME
    if not path.exists():
        raise UserError(f"{run_dir}: no {FILENAME} (run 'cellnas landscape {run_dir}' first)")
    data = LandscapeData.load(path)
    if not data.loss_done.all():
        raise UserError(f"{path}: incomplete grid ({int(data.loss_done.sum())} of {data.loss_done.size} points); "
                        f"rerun 'cellnas landscape {run_dir}' with the same settings to finish it")
    return data


def describe(run_dir: Path, data: LandscapeData) -> RunLandscape:
    """One table row; width and depth of the normal cell from the genotype stored with the grid (Section 3.2)."""
    from ..cells.genotypes import genotype_from_dict
    from ..cells.topology import cell_depth, cell_width

    info = data.info
    try:
        genotype = genotype_from_dict(json.loads(info["genotype"]))
    except (KeyError, ValueError) as exc:
        raise UserError(f"{run_dir}/{FILENAME}: no readable genotype ({exc})") from None
    name = info.get("genotype_name") or info.get("arch") or Path(run_dir).name
    params = info.get("grad_var_num_parameters")
    return RunLandscape(
        run_dir=str(run_dir),
        label=str(name),
        width=float(cell_width(genotype.normal)),
        depth=cell_depth(genotype.normal),
        eval_loss=_finite_or_none(info.get("eval_loss")),
        top_hessian_eigenvalue=_finite_or_none(info.get("top_hessian_eigenvalue")),
        slice_curvature=_finite_or_none(slice_curvature(data)),
        near_optimum_grad_var=_finite_or_none(near_optimum_mean(data.grad_var, data))
        if data.grad_var_done.all() else None,
        num_parameters=int(params) if params else None,
        near_optimum_grad_var_per_parameter=_finite_or_none(near_optimum_mean(data.grad_var, data) / params)
        if data.grad_var_done.all() and params else None,
    )


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rho ([`spearman_rho`][cellnas_edu.stats.ranks.spearman_rho]), or `None` when undefined (fewer than
    3 runs, or a constant column)."""
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2 or any(math.isnan(v) for v in (*x, *y)):
        return None
    rho = spearman_rho(x, y)
    return None if rho is None or not math.isfinite(rho) else rho


def compare_landscapes(run_dirs: list[Path]) -> tuple[dict, list[LandscapeData]]:
    """The comparison table (a JSON-ready dict) and the data, ordered by width (widest first), then depth."""
    if len(run_dirs) < 1:
        raise ValueError("give at least one run folder")
    loaded = [(Path(d), load_landscape(Path(d))) for d in run_dirs]
    rows = [describe(d, data) for d, data in loaded]
    order = sorted(range(len(rows)), key=lambda k: (-rows[k].width, rows[k].depth, rows[k].label))
    rows = [rows[k] for k in order]
    datas = [loaded[k][1] for k in order]

    use_hessian = all(r.top_hessian_eigenvalue is not None for r in rows)
    sharpness_kind = "top_hessian_eigenvalue" if use_hessian else "slice_curvature"
    sharpness = [r.top_hessian_eigenvalue if use_hessian else r.slice_curvature for r in rows]
    has_gradvar = all(r.near_optimum_grad_var is not None for r in rows)
    widths = [r.width for r in rows]
    depths = [r.depth for r in rows]
    correlations = {}
    if all(s is not None for s in sharpness):
        correlations["sharpness_vs_width"] = spearman(widths, sharpness)
        correlations["sharpness_vs_depth"] = spearman(depths, sharpness)
    if has_gradvar:
        g = [r.near_optimum_grad_var for r in rows]
        correlations["grad_var_vs_width"] = spearman(widths, g)
        correlations["grad_var_vs_depth"] = spearman(depths, g)
        if all(r.near_optimum_grad_var_per_parameter is not None for r in rows):
            per = [r.near_optimum_grad_var_per_parameter for r in rows]
            correlations["grad_var_per_parameter_vs_width"] = spearman(widths, per)
            correlations["grad_var_per_parameter_vs_depth"] = spearman(depths, per)
    spans = {float(d.settings["span"]) for d in datas}
    table = {
        "runs": [{**asdict(r), "sharpness": s} for r, s in zip(rows, sharpness)],
        "sharpness_kind": sharpness_kind,
        "sharpness_note": (
            "top Hessian eigenvalue at the trained weights (power iteration)" if use_hessian else
            "central second difference of the 1-D loss slices along the two filter-normalised directions, "
            "averaged (not every run has a Hessian eigenvalue; run 'cellnas landscape --hessian' for it)"),
        "grad_var_note": ("mean of g (trace of the per-sample gradient covariance) over the central region "
                          f"|alpha|, |beta| <= span/{round(1 / CENTRAL_FRACTION)}" if has_gradvar else
                          "not every run has a gradient-variance grid (cellnas landscape --gradvar)"),
        "grad_var_rankings": gradvar_rankings(rows) if has_gradvar else None,
        "width_depth": "normal cell, Section 3.2 (width in units of c)",
        "spearman": correlations,
        "expected_signs": "Section 4.2: negative with width, positive with depth",
        "caveat": CAVEAT,
        "same_span": len(spans) == 1,
    }
    return table, datas


def gradvar_rankings(rows: list[RunLandscape]) -> dict:
    """The runs ordered from smallest to largest gradient variance under the trace `g` and under `g / P`.

    The two orders differ only through the parameter counts `P`, which differ between variants (their
    reduction cells, and the number of edges that carry parameters): `same` says whether they agree."""
    trace = [r.label for r in sorted(rows, key=lambda r: r.near_optimum_grad_var)]
    if not all(r.near_optimum_grad_var_per_parameter is not None for r in rows):
        return {"trace": trace, "per_parameter": None, "same": None}
    per = [r.label for r in sorted(rows, key=lambda r: r.near_optimum_grad_var_per_parameter)]
    return {"trace": trace, "per_parameter": per, "same": trace == per}


def format_table(table: dict) -> str:
    """A plain-text table of [`compare_landscapes`][cellnas_edu.landscape.compare.compare_landscapes]."""
    kind = table["sharpness_kind"]
    lines = [f"{'run':<28} {'width':>6} {'depth':>5} {'eval loss':>10} {kind:>22} {'g near optimum':>15}"]
    for r in table["runs"]:
        def fmt(value, spec):
            return format(value, spec) if value is not None else "-"
        lines.append(f"{r['label'][:28]:<28} {r['width']:>5g}c {r['depth']:>5} {fmt(r['eval_loss'], '10.4f')} "
                     f"{fmt(r['sharpness'], '22.4g')} {fmt(r['near_optimum_grad_var'], '15.4g')}")
    lines.append(f"sharpness: {table['sharpness_note']}")
    lines.append(f"gradient variance: {table['grad_var_note']}")
    for key, rho in table["spearman"].items():
        lines.append(f"Spearman {key}: {'undefined (fewer than 3 runs or ties)' if rho is None else f'{rho:+.3f}'}")
    lines.append(f"caveat: {table['caveat']}")
    return "\n".join(lines)


def write_comparison_figures(table: dict, datas: list[LandscapeData], out_dir: Path) -> list[Path]:
    """`compare_contours.png` (Figure 6 / 17-20 layout) and, with gradient variance,
    `compare_gradvar_heatmaps.png` (Figure 7) and `compare_gradvar3d.png` (Figure 8 / 21-24), one panel per run
    ordered by width, sharing levels and colour scales (drawn by
    [`compare_figures`][cellnas_edu.landscape.compare_figures], sized for the book's page)."""
    from .compare_figures import DPI, contours_figure, gradvar_heatmaps_figure, gradvar_surfaces_figure
    from .plots import save_figure

    out_dir = Path(out_dir)
    written = [save_figure(contours_figure(table, datas), out_dir / "compare_contours.png", dpi=DPI)]
    if all(d.grad_var_done.all() for d in datas):
        written.append(save_figure(gradvar_heatmaps_figure(table, datas), out_dir / "compare_gradvar_heatmaps.png",
                                   dpi=DPI))
        written.append(save_figure(gradvar_surfaces_figure(table, datas), out_dir / "compare_gradvar3d.png",
                                   dpi=DPI))
    return written


def write_table(table: dict, out_dir: Path) -> Path:
    from ..io import atomic_write_text

    path = Path(out_dir) / "comparison.json"
    atomic_write_text(path, json.dumps(table, indent=2) + "\n")
    return path
