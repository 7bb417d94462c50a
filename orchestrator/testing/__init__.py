"""Fakes we ship for tests and benchmarks: the scripted chat engine behind `scripted/…` ids,
a real OpenAI-compatible HTTP server on 127.0.0.1, and a scripted LangChain chat model that
drives agents (`testing.chat_model`, not imported here: it loads langchain-core). Production
code never imports them.

May import: the root modules, `llm` (to register the scripted engine) and langchain-core."""

from orchestrator.testing.fake_openai import FakeOpenAI
from orchestrator.testing.replies import Reply
from orchestrator.testing.scripted import ScriptedEngine, ScriptedFailure, tool_reply

__all__ = ["FakeOpenAI", "Reply", "ScriptedEngine", "ScriptedFailure", "tool_reply"]
