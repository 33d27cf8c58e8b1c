"""cellnas-edu: a textbook and a research tool for *Understanding Architectures
Learnt by Cell-based Neural Architecture Search* (Shu, Wang & Cai, ICLR 2020).

Packages, in the order of the paper (and of the book's chapters):

* [`cellnas_edu.cells`][cellnas_edu.cells]: cells as validated data (Section 3.1), their width and depth (Section 3.2),
  random variants and the whole connection space (Appendix A.2, Table 2), the widest-and-shallowest
  adaptation (Section 5, Figure 25), drawings and tables. Imports neither torch nor the other packages.
* [`cellnas_edu.paper`][cellnas_edu.paper]: the numbers the paper prints (Figures 1, 25, Tables 1, 2, errata), as data.
* `cellnas_edu.nets`: operations, the network and parameter counts (Section 4.1, Table 1)
* [`cellnas_edu.data`][cellnas_edu.data], [`cellnas_edu.train`][cellnas_edu.train]: data sets and training, the run
  folder (Appendix A)
* [`cellnas_edu.convergence`][cellnas_edu.convergence]: convergence of a cell and its variants over seeds, with rank
  correlations
  and intervals (Section 4.1, Figures 3-5)
* [`cellnas_edu.landscape`][cellnas_edu.landscape]: loss landscape, gradient variance, sharpness (Section 4.2)
* [`cellnas_edu.theory`][cellnas_edu.theory]: Theorems 4.2 and 4.3 checked numerically (Section 4.3, Appendix C)"""

__version__ = "0.1.0"
