# The width of the cell selected by its test loss after k epochs, per repetition (thin) and averaged (thick),
# against k; dashed: the mean candidate width. From results/early_selection/summary.json.
import matplotlib.pyplot as plt
import numpy as np

from cellnas_edu.results import load_summary

rates = load_summary("early_selection")["analysis"]["learning_rates"]
fig, axes = plt.subplots(1, len(rates), figsize=(6 * len(rates), 3.8), layout="constrained", squeeze=False)
for ax, (lr, analysis) in zip(axes[0], rates.items()):
    repetitions = [r for r in analysis["repetitions"] if r["complete"]]
    for r in repetitions:
        ax.plot([s["k"] for s in r["selected"]], [np.nan if s["width"] is None else s["width"] for s in r["selected"]],
                "-o", color="tab:blue", alpha=0.35, ms=3)
    per_k = analysis["per_k"]
    ax.plot([p["k"] for p in per_k], [p["mean_selected_width"] for p in per_k], "-o", color="tab:blue", lw=3,
            label="selected cell (mean over repetitions)")
    ax.axhline(np.mean([r["mean_width"] for r in repetitions]), color="grey", ls="--", label="mean candidate width")
    ax.set_xscale("log", base=2)
    ax.set_xticks([p["k"] for p in per_k], [str(p["k"]) for p in per_k])
    ax.set(xlabel="k: epochs before the selection", ylabel="width of the selected cell (c)",
           title=f"learning rate {lr}: {len(repetitions)} repetitions")
    ax.legend(fontsize=8)
plt.show()
