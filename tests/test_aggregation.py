import pytest

from orchestrator.graph.aggregation import extract_answer, majority, normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Let me think.\nAnswer: Paris.", "Paris."),
        ("**Answer:** 42", "42"),
        ("answer: a\nFinal answer: B", "B"),
        ("so the result is \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("No marker here\nJust Cambridge", "Just Cambridge"),
        ("", ""),
    ],
)
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("1,000", "1000"),
        ("$42.00", "42"),
        ("3.5", "3.5"),
        ("Yes, it is.", "yes"),
        ("no", "no"),
        ("(B)", "b"),
        ("C. Paris", "c"),
        ("The Eiffel Tower!", "eiffel tower"),
        ("  An   apple ", "apple"),
    ],
)
def test_normalize(raw, canonical):
    assert normalize(raw) == canonical


def test_majority_ties_go_to_the_earliest_sample():
    selection = majority(["Oxford", "Cambridge", "cambridge", "oxford."])
    assert selection.index == 0 and selection.answer == "Oxford"
    assert selection.votes == {"oxford": 2, "cambridge": 2}


def test_majority_ignores_empty_and_reports_none_when_all_empty():
    assert majority(["", "x", ""]).index == 1
    empty = majority(["", "  ", ""])
    assert empty.index is None and empty.answer == "" and empty.votes == {}
