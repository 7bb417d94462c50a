"""The OpenAI-compatible HTTP server: the FastAPI app, the request schema and its limits,
what a request runs (an orchestrated policy or a pass-through call), and the SSE stream.

May import: the public API (`orchestrator.api`) and everything below it."""

from orchestrator.serve.app import create_app
from orchestrator.serve.requests import ServerLimits

__all__ = ["ServerLimits", "create_app"]
