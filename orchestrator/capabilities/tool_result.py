"""What a tool step returns: a `ToolResult` for every step, with a `ToolError` in it when the
step failed. A failure is a record, never an exception that takes the run down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator.protocols import Completion

ErrorKind = Literal[
    "invalid_arguments",  # the model's arguments failed the schema twice (or were no call)
    "provider",  # the model filling the arguments failed
    "unavailable",  # nothing to run: no location, an import or a server that failed
    "tool_error",  # the tool raised, or reported an error
    "timeout",  # the tool did not answer in time
    "oversize",  # the tool's result was over the byte cap
]


@dataclass(frozen=True)
class ToolError:
    kind: ErrorKind
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class ToolResult:
    """One tool step: which capability (id, version, kind), the arguments it was called with
    (None when it was not called), its output as text, the capability's `cost_usd` (charged
    when it was called), the tool's latency, the error if any, and the model calls that
    filled the arguments (their tokens and cost are the step's model usage)."""

    capability: str
    version: str
    kind: str
    arguments: dict[str, Any] | None
    output: str = ""
    cost_usd: float = 0.0
    latency_s: float = 0.0
    error: ToolError | None = None
    model_calls: tuple[Completion, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def model_cost_usd(self) -> float:
        return sum(c.cost_usd for c in self.model_calls)

    @property
    def prompt_tokens(self) -> int:
        return sum(c.usage.prompt_tokens for c in self.model_calls)

    @property
    def completion_tokens(self) -> int:
        return sum(c.usage.completion_tokens for c in self.model_calls)

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON (for traces and checkpoints)."""
        error = (
            None if self.error is None else {"kind": self.error.kind, "message": self.error.message}
        )
        return {
            "capability": self.capability,
            "version": self.version,
            "kind": self.kind,
            "arguments": self.arguments,
            "output": self.output,
            "cost_usd": self.cost_usd,
            "latency_s": round(self.latency_s, 4),
            "error": error,
            "model_cost_usd": self.model_cost_usd,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "model_calls": len(self.model_calls),
        }
