"""cellnas-edu: a textbook and a research tool for *Understanding Architectures
Learnt by Cell-based Neural Architecture Search* (Shu, Wang & Cai, ICLR 2020).

Modules, in the order of the paper:

* :mod:`cellnas_edu.cellspec`, :mod:`cellnas_edu.genotypes`: cells as validated data (Section 3.1)
* :mod:`cellnas_edu.topology`: cell width and depth (Section 3.2)
* :mod:`cellnas_edu.variants`, :mod:`cellnas_edu.space`: random variants and the whole connection space
  (Appendix A.2, Table 2)
* :mod:`cellnas_edu.adaptation`: the widest-and-shallowest adaptation (Section 5, Figure 25)
* :mod:`cellnas_edu.ops`, :mod:`cellnas_edu.model`, :mod:`cellnas_edu.data`, :mod:`cellnas_edu.train`: networks and
  training (Section 4.1, Appendix A)
* :mod:`cellnas_edu.convergence`, :mod:`cellnas_edu.convergence_stats`: convergence of a cell and its variants
  over seeds, with rank correlations and intervals (Section 4.1, Figures 3-5)
* :mod:`cellnas_edu.landscape`: loss landscape, gradient variance, sharpness (Section 4.2)
* :mod:`cellnas_edu.theory`: Theorems 4.2 and 4.3 checked numerically (Section 4.3, Appendix C)
"""

__version__ = "0.1.0"
