r"""The theory verifier: Section 4.3 and Appendix C checked numerically and symbolically.

The model is the pair of linear cells of Figure 26 ([`cells`][cellnas_edu.theory.cells]): one input
`x`, `n` intermediate nodes with square `d x d` weights, the widest cell
$y^{(k)} = V^{(k)} x$ and the narrowest cell $\hat y^{(k)} = W^{(k)}
\cdots W^{(1)} x$, the same objective on the concatenated nodes ([`objectives`][cellnas_edu.theory.objectives])
and a finite data set ([`problems`][cellnas_edu.theory.problems]). The widest cell is always evaluated at
$V^{(k)} = W^{(k)} \cdots W^{(1)}$, the identification under which both
cells have the same node values -- what makes equation (4) true.

Modules, one idea each:

* [`gradients`][cellnas_edu.theory.gradients], [`gradient_identity`][cellnas_edu.theory.gradient_identity],
  [`symbolic`][cellnas_edu.theory.symbolic] -- equations (1)-(4), float64 autograd and sympy;
* [`hessian`][cellnas_edu.theory.hessian] -- block Hessians, Hessian-vector products, power iteration, the $J^T H J$
  structure;
* [`lipschitz`][cellnas_edu.theory.lipschitz] -- Theorem 4.2: the stated bound fails (smallest counterexample
  `n = 2, d = 1`), a corrected
  bound with its proof holds;
* [`variance`][cellnas_edu.theory.variance] -- Theorem 4.3: holds with spectral norms, fails when "largest eigenvalue"
  is read literally;
* [`sgd_convergence`][cellnas_edu.theory.sgd_convergence] -- Theorem 4.1 illustrated on a toy problem with exact
  constants;
* [`linear_sgd`][cellnas_edu.theory.linear_sgd] -- the consequence Section 4.3 draws, tested in its own model: both
  cells trained by SGD
  over many seeds, paired exact sign tests on steps to a loss threshold;
* [`strategies`][cellnas_edu.theory.strategies] -- hypothesis strategies shared by tests and scripts;
* [`reports`][cellnas_edu.theory.reports], [`summary`][cellnas_edu.theory.summary],
  [`script`][cellnas_edu.theory.script] -- text reports, [`theory_summary`][cellnas_edu.theory.theory_summary], the
  scripts' command line."""

from .gradient_identity import run_gradient_identity
from .lipschitz import corrected_bound, find_smallest_counterexample, run_theorem_4_2, stated_bound
from .problems import CellProblem, quadratic_single_input, random_problem
from .sgd_convergence import check_theorem_4_1
from .summary import CHECKS, format_summary, theory_summary
from .variance import eigenvalue_reading_counterexample, run_theorem_4_3, variance_bound

__all__ = [
    "CHECKS",
    "CellProblem",
    "check_theorem_4_1",
    "corrected_bound",
    "eigenvalue_reading_counterexample",
    "find_smallest_counterexample",
    "format_summary",
    "quadratic_single_input",
    "random_problem",
    "run_gradient_identity",
    "run_theorem_4_2",
    "run_theorem_4_3",
    "stated_bound",
    "theory_summary",
    "variance_bound",
]
