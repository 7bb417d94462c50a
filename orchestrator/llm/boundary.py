"""The LLM boundary: the one module that imports litellm.

`LiteLLMChatModel.complete` turns a chat request into a typed `Completion` with our own cost;
transient failures (rate limit, timeout, 5xx, connection) are retried here and nowhere else.
In-process engines (local llama.cpp models, the scripted fake) are served to litellm as
custom providers, so every model, local or hosted, crosses the same boundary.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
from litellm import exceptions as lx
from litellm.llms.custom_llm import CustomLLM

from orchestrator.config import ModelConfig
from orchestrator.errors import ConfigError, ProviderError
from orchestrator.llm.engines import ENGINES, generate, stream_chunks
from orchestrator.llm.hints import hint
from orchestrator.llm.retries import classify, provider_message, retrying, transient
from orchestrator.llm.wire import read_completion, tool_fields
from orchestrator.protocols import (
    Completion,
    Engine,
    EngineFailure,
    EngineReply,
    Message,
    TextSink,
    ToolChoice,
    ToolSpec,
)
from orchestrator.secrets import RedactingFilter, api_key, redact

litellm.suppress_debug_info = True
litellm.drop_params = True

# litellm logs raw request and response bodies at DEBUG; a provider that echoes a key back
# would leak it. Every configured key is added to this filter when it is first used.
_LOG_FILTER = RedactingFilter()
for _name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "openai._base_client", "httpx"):
    logging.getLogger(_name).addFilter(_LOG_FILTER)

_TRANSIENT = (
    lx.RateLimitError,
    lx.Timeout,
    lx.APIConnectionError,
    lx.InternalServerError,
    lx.ServiceUnavailableError,
    lx.BadGatewayError,
)
_KINDS: list[tuple[type[Exception], str]] = [
    (lx.ContextWindowExceededError, "context_window"),
    (lx.AuthenticationError, "auth"),
    (lx.PermissionDeniedError, "auth"),
    (lx.NotFoundError, "not_found"),
    (lx.RateLimitError, "rate_limit"),
    (lx.Timeout, "timeout"),
    (lx.BadRequestError, "bad_request"),
    (lx.APIConnectionError, "connection"),
    (lx.InternalServerError, "server"),
    (lx.ServiceUnavailableError, "server"),
    (lx.BadGatewayError, "server"),
    (lx.APIError, "server"),
]
_ENGINE_EXCEPTIONS: dict[str, Any] = {
    "rate_limit": lx.RateLimitError,
    "timeout": lx.Timeout,
    "server": lx.InternalServerError,
    "connection": lx.APIConnectionError,
    "auth": lx.AuthenticationError,
    "bad_request": lx.BadRequestError,
    "not_found": lx.NotFoundError,
    "context_window": lx.ContextWindowExceededError,
}

_prices: dict[str, ModelConfig] = {}


class _EngineHandler(CustomLLM):  # type: ignore[misc]
    """Serves `<provider>/<name>` ids from the engine registered for that provider."""

    def __init__(self, provider: str) -> None:
        super().__init__()
        self.provider = provider

    async def _generate(
        self, model: str, messages: list[Any], kw: dict[str, Any], on_text: TextSink | None
    ) -> EngineReply:
        try:
            return await generate(self.provider, model, messages, kw, on_text)
        except EngineFailure as exc:
            cls = _ENGINE_EXCEPTIONS[exc.kind]
            raise cls(message=str(exc), model=model, llm_provider=self.provider) from None

    async def acompletion(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
        reply = await self._generate(model, messages, kw, None)
        response = kw["model_response"]
        calls = [call.to_openai() for call in reply.tool_calls]
        response.choices[0].message = litellm.Message(
            content=reply.text if reply.text or not calls else None, tool_calls=calls or None
        )
        response.choices[0].finish_reason = reply.finish_reason
        response.model = model
        response.usage = litellm.Usage(
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            total_tokens=reply.prompt_tokens + reply.completion_tokens,
        )
        spec = _prices.get(f"{self.provider}/{model}")
        if spec is not None:  # our price, stamped so litellm need not look one up (it has none)
            cost = spec.cost(reply.prompt_tokens, reply.completion_tokens)
            response._hidden_params["response_cost"] = cost
        return response

    async def astreaming(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
        """The engine's text as litellm stream chunks, as it is generated, then usage."""
        produce = partial(self._generate, model, messages, kw)
        async for chunk in stream_chunks(produce):
            yield chunk


def register_engine(provider: str, engine: Engine) -> None:
    """Serve `<provider>/<name>` model ids from an in-process engine (replaces any earlier)."""
    known = {entry["provider"] for entry in litellm.custom_provider_map}
    ENGINES[provider] = engine
    if provider not in known:
        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": provider, "custom_handler": _EngineHandler(provider)},
        ]


