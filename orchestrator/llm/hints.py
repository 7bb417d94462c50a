"""What to check when a model call fails, worded from the failure's kind and the model's
config: the variable that holds its key, its `api_base`, its id and limits. The boundary
attaches the hint to every `ProviderError` it raises, so the CLI's error line, the server's
error bodies and the run's records all say why a call failed and where to look."""

from __future__ import annotations

import os
from collections.abc import Callable

from orchestrator.config import ModelConfig


def _auth(spec: ModelConfig) -> str:
    if spec.api_key_env is None:
        provider = spec.id.split("/", 1)[0]
        return (
            f"the API key litellm reads for {provider!r} (e.g. ${provider.upper()}_API_KEY), "
            f"or name its variable with api_key_env for {spec.id}"
        )
    if not os.environ.get(spec.api_key_env):
        return f"${spec.api_key_env}, which is not set (api_key_env of {spec.id})"
    return f"the API key in ${spec.api_key_env} (api_key_env of {spec.id})"


def _where(spec: ModelConfig) -> str:
    return f"api_base {spec.api_base}" if spec.api_base else "the provider's endpoint"


def _not_found(spec: ModelConfig) -> str:
    base = f" and api_base {spec.api_base}" if spec.api_base else ""
    return f"the model id {spec.id!r}{base}"


def _timeout(spec: ModelConfig) -> str:
    return f"that {_where(spec)} answers, and timeout_s ({spec.timeout_s:g}) for {spec.id}"


def _connection(spec: ModelConfig) -> str:
    if spec.api_base:
        return f"that api_base {spec.api_base} is reachable"
    return f"the network connection to the provider of {spec.id}"


def _tried(spec: ModelConfig) -> str:
    tries = spec.max_retries + 1
    return f"tried {tries} time{'s' if tries > 1 else ''}"


def _server(spec: ModelConfig) -> str:
    return f"the status of {_where(spec)} ({_tried(spec)})"


def _malformed(spec: ModelConfig) -> str:
    return f"that {_where(spec)} is an OpenAI-compatible chat endpoint"


_HINTS: dict[str, Callable[[ModelConfig], str]] = {
    "auth": _auth,
    "not_found": _not_found,
    "bad_request": lambda s: f"the model id {s.id!r} and the parameters its provider accepts",
    "context_window": lambda s: (
        f"the length of the question and context against context_window "
        f"({s.context_window} tokens) of {s.id}"
    ),
    "rate_limit": lambda s: f"the provider's rate limit and quota for {s.id} ({_tried(s)})",
    "timeout": _timeout,
    "connection": _connection,
    "server": _server,
    "malformed": _malformed,
}


def hint(kind: str, spec: ModelConfig) -> str:
    """What to check after a call to `spec`'s model failed with `kind`, as the object of
    "check …": e.g. `the API key in $OPENAI_API_KEY (api_key_env of openai/gpt-4o)`."""
    explain = _HINTS.get(kind)
    return explain(spec) if explain else f"the configuration of {spec.id}"
