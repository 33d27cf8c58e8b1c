"""`cellnas tour`: the guided tour of the paper in a few minutes, for a student.

Steps, in order (`STEPS`; a later step is added by appending a function
to that list):

1. **cells** -- the width and depth of every built-in cell (Section 3.2), with
   the values printed in Figure 1 and Figure 25, and the Figure 1 / Figure 25
   drawings written to `--out`;
2. **theory** -- the numerical checks of Section 4.3 / Appendix C
   ([`cellnas_edu.theory.theory_summary`][cellnas_edu.theory.theory_summary] in its quick mode): Theorem 4.2's
   stated bound and its corrected version, Theorem 4.3;
3. **training** -- a short training run on real images, offline: Fashion-MNIST
   (Debian's `dataset-fashion-mnist`) with the DARTS cell, a few epochs of a
   small network, the test accuracy per epoch and the curve as a PNG. Without
   Fashion-MNIST the run falls back to the `synthetic` data set.

`--quick` shrinks step 3 to seconds (synthetic data, the `smoke` preset); the step's heading says which
data it trains on (`training_title`).
The training run lives in `OUT/run-<dataset>-<size>/` and is resumable: a
second tour reuses the finished run."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import emit_json, path_arg


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=path_arg,
                        default="out/tour", help="folder for the drawings, the run and the curve "
                        "(default out/tour)")
    parser.add_argument("--quick", action="store_true", help="seconds instead of minutes (synthetic, tiny network)")
    parser.add_argument("--only", nargs="+", metavar="STEP", help=f"run only these steps ({', '.join(_names())})")
    parser.add_argument("--json", action="store_true", help="print the results of every step as JSON")


@dataclass
class Tour:
    """What every step gets: the output folder, the mode, and `say` (text for the student; silent in JSON mode)."""

    out: Path
    quick: bool
    json: bool
    results: dict = field(default_factory=dict)

    def say(self, text: str = "") -> None:
        if not self.json:
            print(text, flush=True)

    def heading(self, number: int, title: str) -> None:
        self.say()
        self.say(f"== {number}. {title} " + "=" * max(0, 72 - len(title)))


# -- step 1: the cells ------------------------------------------------------------------------------------------------

_FIGURE1_PANELS = "abcde"


def _paper_value(name: str, kind: str) -> str:
    """The printed width and depth of a built-in's normal cell (Figure 1 or Figure 25), or `""`."""
    from ..cells.genotypes import ADAPTED, POPULAR
    from ..paper import FIGURE1, FIGURE25

    if kind != "normal":
        return ""
    if name in FIGURE1:
        w, d = FIGURE1[name]
        return f"Figure 1({_FIGURE1_PANELS[POPULAR.index(name)]}): {w:g}c, {d}"
    original = next((o for o, a in ADAPTED.items() if a == name), None)
    if original in FIGURE25:
        w, d = FIGURE25[original]
        return f"Figure 25: {w:g}c, {d}"
    return ""


def display_name_of(name: str) -> str:
    from ..cells.genotypes import DISPLAY_NAMES

    return DISPLAY_NAMES.get(name, name)


def step_cells(tour: Tour) -> dict:
    """Step 1: Section 3.2's width and depth of every built-in cell, checked against Figures 1 and 25."""
    from ..cells.drawing import draw_cells
    from ..cells.genotypes import ADAPTED, POPULAR, display_name, get_genotype
    from ..cells.tables import cell_table, format_table
    from ..cells.topology import Topology, format_width

    tour.say("A cell is a small graph: 2 input nodes, a few intermediate nodes, one output node (Section 3.1).")
    tour.say("Width = how many intermediate nodes read the inputs directly (in units of c, a node fed by one input")
    tour.say("and one intermediate node counts c/2); depth = connections on the longest input-to-output path.")
    tour.say("The paper's observation (Section 3.2): cells found by NAS are wide and shallow.")
    tour.say()
    rows = cell_table()
    table = []
    for row in rows:
        label = f"{format_width(row.width)}, {row.depth}"
        paper = _paper_value(row.name, row.cell)
        match = "" if not paper else ("ok" if paper.endswith(label) else "DIFFERS")
        name = row.name if display_name_of(row.name) == row.name else f"{row.name} ({display_name_of(row.name)})"
        table.append({"architecture": name, "cell": row.cell, "width, depth": label,
                      "dead nodes": ", ".join(map(str, row.dead)) or "-", "paper": paper, "match": match})
    keys = list(table[0])
    tour.say(format_table(keys, [tuple(t[k] for k in keys) for t in table]))
    tour.say()
    tour.say("Dead nodes feed nothing that reaches the output, so they do not count in the width (see")
    tour.say("cellnas_edu/cells/topology.py for why the figures force this reading). *_ADAPT are the widest-and-")
    tour.say("shallowest adaptations of Section 5.")

    popular = [get_genotype(name) for name in POPULAR]
    figure1 = draw_cells([(g.normal, f"{display_name(g)}, {Topology.of(g.normal).label()}") for g in popular],
                         tour.out / "figure1_cells.png")
    adapted = [get_genotype(ADAPTED[name]) for name in POPULAR]
    figure25 = draw_cells([(g.normal, f"{display_name(g)}, {Topology.of(g.normal).label()}") for g in adapted],
                          tour.out / "figure25_adapted_cells.png")
    tour.say(f"Drawings (Figure 1 and Figure 25 style): {figure1}, {figure25}")
    mismatches = [t for t in table if t["match"] == "DIFFERS"]
    return {"table": table, "figures": [str(figure1), str(figure25)], "mismatches": len(mismatches)}


