"""Profiling: run models on labelled questions (the ../shared/data/qa format) through the LLM
boundary, score each answer with its dataset's metric (token F1 for open QA), and write the
labelled-query format the router is fitted on, with real usage and cost. A re-run skips
rows already written.

QA rows: `{"id", "question", "answers": [...], ["context"], ["choices"], ["labels"], "meta"}`;
the dataset is the file's stem (gsm8k, math500, arc_challenge, strategyqa, hotpotqa_…)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ProviderError
from orchestrator.qa.data import QARecord, read_qa
from orchestrator.qa.scoring import extract_answer, kind_for, score

if TYPE_CHECKING:
    from orchestrator.protocols import ChatModel, Completion, Message

_ANSWER_FORMS = {
    "numeric": "<the number>",
    "math": "<the final answer in LaTeX>",
    "choice": "<the option letter>",
    "yesno": "yes or no",
}


def read_questions(paths: Sequence[str | Path], limit: int | None = None) -> list[QARecord]:
    """Questions from QA files, the first `limit` of each file when given."""
    return [record for path in paths for record in read_qa(path, limit)]


def prompt(question: QARecord) -> list[Message]:
    """The chat messages for one question (prompts/profile.md)."""
    from orchestrator.prompts import context_block, render

    kind = kind_for(question.dataset)
    choices = "".join(
        f"\n{label}. {c}" for label, c in zip(question.labels, question.choices, strict=False)
    )
    block = context_block(question.context())
    context = f"{block}Question: " if block else ""
    return render(
        "profile",
        answer_form=_ANSWER_FORMS.get(kind, "<short answer>"),
        context=context,
        question=question.question,
        choices=choices,
    )


def done_keys(out: Path) -> set[tuple[str, str]]:
    """(dataset, index) of the rows already in `out`; a torn last line is cut off."""
    if not out.exists():
        return set()
    keys: set[tuple[str, str]] = set()
    kept: list[str] = []
    lines = out.read_text(encoding="utf-8").split("\n")
    for line in lines:
        try:
            row = json.loads(line)
            keys.add((str(row["dataset"]), str(row["index"])))
            kept.append(line)
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    if len(kept) != len([x for x in lines if x.strip()]):
        out.write_text("".join(k + "\n" for k in kept), encoding="utf-8")
    return keys


async def _ask(model: ChatModel, messages: list[Message], max_tokens: int) -> Completion | None:
    try:
        return await model.complete(messages, temperature=0.0, max_tokens=max_tokens, seed=0)
    except ProviderError:
        return None


def record_score(question: QARecord, reply: str) -> float:
    """A reply's routing record: the dataset's metric, except that open QA is scored by token
    F1, not exact match: small models answer in sentences, so EM is all but always 0 and
    tells the router nothing about which of them found the answer."""
    kind = "f1" if kind_for(question.dataset) == "em" else question.dataset
    return score(kind, reply, question.answers, question.choices)


def labelled_row(
    question: QARecord, models: Sequence[ChatModel], replies: Sequence[Any]
) -> dict[str, Any]:
    """One labelled-query row: score (or null on failure), usage and the extracted answer."""
    records: dict[str, float | None] = {}
    usages: dict[str, dict[str, Any]] = {}
    predictions: dict[str, str | None] = {}
    for model, reply in zip(models, replies, strict=True):
        if reply is None:
            records[model.id], predictions[model.id] = None, None
            continue
        records[model.id] = record_score(question, reply.text)
        usages[model.id] = {
            "cost": reply.cost_usd,
            "prompt_tokens": reply.usage.prompt_tokens,
            "completion_tokens": reply.usage.completion_tokens,
        }
        predictions[model.id] = extract_answer(reply.text)[:200]
    return {
        "query": question.question,
        "dataset": question.dataset,
        "index": question.id,
        "records": records,
        "usages": usages,
        "predictions": predictions,
    }


async def profile(
    models: Sequence[ChatModel],
    questions: Sequence[QARecord],
    out: Path,
    *,
    max_tokens: int = 384,
    concurrency: int = 4,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Answer every question not yet in `out` with every model; append rows in input order.
    Returns the number of rows written."""
    done = done_keys(out)
    todo = [q for q in questions if (q.dataset, q.id) not in done]
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    for start in range(0, len(todo), max(concurrency, 1)):
        window = todo[start : start + max(concurrency, 1)]
        rows = await asyncio.gather(*(_answer_all(models, q, max_tokens) for q in window))
        with out.open("a", encoding="utf-8") as sink:
            sink.writelines(json.dumps(row) + "\n" for row in rows)
        written += len(rows)
        if progress is not None:
            progress(len(rows))
    return written


async def _answer_all(
    models: Sequence[ChatModel], question: QARecord, max_tokens: int
) -> dict[str, Any]:
    messages = prompt(question)
    replies = await asyncio.gather(*(_ask(m, messages, max_tokens) for m in models))
    return labelled_row(question, models, replies)
