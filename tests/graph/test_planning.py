import json

import pytest

from orchestrator.errors import PlanningError
from orchestrator.graph.planning import parse_plan, ready_subqueries


def test_parses_fenced_json_and_fills_ids():
    text = 'Here:\n```json\n{"subqueries": [{"question": "A?"}, {"question": "B?", "depends_on": ["q1"]}]}\n```'
    plan = parse_plan(text, 5)
    assert plan == [
        {"id": "q1", "question": "A?", "depends_on": []},
        {"id": "q2", "question": "B?", "depends_on": ["q1"]},
    ]


def test_bare_list_and_unknown_dependencies_dropped():
    plan = parse_plan(json.dumps([{"id": "a", "question": "A?", "depends_on": ["zz", "a"]}]), 5)
    assert plan == [{"id": "a", "question": "A?", "depends_on": []}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no json here", "contains no JSON"),
        ('{"subqueries": []}', "no 'subqueries' list"),
        ('{"subqueries": [{"id": "q1"}]}', "has no 'question'"),
        (
            '{"subqueries": [{"id": "q1", "question": "A"}, {"id": "q1", "question": "B"}]}',
            "repeats",
        ),
        (
            '{"subqueries": [{"id": "a", "question": "A", "depends_on": ["b"]},'
            ' {"id": "b", "question": "B", "depends_on": ["a"]}]}',
            "cycle among a, b",
        ),
        ('{"subqueries": [{"question": "' + "x" * 1_000_000 + '"}]}', "1000000 characters long"),
    ],
)
def test_unusable_plans_are_named(text, message):
    with pytest.raises(PlanningError, match=message):
        parse_plan(text, 5)


def test_clipped_and_extra_keys_ignored():
    items = [
        {"id": f"q{i}", "question": f"Q{i}?", "model": "evil/x", "width": 99} for i in range(9)
    ]
    plan = parse_plan(json.dumps({"subqueries": items, "budget": 1e9}), 3)
    assert [sq["id"] for sq in plan] == ["q0", "q1", "q2"]
    assert all(set(sq) == {"id", "question", "depends_on"} for sq in plan)


def test_ready_waves():
    plan = parse_plan(
        json.dumps(
            {
                "subqueries": [
                    {"id": "a", "question": "A"},
                    {"id": "b", "question": "B", "depends_on": ["a"]},
                    {"id": "c", "question": "C"},
                ]
            }
        ),
        5,
    )
    assert [sq["id"] for sq in ready_subqueries(plan, set())] == ["a", "c"]
    assert [sq["id"] for sq in ready_subqueries(plan, {"a", "c"})] == ["b"]
