"""Planning: parse and validate the planner's decomposition into typed sub-queries, and
fill a later hop's references (`#1`, `{q1}`, "the answer to q1") with the earlier answers."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any, NotRequired, TypedDict

from orchestrator.errors import PlanningError

MAX_SUBQUERY_CHARS = 2000


class SubQuery(TypedDict):
    id: str
    question: str
    depends_on: list[str]
    capability: NotRequired[str]  # the planner's mark: a capability it was offered


def _json_payload(text: str) -> Any:
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    candidate = fenced.group(1) if fenced else text
    start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise PlanningError("the planner's reply contains no JSON")
    try:
        value, _ = json.JSONDecoder().raw_decode(candidate[start:])
    except json.JSONDecodeError as exc:
        raise PlanningError(f"the planner's reply is not valid JSON ({exc.msg})") from None
    return value


def _items(payload: Any) -> list[Any]:
    if isinstance(payload, dict) and payload.get("decompose") is False:
        return []
    items = payload.get("subqueries") if isinstance(payload, dict) else payload
    if not isinstance(items, list) or not items:
        raise PlanningError("the plan has no 'subqueries' list and no \"decompose\": false")
    return items


def _subquery(item: Any, index: int, offered: Collection[str]) -> SubQuery:
    if isinstance(item, str):
        item = {"question": item}
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        raise PlanningError(f"sub-query {index + 1} has no 'question' text")
    question = item["question"].strip()
    if not question:
        raise PlanningError(f"sub-query {index + 1} is empty")
    if len(question) > MAX_SUBQUERY_CHARS:
        raise PlanningError(f"sub-query {index + 1} is {len(question)} characters long (max 2000)")
    raw_deps = item.get("depends_on") or []
    deps = [str(d) for d in raw_deps] if isinstance(raw_deps, list) else []
    sq: SubQuery = {
        "id": str(item.get("id") or f"q{index + 1}"),
        "question": question,
        "depends_on": deps,
    }
    mark = item.get("capability")
    if isinstance(mark, str) and mark in offered:  # a plan names only what it was offered
        sq["capability"] = mark
    return sq


def whole(question: str, capability: str | None = None) -> list[SubQuery]:
    """The plan of a question that needs no decomposition: the question itself, verbatim
    (with the planner's capability mark, if it made one)."""
    sq: SubQuery = {"id": "q1", "question": question, "depends_on": []}
    if capability:
        sq["capability"] = capability
    return [sq]


def parse_plan(
    text: str, max_subqueries: int, question: str, offered: Collection[str] = ()
) -> list[SubQuery]:
    """Sub-queries from the planner's reply, clipped to max_subqueries, dependencies checked.
    `{"decompose": false}` or a plan of one step is the question itself, asked verbatim (a
    one-step rewording can only lose what the question said).

    Only ids, questions, dependencies and capability marks are read, a mark only when it
    names one of the `offered` capability ids: nothing the planner writes can change models,
    budgets or configuration, nor reach a capability it was not shown.
    """
    payload = _json_payload(text)
    items = _items(payload)[:max_subqueries]
    plan = [_subquery(item, i, offered) for i, item in enumerate(items)]
    if len(plan) <= 1:
        mark = plan[0].get("capability") if plan else _mark(payload, offered)
        return whole(question, mark)
    ids = [sq["id"] for sq in plan]
    if len(set(ids)) != len(ids):
        raise PlanningError(f"the plan repeats sub-query ids: {ids}")
    for sq in plan:
        named = [*sq["depends_on"], *_referenced(sq["question"], ids)]
        sq["depends_on"] = [d for d in dict.fromkeys(named) if d in ids and d != sq["id"]]
    _check_acyclic(plan)
    return plan


def _mark(payload: Any, offered: Collection[str]) -> str | None:
    """The capability mark of a `{"decompose": false, "capability": ...}` reply."""
    mark = payload.get("capability") if isinstance(payload, dict) else None
    return mark if isinstance(mark, str) and mark in offered else None


def step_of(question: str, plan: list[SubQuery]) -> str:
    """For a sub-query of a plan of several steps, the question it is a step of: a step alone
    may lack what the question says ("How much did Marie pay for the milk?")."""
    if len(plan) <= 1:
        return ""
    return f'This is one step of the question "{question}". Answer only this step.\n\n'


def known_facts(sq: SubQuery, plan: list[SubQuery], answers: dict[str, str]) -> str:
    """The answers of the steps `sq` depends on, as the lines its prompts start with."""
    if not sq["depends_on"]:
        return ""
    questions = {s["id"]: s["question"] for s in plan}
    lines = [f"- {d} ({questions[d]}): {answers.get(d) or 'unknown'}" for d in sq["depends_on"]]
    return "Facts found in earlier steps:\n" + "\n".join(lines) + "\n\n"


def _check_acyclic(plan: list[SubQuery]) -> None:
    done: set[str] = set()
    pending = list(plan)
    while pending:
        ready = [sq for sq in pending if set(sq["depends_on"]) <= done]
        if not ready:
            cycle = ", ".join(sq["id"] for sq in pending)
            raise PlanningError(f"the plan's dependencies form a cycle among {cycle}")
        done.update(sq["id"] for sq in ready)
        pending = [sq for sq in pending if sq["id"] not in done]


def ready_subqueries(plan: list[SubQuery], finished: set[str]) -> list[SubQuery]:
    """Sub-queries not yet finished whose dependencies all are."""
    return [sq for sq in plan if sq["id"] not in finished and set(sq["depends_on"]) <= finished]


_REFERENCE = re.compile(r"\{(q\d+)\}|#(\d+)|\bthe answer (?:to|of|from) (q\d+)\b", re.I)


def _reference_id(match: re.Match[str], ids: list[str]) -> str | None:
    braced, position, phrase = match.groups()
    if position is not None:
        n = int(position)
        return ids[n - 1] if 1 <= n <= len(ids) else None
    return (braced or phrase).lower()


def _referenced(question: str, ids: list[str]) -> list[str]:
    found = (_reference_id(m, ids) for m in _REFERENCE.finditer(question))
    return [i for i in found if i is not None]


def resolve(sq: SubQuery, plan: list[SubQuery], answers: dict[str, str]) -> str:
    """The sub-query's text with each reference to an earlier step replaced by that step's
    answer, so a later hop names the entity it asks about ("In which city is #1?" → "In
    which city is King's College?"). A reference to a step without an answer stays."""
    ids = [s["id"] for s in plan]

    def fill(match: re.Match[str]) -> str:
        ref = _reference_id(match, ids)
        return answers.get(ref or "", "") or match.group(0)

    return _REFERENCE.sub(fill, sq["question"])


def search_text(sq: SubQuery, filled: str, answers: dict[str, str]) -> str:
    """What to rank paragraphs by for a sub-query: its filled text, and the answers of the
    steps it depends on that the text does not name ("In which city did this band form?"
    needs the band's name to find the band's paragraph)."""
    missing = [a for d in sq["depends_on"] if (a := answers.get(d)) and a not in filled]
    return " ".join([filled, *missing])
