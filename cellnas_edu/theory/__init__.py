r"""The theory verifier: Section 4.3 and Appendix C checked numerically and symbolically.

The model is the pair of linear cells of Figure 26 (:mod:`.cells`): one input
``x``, ``n`` intermediate nodes with square ``d x d`` weights, the widest cell
:math:`y^{(k)} = V^{(k)} x` and the narrowest cell :math:`\hat y^{(k)} = W^{(k)}
\cdots W^{(1)} x`, the same objective on the concatenated nodes (:mod:`.objectives`)
and a finite data set (:mod:`.problems`). The widest cell is always evaluated at
:math:`V^{(k)} = W^{(k)} \cdots W^{(1)}`, the identification under which both
cells have the same node values -- what makes equation (4) true.

Modules, one idea each:

* :mod:`.gradients`, :mod:`.gradient_identity`, :mod:`.symbolic` -- equations (1)-(4), float64 autograd and sympy;
* :mod:`.hessian` -- block Hessians, Hessian-vector products, power iteration, the :math:`J^T H J` structure;
* :mod:`.lipschitz` -- Theorem 4.2: the stated bound fails (smallest counterexample ``n = 2, d = 1``), a corrected
  bound with its proof holds;
* :mod:`.variance` -- Theorem 4.3: holds with spectral norms, fails when "largest eigenvalue" is read literally;
* :mod:`.sgd_convergence` -- Theorem 4.1 illustrated on a toy problem with exact constants;
* :mod:`.linear_sgd` -- the consequence Section 4.3 draws, tested in its own model: both cells trained by SGD
  over many seeds, paired exact sign tests on steps to a loss threshold;
* :mod:`.strategies` -- hypothesis strategies shared by tests and scripts;
* :mod:`.reports`, :mod:`.summary`, :mod:`.script` -- text reports, :func:`theory_summary`, the scripts' command line.
"""

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
