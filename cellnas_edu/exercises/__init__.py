"""`cellnas exercises`: the learner writes the package's functions, the package's tests grade them.

* [`catalog`][cellnas_edu.exercises.catalog]: the exercises (target function, graded checks, statement, hint);
* [`checks`][cellnas_edu.exercises.checks]: the graded property and example tests, one module per chapter;
* [`grader`][cellnas_edu.exercises.grader]: swaps the learner's function in and runs the checks;
* [`workspace`][cellnas_edu.exercises.workspace]: stubs, solutions and `.progress.json`;
* [`reference`][cellnas_edu.exercises.reference]: reference solutions the package did not have before."""
