# Top Hessian eigenvalue and gradient variance per run at the end of training, against width and against the
# run's AUC (colour = depth), from results/landscape_study/summary.json.
import math

import matplotlib.pyplot as plt

from cellnas_edu.results import load_summary

records = load_summary("landscape_study")["records"]
fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), layout="constrained")
for row, (key, name) in enumerate((("top_hessian_eigenvalue", "top Hessian eigenvalue"),
                                   ("grad_var_per_parameter", "gradient variance per parameter"))):
    for col, (x_key, x_name) in enumerate((("width", "cell width (units of c)"),
                                           ("auc_test_loss", "AUC of test loss"))):
        points = [(r["width"] if x_key == "width" else r["metrics"][x_key], r["metrics"][key], r["depth"])
                  for r in records]
        points = [p for p in points if p[0] is not None and p[1] is not None and math.isfinite(p[1])]
        ax = axes[row, col]
        ax.scatter([p[0] for p in points], [p[1] for p in points], c=[p[2] for p in points], s=12, cmap="plasma")
        ax.set(xlabel=x_name, ylabel=name, yscale="log")
fig.suptitle("Section 4.2 at the end of training (colour = depth)", fontsize=10)
plt.show()
