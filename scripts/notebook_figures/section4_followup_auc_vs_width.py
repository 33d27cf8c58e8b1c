# AUC of every run of the follow-up at lr 0.025 against the cell's width (dots; orange bar: the cell's mean; x: a
# diverged run), one panel per learning rate, from results/convergence_followup/summary.json.
import matplotlib.pyplot as plt
import numpy as np

from cellnas_edu.results import load_summary

EXPERIMENT = "convergence_followup"
records = load_summary(EXPERIMENT)["records"]
lrs = sorted({r["lr"] for r in records})
fig, axes = plt.subplots(1, len(lrs), figsize=(5.2 * len(lrs), 3.8), layout="constrained", squeeze=False)
jitter = np.random.default_rng(0)
for ax, lr in zip(axes[0], lrs):
    runs = [r for r in records if r["lr"] == lr]
    finite = [r["metrics"]["auc_test_loss"] for r in runs if r["metrics"]["auc_test_loss"] is not None]
    for r in runs:
        auc, x = r["metrics"]["auc_test_loss"], r["width"] + jitter.uniform(-0.08, 0.08)
        if auc is None:
            ax.plot(x, 1.08 * max(finite), "x", color="crimson")
        else:
            ax.plot(x, auc, "o", ms=3, alpha=0.6, color="black" if r.get("original") else "steelblue")
    for label in dict.fromkeys(r["label"] for r in runs):
        aucs = [r["metrics"]["auc_test_loss"] for r in runs if r["label"] == label]
        width = next(r["width"] for r in runs if r["label"] == label)
        if None not in aucs:
            ax.hlines(np.mean(aucs), width - 0.12, width + 0.12, color="darkorange", lw=2)
    if max(finite) > 20 * min(finite):
        ax.set_yscale("log")
    ax.set(xlabel="cell width (units of c)", ylabel="AUC of test loss", title=f"{EXPERIMENT}, lr {lr:g}")
plt.show()
