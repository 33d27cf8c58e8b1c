# AUC of the operation variants of the DARTS cell (dots: seeds, bar: mean), lr 0.025, from
# results/operation_variants_study/summary.json.
import matplotlib.pyplot as plt
import numpy as np

from cellnas_edu.results import load_summary

records = load_summary("operation_variants_study")["records"]
labels = list(dict.fromkeys(r["label"] for r in records))
fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
for i, label in enumerate(labels):
    runs = [r for r in records if r["label"] == label and r["metrics"]["auc_test_loss"] is not None]
    aucs = [r["metrics"]["auc_test_loss"] for r in runs]
    colour = "black" if runs and runs[0].get("original") else "steelblue"
    ax.plot([i] * len(aucs), aucs, "o", ms=4, alpha=0.7, color=colour)
    if aucs:
        ax.hlines(np.mean(aucs), i - 0.25, i + 0.25, color="darkorange", lw=2)
ax.set_xticks(range(len(labels)), labels)
ax.set(ylabel="AUC of test loss", title="operation variants, lr 0.025 (dots: seeds, bar: mean)")
plt.show()
