"""Equations (1)-(4) of Appendix C.2: gradients of the widest and narrowest cells, float64 autograd and sympy.

Compares autograd gradients of the narrowest cell with the right-hand sides of (2), (3) and (4) (the widest cell
evaluated at V_k = W_k...W_1) on random instances and all objectives, and symbolically for an arbitrary objective.

    python theory/gradient_identity.py [--json] [--seed S] [--quick]

Exit status 0 whenever the check ran (whatever the verdict). The logic lives in cellnas_edu.theory.gradient_identity.
"""

import sys

from cellnas_edu.theory.script import script_main


def main(argv=None) -> int:
    return script_main("gradient_identity", __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
