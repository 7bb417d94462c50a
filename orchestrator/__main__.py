"""`python -m orchestrator`: the `orchestrator` command (what MCP hosts can start)."""

import sys

from orchestrator.cli.command import main

sys.exit(main())
