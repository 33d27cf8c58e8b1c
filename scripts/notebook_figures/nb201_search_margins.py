# Chapter 9's search study: drawn by the package (cellnas_edu.nb201.search_figures.margins_figure) from
# results/nb201_darts_search/summary.json.
import tempfile
from pathlib import Path

from IPython.display import Image, display

from cellnas_edu.nb201.search_figures import margins_figure
from cellnas_edu.results import load_summary

path = margins_figure(load_summary("nb201_darts_search"), Path(tempfile.mkdtemp()) / "nb201_search_margins.png")
display(Image(filename=str(path)))
