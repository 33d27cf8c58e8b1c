# Median normalised excess loss (f - f*)/(f0 - f*) of the widest and narrowest linear cells (n = 4, pairing (a)),
# with quartiles, for the quadratic objective: a column per learning rate, a row per initialisation;
# dotted: the threshold.
# From results/linear_cells_sgd/summary.json.
import matplotlib.pyplot as plt
import numpy as np

from cellnas_edu.results import load_summary

summary = load_summary("linear_cells_sgd")
steps = np.array(summary["curve_steps"])
configs = [c for c in summary["configs"]
           if c["n"] == 4 and c["pairing"] == "same_function" and c["objective"] == "quadratic"]
rows = list(dict.fromkeys((c["objective"], c["init"]) for c in configs))
ncols = max(len({c["lr"] for c in configs if c["objective"] == o}) for o, _ in rows)
fig, axes = plt.subplots(len(rows), ncols, figsize=(3.4 * ncols, 2.8 * len(rows)), layout="constrained", squeeze=False)
for r, (objective, init) in enumerate(rows):
    chosen = sorted((c for c in configs if (c["objective"], c["init"]) == (objective, init)), key=lambda c: c["lr"])
    for col, ax in enumerate(axes[r]):
        if col >= len(chosen):
            ax.set_visible(False)
            continue
        config = chosen[col]
        for cell, color in (("wide", "tab:blue"), ("narrow", "tab:red")):
            curve = {k: np.array([np.nan if v is None else v for v in config[cell]["curve"][k]], dtype=float)
                     for k in ("median", "q25", "q75")}
            ax.plot(steps, curve["median"], color=color, lw=1.2, label=f"{cell} ({config[cell]['diverged']} div.)")
            ax.fill_between(steps, curve["q25"], curve["q75"], color=color, alpha=0.2, lw=0)
        ax.axhline(0.1, color="grey", ls=":", lw=0.8)
        ax.set(yscale="log", ylim=(1e-3, 1e2), title=f"{init} init, lr = {config['lr']:g}")
        ax.title.set_fontsize(10)
        ax.legend(fontsize=8)
plt.show()
