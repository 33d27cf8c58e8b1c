# The seed-0 family of 13 random connection variants of the DARTS normal cell (Appendix A.2), drawn by the
# package: cellnas_edu.cells.variants.variant_family samples it, cellnas_edu.cells.drawing.draw_family draws it.
import tempfile
from pathlib import Path

from IPython.display import Image, display

from cellnas_edu.cells.drawing import draw_family
from cellnas_edu.cells.genotypes import get_genotype
from cellnas_edu.cells.variants import variant_family

darts = get_genotype("DARTS")
family = variant_family(darts, kind="connections", count=13, seed=0)
path = draw_family(darts.normal, family, Path(tempfile.mkdtemp()) / "table2_darts_seed0.png", name="DARTS", ncols=3)
display(Image(filename=str(path)))
