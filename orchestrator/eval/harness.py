"""The evaluation harness: every configuration on every question, one row per (question,
configuration) appended to DIR/results.jsonl and flushed as soon as it is scored, so a
crash loses only the questions in flight and a re-run skips the rows already there.

A configuration is a graph with a fixed width and depth, or a completion-token budget the
graph divides itself, and a model choice: a pinned model (planner, samples and synthesis
all on it), `routed` (the router artifact picks per sub-query) or `default` (the config's
own routing)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.config import Config
from orchestrator.errors import ConfigError
from orchestrator.eval.configurations import Configuration, pinned
from orchestrator.eval.provenance import code_version
from orchestrator.eval.shared_calls import SharedCalls, counting_reuse
from orchestrator.graph.shape import check_shape
from orchestrator.qa.data import QARecord
from orchestrator.qa.scoring import exact_match, extract_answer, f1_score, kind_for, score

if TYPE_CHECKING:
    from orchestrator.api import Orchestrator
    from orchestrator.protocols import Embedder, Router
    from orchestrator.results import Answer, ToolStep

RowHook = Callable[[dict[str, Any]], None]


class ResultsLog:
    """DIR/results.jsonl: append-only, one JSON row a line, each flushed to disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def rows(self) -> list[dict[str, Any]]:
        """Every complete row; a torn last line (a crash mid-write) is cut off the file."""
        if not self.path.exists():
            return []
        lines = [x for x in self.path.read_text(encoding="utf-8").split("\n") if x.strip()]
        rows: list[dict[str, Any]] = []
        for line in lines:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        if len(rows) != len(lines):
            self.path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return rows

    def done(self) -> set[tuple[str, str, str]]:
        return {
            (str(r.get("dataset")), str(r.get("question_id")), str(r.get("configuration")))
            for r in self.rows()
        }

    def append(self, row: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            os.fsync(sink.fileno())


def grade(record: QARecord, prediction: str) -> tuple[bool, float, float]:
    """(correct, EM, F1) by the dataset's metric. EM and F1 are SQuAD-normalised against
    the aliases for open QA; for numeric, math, choice and yes/no sets both are `correct`."""
    correct = score(record.dataset, prediction, record.answers, record.choices) >= 1.0
    if kind_for(record.dataset) in ("em", "f1"):
        answer = extract_answer(prediction)
        return correct, exact_match(answer, record.answers), f1_score(answer, record.answers)
    return correct, float(correct), float(correct)


def _base_row(record: QARecord, conf: Configuration) -> dict[str, Any]:
    return {
        "question_id": record.id,
        "dataset": record.dataset,
        "configuration": conf.key,
        **conf.to_json(),
        "gold": list(record.answers),
        "code": code_version(),
    }


def scored_row(
    record: QARecord, conf: Configuration, answer: Answer, shape: dict[str, Any]
) -> dict[str, Any]:
    correct, em, f1 = grade(record, answer.answer)
    models = sorted({s.model for step in answer.steps for s in step.samples if s.model})
    return {
        **_base_row(record, conf),
        "answer": answer.answer,
        "correct": correct,
        "em": em,
        "f1": f1,
        "prompt_tokens": answer.usage.prompt_tokens,
        "completion_tokens": answer.usage.completion_tokens,
        "cost_usd": answer.usage.cost_usd,
        "latency_s": answer.latency_s,
        "llm_calls": answer.usage.llm_calls,
        "models": models,
        "shape": shape,
        "status": answer.status,
        "error": answer.error,
        "steps": [
            {
                "id": s.subquery_id,
                "asked": s.asked,
                "answer": s.answer,
                "paragraphs": s.paragraphs,
                "tool": _tool(s.tool),
            }
            for s in answer.steps
        ],
    }


def _tool(step: ToolStep | None) -> dict[str, Any] | None:
    """A sub-query's tool step in a row: which capability, with which arguments, how the call
    went, its output and why it failed (each text cut to its first 200 characters)."""
    if step is None:
        return None
    return {
        "capability": step.capability,
        "arguments": step.arguments,
        "status": step.status,
        "output": step.output[:200],
        "error_kind": step.error_kind,
        "error": None if step.error is None else step.error[:200],
    }


def error_row(
    record: QARecord, conf: Configuration, error: str, latency_s: float
) -> dict[str, Any]:
    return {
        **_base_row(record, conf),
        "answer": "",
        "correct": False,
        "em": 0.0,
        "f1": 0.0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
        "latency_s": round(latency_s, 4),
        "llm_calls": 0,
        "models": [],
        "shape": {},
        "status": "error",
        "error": error,
    }


async def answer_row(
    orchestrator: Orchestrator, record: QARecord, conf: Configuration
) -> dict[str, Any]:
    """Ask one question under one configuration and score it; a failure is an error row.
    `reused_calls` counts the calls a `SharedCalls` answered from an earlier configuration."""
    shape: dict[str, Any] = {}

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") == "shape":
            shape.update(width=event["width"], depth=event["depth"])

    started = time.perf_counter()
    with counting_reuse() as reused:
        try:
            answer = await orchestrator.aask(
                record.prompt(),
                width=conf.width,
                depth=conf.depth,
                budget_tokens=conf.budget_tokens,
                context=record.context() or None,
                on_event=on_event,
            )
        except Exception as exc:  # one broken question must not stop the sweep
            elapsed = time.perf_counter() - started
            row = error_row(record, conf, f"{type(exc).__name__}: {exc}", elapsed)
        else:
            row = scored_row(record, conf, answer, shape)
    return row | {"reused_calls": len(reused)}


class Harness:
    """Runs configurations over questions, one Orchestrator per (graph, model choice).
    With `share_calls` every configuration's calls go through one `SharedCalls`."""

    def __init__(
        self,
        config: Config,
        embedder: Embedder,
        router: Router | None = None,
        concurrency: int = 1,
        share_calls: bool = False,
    ) -> None:
        self.config, self.embedder, self.router = config, embedder, router
        self.concurrency = max(concurrency, 1)
        self.shared = SharedCalls() if share_calls else None
        self._built: dict[tuple[str, str, float | None], Orchestrator] = {}

    def orchestrator(self, conf: Configuration) -> Orchestrator:
        from orchestrator.api import Orchestrator
        from orchestrator.routing.router import FixedRouter

        key = (conf.graph, conf.model, conf.alpha)
        if key not in self._built:
            routed = conf.model == "routed"
            if routed and self.router is None:
                raise ConfigError("a routed configuration needs a router artifact (--router)")
            router: Router | None = self.router if routed else None
            cfg = self.config
            if conf.model not in ("routed", "default"):
                # every call on the one model, whatever router the config has
                cfg = pinned(self.config, conf.model)
                router = FixedRouter(conf.model, self.embedder.name)
            elif conf.alpha is not None:
                cfg = cfg.amended(router={"alpha": conf.alpha})
            built = Orchestrator.from_config(
                cfg, graph=conf.graph, embedder=self.embedder, router=router
            )
            if self.shared is not None:
                built.models = {i: self.shared.wrap(m) for i, m in built.models.items()}
            self._built[key] = built
        return self._built[key]

    async def run(
        self,
        questions: Sequence[QARecord],
        configurations: Sequence[Configuration],
        log: ResultsLog,
        on_row: RowHook | None = None,
    ) -> int:
        """Answer every (question, configuration) pair not yet in `log`, question by
        question; returns the number of rows written."""
        done = log.done()
        todo = [
            (q, c)
            for q in questions
            for c in configurations
            if (q.dataset, q.id, c.key) not in done
        ]
        for conf in configurations:  # bad shapes, graphs and models fail before any call
            check_shape(conf.depth, conf.budget_tokens, conf.width)
            self.orchestrator(conf)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(record: QARecord, conf: Configuration) -> None:
            async with gate:
                row = await answer_row(self.orchestrator(conf), record, conf)
                log.append(row)
            if on_row is not None:
                on_row(row)

        async with asyncio.TaskGroup() as group:
            for record, conf in todo:
                group.create_task(one(record, conf))
        return len(todo)
