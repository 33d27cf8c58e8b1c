# Theorems 4.2 and 4.3 against their bounds, measured by the package on the quick set of instances (seconds;
# examples/theory_report.py draws the book's figure from the full set). Points above the diagonal violate the bound.
import matplotlib.pyplot as plt
import numpy as np

from cellnas_edu.theory.lipschitz import run_theorem_4_2
from cellnas_edu.theory.runtime import single_thread
from cellnas_edu.theory.variance import run_theorem_4_3

with single_thread():
    t42 = run_theorem_4_2(seed=0, quick=True, keep_records=True)
    t43 = run_theorem_4_3(seed=0, quick=True, keep_records=True)


def pairs(records, bound):
    xy = np.array([(r[bound], r["measured"]) for r in records], dtype=float).reshape(-1, 2)
    return xy[(xy > 1e-12).all(axis=1) & np.isfinite(xy).all(axis=1)]


fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
for ax, result, series, title in (
        (axes[0], t42, (("stated_bound", "stated bound (Theorem 4.2)"), ("corrected_bound", "corrected bound")),
         f"Theorem 4.2: {t42['stated_bound_violations']}/{t42['instances']} blocks violate the stated bound"),
        (axes[1], t43, (("bound_eigenvalue", "lambda = spectral radius"),
                        ("bound_spectral_norm", "lambda = spectral norm")),
         f"Theorem 4.3: {t43['stated_bound_violations']} / {t43['eigenvalue_reading_violations']} violations "
         "(norm / eigenvalue reading)")):
    drawn = [pairs(result["records"], key) for key, _ in series]
    for xy, (_, label) in zip(drawn, series):
        ax.scatter(xy[:, 0], xy[:, 1], s=14, alpha=0.6, label=label)
    low, high = min(xy.min() for xy in drawn) / 2, max(xy.max() for xy in drawn) * 2
    ax.plot([low, high], [low, high], color="black", lw=1, label="measured = bound")
    ax.set(xscale="log", yscale="log", xlabel="bound", ylabel="measured", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, loc="upper left")
plt.show()
