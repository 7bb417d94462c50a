import pytest

from orchestrator.qa.scoring import (
    exact_match,
    extract_answer,
    extract_letter,
    f1_score,
    kind_for,
    last_number,
    normalize_answer,
    parse_number,
    score,
    yes_no,
)


def test_squad_normalisation():
    assert normalize_answer("The  Beatles!") == "beatles"
    assert normalize_answer("An Apple, a day.") == "apple day"


def test_exact_match_and_f1_over_aliases():
    assert exact_match("the Beatles", ["Beatles", "The Fab Four"]) == 1.0
    assert exact_match("Beatles band", ["Beatles"]) == 0.0
    # "stanley hall boston" vs "g stanley hall": 2 common, P = 2/3, R = 2/3
    assert f1_score("Stanley Hall, Boston", ["G. Stanley Hall", "x"]) == pytest.approx(2 / 3)
    assert f1_score("Stanley Hall", ["G. Stanley Hall", "Stanley Hall"]) == 1.0
    assert f1_score("", ["Paris"]) == 0.0


def test_extract_answer():
    assert extract_answer("Let me think.\nAnswer: Paris\n") == "Paris"
    assert extract_answer("answer: 1\nso...\nFinal answer: **42**") == "42"
    assert extract_answer("so $\\boxed{\\frac{1}{2}}$ is it") == "\\frac{1}{2}"
    assert extract_answer("Answer: \\boxed{7}") == "7"
    assert extract_answer("  just this  ") == "just this"


def test_numbers():
    assert parse_number("$1,234") == 1234.0
    assert parse_number("\\frac{3}{4}") == 0.75
    assert parse_number("50%") == 50.0
    assert parse_number("twelve") is None
    assert last_number("from 3 to -2.5 apples") == -2.5


@pytest.mark.parametrize(
    ("dataset", "prediction", "answers", "expected"),
    [
        ("gsm8k", "9 * 2 = 18.\nAnswer: $18", ["18"], 1.0),
        ("gsm8k", "she earns 1,234 in total", ["#### 1234"], 1.0),
        ("gsm8k", "Answer: 17", ["18"], 0.0),
        ("gsm8k", "no number here", ["18"], 0.0),
        (
            "math500",
            "\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}",
            ["\\left( 3, \\frac{\\pi}{2} \\right)"],
            1.0,
        ),
        ("math500", "Answer: \\dfrac{1}{2}", ["0.5"], 1.0),
        ("math500", "Answer: 10^\\circ", ["10"], 1.0),
        ("math500", "Answer: 3", ["4"], 0.0),
        ("mmlu", "Answer: B", ["B"], 1.0),
        ("arc_challenge", "The answer is (C) because it spins.", ["C"], 1.0),
        ("arc_challenge", "C. Planetary days will become shorter.", ["C"], 1.0),
        ("arc_challenge", "Answer: D", ["C"], 0.0),
        ("strategyqa", "No, frost is rare then.", ["no"], 1.0),
        ("strategyqa", "Thinking...\nAnswer: yes", ["no"], 0.0),
        ("hotpotqa_distractor", "Answer: The Beatles", ["Beatles"], 1.0),
        ("bamboogle", "Answer: James Madison, 4th president", ["james madison"], 0.0),
        # 2 of 4 predicted tokens are in the gold: P = 1/2, R = 1, F1 = 2/3
        ("f1", "Answer: James Madison, 4th president", ["james madison"], 2 / 3),
    ],
)
def test_score_by_dataset(dataset, prediction, answers, expected):
    assert score(dataset, prediction, answers) == pytest.approx(expected)


def test_choice_by_option_text_and_letters():
    choices = ["Density falls.", "Years get longer.", "Days get shorter.", "Gravity rises."]
    assert score("arc", "Answer: Days get shorter", ["C"], choices) == 1.0
    assert extract_letter("I pick option b", "ABCD") is None  # lower-case b is not a letter
    assert extract_letter("the answer is B", "ABCD") == "B"


def test_yes_no_and_kinds():
    assert yes_no("True, it is.") == "yes"
    assert yes_no("I believe the answer is no.") == "no"
    assert yes_no("maybe") is None
    kinds = {d: kind_for(d) for d in ("gsm8k", "math500", "mmlu", "strategyqa", "musique", "f1")}
    assert kinds == {
        "gsm8k": "numeric",
        "math500": "math",
        "mmlu": "choice",
        "strategyqa": "yesno",
        "musique": "em",
        "f1": "f1",
    }
