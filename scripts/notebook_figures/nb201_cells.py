# The best NAS-Bench-201 cell on CIFAR-10, DARTS's all-skip cell (both named in results/nb201/summary.json) and a
# cell with dead edges, drawn by the package (cellnas_edu.nb201.drawing).
import tempfile
from pathlib import Path

from IPython.display import Image, display

from cellnas_edu.nb201.cell import NB201Cell
from cellnas_edu.nb201.drawing import caption_of, draw_cells
from cellnas_edu.results import load_summary

summary = load_summary("nb201")
cells = [(summary["best"]["cifar10"]["arch"], "best on CIFAR-10"), (summary["observation31"]["arch"], "DARTS's cell"),
         ("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|", "dead edges")]
panels = [(cell, caption_of(cell, name)) for cell, name in ((NB201Cell.from_arch_string(a), n) for a, n in cells)]
display(Image(filename=str(draw_cells(panels, Path(tempfile.mkdtemp()) / "nb201_cells.png", ncols=3))))
