"""Answer scoring shared by profiling and evaluation: SQuAD-normalised exact match and F1 over
answer aliases, numeric match (GSM8K, with `#### 42` golds), MATH answer equivalence, option
letters for multiple choice, yes/no (StrategyQA); and pulling the final answer out of a
model's text (`Answer: X` lines, `\\boxed{}`, the last number). Every score is in [0, 1]."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

KINDS = ("em", "f1", "numeric", "math", "choice", "yesno")
_CHOICE_DATASETS = ("arc", "mmlu", "commonsense", "openbook", "gpqa", "winogrande", "hellaswag")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    guess = normalize_answer(prediction)
    return float(any(guess == normalize_answer(a) for a in answers))


def _f1(prediction: str, answer: str) -> float:
    guess, gold = normalize_answer(prediction).split(), normalize_answer(answer).split()
    if not guess or not gold:
        return float(guess == gold)
    common = sum((Counter(guess) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(guess), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, answers: Sequence[str]) -> float:
    return max((_f1(prediction, a) for a in answers), default=0.0)


def _boxed(text: str) -> str | None:
    """The contents of the last `\\boxed{...}` (or `\\fbox{...}`), braces balanced."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        return None
    depth = 0
    for i in range(brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[brace + 1 : i].strip()
    return None


def extract_answer(text: str) -> str:
    """The final answer in a model's text: the last `Answer: X` line, else the last
    `\\boxed{}`, else the text itself (stripped)."""
    lines = re.findall(r"(?im)^\W*(?:final\s+)?answer\s*(?:is)?\s*[:：]\s*(.+?)\s*$", text)
    if lines:
        answer = lines[-1].strip().strip("*").strip()
        return _boxed(answer) or answer
    return _boxed(text) or text.strip()


def parse_number(text: str) -> float | None:
    """A number written plainly, with thousands commas, `$`/`%`, or as a fraction."""
    cleaned = text.strip().replace("$", "").replace("\\%", "").replace("%", "").rstrip(".")
    cleaned = re.sub(r"\\[dt]?frac\{([^{}]+)\}\{([^{}]+)\}", r"(\1)/(\2)", cleaned)
    cleaned = re.sub(r"(?<=\d),(?=\d{3}\b)", "", cleaned).replace(" ", "")
    match = re.fullmatch(r"\(?(-?[\d.]+)\)?(?:/\(?(-?[\d.]+)\)?)?", cleaned)
    if match is None:
        return None
    try:
        value = float(match.group(1))
        return value / float(match.group(2)) if match.group(2) else value
    except (ValueError, ZeroDivisionError):
        return None


def last_number(text: str) -> float | None:
    numbers = _NUMBER.findall(text)
    return parse_number(numbers[-1]) if numbers else None


def _gold_number(answer: str) -> float | None:
    if "####" in answer:
        answer = answer.rsplit("####", 1)[1]
    return parse_number(answer)


def numeric_match(prediction: str, answers: Sequence[str]) -> float:
    """GSM8K-style: the answer's number (else the text's last number) equals a gold number."""
    answer = extract_answer(prediction)
    value = parse_number(answer)
    if value is None:
        value = last_number(answer)
    if value is None:
        value = last_number(prediction)
    golds = [g for g in (_gold_number(a) for a in answers) if g is not None]
    if value is None:
        return 0.0
    return float(any(math.isclose(value, g, rel_tol=1e-4, abs_tol=1e-6) for g in golds))


def normalize_math(text: str) -> str:
    """A MATH answer in canonical form (after the dataset's own `strip_string`, abridged)."""
    s = text.strip().rstrip(".").replace("\n", "").replace("\\!", "")
    s = re.sub(r"\\text\{\s*([^{}]*)\}", r"\1", s)
    for old, new in (
        ("\\left", ""),
        ("\\right", ""),
        ("dfrac", "frac"),
        ("tfrac", "frac"),
        ("^\\circ", ""),
        ("^{\\circ}", ""),
        ("\\$", ""),
        ("$", ""),
        ("\\%", ""),
        ("%", ""),
        (" .", " 0."),
        ("{.", "{0."),
    ):
        s = s.replace(old, new)
    s = re.sub(r"^[a-z]\s*=\s*", "", s)
    s = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\sqrt(\d)", r"\\sqrt{\1}", s)
    s = s.replace(" ", "")
    return "0" + s if s.startswith(".") else s


def math_match(prediction: str, answers: Sequence[str]) -> float:
    guess = normalize_math(extract_answer(prediction))
    for answer in answers:
        gold = normalize_math(answer)
        if guess == gold:
            return 1.0
        a, b = parse_number(guess), parse_number(gold)
        if a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9):
            return 1.0
    return 0.0


def extract_letter(text: str, labels: Sequence[str] = "ABCDEFGHIJ") -> str | None:
    """The option letter a model chose: `Answer: C`, `C) …`, `C. …`, `the answer is (C)`."""
    valid = "".join(labels)
    lone = re.match(rf"^\(?([{valid}])\)?(?:[.):\s]|$)", extract_answer(text))
    if lone:
        return lone.group(1)
    said = re.findall(rf"(?i:answer|option)(?:\s+is)?\s*[:：]?\s*\(?([{valid}])\b", text)
    if said:
        return str(said[-1])
    marked = re.findall(rf"\(([{valid}])\)", text)
    return str(marked[-1]) if marked else None


def choice_match(
    prediction: str, answers: Sequence[str], choices: Sequence[str] | None = None
) -> float:
    """Multiple choice: golds are letters; a prediction may give the letter or the option."""
    labels = [chr(ord("A") + i) for i in range(max(len(choices or []), 4))]
    letter = extract_letter(prediction, labels)
    if letter is None and choices:
        guess = normalize_answer(extract_answer(prediction))
        matches = [labels[i] for i, c in enumerate(choices) if normalize_answer(c) == guess]
        letter = matches[0] if matches else None
    return float(letter is not None and letter in {a.strip().upper() for a in answers})


def yes_no(text: str) -> str | None:
    """`yes` or `no` as the answer says it (true/false count too); None if neither."""
    words = normalize_answer(extract_answer(text)).split()
    mapping = {"yes": "yes", "true": "yes", "no": "no", "false": "no"}
    if words and words[0] in mapping:
        return mapping[words[0]]
    found = re.findall(r"\b(yes|no)\b", text.lower())
    return found[-1] if found else None


def yes_no_match(prediction: str, answers: Sequence[str]) -> float:
    said = yes_no(prediction)
    return float(said is not None and said in {normalize_answer(a) for a in answers})


def kind_for(dataset: str) -> str:
    """The metric for a dataset name (or a kind given directly)."""
    name = dataset.lower()
    if name in KINDS:
        return name
    if "gsm" in name:
        return "numeric"
    if "math" in name:
        return "math"
    if "strategy" in name:
        return "yesno"
    return "choice" if any(d in name for d in _CHOICE_DATASETS) else "em"


def score(
    dataset_or_kind: str,
    prediction: str,
    answers: Sequence[str],
    choices: Sequence[str] | None = None,
) -> float:
    """Score one prediction against gold aliases with the dataset's metric, in [0, 1]."""
    kind = kind_for(dataset_or_kind)
    if kind == "choice":
        return choice_match(prediction, answers, choices)
    if kind == "numeric":
        return numeric_match(prediction, answers)
    if kind == "math":
        return math_match(prediction, answers)
    if kind == "yesno":
        return yes_no_match(prediction, answers)
    answer = extract_answer(prediction)
    return f1_score(answer, answers) if kind == "f1" else exact_match(answer, answers)
