"""The seam the adapters wrap (what `Orchestrator` offers them), the graphs a caller may
pick, and the short trace summary an agent gets back with an answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from orchestrator.errors import InputError
from orchestrator.results import Answer

EventHandler = Callable[[dict[str, Any]], None]


class Asker(Protocol):
    """What the adapters need of an orchestrator: answer, and a variant with another graph
    or router α."""

    async def aask(
        self,
        question: str,
        *,
        width: int | None = None,
        context: str | None = None,
        on_event: EventHandler | None = None,
        inside_graph: bool = False,
    ) -> Answer: ...

    def variant(self, *, graph: str | None = None, alpha: float | None = None) -> Asker: ...


def check_graph(graph: str | None, offered: Sequence[str]) -> str | None:
    """The graph a caller asked for, if it is one of those offered: a caller that is a model
    must not be able to name a file of Python to load."""
    if graph is None or graph in offered:
        return graph
    raise InputError(f"graph {graph!r} is not offered here; choose one of {', '.join(offered)}")


def tuned(asker: Asker, graph: str | None, alpha: float | None) -> Asker:
    """The asker itself when nothing changes, else its variant."""
    return asker if graph is None and alpha is None else asker.variant(graph=graph, alpha=alpha)


def trace_summary(answer: Answer) -> dict[str, Any]:
    """Per sub-query: its question, the model routed to, the samples drawn and the votes;
    with the run's usage. Small enough to hand back to an agent."""
    steps = [
        {
            "id": step.subquery_id,
            "question": step.question,
            "model": step.model,
            "samples": len(step.samples),
            "answer": step.answer,
            "votes": step.votes,
        }
        for step in answer.steps
    ]
    return {
        "steps": steps,
        "usage": answer.usage.model_dump(),
        "latency_s": answer.latency_s,
    }
