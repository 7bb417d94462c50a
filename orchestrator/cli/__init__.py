"""The `orchestrator` command: `ask` and `config` (command), `eval` (the harness), `router …`,
`serve`, `mcp`, the live view of one run and the progress bar of long commands.

May import anything; heavy imports stay inside the handlers so `--help` answers at once."""

from orchestrator.cli.command import main

__all__ = ["main"]
