# Per objective and initialisation, the fraction of untied seeds in which the narrowest linear cell reaches the
# threshold later than the widest one (exact 95% interval) against the learning rate; solid: pairing (a), dashed:
# (b); filled where the Holm-adjusted sign test rejects at 0.05. Drawn by the package
# (cellnas_edu.theory.sgd_figures) from results/linear_cells_sgd/summary.json.
import tempfile
from pathlib import Path

from IPython.display import Image, display

from cellnas_edu.results import load_summary
from cellnas_edu.theory.sgd_figures import fraction_figure

path = Path(tempfile.mkdtemp()) / "linear_cells_sgd.png"
fraction_figure(load_summary("linear_cells_sgd")).savefig(path, dpi=130)
display(Image(filename=str(path)))
