# Mean test accuracy by width within each number of live convolutions (strata of at least 5 live graphs), from
# the table shipped with the package (cellnas_edu.nb201.analysis.units); the pooled within-strata rho comes from
# results/nb201/summary.json.
import matplotlib.pyplot as plt

from cellnas_edu.nb201 import analysis
from cellnas_edu.nb201.data import DATASETS
from cellnas_edu.results import load_summary

summary = load_summary("nb201")
units = analysis.units("live-classes")
fig, axes = plt.subplots(1, len(DATASETS), figsize=(13, 4), layout="constrained")
for column, (ax, dataset) in enumerate(zip(axes, DATASETS)):
    accuracy = units.accuracy[dataset]
    for convolutions in range(7):
        strata = [(w, (units.live_convolutions == convolutions) & (units.width == w)) for w in (1, 2, 3)]
        points = [(w, accuracy[sel].mean()) for w, sel in strata if sel.sum() >= 5]
        if points:
            ax.plot(*zip(*points), "-o", color=plt.cm.viridis(convolutions / 7), label=f"{convolutions} live conv.")
    rho = summary["section5"]["live-classes"][column]["pooled_within_strata"]["width"]
    ax.set(xticks=[1, 2, 3], xlabel="width", ylabel="mean test accuracy (%)",
           title=f"{dataset}: within strata, rho = {rho:+.2f}")
axes[0].legend(fontsize=7, ncol=2)
plt.show()
