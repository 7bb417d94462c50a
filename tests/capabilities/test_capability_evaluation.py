"""`evaluate` and `format_report` on a hand-built router whose every answer is known, so each
metric has an exact expected value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from orchestrator.capabilities.decision import CapabilityDecision, LabelledQuery, Ranked
from orchestrator.capabilities.evaluation import evaluate, format_report


class ScriptedRouter:
    """Answers each query text with a fixed ranking (top_k of it) and abstention."""

    def __init__(self, answers: dict[str, tuple[list[str], bool]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int, Sequence[str] | None]] = []

    def route(
        self,
        vector: Any,
        text: str,
        *,
        top_k: int = 5,
        candidates: Sequence[str] | None = None,
    ) -> CapabilityDecision:
        self.calls.append((text, top_k, candidates))
        ids, abstain = self.answers[text]
        ranked = [Ranked(i, "1.0", 1.0 - n / 10) for n, i in enumerate(ids[:top_k])]
        return CapabilityDecision(ranked, abstain, {"method": "scripted"})


def q(text: str, relevant: list[str], dataset: str, **extra: Any) -> LabelledQuery:
    return LabelledQuery(query=text, relevant=tuple(relevant), dataset=dataset, **extra)


QUERIES = [
    q("q1", ["x"], "a"),  # top-1 right
    q("q2", ["y"], "a"),  # top-1 wrong, in the top 5
    q("q3", ["x", "z"], "a"),  # multi: both in the top 2
    q("q4", [], "a"),  # rightly abstained
    q("q5", ["y", "z"], "b"),  # multi: z is third; and the router abstains wrongly
    q("q6", [], "b"),  # should have abstained
    q("q7", ["w@1.0"], "b", candidates=("a", "b", "c", "d", "e", "w")),  # sixth: out of top 5
]
ANSWERS = {
    "q1": (["x", "y"], False),
    "q2": (["x", "y"], False),
    "q3": (["z", "x", "y"], False),
    "q4": (["x"], True),
    "q5": (["y", "x", "z"], True),
    "q6": (["x"], False),
    "q7": (["a", "b", "c", "d", "e", "w"], False),
}


@pytest.fixture
def report():
    router = ScriptedRouter(ANSWERS)
    return evaluate(router, np.zeros((7, 4)), QUERIES, within_candidates=False)


def test_overall_metrics_are_exact(report):
    row = report.overall
    assert (row.dataset, row.n, row.n_relevant, row.n_multi, row.n_none) == ("all", 7, 5, 2, 2)
    assert row.top1 == pytest.approx(3 / 5)
    assert row.recall_at_5 == pytest.approx(4 / 5)
    assert row.multi == pytest.approx(1 / 2)
    assert row.abstention == pytest.approx(1 / 2)
    assert row.false_abstention == pytest.approx(1 / 5)
    assert row.overall == pytest.approx(3 / 7)  # q1, q3, q4
    assert 0 <= row.latency_median_us <= row.latency_p95_us


def test_per_dataset_rows(report):
    a, b = report.rows[:2]
    assert [r.dataset for r in report.rows] == ["a", "b", "all"]
    assert (a.n, a.top1, a.recall_at_5, a.multi, a.abstention, a.overall) == pytest.approx(
        (4, 2 / 3, 1.0, 1.0, 1.0, 3 / 4)
    )
    assert (b.n, b.top1, b.recall_at_5, b.multi, b.abstention, b.overall) == pytest.approx(
        (3, 1 / 2, 1 / 2, 0.0, 0.0, 0.0)
    )
    assert b.false_abstention == pytest.approx(1 / 2)


def test_a_metric_with_nothing_to_count_is_none():
    router = ScriptedRouter({"q1": (["x"], False)})
    row = evaluate(router, np.zeros((1, 4)), [q("q1", ["x"], "a")], within_candidates=False)
    assert row.overall.multi is None and row.overall.abstention is None
    assert row.overall.top1 == 1.0 and row.overall.overall == 1.0


def test_candidates_are_the_pool_only_within_candidates():
    for within, expected in [(False, None), (True, ["a", "b", "c", "d", "e", "w"])]:
        router = ScriptedRouter(ANSWERS)
        evaluate(router, np.zeros((7, 4)), QUERIES, within_candidates=within)
        assert router.calls[-1] == ("q7", 5, expected)
        assert router.calls[0][2] is None  # q1 offers no candidates


def test_asks_for_as_many_as_are_relevant():
    many = [f"t{i}" for i in range(7)]
    router = ScriptedRouter({"q": (many, False)})
    row = evaluate(router, np.zeros((1, 2)), [q("q", many, "a")], within_candidates=False)
    assert router.calls[0][1] == 7
    assert row.overall.multi == 1.0 and row.overall.recall_at_5 == pytest.approx(5 / 7)


def test_vectors_must_match_the_queries():
    with pytest.raises(ValueError, match="2 vectors for 7 queries"):
        evaluate(ScriptedRouter(ANSWERS), np.zeros((2, 4)), QUERIES, within_candidates=False)


def test_format_report_is_a_markdown_table(report):
    text = format_report(report)
    lines = text.splitlines()
    assert lines[0].startswith("7 queries routed within the whole pool")
    header = next(line for line in lines if line.startswith("| dataset"))
    assert "top-1" in header and "recall@5" in header and "p95 µs" in header
    assert any(line.startswith("| **all** | 7 | 0.600 | 0.800 | 0.500 (2) |") for line in lines)
    assert any(
        line.startswith("| b | 3 | 0.500 | 0.500 | 0.000 (1) | 0.000 (1) |") for line in lines
    )


def test_to_json(report):
    data = report.to_json()
    assert data["within_candidates"] is False
    assert [d["dataset"] for d in data["datasets"]] == ["a", "b"]
    assert data["overall"]["top1"] == pytest.approx(0.6)
