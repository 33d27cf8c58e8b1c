# 200-epoch test accuracy of the live-graph classes by width (top) and depth (bottom), one column per dataset,
# from the table shipped with the package (cellnas_edu.nb201.analysis.units); the stars (DARTS's cell, the best
# cell) and the Spearman rho come from results/nb201/summary.json.
import matplotlib.pyplot as plt

from cellnas_edu.nb201 import analysis
from cellnas_edu.nb201.data import DATASETS
from cellnas_edu.results import load_summary

summary = load_summary("nb201")
units = analysis.units("live-classes")
fig, axes = plt.subplots(2, len(DATASETS), figsize=(13, 7.5), layout="constrained")
for column, dataset in enumerate(DATASETS):
    accuracy = units.accuracy[dataset]
    for row, (name, values) in enumerate((("width", units.width), ("depth", units.depth))):
        ax = axes[row, column]
        ax.boxplot([accuracy[values == v] for v in (1, 2, 3)], positions=[1, 2, 3], widths=0.5, showfliers=False)
        ax.scatter([summary["observation31"][name]], [summary["observation31"]["accuracy"][dataset]["test_accuracy"]],
                   marker="*", s=220, color="#d62728", edgecolor="black", zorder=3, label="DARTS's cell (all skip)")
        best = summary["best"][dataset]
        ax.scatter([best[name]], [best["test_accuracy"]], marker="*", s=220, color="#f2c80f", edgecolor="black",
                   zorder=3, label="best cell")
        rho = summary["section5"]["live-classes"][column][name]["rho"]
        ax.set(xlabel=name, ylabel="test accuracy (%)", title=f"{dataset}: {name}, Spearman rho = {rho:+.2f}")
axes[0, 0].legend(loc="lower right", fontsize=8)
plt.show()
