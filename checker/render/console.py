"""Where output goes: the console on stdout, one-line errors and warnings on stderr,
and JSON documents, all of which must survive a reader that closes the pipe early
(`smrcheck check ... | head`): the command still finishes and its exit code still
tells ok from violation."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.text import Text


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # The reader (`| head`) went away. Say nothing more, but let the command finish
        # so its exit code still tells ok from violation (rich would exit 1).
        quiet_stdout()
        self.quiet = True


def quiet_stdout() -> None:
    """Point stdout at /dev/null after its reader closed the pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def console(stderr: bool = False) -> Console:
    return _Console(file=sys.stderr if stderr else sys.stdout, highlight=False)


def print_json(data: Any) -> None:
    """One JSON document on stdout; a closed pipe loses the document, not the exit code."""
    try:
        print(json.dumps(data, indent=1), flush=True)
    except BrokenPipeError:
        quiet_stdout()


def warning(message: str) -> None:
    console(stderr=True).print(Text(f"smrcheck: warning: {message}", style="yellow"), soft_wrap=True)


def error(message: str) -> None:
    # One line however narrow the terminal: CI logs and scripts grep for it.
    console(stderr=True).print(Text(f"smrcheck: error: {message}", style="red"), soft_wrap=True)
