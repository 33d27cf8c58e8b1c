"""Hypothesis strategies for cells in the DARTS convention (Section 3.1), shared by the topology tests.

The strategies live in :mod:`cellnas_edu.cells.strategies`, so that the graded checks of
``cellnas exercises`` (which ship with the package) draw the same cells as this suite.
"""

from cellnas_edu.cells.strategies import cells, genotypes

__all__ = ["cells", "genotypes"]
