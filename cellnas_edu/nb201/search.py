r"""First-order DARTS on the NAS-Bench-201 space, and what the found cell is worth (Chapter 9, Observation 3.1).

The search itself is Chapter 8's trainer ([`run_search`][cellnas_edu.search.darts.run_search]) handed
[`NB201_SPACE`][cellnas_edu.nb201.search.NB201_SPACE] (the supernet
[`NB201SuperNet`][cellnas_edu.nb201.supernet.NB201SuperNet]; presets `nb201-cpu` and `nb201-paper`); this module
holds what differs: the record of each epoch (the softmax weights, the derived
cell, its width and depth, and the **margin** of every edge: the best operation's weight minus the second
best's), and the summary. Because every one of the 15,625 cells of the space has been trained for 200 epochs by
NATS-Bench, the summary can also say what the derived cell is worth when trained to convergence: its test
accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120 and its percentile among the trainable cells, from the
shipped table ([`observation31`][cellnas_edu.nb201.analysis.observation31]).

The margins matter: at a small scale the architecture weights can stay close to their uniform start
($1/5$ each), and then the argmax that derives the cell is decided by noise. A margin is at most 1 (a
one-hot choice) and starts at about $10^{-3}$.
"""

from __future__ import annotations

from ..search.darts import SearchSpace
from .analysis import observation31
from .cell import NB201Cell
from .supernet import derive_arch, edge_margins

__all__ = ["NB201_SPACE", "RESULT_FIELDS", "architecture_record", "format_result", "search_result"]

RESULT_FIELDS = {"status": str, "epochs_done": int, "config": dict, "arch": str, "cell": dict, "margins": list,
                 "weights": list, "lookup": dict, "valid_loss": float, "valid_acc": float, "seconds": float,
                 "steps": int, "archs_by_epoch": list, "widths_by_epoch": list, "depths_by_epoch": list}
"""The fields of a NAS-Bench-201 search's `result.json` and their types (`float` accepts integers)."""


def _cell_measures(cell: NB201Cell) -> dict:
    return {"width": cell.width, "depth": cell.depth, "convs_on_longest_path": cell.convs_on_longest_path,
            "live_convolutions": cell.live_convolutions, "trainable": cell.is_trainable}


def architecture_record(model, epoch: int) -> dict:
    """The softmax weights, the derived cell (architecture string, width, depth) and each edge's margin after
    `epoch` (0: the initialisation)."""
    weights = model.operation_weights().tolist()
    cell = derive_arch(weights)
    return {"epoch": epoch, "weights": [[round(w, 6) for w in row] for row in weights],
            "arch": cell.to_arch_string(), "width": cell.width, "depth": cell.depth,
            "margins": [round(m, 6) for m in edge_margins(weights)]}


def search_result(config, history: list[dict], steps: int, out_dir=None) -> dict:
    """The summary of a finished search (`result.json`): the found cell, its measures and margins, and its
    200-epoch accuracies looked up in the shipped table."""
    final = history[-1]
    cell = NB201Cell.from_arch_string(final["arch"])
    return {
        "status": "done",
        "epochs_done": config.epochs,
        "config": config.to_dict(),
        "arch": final["arch"],
        "cell": _cell_measures(cell),
        "margins": final["margins"],
        "weights": final["weights"],
        "lookup": observation31(arch=final["arch"]),
        "valid_loss": final["valid_loss"],
        "valid_acc": final["valid_acc"],
        "seconds": final["seconds_total"],
        "steps": steps,
        "archs_by_epoch": [r["arch"] for r in history],
        "widths_by_epoch": [r["width"] for r in history],
        "depths_by_epoch": [r["depth"] for r in history],
    }


def format_result(result: dict) -> str:
    """The text report of `cellnas nb201 search`."""
    from ..cells.tables import format_table
    from .operations import EDGES

    config, cell, lookup = result["config"], result["cell"], result["lookup"]
    weights = result["weights"]
    rows = []
    for e, (to, frm) in enumerate(EDGES):
        op = NB201Cell.from_arch_string(result["arch"]).op(to, frm)
        rows.append((f"{frm} -> {to}", op, f"{max(weights[e]):.3f}", f"{result['margins'][e]:.3f}"))
    accuracy = ", ".join(f"{name} {v['test_accuracy']:.2f}% (percentile {v['percentile']:.0f})"
                         for name, v in lookup["accuracy"].items())
    lines = [
        f"first-order DARTS on the NAS-Bench-201 space, {config['dataset']}, C = {config['init_channels']}, "
        f"{config['layers']} cell(s) a stage, {result['steps']} search steps in {result['seconds']:.0f} s",
        f"found cell: {result['arch']} (NATS-Bench index {lookup['index']})",
        f"width {cell['width']}, depth {cell['depth']}; {100 * lookup['share_at_least_as_wide']:.1f}% of the "
        f"trainable cells are at least as wide, {100 * lookup['share_at_most_as_deep']:.1f}% at most as deep",
        f"trained 200 epochs by NATS-Bench: {accuracy}",
        f"supernet on the architecture half: loss {result['valid_loss']:.3f}, accuracy {result['valid_acc']:.1f}%",
        "",
        "how decisive each edge was (uniform start: every weight 0.200, margin about 0):",
        format_table(["edge", "operation", "weight", "margin"], rows),
    ]
    return "\n".join(lines)


def _build(config, info):
    from .supernet import NB201SuperNet

    return NB201SuperNet(C=config.init_channels, cells_per_stage=config.layers, num_classes=info.num_classes,
                         in_channels=info.in_channels, stem_stride=info.stem_stride)


NB201_SPACE = SearchSpace(
    name="nb201", build=_build, record=architecture_record,
    record_ok=lambda r: isinstance(r.get("arch"), str) and isinstance(r.get("margins"), list),
    result=search_result, result_fields=RESULT_FIELDS,
    describe=lambda r: f"cell width {r['width']}, depth {r['depth']}", report=format_result)
"""NAS-Bench-201's space for Chapter 8's trainer: `run_search(config, out, space=NB201_SPACE)`."""
