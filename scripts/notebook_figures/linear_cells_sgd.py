# Per objective and initialisation, the fraction of untied seeds in which the narrowest linear cell reaches the
# threshold later than the widest one (exact 95% interval) against the learning rate; solid: pairing (a), dashed:
# (b); filled where the Holm-adjusted sign test rejects at 0.05. From results/linear_cells_sgd/summary.json.
import matplotlib.pyplot as plt
import numpy as np

from cellnas_edu.results import load_summary

configs = load_summary("linear_cells_sgd")["configs"]
objectives = [o for o in ("quadratic", "cross_entropy") if any(c["objective"] == o for c in configs)]
inits = [i for i in ("gaussian", "identity") if any(c["init"] == i for c in configs)]
fig, axes = plt.subplots(len(objectives), len(inits), figsize=(4.2 * len(inits), 3.3 * len(objectives)),
                         layout="constrained", squeeze=False)
for (r, objective), (col, init) in ((a, b) for a in enumerate(objectives) for b in enumerate(inits)):
    ax = axes[r, col]
    for n, color in zip(sorted({c["n"] for c in configs}), plt.cm.tab10.colors):
        for pairing, style in (("same_function", "-"), ("independent", "--")):
            key = (objective, init, n, pairing)
            rows = sorted((c for c in configs if (c["objective"], c["init"], c["n"], c["pairing"]) == key
                           and c["sign_test"]["fraction_narrow_slower"] is not None), key=lambda c: c["lr"])
            if not rows:
                continue
            lr = np.array([c["lr"] for c in rows])
            frac = np.array([c["sign_test"]["fraction_narrow_slower"] for c in rows])
            ci = np.array([c["sign_test"]["fraction_ci95"] for c in rows])
            significant = np.array([c["sign_test"]["p_holm"] < 0.05 for c in rows])
            ax.errorbar(lr, frac, yerr=[frac - ci[:, 0], ci[:, 1] - frac], color=color, ls=style, lw=1, capsize=2,
                        label=f"n={n}" if pairing == "same_function" else None)
            ax.scatter(lr[significant], frac[significant], color=color, s=14, zorder=3)
    ax.axhline(0.5, color="grey", lw=0.8)
    ax.set(xscale="log", ylim=(-0.03, 1.03), xlabel="learning rate", ylabel="fraction: narrow slower",
           title=f"{objective.replace('_', '-')}, {init} init")
axes[0, 0].legend(fontsize=8)
plt.show()
