"""Things a capability's location points at, for the tool runtime's tests: plain and async
functions, a LangChain tool, and a graph (path.py:attr specs)."""

import operator
import time
from typing import Annotated, TypedDict

from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph

CALLS: list[dict] = []


def multiply(a: float, b: float) -> float:
    CALLS.append({"a": a, "b": b})
    return a * b


async def shout(text: str) -> str:
    return text.upper()


def boom(x: int) -> str:
    raise RuntimeError(f"boom {x}")


def snooze(seconds: float) -> str:
    time.sleep(seconds)
    return "awake"


def huge(n: int) -> str:
    return "x" * n


@tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


class State(TypedDict):
    messages: Annotated[list, operator.add]


def _echo(state: State) -> dict:
    last = state["messages"][-1]
    return {"messages": [{"role": "assistant", "content": f"echo: {last['content']}"}]}


_builder = StateGraph(State)
_builder.add_node("echo", _echo)
_builder.add_edge(START, "echo")
_builder.add_edge("echo", END)
graph = _builder.compile()
