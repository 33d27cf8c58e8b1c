"""Chapter 8: running a search yourself, to watch *why* NAS finds wide, shallow cells (Sections 3 and 4).

The paper's thesis is causal: NAS algorithms judge candidates before they have
converged, so they favour cells that converge fast, and those are the wide,
shallow ones. This package lets a learner watch both halves of that argument:

* [`cellnas_edu.search.supernet`][cellnas_edu.search.supernet] and
  [`cellnas_edu.search.darts`][cellnas_edu.search.darts]: first-order DARTS (Liu et al., 2019) on the
  DARTS search space, small enough for a laptop CPU and unchanged at the paper's scale on CUDA;
  [`cellnas_edu.search.derive`][cellnas_edu.search.derive] turns architecture weights into a genotype.
* [`cellnas_edu.search.early_selection`][cellnas_edu.search.early_selection]: random search that selects
  among connection variants by their test loss after `k` epochs, for several `k`.
* [`cellnas_edu.search.against_space`][cellnas_edu.search.against_space]: the found cells' widths and
  depths against the connection space of Chapter 2, with exact p-values.
"""
