"""One hierarchy for every error smrcheck reports to a user.

Each class maps to an exit code in the CLI: a `UsageError` or an `InvalidTrace` is the
user's input (exit 2), an `InvalidModel` is a model that breaks the `Model` contract
(exit 4, since it is our bug or a plugin author's). Messages say what was wrong and
what is allowed, in one line, so the fix is obvious without a traceback.
"""


class SmrcheckError(Exception):
    """Root of every error smrcheck raises on purpose."""

    exit_code = 4


class UsageError(SmrcheckError):
    """A bad command-line argument or parameter: names the allowed values."""

    exit_code = 2


class InvalidTrace(SmrcheckError):
    """A malformed trace: names the file, the line and the field."""

    exit_code = 2


class InvalidModel(SmrcheckError):
    """A model that breaks the contract, e.g. nondeterministic transitions."""

    exit_code = 4
