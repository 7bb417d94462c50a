"""The `local/` provider's engine: the embedded GGUF chat models run in-process by
llama-cpp-python, one lazily loaded model per name, safe under parallel branches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator.errors import ConfigError, ProviderError
from orchestrator.llm.local_models import (
    DEFAULT_SEED,
    LOCAL_MODELS,
    MAX_CONTEXT,
    SEED_MODULUS,
    LocalModelSpec,
    get_spec,
    model_path,
)
from orchestrator.protocols import (
    EngineFailure,
    EngineReply,
    Message,
    TextSink,
    ToolCall,
    ToolChoice,
    ToolSpec,
)

_load_lock = threading.Lock()
THREADS_ENV = "ORCHESTRATOR_THREADS"


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(usable) if usable else os.cpu_count() or 1


def local_threads() -> int:
    """Threads llama.cpp runs each model on: `$ORCHESTRATOR_THREADS`, else every usable CPU.
    The thread count changes speed only: a seed gives the same text."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return usable_cpus()
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(
            f"{THREADS_ENV} must be a whole number of threads (1 or more), not {text!r}"
        )
    return int(text)


@contextlib.contextmanager
def _plain_cpu_buffers() -> Iterator[None]:
    """Load weights into plain CPU buffers, not llama.cpp's "extra" AMX/repack buffers:
    its AMX matmul segfaults on some hosts (ggml-org/llama.cpp#20824), and llama-cpp-python
    has no parameter for `use_extra_bufts`, so its default-params factory is wrapped here."""
    import llama_cpp.llama_cpp as capi

    with _load_lock:
        original = capi.llama_model_default_params

        def plain() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        capi.llama_model_default_params = plain
        try:
            yield
        finally:
            capi.llama_model_default_params = original


