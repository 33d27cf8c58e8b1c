"""Theorem 4.1 (Ghadimi & Lan, Section 4.2) illustrated: SGD on a non-convex toy problem with exact L, f*, sigma^2.

    python theory/theorem_4_1.py [--json] [--seed S] [--quick]

Exit status 0 whenever the check ran (whatever the verdict). The logic lives in cellnas_edu.theory.sgd_convergence.
"""

import sys

from cellnas_edu.theory.script import script_main


def main(argv=None) -> int:
    return script_main("theorem_4_1", __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
