# The derived normal cell's width and depth after every epoch of each DARTS search, and the found cells against
# the width and depth distributions of the connection space and of the 180 derivable cells
# (cellnas_edu.search.against_space.null_counts). From results/darts_search/summary.json.
import matplotlib.pyplot as plt
import numpy as np

from cellnas_edu.results import load_summary
from cellnas_edu.search.against_space import null_counts

records = load_summary("darts_search")["records"]
fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), layout="constrained")
for record in records:
    epochs = np.arange(len(record["widths_by_epoch"]))
    axes[0].plot(epochs, record["widths_by_epoch"], "-o", ms=3, label=f"seed {record['seed']}")
    axes[1].plot(epochs, record["depths_by_epoch"], "-o", ms=3)
axes[0].set(xlabel="epoch (0 = initialisation)", ylabel="width of the derived normal cell (c)", title="width")
axes[1].set(xlabel="epoch (0 = initialisation)", ylabel="depth", title="depth")
axes[0].legend(fontsize=7, ncol=2)
for ax, which, key, scale in ((axes[2], 0, "width", 0.5), (axes[3], 1, "depth", 1)):
    for null, offset in (("connection_space", -0.25), ("derivable", 0.25)):
        counts = null_counts(null)[which]
        x = np.array(sorted(counts)) * scale
        ax.bar(x + offset * scale, [counts[k] / sum(counts.values()) for k in sorted(counts)], width=0.5 * scale,
               label={"connection_space": "connection space (14,400)", "derivable": "derivable (180)"}[null])
    values, found = np.unique([r["normal"][key] for r in records], return_counts=True)
    ax.plot(values, found / len(records), "k*", ms=12, label=f"found ({len(records)} seeds)")
    ax.set(xlabel=key, ylabel="fraction of cells", title=f"found normal cells vs the space: {key}")
    ax.legend(fontsize=7)
plt.show()