# -- step 2: the theory ----------------------------------------------------------------------------------------


def step_theory(tour: Tour) -> dict:
    """Step 2: Section 4.3's theorems checked numerically on the linear cells of Appendix C."""
    from ..theory import format_summary, theory_summary

    tour.say("Section 4.3 explains *why* wide and shallow cells converge faster by comparing two linear cells")
    tour.say("(Appendix C, Figure 26): the widest (every node reads the input) and the narrowest (a chain).")
    tour.say("Theorem 4.2: the chain's block-wise Lipschitz constant is the wide cell's times a product of largest")
    tour.say("eigenvalues; Theorem 4.3: its gradient variance is bounded by a sum that grows with the chain.")
    tour.say("The package computes the true quantities on random small cells and compares them with the bounds")
    tour.say("as printed; a violation is a counterexample to the statement as written (and the corrected bound")
    tour.say("is checked on the same instances).")
    tour.say()
    started = time.perf_counter()
    summary = theory_summary(seed=0, quick=True)
    tour.say(format_summary(summary))
    tour.say(f"({time.perf_counter() - started:.1f} s; the full checks: cellnas theory)")
    return summary


# -- step 3: a short training run ---------------------------------------------------------------------------------


def fashion_mnist_available() -> bool:
    """Whether the offline Fashion-MNIST copy (Debian's `dataset-fashion-mnist`) can be read."""
    from ..data import load_dataset
    from ..errors import UserError

    try:
        load_dataset("fashion-mnist", train=False, subset=10)
    except UserError:
        return False
    return True


def training_title(tour: Tour) -> str:
    """The heading of step 3, naming the data it really trains on."""
    where = "(Section 4.1, Appendix A.3)"
    if tour.quick:
        return f"Training on synthetic images, --quick {where}"
    if fashion_mnist_available():
        return f"Training on real images: Fashion-MNIST {where}"
    return f"Training on synthetic images: Fashion-MNIST is not installed {where}"


def _training_config(tour: Tour):
    """Fashion-MNIST if it is installed, else synthetic; a ~1 minute run (or seconds with `--quick`)."""
    from ..train import make_config

    if tour.quick:
        return make_config("smoke", arch="DARTS", dataset="synthetic", epochs=2, train_subset=128, test_subset=64,
                           device="cpu"), "quick"
    if fashion_mnist_available():
        dataset = "fashion-mnist"
    else:
        tour.say("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); using the synthetic "
                 "data set instead.")
        dataset = "synthetic"
    return make_config("cpu-mini", arch="DARTS", dataset=dataset, epochs=4, train_subset=1500, test_subset=500,
                       device="cpu"), "mini"


