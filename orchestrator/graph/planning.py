"""Planning: parse and validate the planner's decomposition into typed sub-queries."""

from __future__ import annotations

import json
import re
from typing import Any, TypedDict

from orchestrator.errors import PlanningError

MAX_SUBQUERY_CHARS = 2000


class SubQuery(TypedDict):
    id: str
    question: str
    depends_on: list[str]


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
    items = payload.get("subqueries") if isinstance(payload, dict) else payload
    if not isinstance(items, list) or not items:
        raise PlanningError("the plan has no 'subqueries' list")
    return items


def _subquery(item: Any, index: int) -> SubQuery:
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
    return {"id": str(item.get("id") or f"q{index + 1}"), "question": question, "depends_on": deps}


def parse_plan(text: str, max_subqueries: int) -> list[SubQuery]:
    """Sub-queries from the planner's reply, clipped to max_subqueries, dependencies checked.

    Only ids, questions and dependencies are read: nothing the planner writes can change
    models, budgets or configuration.
    """
    items = _items(_json_payload(text))[:max_subqueries]
    plan = [_subquery(item, i) for i, item in enumerate(items)]
    ids = [sq["id"] for sq in plan]
    if len(set(ids)) != len(ids):
        raise PlanningError(f"the plan repeats sub-query ids: {ids}")
    for sq in plan:
        sq["depends_on"] = [
            d for d in dict.fromkeys(sq["depends_on"]) if d in ids and d != sq["id"]
        ]
    _check_acyclic(plan)
    return plan


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
