"""Fakes we ship for tests and benchmarks: the scripted chat engine behind `scripted/…` ids
and a real OpenAI-compatible HTTP server on 127.0.0.1. Production code never imports them.

May import: the root modules and `llm` (to register the scripted engine)."""

from orchestrator.testing.fake_openai import FakeOpenAI
from orchestrator.testing.replies import Reply
from orchestrator.testing.scripted import ScriptedEngine, ScriptedFailure, tool_reply

__all__ = ["FakeOpenAI", "Reply", "ScriptedEngine", "ScriptedFailure", "tool_reply"]
