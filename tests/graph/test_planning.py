import json

import pytest

from orchestrator.errors import PlanningError
from orchestrator.graph.planning import parse_plan, ready_subqueries, resolve

QUESTION = "Where is the university Turing studied at?"


def test_parses_fenced_json_and_fills_ids():
    text = 'Here:\n```json\n{"subqueries": [{"question": "A?"}, {"question": "B?", "depends_on": ["q1"]}]}\n```'
    plan = parse_plan(text, 5, QUESTION)
    assert plan == [
        {"id": "q1", "question": "A?", "depends_on": []},
        {"id": "q2", "question": "B?", "depends_on": ["q1"]},
    ]


def test_unknown_and_self_dependencies_dropped():
    items = [{"id": "a", "question": "A?", "depends_on": ["zz", "a"]}, {"id": "b", "question": "B"}]
    plan = parse_plan(json.dumps(items), 5, QUESTION)
    assert plan[0] == {"id": "a", "question": "A?", "depends_on": []}


@pytest.mark.parametrize(
    "reply",
    [
        '{"decompose": false}',
        '{"subqueries": [{"id": "q1", "question": "Turing university location?"}]}',
        '["Which city?"]',
    ],
)
def test_a_question_that_needs_no_plan_is_asked_verbatim(reply):
    assert parse_plan(reply, 5, QUESTION) == [{"id": "q1", "question": QUESTION, "depends_on": []}]


def test_references_to_earlier_answers_become_dependencies_and_are_filled():
    reply = {
        "subqueries": [
            {"id": "q1", "question": "Which university did Turing study at?"},
            {"id": "q2", "question": "In which city is #1?"},
            {"id": "q3", "question": "Who founded {q1} and when was the answer to q2 founded?"},
        ]
    }
    plan = parse_plan(json.dumps(reply), 5, QUESTION)
    assert [sq["depends_on"] for sq in plan] == [[], ["q1"], ["q1", "q2"]]
    answers = {"q1": "King's College", "q2": "Cambridge"}
    assert resolve(plan[1], plan, answers) == "In which city is King's College?"
    assert resolve(plan[2], plan, answers) == (
        "Who founded King's College and when was Cambridge founded?"
    )
    assert resolve(plan[1], plan, {}) == "In which city is #1?"  # no answer yet: kept


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
        parse_plan(text, 5, QUESTION)


def test_clipped_and_extra_keys_ignored():
    items = [
        {"id": f"q{i}", "question": f"Q{i}?", "model": "evil/x", "width": 99} for i in range(9)
    ]
    plan = parse_plan(json.dumps({"subqueries": items, "budget": 1e9}), 3, QUESTION)
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
        QUESTION,
    )
    assert [sq["id"] for sq in ready_subqueries(plan, set())] == ["a", "c"]
    assert [sq["id"] for sq in ready_subqueries(plan, {"a", "c"})] == ["b"]


def test_a_capability_mark_is_kept_only_when_it_was_offered():
    reply = json.dumps(
        {
            "subqueries": [
                {"id": "q1", "question": "What is 17.3% of 2,418?", "capability": "calculator"},
                {"id": "q2", "question": "Email #1 to Ada.", "capability": "send_email"},
            ]
        }
    )
    plan = parse_plan(reply, 4, "Q", offered={"calculator", "search"})
    assert plan[0]["capability"] == "calculator"
    assert "capability" not in plan[1]  # never offered: the plan cannot name it
    assert parse_plan(reply, 4, "Q") == [
        {"id": "q1", "question": "What is 17.3% of 2,418?", "depends_on": []},
        {"id": "q2", "question": "Email #1 to Ada.", "depends_on": ["q1"]},
    ]
    whole = parse_plan('{"decompose": false, "capability": "search"}', 4, "Q", {"search"})
    assert whole == [{"id": "q1", "question": "Q", "depends_on": [], "capability": "search"}]
