"""Convergence of a cell against its random variants (Section 4.1, Figures 3, 4, 5 and 12-16).

Section 4.1 trains "both original NAS architectures and their random variants"
under one protocol (Appendix A.3) and compares their test loss and accuracy
curves during training, at several learning rates (Figure 4: 0.0025, 0.025,
0.25). This module runs that experiment reproducibly and resumably:

* the cells are the original genotype and a seeded variant family of its
  **normal cell** ([`cellnas_edu.cells.variants.variant_family`][cellnas_edu.cells.variants.variant_family], Appendix
  A.2):
  `"connections"` variants for Figures 3, 4, 13-16, `"operations"` variants
  for Figures 5 and 12. The **reduction cell is left unchanged**, as in the
  paper, which visualises and measures normal cells only (Figures 2, 10, 11,
  Table 2). Duplicates are redrawn (`distinct=True`) so that no cell is
  trained twice under two labels;
* every (learning rate, cell, seed) is one run of the package's trainer
  ([`cellnas_edu.train.train`][cellnas_edu.train.train], one preset for all) in its own folder
  `OUT/<lr>/<label>/seed<k>/`. A finished or diverged run is skipped, an
  interrupted one resumes from its checkpoint, so the whole experiment is
  resumable;
* after every run `OUT/summary.json` is rewritten atomically with the
  statistics of [`cellnas_edu.stats`][cellnas_edu.stats] (per-cell means and 95%
  t-intervals over seeds, Spearman correlations of width and depth with test
  loss, with their asymptotic p-values and bootstrap intervals) and of
  [`cellnas_edu.convergence.stats`][cellnas_edu.convergence.stats] (the AUC, diverged runs listed apart),
  and `OUT/figures/` gets the curves:
  mean per cell with a shaded 95% interval over seeds, coloured by width.

`OUT/experiment.json` records the protocol and the cells; resuming with a
different protocol (other architecture, variants, preset, epochs, ...) is
refused. Learning rates and seeds may be added when resuming."""

from .plots import figure_path, plot_curves
from .runner import _config_for, parameter_counts, run_convergence
from .spec import (
    FAMILIES,
    PAPER_LEARNING_RATES,
    ConvergenceSpec,
    ExperimentCell,
    experiment_cells,
    lr_key,
    run_dir,
    table2_variants,
)
from .summary import format_summary, summarize

__all__ = [
    "FAMILIES", "PAPER_LEARNING_RATES", "ConvergenceSpec", "ExperimentCell", "_config_for",
    "experiment_cells", "figure_path", "format_summary", "lr_key", "parameter_counts", "plot_curves",
    "run_convergence", "run_dir", "summarize", "table2_variants",
]
