# Median normalised excess loss (f - f*)/(f0 - f*) of the widest and narrowest linear cells (n = 4, pairing (a)),
# with quartiles and the mean of the live runs, for the cross-entropy objective: a column per learning rate,
# a row per initialisation; dotted: the threshold. Drawn by the package (cellnas_edu.theory.sgd_figures) from
# results/linear_cells_sgd/summary.json.
import tempfile
from pathlib import Path

from IPython.display import Image, display

from cellnas_edu.results import load_summary
from cellnas_edu.theory.sgd_figures import curves_figure

path = Path(tempfile.mkdtemp()) / "linear_cells_sgd_curves_cross_entropy.png"
curves_figure(load_summary("linear_cells_sgd"), "cross_entropy").savefig(path, dpi=130)
display(Image(filename=str(path)))
