"""Theorem 4.3 (gradient variance, Section 4.3.2, Appendix C.4) checked with exact per-sample variances.

Compares the narrowest cell's gradient variance over a finite data set with bound (13), reading lambda as the
spectral norm (holds) and as the spectral radius, i.e. "the largest eigenvalue" (fails for non-normal matrices);
also checks the per-sample identity (4) the proof uses.

    python theory/theorem_4_3.py [--json] [--seed S] [--quick]

Exit status 0 whenever the check ran (whatever the verdict). The logic lives in cellnas_edu.theory.variance.
"""

import sys

from cellnas_edu.theory.script import script_main


def main(argv=None) -> int:
    return script_main("theorem_4_3", __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
