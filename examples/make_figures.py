"""Regenerate every figure the textbook shows, into docs/figures/ (one command).

Runs each example script of this folder with its CPU defaults, writing into a
work folder (``out/figures-work/`` by default; examples that train reuse the
runs they find there, so an interrupted or repeated call picks up where it
stopped), then copies every PNG it produced into ``docs/figures/``,
downscaled to at most ``--max-width`` pixels and palette-quantised so that each
committed figure stays under 300 KB (and all of them under 5 MB)::

    .venv/bin/python examples/make_figures.py              # everything (see examples/README.md for runtimes)
    .venv/bin/python examples/make_figures.py --only figure1_cells theory_report
    .venv/bin/python examples/make_figures.py --list

``make figures`` runs the first line. Progress goes to stderr; a summary of
the files written goes to stdout. A script that fails or is missing is
reported and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIGURES = ROOT / "docs" / "figures"
MAX_FILE_BYTES = 300_000
MAX_TOTAL_BYTES = 5_000_000


@dataclass(frozen=True)
class Job:
    """One example script, the CPU-default arguments it runs with, and which of its PNGs the docs show."""

    script: str
    args: tuple[str, ...] = ()
    #: "name.png" or "name.png:docs_name.png" (name may be a glob matching one file); empty = every new PNG
    keep: tuple[str, ...] = field(default=())
    folder: str | None = None  # work subfolder; examples sharing trained runs share it

    @property
    def name(self) -> str:
        return Path(self.script).stem

    @property
    def out_name(self) -> str:
        return self.folder or self.name


#: In chapter order. Each script takes ``--out FOLDER`` and writes its PNGs there.
JOBS: tuple[Job, ...] = (
    Job("figure1_cells.py", keep=("figure1_cells.png", "figure25_cells.png")),
    Job("table2_variants.py", keep=("table2_darts_seed0.png", "table2_amoebanet_seed0.png")),
    Job("space_histograms.py"),
    Job("section4_figures.py"),  # the Section 4 study's figures, from the committed results/ files (no training)
    Job("figure3_convergence.py", keep=("figures/test_curves_lr*.png:figure3_test_curves.png",)),
    Job("figure5_operation_variants.py", keep=("DARTS/figures/test_curves_lr*.png:figure5_operation_variants.png",)),
    Job("figure6_landscape.py", folder="landscape", keep=("compare_contours.png:figure6_contours.png",)),
    Job("figure7_8_gradient_variance.py", folder="landscape",
        keep=("compare_gradvar_heatmaps.png:figure7_gradvar_heatmaps.png",
              "compare_gradvar3d.png:figure8_gradvar3d.png")),
    Job("theory_report.py", keep=("theory_bounds.png",)),
    Job("linear_cells_sgd.py", keep=("linear_cells_sgd.png", "linear_cells_sgd_curves_quadratic.png",
                                     "linear_cells_sgd_curves_cross_entropy.png")),
    Job("search_figures.py"),  # Chapter 8's figures, from the committed results/ files (no training)
)


def shrink_png(data: bytes, max_width: int, colors: int = 128) -> bytes:
    """Downscale to ``max_width`` pixels (keeping the aspect ratio) and quantise to a palette PNG."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.split()[-1])
        image = background
    else:
        image = image.convert("RGB")
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)), Image.LANCZOS)
    for palette in (colors, 64, 32):
        out = io.BytesIO()
        image.quantize(colors=palette, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
        if out.tell() <= MAX_FILE_BYTES:
            break
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
    return out.getvalue()


def run_job(job: Job, work: Path, max_width: int) -> list[Path]:
    """Run one example into ``work/<folder>`` and copy its (shrunk) PNGs to docs/figures/. Returns the files written."""
    from cellnas_edu.io import atomic_write_bytes

    out = work / job.out_name
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    cmd = [sys.executable, str(EXAMPLES / job.script), "--out", str(out), *job.args]
    result = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=None, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{job.script} exited with status {result.returncode}")
    if job.keep:
        pairs = []
        for src, _, dst in (item.partition(":") for item in job.keep):
            matches = sorted(out.glob(src))
            if len(matches) > 1:
                raise RuntimeError(f"{job.script}: {src} matches {len(matches)} files")
            pairs.append((matches[0] if matches else out / src, dst or Path(src).name))
    else:
        pairs = [(p, p.name) for p in sorted(out.rglob("*.png")) if p.stat().st_mtime >= started - 1]
    missing = [str(png.relative_to(out)) for png, _ in pairs if not png.is_file()]
    if missing:
        raise RuntimeError(f"{job.script} did not write {', '.join(missing)}")
    written = []
    for png, name in pairs:
        target = FIGURES / name
        atomic_write_bytes(target, shrink_png(png.read_bytes(), max_width))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", help="run only these examples (names without .py)")
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.add_argument("--max-width", type=int, default=2000, help="largest width of a figure in pixels (2000)")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "figures-work",
                        help="work folder for the examples' outputs and trained runs (default out/figures-work)")
    args = parser.parse_args(argv)
    jobs = JOBS
    if args.list:
        for job in jobs:
            state = "" if (EXAMPLES / job.script).is_file() else "  (missing)"
            print(f"{job.name}{state}")
        return 0
    if args.only:
        unknown = sorted(set(args.only) - {job.name for job in jobs})
        if unknown:
            print(f"make_figures: error: unknown example(s): {', '.join(unknown)} (see --list)", file=sys.stderr)
            return 2
        jobs = tuple(job for job in jobs if job.name in args.only)

    FIGURES.mkdir(parents=True, exist_ok=True)
    failures, written = [], []
    for k, job in enumerate(jobs, 1):
        if not (EXAMPLES / job.script).is_file():
            print(f"[{k}/{len(jobs)}] {job.script}: missing, skipped", file=sys.stderr)
            failures.append(f"{job.script} (missing)")
            continue
        print(f"[{k}/{len(jobs)}] {job.script} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            files = run_job(job, args.work, args.max_width)
        except RuntimeError as exc:
            print(f"[{k}/{len(jobs)}] {exc}", file=sys.stderr)
            failures.append(job.script)
            continue
        seconds = time.perf_counter() - start
        print(f"[{k}/{len(jobs)}] {job.script}: {len(files)} figure(s) in {seconds:.0f} s", file=sys.stderr)
        written += files
    for path in written:
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1000:.0f} KB")
    total = sum(p.stat().st_size for p in FIGURES.glob("*.png"))
    print(f"docs/figures/: {total / 1e6:.2f} MB in {len(list(FIGURES.glob('*.png')))} PNG files")
    if total > MAX_TOTAL_BYTES:
        print(f"make_figures: docs/figures/ exceeds {MAX_TOTAL_BYTES / 1e6:.0f} MB", file=sys.stderr)
        return 1
    if failures:
        print(f"make_figures: not regenerated: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
