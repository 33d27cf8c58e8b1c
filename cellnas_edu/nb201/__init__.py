"""Chapter 9: the NAS-Bench-201 (NATS-Bench topology) space and its 15,625 trained cells.

- [`cell`][cellnas_edu.nb201.cell]: the validated cell type, its live graph, width and depth, the two equivalences;
- [`space`][cellnas_edu.nb201.space]: the same measures for all cells at once, as arrays;
- [`params`][cellnas_edu.nb201.params]: the parameter count of NATS-Bench's network, without torch;
- [`naslib`][cellnas_edu.nb201.naslib]: NASLib's op-index encoding (another op and edge order);
- [`data`][cellnas_edu.nb201.data]: the shipped table of NATS-Bench's final results;
- [`analysis`][cellnas_edu.nb201.analysis]: Section 5 and Observation 3.1 on the table (`cellnas nb201`);
- [`natsbench`][cellnas_edu.nb201.natsbench]: NATS-Bench's own per-epoch archive, read safely;
- [`schedules`][cellnas_edu.nb201.schedules]: the 12- against the 200-epoch schedule, and early selection, on it;
- [`drawing`][cellnas_edu.nb201.drawing]: pictures of cells;
- [`supernet`][cellnas_edu.nb201.supernet], [`search`][cellnas_edu.nb201.search],
  [`search_study`][cellnas_edu.nb201.search_study], [`search_figures`][cellnas_edu.nb201.search_figures]:
  first-order DARTS on this space, what the found cells are worth, the study over seeds and its figures.
"""

from .cell import NB201Cell
from .operations import EDGES, OPERATIONS

__all__ = ["EDGES", "NB201Cell", "OPERATIONS"]
