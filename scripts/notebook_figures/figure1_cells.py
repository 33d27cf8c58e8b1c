# Figure 1, drawn by the package (cellnas_edu.cells.drawing), with each cell's width and depth (Section 3.2)
# next to the caption the paper prints (cellnas_edu.paper.FIGURE1).
import tempfile
from pathlib import Path

from IPython.display import Image, display

from cellnas_edu.cells.drawing import caption_of, draw_cells
from cellnas_edu.cells.genotypes import POPULAR, display_name, get_genotype
from cellnas_edu.cells.topology import Topology, format_width
from cellnas_edu.paper import FIGURE1

genotypes = [get_genotype(name) for name in POPULAR]
panels = [(g.normal, caption_of(g.normal, display_name(g))) for g in genotypes]
display(Image(filename=str(draw_cells(panels, Path(tempfile.mkdtemp()) / "figure1_cells.png", ncols=2,
                                      op_labels=True))))
for name, genotype in zip(POPULAR, genotypes):
    topology, (width, depth) = Topology.of(genotype.normal), FIGURE1[name]
    print(f"{display_name(genotype):10} ours {format_width(topology.width)}, {topology.depth}   "
          f"paper {format_width(width)}, {depth}")
