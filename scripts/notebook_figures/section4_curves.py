# Mean test-loss curve of every cell of the Section 4 study (colour = width), one panel per learning rate,
# from the per-run records of results/convergence_study/summary.json.
import matplotlib.pyplot as plt
import numpy as np

from cellnas_edu.results import load_summary

records = load_summary("convergence_study")["records"]
lrs = sorted({r["lr"] for r in records})
norm = plt.Normalize(min(r["width"] for r in records), max(r["width"] for r in records))
fig, axes = plt.subplots(1, len(lrs), figsize=(5.2 * len(lrs), 4), layout="constrained", squeeze=False)
for ax, lr in zip(axes[0], lrs):
    for label in dict.fromkeys(r["label"] for r in records if r["lr"] == lr):
        runs = [r for r in records if r["lr"] == lr and r["label"] == label]
        curves = [r["metrics"]["test_loss_curve"] for r in runs if not r["diverged"]]
        diverged = sum(r["diverged"] for r in runs)
        if curves:
            mean = np.mean(np.asarray(curves, dtype=float), axis=0)
            ax.plot(np.arange(1, len(mean) + 1), mean, color=plt.cm.viridis(norm(runs[0]["width"])),
                    lw=2.6 if runs[0].get("original") else 1.2,
                    label=f"{label} ({runs[0]['width']:g}c, {runs[0]['depth']})"
                    + (f" [{diverged} diverged]" if diverged else ""))
    ax.set(xlabel="epoch", ylabel="test loss (mean over finished seeds)", title=f"lr {lr:g}")
    ax.legend(fontsize=6, ncol=2)
fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=axes[0].tolist(), label="cell width (units of c)")
plt.show()
