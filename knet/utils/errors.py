"""The exception every command-line tool reports as one line (no traceback).

Kept in its own dependency-free module so that the lowest layers
(``knet.formats``) can raise it without importing the CLI runner.
"""

__all__ = ['UserError']


class UserError(Exception):
    """An error caused by the user's input (a file, an option, a config).

    The message names the file or option and says what is wrong; the CLI
    runner (:func:`knet.utils.cli.run_cli`) prints it as ``error: <message>``
    and exits with status 1.
    """
