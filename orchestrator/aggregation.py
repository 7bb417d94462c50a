"""Aggregation: extract each sample's final answer, normalise it, and vote."""

from __future__ import annotations

import re
import string
from collections import Counter

from orchestrator.seams import Aggregator, Selection

_ANSWER_LINE = re.compile(r"(?im)^\s*(?:\*\*)?(?:final\s+)?answer(?:\*\*)?\s*[:：]\s*(.+?)\s*$")
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NUMBER = re.compile(r"^[-+]?\$?\d[\d,]*(\.\d+)?%?$")
_OPTION = re.compile(r"^\(?([a-j])\)?(?:[.:)]|\s|$)")


def extract_answer(text: str) -> str:
    """The final short answer in a model's reply: the last `Answer:` line, a \\boxed{}
    value, or else the last non-empty line."""
    lines = _ANSWER_LINE.findall(text)
    if lines:
        return str(lines[-1]).strip().strip("*").strip()
    boxed = _BOXED.findall(text)
    if boxed:
        return str(boxed[-1]).strip()
    rest = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return rest[-1] if rest else ""


def normalize(answer: str) -> str:
    """Canonical form for voting: numbers, yes/no and option letters first, then
    SQuAD-style text normalisation (lower case, no punctuation, articles or extra spaces)."""
    text = answer.strip().lower().rstrip(".")
    compact = text.replace(" ", "")
    if _NUMBER.match(compact):
        value = float(compact.strip("$%+").replace(",", ""))
        return str(int(value)) if value.is_integer() else repr(value)
    first = re.split(r"[\s,.!;:]+", text, maxsplit=1)[0]
    if first in ("yes", "no"):
        return first
    option = _OPTION.match(text)
    if option and (len(text) <= 3 or text[1:2] in ").:"):
        return option.group(1)
    text = "".join(ch for ch in text if ch not in string.punctuation)
    return " ".join(_ARTICLES.sub(" ", text).split())


def majority(answers: list[str]) -> Selection:
    """Most frequent normalised answer; ties go to the answer seen first (lowest sample_idx).
    Empty answers never vote."""
    keys = [normalize(a) for a in answers]
    votes = Counter(k for k in keys if k)
    if not votes:
        return Selection(index=None, answer="", votes={})
    best = max(votes.values())
    index = next(i for i, k in enumerate(keys) if k and votes[k] == best)
    return Selection(index=index, answer=answers[index], votes=dict(votes))


class MajorityVote:
    """Self-consistency: normalised majority vote over the samples' final answers."""

    name = "vote"

    async def aggregate(self, question: str, answers: list[str]) -> Selection:
        return majority(answers)


def make_aggregator(name: str) -> Aggregator:
    if name == "vote":
        return MajorityVote()
    from orchestrator.errors import ConfigError

    raise ConfigError(f"unknown aggregator {name!r}; known: vote")
