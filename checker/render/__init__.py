"""Everything smrcheck draws for a person: the only package that imports rich.

Results arrive as plain data (`checker.report`, `checker.validate`); the modules here
turn them into what a person reads, and decide no verdict or exit code:

- `console`: stdout and stderr, one-line errors, JSON documents, closed pipes;
- `terminal`: each command's tables, progress lines and counterexample steps;
- `chart`: message sequence charts as plain data, built from a counterexample (an
  ITF file or a `CheckResult`); `run_chart` builds them from a run's traces (imported
  where used: it loads the trace validator);
- `text_chart` draws a chart in the terminal, `html_chart` as one HTML file (its page,
  `chart.html`, is package data).
"""

from .chart import Chart, chart_from_check, chart_from_itf, load_itf
from .console import console, error, print_json, quiet_stdout, warning
from .html_chart import chart_html, write_chart_html
from .terminal import (
    chart_written,
    check_result,
    linearizability_result,
    live_progress,
    models_table,
    quorum_table,
    run_progress,
    run_result,
    validate_result,
)
from .text_chart import chart_lines, show_chart

__all__ = [
    "Chart", "chart_from_check", "chart_from_itf",
    "chart_html", "chart_lines", "chart_written", "check_result", "console", "error",
    "linearizability_result", "live_progress",
    "load_itf", "models_table", "print_json", "quiet_stdout", "quorum_table", "run_progress",
    "run_result", "show_chart", "validate_result", "warning", "write_chart_html",
]
