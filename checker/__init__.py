"""The engine of smrcheck: a generic explicit-state explorer that knows no protocol."""

__version__ = "0.1.0"