class LocalEngine:
    """The `local/` provider: one lazily loaded `llama_cpp.Llama` per model.

    Calls run in worker threads; a per-model lock serialises loading and generation on a
    model (a llama.cpp context is not thread-safe), while different models run concurrently.
    A call whose messages repeat the model's previous call (the samples of a wide branch)
    reuses that prompt's KV cache and evaluates only its last token; any other call starts from
    an empty cache. Prompts always end on that last token evaluated alone, so the logits, and
    hence the text a seed gives, are the same whether the prefix was reused or not, and
    whatever ran before.
    """

    def __init__(
        self,
        *,
        specs: Mapping[str, LocalModelSpec] | None = None,
        n_threads: int | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._specs = dict(specs or LOCAL_MODELS)
        self.threads = n_threads or local_threads()
        self._cache_dir = cache_dir
        self._models: dict[str, Any] = {}  # name -> llama_cpp.Llama
        self._locks = {name: threading.Lock() for name in self._specs}
        self._cached_prompt: dict[str, str] = {}  # name -> key of the prompt in its KV cache

    def _load(self, spec: LocalModelSpec) -> Any:
        """The model's Llama, loaded on first use. Call with the model's lock held."""
        if spec.name not in self._models:
            from llama_cpp import Llama

            path = model_path(spec, cache_dir=self._cache_dir)
            with _plain_cpu_buffers():
                llm = Llama(
                    model_path=str(path),
                    n_ctx=min(spec.context_window, MAX_CONTEXT),
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    verbose=False,
                )
            _evaluate_last_token_alone(llm)
            logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
            self._models[spec.name] = llm
        return self._models[spec.name]

    def _generate_sync(
        self,
        spec: LocalModelSpec,
        messages: list[Message],
        options: dict[str, Any],
        on_text: TextSink | None,
        cancelled: threading.Event,
    ) -> EngineReply:
        with self._locks[spec.name]:
            if cancelled.is_set():  # given up while it waited for the model
                return EngineReply("", 0, 0, "cancelled")
            llm = self._load(spec)
            key = json.dumps([messages, options["response_format"]], sort_keys=True)
            if self._cached_prompt.pop(spec.name, None) != key:
                llm.reset()
            try:
                chunks = llm.create_chat_completion(messages=messages, stream=True, **options)
                reply = _drain(llm, chunks, on_text, cancelled)
                self._cached_prompt[spec.name] = key
                return reply
            except ValueError as exc:
                if "context window" not in str(exc):
                    raise
                raise ProviderError(spec.model_id, "context_window", str(exc)) from None

    async def generate(
        self,
        name: str,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None,
        json_mode: bool,
        on_text: TextSink | None = None,
        tools: list[ToolSpec] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> EngineReply:
        """One chat completion, formatted with the model's own GGUF chat template; with
        `on_text`, each piece of text is passed to it (from a worker thread) as it is made.
        A cancelled call stops generating at its next token and frees the model. A JSON
        schema (`response_format`, or the arguments of the one tool `tool_choice` forces)
        constrains the text by grammar; a called tool's arguments are not streamed."""
        spec = get_spec(name, self._specs)
        tool = forced_tool(tools, tool_choice)
        options: dict[str, Any] = {
            "temperature": temperature,
            "max_tokens": max_tokens,
            "seed": (DEFAULT_SEED if seed is None else seed) % SEED_MODULUS,
            "response_format": llama_format(tool, response_format, json_mode),
        }
        cancelled = threading.Event()
        sink = None if tool else on_text
        try:
            reply = await asyncio.to_thread(
                self._generate_sync, spec, messages, options, sink, cancelled
            )
        finally:
            cancelled.set()
        if tool is None:
            return reply
        call = ToolCall("call_1", tool["name"], reply.text)
        finish = "tool_calls" if reply.finish_reason == "stop" else reply.finish_reason
        return EngineReply("", reply.prompt_tokens, reply.completion_tokens, finish, (call,))


def forced_tool(tools: list[ToolSpec] | None, choice: ToolChoice | None) -> dict[str, Any] | None:
    """The function a local model must call: the one `tool_choice` names, or the only tool
    with `"required"`; None without tools or with `"none"`. Letting the model choose
    (`"auto"`) is refused: the local models have no tool-calling format to choose in."""
    if not tools or choice == "none":
        return None
    functions: dict[str, dict[str, Any]] = {t["function"]["name"]: t["function"] for t in tools}
    if isinstance(choice, dict):
        name = str(choice.get("function", {}).get("name"))
        if name not in functions:
            raise EngineFailure("bad_request", f"tool_choice names {name!r}, not a given tool")
        return functions[name]
    if choice == "required" and len(functions) == 1:
        return next(iter(functions.values()))
    raise EngineFailure(
        "bad_request",
        "local models call a tool only when tool_choice names it (or is 'required' with "
        "one tool); they cannot choose between tools or answering",
    )


def llama_format(
    tool: dict[str, Any] | None, response_format: dict[str, Any] | None, json_mode: bool
) -> dict[str, Any] | None:
    """llama-cpp-python's `response_format`: JSON constrained by a schema where there is one
    (the forced tool's parameters, or a `json_schema` response format), else plain JSON."""
    if tool is not None:
        return {"type": "json_object", "schema": tool.get("parameters") or {"type": "object"}}
    kind = (response_format or {}).get("type")
    if kind == "json_schema":
        schema = (response_format or {}).get("json_schema", {}).get("schema")
        return {"type": "json_object", "schema": schema or {"type": "object"}}
    return {"type": "json_object"} if json_mode or kind == "json_object" else None


def _evaluate_last_token_alone(llm: Any) -> None:
    """Make `llm` evaluate a prompt's last token in a batch of its own. llama-cpp-python
    re-evaluates only that token when it reuses a cached prompt, and a token's logits depend
    (in the last bits) on the batch it was evaluated in; splitting it off every time makes
    the reused and the fresh prompt bit-identical."""
    evaluate = llm.eval

    def split(tokens: Sequence[int]) -> None:
        if len(tokens) > 1:
            evaluate(tokens[:-1])
            tokens = tokens[-1:]
        evaluate(tokens)

    llm.eval = split


def _drain(
    llm: Any, chunks: Iterator[Any], on_text: TextSink | None, cancelled: threading.Event
) -> EngineReply:
    """Read a llama.cpp chat stream, passing text on, until it ends or the call is given up.
    Its chunks carry no usage, so the counts come from the context: the prompt is evaluated
    before the first chunk, and a reply cut at max_tokens leaves its last token unevaluated."""
    parts: list[str] = []
    prompt_tokens, finish = 0, "stop"
    for n, chunk in enumerate(chunks):
        if n == 0:
            prompt_tokens = llm.n_tokens
        if cancelled.is_set():
            return EngineReply("".join(parts), prompt_tokens, len(parts), "cancelled")
        choice = chunk["choices"][0]
        if text := choice["delta"].get("content"):
            parts.append(text)
            if on_text is not None:
                on_text(text)
        finish = choice.get("finish_reason") or finish
    completion_tokens = llm.n_tokens - prompt_tokens + (finish == "length")
    return EngineReply("".join(parts), prompt_tokens, completion_tokens, str(finish))
