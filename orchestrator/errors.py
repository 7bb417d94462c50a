"""User-facing errors. Each carries a one-line message that names the problem; the CLI
prints it without a traceback and exits with status 2."""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base class: a problem the user can fix, reported as one line."""


class ConfigError(OrchestratorError):
    """The configuration is invalid (unknown field, bad value, unknown model)."""


class InputError(OrchestratorError):
    """The question or another input is unusable (empty, too long, malformed)."""


class ModelPackageError(OrchestratorError):
    """A local model's weights are missing or do not match the pinned checksum."""


class RouterArtifactError(OrchestratorError):
    """A router artifact is missing, truncated, edited by hand, or fitted with another embedder."""


class PlanningError(OrchestratorError):
    """The planner did not return a usable plan."""


class ProviderError(OrchestratorError):
    """A model call failed. `kind` is one of: auth, bad_request, not_found, context_window,
    rate_limit, timeout, server, connection, malformed, length, budget, other.

    One line: `<model>: <kind>: <provider's message>; check <hint>`, where the hint (attached
    by the LLM boundary from the model's config) says what to look at: the key's variable, the
    `api_base`, the model id, a limit."""

    def __init__(self, model: str, kind: str, message: str, hint: str | None = None) -> None:
        check = f"; check {hint}" if hint else ""
        super().__init__(f"{model}: {kind}: {message}{check}")
        self.model = model
        self.kind = kind
        self.message = message
        self.hint = hint


class BudgetExhausted(OrchestratorError):
    """A run's budget cap would be exceeded by the next call."""
