"""A scripted LangChain chat model, to drive a LangChain or LangGraph agent in tests: it
answers each call with the next of its scripted `AIMessage`s (tool calls included) and
records the messages it was sent and the tools it was bound to. A real implementation of
LangChain's `BaseChatModel`, `bind_tools` included, so agents run it as they would any."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    """Replies with `replies` in order; `calls` holds each request's messages, `tools` the
    OpenAI-style specs of the tools last bound. Running out of replies is an error."""

    replies: list[AIMessage]
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    tools: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-chat"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(list(messages))
        if len(self.calls) > len(self.replies):
            raise RuntimeError(f"scripted chat model: no reply left for call {len(self.calls)}")
        return ChatResult(generations=[ChatGeneration(message=self.replies[len(self.calls) - 1])])

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        self.tools = [convert_to_openai_tool(t) for t in tools]
        return self
