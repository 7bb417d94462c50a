"""Retries and failure classification for the LLM boundary, without importing litellm: which
failures are worth another try, how long to wait before it (the server's Retry-After, else
exponential backoff), and which `ProviderError` kind an exception is. The boundary supplies
litellm's exception classes; this module only applies them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

MAX_RETRY_AFTER_S = 60.0
MAX_BACKOFF_S = 8.0
# litellm prefixes a provider's message with its class names, twice over:
# "litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect API key …"
_WRAPPING = re.compile(r"^(?:litellm\.\w+: )?(?:\w+Error: )?(?:\w+Exception - )?")


def retry_after(exc: BaseException | None) -> float | None:
    """The server's Retry-After in seconds (capped at a minute), when it sent one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or getattr(exc, "litellm_response_headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return min(float(value), MAX_RETRY_AFTER_S) if value is not None else None
    except ValueError:
        return None


def backoff(state: RetryCallState) -> float:
    """Seconds before the next try: Retry-After when given, else 0.25 s doubling to 8 s."""
    outcome = state.outcome
    hinted = retry_after(outcome.exception() if outcome is not None else None)
    if hinted is not None:
        return hinted
    return float(min(0.25 * 2 ** (state.attempt_number - 1), MAX_BACKOFF_S))


def _caused_by(exc: BaseException, cls: type[BaseException], depth: int = 8) -> bool:
    seen: BaseException | None = exc
    for _ in range(depth):
        if seen is None:
            return False
        if isinstance(seen, cls):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def malformed(exc: BaseException) -> bool:
    """A reply whose body is not valid JSON (litellm reports it as a 500): not transient."""
    return _caused_by(exc, json.JSONDecodeError, depth=5)


def transient(exc: BaseException, classes: tuple[type[BaseException], ...]) -> bool:
    """Worth another try: one of the transient `classes`, and not a malformed reply."""
    return isinstance(exc, classes) and not malformed(exc)


def classify(exc: BaseException, kinds: Sequence[tuple[type[BaseException], str]]) -> str:
    """The ProviderError kind of `exc`: the first matching class in `kinds` wins."""
    if malformed(exc):
        return "malformed"
    if _caused_by(exc, ConnectionError):  # refused or reset: litellm may call it a 500
        return "connection"
    for cls, kind in kinds:
        if isinstance(exc, cls):
            return kind
    return "timeout" if isinstance(exc, TimeoutError) else "other"


def provider_message(exc: BaseException) -> str:
    """The provider's own words: the first line of `exc` without litellm's class names."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return _WRAPPING.sub("", first, count=1) or first or type(exc).__name__


def retrying(retries: int, worth_retrying: Callable[[BaseException], bool]) -> AsyncRetrying:
    """`retries` more tries after the first, while `worth_retrying(exc)`, with `backoff`
    between them; the last failure is re-raised."""
    retry: Any = retry_if_exception(worth_retrying)
    return AsyncRetrying(
        stop=stop_after_attempt(retries + 1), wait=backoff, retry=retry, reraise=True
    )
