"""Multi-stage reasoning orchestrator with embedding-cluster routing and width scaling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Answer", "Orchestrator", "load_config"]

if TYPE_CHECKING:
    from orchestrator.api import Orchestrator
    from orchestrator.config import load_config
    from orchestrator.results import Answer


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must stay cheap (the CLI's --help answers in under a second).
    if name == "Orchestrator":
        from orchestrator.api import Orchestrator

        return Orchestrator
    if name == "load_config":
        from orchestrator.config import load_config

        return load_config
    if name == "Answer":
        from orchestrator.results import Answer

        return Answer
    raise AttributeError(name)
