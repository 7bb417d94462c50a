"""`Orchestrator.as_tool()` called by a LangGraph ReAct agent (`create_react_agent`) that a
scripted chat model drives: the tool call crosses into the orchestrator with its arguments,
the answer comes back as the ToolMessage (trace in its artifact), and the agent answers
with it. Also: the tool's schema, sync use, and refusals reported to the agent."""

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.prebuilt import create_react_agent
from support import kind_of, scripted_config

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.protocols import RouteDecision
from orchestrator.testing.chat_model import ScriptedChatModel
from orchestrator.testing.scripted import ScriptedFailure


class AlphaRouter:
    """Routes to the small model below α 0.5, else the big one; records each α."""

    embedder_name, models = "hashing-64", ["scripted/big", "scripted/small"]

    def __init__(self) -> None:
        self.seen: list[float] = []

    def route(self, vector, alpha=1.0):
        self.seen.append(alpha)
        return RouteDecision("scripted/small" if alpha < 0.5 else "scripted/big")


def make(router=None) -> Orchestrator:
    cfg = parse_config(scripted_config())
    return Orchestrator.from_config(cfg, router=router)


def calling(args: dict, then: str = "Turing studied at Cambridge.") -> ScriptedChatModel:
    """An agent model that calls the orchestrator tool once with `args`, then answers."""
    call = {"name": "orchestrator", "args": args, "id": "call_1", "type": "tool_call"}
    return ScriptedChatModel(replies=[AIMessage("", tool_calls=[call]), AIMessage(then)])


async def test_a_react_agent_calls_the_orchestrator_and_answers_with_its_result(scripted):
    engine = scripted()
    router = AlphaRouter()
    tool = make(router).as_tool()
    model = calling({"question": "Where did Alan Turing study?", "width": 2, "alpha": 0.3})
    agent = create_react_agent(model, [tool])
    result = await agent.ainvoke({"messages": [HumanMessage("Where did Turing study?")]})
    assert model.tools[0]["function"]["name"] == "orchestrator"
    assert set(model.tools[0]["function"]["parameters"]["properties"]) == {
        "question",
        "graph",
        "width",
        "alpha",
    }
    plans = [c for c in engine.calls if kind_of(c) == "plan"]
    assert len(plans) == 1 and "Where did Alan Turing study?" in plans[0].prompt
    samples = [c for c in engine.calls if kind_of(c) == "sample"]
    assert len(samples) == 3 * 2 and {c.model for c in samples} == {"small"}
    assert router.seen == [0.3] * 3
    tool_message = model.calls[1][-1]
    assert isinstance(tool_message, ToolMessage) and tool_message.tool_call_id == "call_1"
    assert tool_message.content == "University of Cambridge"
    assert tool_message.artifact["status"] == "ok"
    assert [s["id"] for s in tool_message.artifact["steps"]] == ["q1", "q2", "q3"]
    assert result["messages"][-1].content == "Turing studied at Cambridge."


async def test_a_graph_the_tool_does_not_offer_is_refused_to_the_agent(scripted, tmp_path):
    engine = scripted()
    model = calling({"question": "Q?", "graph": f"{tmp_path / 'evil.py'}:graph"})
    agent = create_react_agent(model, [make().as_tool()])
    await agent.ainvoke({"messages": [HumanMessage("Q?")]})
    reply = model.calls[1][-1]
    assert isinstance(reply, ToolMessage) and reply.status == "error"
    assert "is not offered here; choose one of wide, deep, deep-long, single" in reply.content
    assert engine.calls == []


async def test_invalid_arguments_reach_the_agent_as_an_error_not_the_orchestrator(scripted):
    engine = scripted()
    model = calling({"question": "Q?", "width": 0})
    agent = create_react_agent(model, [make().as_tool()])
    await agent.ainvoke({"messages": [HumanMessage("Q?")]})
    reply = model.calls[1][-1]
    assert isinstance(reply, ToolMessage) and reply.status == "error"
    assert "width" in reply.content
    assert engine.calls == []


def test_the_tool_runs_synchronously_with_another_graph(scripted):
    engine = scripted()
    tool = make().as_tool(name="hard_question", graphs=["single"])
    assert tool.name == "hard_question"
    answer = tool.invoke({"question": "Where did Turing study?", "graph": "single"})
    assert answer == "Cambridge"  # the voted sample: single neither plans nor synthesizes
    assert [kind_of(c) for c in engine.calls] == ["sample"] * 3


def refuse(call):
    raise ScriptedFailure("auth", "invalid api key")


async def test_a_failed_run_is_reported_to_the_agent(scripted):
    engine = scripted(refuse)
    model = calling({"question": "Where did Turing study?", "graph": "single"})
    agent = create_react_agent(model, [make().as_tool()])
    await agent.ainvoke({"messages": [HumanMessage("Q?")]})
    reply = model.calls[1][-1]
    assert reply.status == "error" and reply.content.startswith("the orchestrator failed: ")
    assert "invalid api key" in reply.content and len(engine.calls) == 3


async def test_a_blank_question_is_refused_before_any_call(scripted):
    engine = scripted()
    model = calling({"question": "   "})
    agent = create_react_agent(model, [make().as_tool()])
    await agent.ainvoke({"messages": [HumanMessage("Q?")]})
    reply = model.calls[1][-1]
    assert reply.content == "the orchestrator refused: the question is empty"
    assert engine.calls == []