def plot_accuracy_curve(metrics: list[dict], path: Path, title: str) -> Path:
    """Test loss and test accuracy per epoch (Figure 3 style, one run); the training numbers are the running
    averages over each epoch, in training mode."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from ..io import atomic_save

    evaluated = [m for m in metrics if m.get("test_acc") is not None]
    epochs = [m["epoch"] for m in evaluated]
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(8, 3.2))
        ax_loss, ax_acc = fig.subplots(1, 2)
        ax_loss.plot(epochs, [m["test_loss"] for m in evaluated], "o-", label="test")
        ax_loss.plot(epochs, [m["train_loss"] for m in evaluated], "s--", label="train", alpha=0.7)
        ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
        ax_loss.legend()
        ax_acc.plot(epochs, [m["test_acc"] for m in evaluated], "o-", label="test")
        ax_acc.plot(epochs, [m["train_acc"] for m in evaluated], "s--", label="train", alpha=0.7)
        ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
        ax_acc.legend()
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        atomic_save(path, lambda handle: fig.savefig(handle, format="png", dpi=120,
                                                     metadata={"Software": "cellnas-edu"}))
    return path


def _train_with_cpu_threads(config, run_dir: Path):
    """Train with the threads [`cellnas_edu.train.cpu.choose_threads`][cellnas_edu.train.cpu.choose_threads] picks:
    the idle cores (all of them on an
    idle laptop, one on a busy machine). On a shared 2-core machine two intra-op threads per process slowed
    training down several times (94 s per epoch with two threads, 16 s with one)."""
    from ..train import train
    from ..train.cpu import choose_threads, torch_threads

    with torch_threads(choose_threads(jobs=1)):
        return train(config, run_dir, resume=True, progress=True)


def step_training(tour: Tour) -> dict:
    """Step 3: train a small DARTS network on real images and watch the test accuracy per epoch."""
    from ..train.runfolder import RunFolder

    config, size = _training_config(tour)
    run_dir = tour.out / f"run-{config.dataset}-{size}"
    tour.say(f"Now a (small) training run: the DARTS cell, {config.layers} cells of C={config.init_channels} "
             f"channels, on {config.train_subset} {config.dataset} training images for {config.epochs} epochs,")
    tour.say(f"SGD with lr {config.lr:g} and cosine annealing (Appendix A.3, scaled down). The progress bar is on "
             "stderr.")
    if RunFolder(run_dir).status_path.exists():
        tour.say(f"({run_dir} holds this run already: it is reused or resumed; delete the folder to train again)")
    summary = _train_with_cpu_threads(config, run_dir)
    tour.say()
    tour.say("epoch  train loss  test loss  test accuracy")
    for m in summary.metrics:
        if m.get("test_acc") is None:
            continue
        tour.say(f"{m['epoch']:>5}  {m['train_loss']:>10.4f}  {m['test_loss']:>9.4f}  {m['test_acc']:>12.2f}%")
    curve = plot_accuracy_curve(summary.metrics, tour.out / "training_curve.png",
                                f"DARTS on {config.dataset} ({config.epochs} epochs, {config.train_subset} images)")
    tour.say(f"Curve: {curve}   run folder: {run_dir}")
    tour.say("Next: `cellnas convergence DARTS --variants connections ...` trains DARTS against random variants")
    tour.say("of its cell (Section 4.1, Figure 3); see examples/figure3_convergence.py.")
    return {"dataset": config.dataset, "run_dir": str(run_dir), "curve": str(curve), "diverged": summary.diverged,
            "final_test_acc": summary.final_test_acc, "metrics": summary.metrics}


STEPS: list[tuple[str, str | Callable[[Tour], str], Callable[[Tour], dict]]] = [
    ("cells", "The cells: width and depth (Section 3, Figures 1 and 25)", step_cells),
    ("theory", "The theory: Theorems 4.2 and 4.3 checked numerically (Section 4.3)", step_theory),
    ("training", training_title, step_training),
]
"""The tour's steps in order: (name, title, function). Add a step by appending here. A title may be a
function of the `Tour` (for a heading that depends on the mode)."""


def _names() -> list[str]:
    return [name for name, _, _ in STEPS]


def run(args) -> int:
    chosen = args.only or _names()
    unknown = [s for s in chosen if s not in _names()]
    if unknown:
        raise ValueError(f"unknown tour step(s) {', '.join(unknown)} (steps: {', '.join(_names())})")
    tour = Tour(out=Path(args.out), quick=args.quick, json=args.json)
    tour.out.mkdir(parents=True, exist_ok=True)
    tour.say("cellnas-edu tour: 'Understanding Architectures Learnt by Cell-based Neural Architecture Search'")
    tour.say("(Shu, Wang & Cai, ICLR 2020) in a few minutes. Output folder: " + str(tour.out))
    started = time.perf_counter()
    timings = {}
    for number, (name, title, step) in enumerate(STEPS, 1):
        if name not in chosen:
            continue
        tour.heading(number, title(tour) if callable(title) else title)
        step_started = time.perf_counter()
        tour.results[name] = step(tour)
        timings[name] = round(time.perf_counter() - step_started, 2)
    total = round(time.perf_counter() - started, 2)
    if args.json:
        emit_json({**tour.results, "seconds": {**timings, "total": total}})
    else:
        tour.say()
        tour.say(f"Tour finished in {total:.0f} s. The README lists the other commands (cellnas --help).")
    sys.stdout.flush()
    return 0
