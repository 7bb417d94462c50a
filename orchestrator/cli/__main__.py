import sys

from orchestrator.cli.command import main

sys.exit(main())
