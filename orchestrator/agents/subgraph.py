"""`Orchestrator.as_subgraph()`: a compiled graph over LangGraph's `MessagesState`. Its one
node takes the last human message as the question (earlier messages as context), runs the
orchestrator as a nested graph, and appends an `AIMessage` with the answer; the trace rides
in the message's `response_metadata["orchestrator"]`.

Because the run is nested, a parent graph that adds this as a node gets the orchestrator's
`custom` progress events (`stream(..., subgraphs=True)`), keeps its checkpoints in the
parent's checkpointer, and sees its interrupts."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from orchestrator.agents.asker import Asker
from orchestrator.errors import InputError
from orchestrator.results import Answer

MessagesGraph = CompiledStateGraph[MessagesState, None, MessagesState, MessagesState]


def build_subgraph(asker: Asker, *, name: str = "orchestrator") -> MessagesGraph:
    """The compiled graph; add it with `parent.add_node("orchestrator", subgraph)`."""

    async def answer(state: MessagesState) -> dict[str, list[AnyMessage]]:
        question, context = split_messages(state["messages"])
        result = await asker.aask(question, context=context or None, inside_graph=True)
        return {"messages": [answer_message(result, name)]}

    graph = StateGraph(MessagesState)
    graph.add_node("answer", answer)
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    return graph.compile(name=name)


def split_messages(messages: Sequence[AnyMessage]) -> tuple[str, str]:
    """(question, context): the last human message, and every earlier message as
    `role: text` lines (the server's convention)."""
    last = next((i for i in reversed(range(len(messages))) if _human(messages[i])), None)
    if last is None:
        raise InputError("the orchestrator subgraph needs a human message to answer")
    lines = [f"{m.type}: {m.text}" for m in messages[:last] if m.text.strip()]
    return messages[last].text, "\n".join(lines)


def _human(message: AnyMessage) -> bool:
    return isinstance(message, HumanMessage) and bool(message.text.strip())


def answer_message(answer: Answer, name: str) -> AIMessage:
    """The answer as an AIMessage: token usage in `usage_metadata`, the whole trace (as
    `Answer.to_json()`, with run id and error) in `response_metadata["orchestrator"]`."""
    usage = answer.usage
    trace = {**answer.to_json(), "error": answer.error, "run_id": answer.run_id}
    return AIMessage(
        content=answer.answer,
        name=name,
        usage_metadata={
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        },
        response_metadata={"orchestrator": trace, "status": answer.status},
    )
