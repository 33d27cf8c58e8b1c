"""``cellnas exercises``: the learner writes the package's functions, the package's tests grade them.

* :mod:`~cellnas_edu.exercises.catalog`: the exercises (target function, graded checks, statement, hint);
* :mod:`~cellnas_edu.exercises.checks`: the graded property and example tests, one module per chapter;
* :mod:`~cellnas_edu.exercises.grader`: swaps the learner's function in and runs the checks;
* :mod:`~cellnas_edu.exercises.workspace`: stubs, solutions and ``.progress.json``;
* :mod:`~cellnas_edu.exercises.reference`: reference solutions the package did not have before.
"""
