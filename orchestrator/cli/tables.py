"""Printing the CLI's rich tables: fitted to the window on a terminal; whole when the output
is a file or a pipe (CI logs, nohup), where rich would otherwise squeeze a table into 80
columns and cut its values short with '…'."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

# Wide enough for any table we print; only used to measure one, never to print.
_UNBOUNDED = 100_000


def print_table(table: Table, console: Console | None = None) -> None:
    """Print `table` on `console` (stdout by default). Off a terminal it is printed at its
    natural width, so every value is whole and no column is folded."""
    console = console or Console()
    if not console.is_terminal:
        console = _wide_enough(table, console)
    console.print(table)


def _wide_enough(table: Table, console: Console) -> Console:
    """A console on the same stream that is as wide as `table` wants to be."""
    options = console.options.update_width(_UNBOUNDED)
    natural = Measurement.get(console, options, table).maximum
    if natural <= console.width:
        return console
    return Console(file=console.file, width=natural, no_color=console.no_color)
