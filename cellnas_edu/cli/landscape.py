"""`cellnas landscape`: loss surface, gradient variance and Hessian sharpness of a trained run (Section 4.2).

Examples:

```text
cellnas landscape runs/darts --steps 21 --span 1 --samples 1000 --gradvar --plots
cellnas landscape runs/darts --steps 51 --samples 10000 --gradvar --hessian --device cuda   # the paper's grid
torchrun --nproc_per_node 4 -m cellnas_edu.cli landscape runs/darts --steps 51 --samples 10000
```

Results go to `RUN_DIR/landscape.npz` as the grid progresses; rerunning the
same command resumes an interrupted grid. See [`cellnas_edu.landscape`][cellnas_edu.landscape]."""

from __future__ import annotations

import sys

from . import emit_json, path_arg, seed_arg


def add_arguments(parser) -> None:
    parser.add_argument("run_dir", type=path_arg, metavar="RUN_DIR", help="a training run folder (cellnas train --out)")
    parser.add_argument("--steps", type=int, default=21, help="grid points per axis, odd (default 21; paper: 51)")
    parser.add_argument("--span", type=float, default=1.0, help="the grid covers [-SPAN, SPAN]^2 (default 1)")
    parser.add_argument("--samples", type=int, default=1000,
                        help="M test images, a seeded class-balanced sample (default 1000; paper: 10000)")
    parser.add_argument("--gradvar", action="store_true", help="also the gradient variance g(alpha, beta) (Fig. 7, 8)")
    parser.add_argument("--gradvar-stat", choices=("trace", "per-parameter"), default="trace",
                        help="what the gradient-variance plots and grad_var_selected_center show: the trace g of the "
                             "per-sample gradient covariance (default) or g/P per parameter (Appendix B.4's 1e-5 "
                             "scale); --json always carries both and P")
    parser.add_argument("--hessian", action="store_true", help="also the top Hessian eigenvalue at the trained weights")
    parser.add_argument("--seed", type=seed_arg, default=0,
                        help="seed of the directions, the sample and the Hessian start")
    parser.add_argument("--keep-bias-bn", action="store_true",
                        help="also move biases and BatchNorm parameters (default: their directions are zero)")
    parser.add_argument("--chunk", type=int, default=None,
                        help="samples per vmap call for per-sample gradients (memory grows linearly; default: from "
                             "the memory available, at most half of it and at most 16, said on stderr)")
    parser.add_argument("--batch-size", type=int, default=256, help="batch size of the evaluation passes")
    parser.add_argument("--hessian-tol", type=float, default=1e-3, help="relative tolerance of power iteration")
    parser.add_argument("--hessian-max-iter", type=int, default=100, help="iteration cap of power iteration")
    parser.add_argument("--weights", choices=("auto", "final", "checkpoint"), default="auto",
                        help="model.pt (final) or checkpoint.pt (latest epoch); auto (default): final if present")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default auto")
    parser.add_argument("--plots", action="store_true", help="write RUN_DIR/landscape_*.png (Figures 6-8, slices)")
    parser.add_argument("--overwrite", action="store_true", help="replace a landscape.npz computed with other settings")
    parser.add_argument("--no-channels-last", action="store_true",
                        help="keep the default memory format (channels-last is faster, same values up to rounding)")
    parser.add_argument("--bn-recalibration", type=int, default=0, metavar="N",
                        help="re-estimate BatchNorm's statistics on the run's first N training images at every grid "
                             "point (default 0: the statistics stored with the weights, fixed across the grid)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")


def options_from_args(args):
    from ..landscape import LandscapeOptions

    return LandscapeOptions(
        steps=args.steps, span=args.span, samples=args.samples, seed=args.seed, ignore_bias_bn=not args.keep_bias_bn,
        gradvar=args.gradvar, gradvar_stat=args.gradvar_stat, hessian=args.hessian, chunk=args.chunk,
        batch_size=args.batch_size, device=args.device,
        hessian_tol=args.hessian_tol, hessian_max_iter=args.hessian_max_iter,
        weights="best available" if args.weights == "auto" else args.weights,
        overwrite=args.overwrite, plots=args.plots, progress=not args.no_progress,
        channels_last=not args.no_channels_last, bn_recalibration=args.bn_recalibration,
    )


def format_summary(summary: dict) -> str:
    def num(key, spec=".5g"):
        value = summary.get(key)
        return "-" if value is None else format(value, spec)

    lines = [
        f"run:          {summary['run_dir']} ({summary['arch']}, width {summary['cell_width']:g}c, "
        f"depth {summary['cell_depth']}; {summary['weights']} weights, epoch {summary['epoch']})",
        f"grid:         {summary['grid'][0]}x{summary['grid'][1]} over [-{summary['span']:g}, {summary['span']:g}]^2, "
        f"{summary['samples']} test images, seed {summary['seed']}; "
        f"{summary['points_done']}/{summary['points']} points done ({summary['points_computed_now']} now)",
        f"eval loss:    {num('eval_loss', '.6f')} (plain evaluation at the trained weights)",
        f"batchnorm:    {summary.get('batchnorm', '-')}",
        f"centre loss:  {num('center_loss', '.6f')}  min {num('min_loss', '.4f')}  max {num('max_loss', '.4g')}",
    ]
    if "grad_var_center" in summary:
        lines.append(f"grad var:     g(0,0) = {num('grad_var_center')}  sqrt = {num('grad_var_std_center')}  "
                     f"per parameter = {num('grad_var_per_parameter_center')} "
                     f"(P = {summary.get('grad_var_num_parameters')}; plots show "
                     f"{'sqrt(g)' if summary.get('grad_var_stat', 'trace') == 'trace' else 'sqrt(g/P)'}; "
                     f"trace of the per-sample gradient covariance over {summary['samples']} samples)")
    if "top_hessian_eigenvalue" in summary:
        lines.append(f"Hessian:      top eigenvalue {num('top_hessian_eigenvalue')} after "
                     f"{summary['hessian_iterations']} iterations"
                     f"{'' if summary['hessian_converged'] else ' (NOT converged: raise --hessian-max-iter)'}")
    lines.append(f"time:         {summary['seconds']:.1f} s")
    lines += [f"file:         {f}" for f in summary["files"]]
    return "\n".join(lines)


def run(args) -> int:
    from ..landscape import measure_landscape

    summary = measure_landscape(args.run_dir, options_from_args(args))
    if not summary:  # a non-zero rank under torchrun
        return 0
    if args.json:
        emit_json(summary)
    else:
        print(format_summary(summary))
        if summary["center_loss"] is not None and summary["eval_loss"] is not None:
            gap = abs(summary["center_loss"] - summary["eval_loss"])
            if gap > 1e-4 * max(1.0, abs(summary["eval_loss"])):
                print(f"warning: centre loss differs from eval loss by {gap:.3g}", file=sys.stderr)
    return 0
