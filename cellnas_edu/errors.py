"""The one exception type that the command line turns into a one-line error."""


class UserError(Exception):
    """Bad input from the user (a file, a flag, a dataset that is missing).

    The ``cellnas`` command prints ``cellnas <command>: error: <message>`` on one
    line and exits with status 2; no traceback. Library code raises
    ``ValueError`` for malformed values (as :class:`~cellnas_edu.cells.cellspec.CellSpec`
    does) and ``UserError`` for problems with the environment (missing files,
    corrupt checkpoints); the command line converts both.
    """
