"""An agent workflow offline: a multi-hop question whose steps go to local tools.

The registry is examples/data/agent_tools.jsonl (a calculator, a unit converter and a search
over the HotpotQA paragraphs in examples/data/). The planner is shown the tools relevant to
the question and may mark a step with one; the capability router decides; each tool runs
once per step, and the models reason over its fenced result. The question needs two tools:
the paragraph search finds the year, the calculator does the subtraction.

    python examples/agent_workflow.py              # the embedded local models (CPU, minutes)
    python examples/agent_workflow.py --scripted   # scripted models: instant, what CI runs
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from agent_tools import search

from orchestrator import Orchestrator
from orchestrator.agents.toolbox import CapabilityToolbox
from orchestrator.capabilities import CapabilityRouter, load_jsonl
from orchestrator.config import Config, load_config, parse_config
from orchestrator.embeddings.embedders import make_embedder

QUESTION = "How many years before 2025 was the League of Nations founded?"
REGISTRY = Path(__file__).resolve().parent / "data" / "agent_tools.jsonl"
PLAN = {
    "subqueries": [
        {
            "id": "q1",
            "question": "When was the League of Nations founded?",
            "capability": "paragraph_search",
        },
        {
            "id": "q2",
            "question": "What is 2025 - #1?",
            "depends_on": ["q1"],
            "capability": "calculator",
        },
    ]
}


def build(config: Config) -> Orchestrator:
    """The orchestrator over `config`'s models, with the registry's tools routable."""
    embedder = make_embedder(config.embedder.name)
    router = CapabilityRouter.fit(load_jsonl(REGISTRY), embedder.embed, embedder_name=embedder.name)
    toolbox = CapabilityToolbox(
        router, embedder, tools={"paragraph_search": search}, top_k=3, timeout_s=10
    )
    return Orchestrator.from_config(config, embedder=embedder, capabilities=toolbox)


def scripted_config() -> Config:
    """A scripted model that plans, fills tool arguments and reads the tools' results the
    way a capable model would (offline, no weights)."""
    from orchestrator.llm.boundary import register_engine
    from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine, tool_reply

    def respond(call: ScriptedCall) -> object:
        if call.tools:  # asked to fill a tool's arguments for the request that ends the prompt
            request = call.prompt.splitlines()[-1]
            if call.tool_names[0] == "calculator":
                return tool_reply("calculator", {"expression": request.split("is ")[-1][:-1]})
            return tool_reply(call.tool_names[0], {"query": request, "k": 1})
        if "planner" in call.system:
            return json.dumps(PLAN)
        if "final answer" in call.system:  # the last sub-answer, from the fenced lines
            last = re.findall(r"-> (\S+)", call.prompt)[-1]
            return f"From the sub-answers.\nAnswer: {last}"
        fenced = re.search(r"<<<TOOL-\w+\n(.*?)\nTOOL-", call.prompt, re.S)
        found = re.findall(r"\b\d{3,4}\b", fenced.group(1)) if fenced else []
        return f"The tool's result says so.\nAnswer: {found[0] if found else 'unknown'}"

    register_engine("scripted", ScriptedEngine(respond))
    model = {"id": "scripted/agent", "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0}
    return parse_config({"models": [model], "embedder": {"name": "hashing-64"}})


def main(scripted: bool) -> None:
    orchestrator = build(scripted_config() if scripted else load_config(None))
    answer = orchestrator.ask(QUESTION, width=1 if scripted else 2)
    print(f"question: {QUESTION}")
    for step in answer.steps:
        route = step.capability or {}
        print(f"{step.subquery_id} {step.asked or step.question}")
        print(f"   routed: {route.get('capability') or step.model} ({route.get('reason', '')})")
        if step.tool is not None:
            result = step.tool.output if step.tool.status == "ok" else step.tool.error
            short = " ".join((result or "").split())[:90]
            print(
                f"   tool:   {step.tool.capability}({json.dumps(step.tool.arguments)}) -> {short}"
            )
        print(f"   answer: {step.answer}  [{step.model}, votes {step.votes}]")
    usage = answer.usage
    print(f"usage: {usage.llm_calls} model calls, {usage.completion_tokens} completion tokens")
    print(f"answer: {answer.answer}  (status {answer.status})")


if __name__ == "__main__":
    main("--scripted" in sys.argv[1:])
