"""What a capability's location points at, loaded and called: a Python callable or LangChain
tool (`package.module:attr` or `path.py:attr`), a graph spec run as a subgraph, an agent
behind an OpenAI-compatible endpoint called as a model. Each returns the output as text."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import inspect
import json
from importlib import import_module
from pathlib import Path
from typing import Any

from orchestrator.capability import Capability
from orchestrator.config import ModelConfig


class Unavailable(Exception):
    """Nothing to run: a spec that does not import, or names nothing callable."""


def import_target(spec: str) -> Any:
    """The object `spec` names: `package.module:attr` or `path/to/file.py:attr` (the attr may
    be dotted). An `Unavailable` error names what is missing."""
    where, _, attr = spec.rpartition(":")
    if not where or not attr:
        raise Unavailable(f"{spec!r} is not of the form module:attr or path.py:attr")
    try:
        module = _load_file(Path(where)) if where.endswith(".py") else import_module(where)
    except Exception as exc:
        raise Unavailable(f"cannot import {where!r}: {type(exc).__name__}: {exc}") from None
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            raise Unavailable(f"{where!r} has no attribute {attr!r}")
        value = getattr(value, part)
    return value


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    name = "capability_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_text(value: Any) -> str:
    """A tool's return value as text: strings as they are, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    content = getattr(value, "content", None)  # a LangChain message or ToolMessage
    if isinstance(value, dict) and "role" in value:
        content = value.get("content")
    if isinstance(content, str):
        return content
    return json.dumps(value, ensure_ascii=False, default=str)


async def call_target(target: Any, arguments: dict[str, Any]) -> str:
    """A LangChain tool or runnable (`ainvoke`, which runs sync tools in a thread), an async
    function (awaited), or a plain function (in a worker thread), called with `arguments`."""
    if hasattr(target, "ainvoke"):
        return as_text(await target.ainvoke(arguments))
    if not callable(target):
        raise Unavailable(f"{type(target).__name__} object is not callable")
    if inspect.iscoroutinefunction(target):
        return as_text(await target(**arguments))
    return as_text(await asyncio.to_thread(target, **arguments))


def compiled_graph(target: Any) -> Any:
    """A compiled graph from a graph spec's object: the compiled graph itself, a builder
    (compiled here), or a factory function (called)."""
    if hasattr(target, "ainvoke"):
        return target
    if hasattr(target, "compile"):
        return target.compile()
    if callable(target):
        return compiled_graph(target())
    raise Unavailable(f"{type(target).__name__} object is not a graph")


async def run_graph(graph: Any, request: str, arguments: dict[str, Any] | None) -> str:
    """Invoke a compiled graph: with the arguments as its input where the capability has
    parameters, else with the request as its `messages` (a user message) or `question`.
    The output is the last message's text, else its `answer`, else the state as JSON."""
    if arguments is None:
        fields = _input_fields(graph)
        if "messages" in fields or not fields:
            arguments = {"messages": [{"role": "user", "content": request}]}
        else:
            arguments = {"question" if "question" in fields else sorted(fields)[0]: request}
    state = await graph.ainvoke(arguments)
    if isinstance(state, dict) and state.get("messages"):
        return as_text(state["messages"][-1])
    if isinstance(state, dict) and "answer" in state:
        return as_text(state["answer"])
    return as_text(state)


def _input_fields(graph: Any) -> set[str]:
    try:
        return set(graph.get_input_jsonschema().get("properties", {}))
    except Exception:  # a graph without a schema: give it messages
        return set()


def agent_model(capability: Capability, timeout_s: float) -> ModelConfig:
    """The model an agent behind an OpenAI-compatible endpoint is called as: `openai/<model>`
    at its api_base, priced 0 (the capability's `cost_usd` is what a call costs)."""
    location = capability.location
    return ModelConfig(
        id=f"openai/{location.model or capability.id}",
        input_usd_per_mtok=0.0,
        output_usd_per_mtok=0.0,
        api_base=location.api_base,
        api_key_env=location.api_key_env,
        timeout_s=timeout_s,
        max_retries=0,
    )