def _ensure_provider(model_id: str) -> None:
    provider = model_id.split("/", 1)[0]
    if provider == "local" and provider not in ENGINES:
        from orchestrator.llm.local_engine import LocalEngine
        from orchestrator.llm.local_models import check_installed

        check_installed(model_id.split("/", 1)[1])
        register_engine("local", LocalEngine())
    elif provider == "local":
        from orchestrator.llm.local_models import check_installed

        check_installed(model_id.split("/", 1)[1])
    elif provider not in ENGINES:
        try:
            litellm.get_llm_provider(model_id)
        except Exception:
            raise ConfigError(
                f"unknown model id {model_id!r}: litellm has no provider for it"
            ) from None


class LiteLLMChatModel:
    """A ChatModel for any litellm id (hosted, OpenAI-compatible, local/…, scripted/…)."""

    def __init__(self, spec: ModelConfig) -> None:
        _ensure_provider(spec.id)
        _prices[spec.id] = spec
        self.spec = spec
        self.id = spec.id

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_mode: bool = False,
        on_text: TextSink | None = None,
        tools: list[ToolSpec] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """One call, retried on transient errors; streamed into `on_text` when given, and
        then retried only while no text has been passed on. `tools`, `tool_choice` and
        `response_format` go to the model as OpenAI's fields; its tool calls come back typed
        in `Completion.tool_calls`."""
        kwargs = self._request(messages, temperature, max_tokens, seed)
        kwargs.update(tool_fields(json_mode, tools, tool_choice, response_format))
        asked = {"tools": tools, "tool_choice": tool_choice, "response_format": response_format}
        if dropped := dropped_fields(self.id, [k for k, v in asked.items() if v]):
            message = f"its provider takes no {', '.join(dropped)} (litellm would drop them)"
            raise self._failure("bad_request", message)
        stream = _Stream(on_text) if on_text is not None else None
        started = time.perf_counter()
        try:
            async for attempt in retrying(
                self.spec.max_retries,
                lambda e: transient(e, _TRANSIENT) and not (stream and stream.sent),
            ):
                with attempt:
                    call = litellm.acompletion(**kwargs) if stream is None else stream.run(kwargs)
                    response = await asyncio.wait_for(call, self.spec.timeout_s)
        except Exception as exc:
            raise self._error(exc) from None
        return self._completion(response, time.perf_counter() - started)

    def _request(
        self,
        messages: list[Message],
        temperature: float,
        max_tokens: int,
        seed: int | None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.id,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "timeout": self.spec.timeout_s,
            "num_retries": 0,
        }
        if seed is not None:
            kwargs["seed"] = seed
        if self.spec.api_base:
            kwargs["api_base"] = self.spec.api_base
        key = api_key(self.spec.api_key_env)
        if key:
            kwargs["api_key"] = key
            if key not in _LOG_FILTER.secrets:
                _LOG_FILTER.secrets.append(key)
        return kwargs

    def _error(self, exc: BaseException) -> ProviderError:
        """The failure as a ProviderError of its kind, redacted, with what to check."""
        if isinstance(exc, ProviderError):
            return exc if exc.hint else self._failure(exc.kind, exc.message)
        secrets = [k for k in [api_key(self.spec.api_key_env)] if k]
        message = redact(provider_message(exc), secrets)
        return self._failure(classify(exc, _KINDS), message[:300])

    def _failure(self, kind: str, message: str) -> ProviderError:
        return ProviderError(self.id, kind, message, hint(kind, self.spec))

    def _completion(self, response: Any, latency_s: float) -> Completion:
        completion = read_completion(response, self.spec, latency_s)
        if completion is None:
            raise self._failure("malformed", "response has no choices, content or tool call")
        return completion


@dataclass
class _Stream:
    """One streamed call: passes text on as it arrives, and rebuilds the whole response."""

    on_text: TextSink
    sent: bool = False

    async def run(self, kwargs: dict[str, Any]) -> Any:
        chunks = []
        request = {**kwargs, "stream": True, "stream_options": {"include_usage": True}}
        async for chunk in await litellm.acompletion(**request):
            chunks.append(chunk)
            text = chunk.choices[0].delta.content if chunk.choices else None
            if text:
                self.sent = True
                self.on_text(text)
        return litellm.stream_chunk_builder(chunks, messages=kwargs["messages"])


def dropped_fields(model_id: str, fields: list[str]) -> list[str]:
    """Which of `fields` (tools, tool_choice, response_format) the model's provider does not
    take, per litellm's table of supported parameters. `drop_params` would silently remove
    them; a caller that asked for tools must get an error instead of a plain answer."""
    if not fields:
        return []
    try:
        model, provider, _, _ = litellm.get_llm_provider(model_id)
        supported = litellm.get_supported_openai_params(model=model, custom_llm_provider=provider)
    except Exception:  # a provider litellm does not know: it gets the fields and answers
        return []
    return [] if supported is None else [f for f in fields if f not in supported]


def make_chat_model(spec: ModelConfig) -> LiteLLMChatModel:
    """The ChatModel for one configured model; unknown ids and missing packages fail here."""
    return LiteLLMChatModel(spec)
