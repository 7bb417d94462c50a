"""The LLM boundary: `boundary` is the one module that imports litellm and turns every call,
hosted or in-process, into a typed `Completion`; `retries` (backoff, which failures are
transient, their kinds), `hints` (what to check when a call fails) and `engines` (in-process
engines as litellm custom providers) are its litellm-free parts; `local_engine` and
`local_models` run the embedded GGUF models with llama-cpp-python.

May import: the root modules (config, errors, protocols, secrets, packaged_weights)."""

from orchestrator.llm.boundary import LiteLLMChatModel, make_chat_model, register_engine

__all__ = ["LiteLLMChatModel", "make_chat_model", "register_engine"]
