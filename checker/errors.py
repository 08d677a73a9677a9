"""One hierarchy for every error smrcheck reports to a user.

Each class maps to an exit code in the CLI: a `UsageError` or an `InvalidTrace` is the
user's input (exit 2), and so is an `InvalidModel`, a model that breaks the `Model`
contract (the model is the user's input too); exit 4 is left for smrcheck's own bugs.
Messages say what was wrong and what is allowed, in one line, so the fix is obvious
without a traceback.
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
    """A model that breaks the contract, e.g. nondeterministic transitions or a state
    whose hash differs per process. The model is the user's input (their model file,
    their sequential spec), so this is exit 2 like any bad input."""

    exit_code = 2
