"""Aggregation: extract each sample's final answer, normalise it, and vote (`vote`), let an
LLM judge pick among the candidates (`judge`), or hand every candidate on (`merge`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from orchestrator.protocols import Aggregator, Message, Selection
from orchestrator.qa import scoring as metrics

_NUMBER = re.compile(r"^[-+]?\$?\d[\d,]*(\.\d+)?%?$")
_OPTION = re.compile(r"^\(?([a-j])\)?(?:[.:)]|\s|$)")


def extract_answer(text: str) -> str:
    """The final short answer in a model's reply: the last `Answer:` line or `\\boxed{}`
    value (as the metrics read it), else the reply's last non-empty line."""
    answer = metrics.extract_answer(text)
    lines = [line.strip() for line in answer.splitlines() if line.strip()]
    return lines[-1] if lines else ""


_YES_NO = re.compile(r"^(yes|no)\b[,.;:!]?", re.I)
SENTENCE_WORDS = 6  # an answer longer than this is a sentence, not the short form


def _is_sentence(text: str) -> bool:
    words = len(text.split())
    return words > SENTENCE_WORDS or (words > 3 and text.endswith("."))


def short_form(answer: str, found: Sequence[str] = (), question: str = "") -> str:
    """The short answer a question asks for, when a model wrote a sentence: "Yes, both
    are ..." is `yes`; a sentence that contains answers found along the way is the last
    found answer it contains ("Jonny Craig has been a member of more bands, ..." is
    `Jonny Craig`); else the last run of its words that the question does not already say
    ("The manufacturer of Bisquick is headquartered in California." is `California`).
    Anything else is kept as written."""
    text = answer.strip()
    if (match := _YES_NO.match(text)) and (
        match.end() == len(text) or match.group(0)[-1:] in ",.;:!"
    ):
        return match.group(1).lower()
    if not _is_sentence(text):
        return text
    padded = f" {metrics.normalize_answer(text)} "
    inside = [f for f in found if f.strip() and f" {metrics.normalize_answer(f)} " in padded]
    if inside:
        return inside[-1].strip()
    return _beyond(text, question) or text


_GLUE = {"", "of", "in", "on", "at", "by", "and", "to", "for"}  # articles normalise to ""


def _beyond(text: str, question: str) -> str:
    """In a sentence that restates the question (says at least half of its words), the last
    run of words the question does not say (glue words inside the run kept, at its ends
    dropped); '' for any other sentence, which may be a long answer in its own right."""
    asked = {metrics.normalize_answer(w) for w in question.split()} - _GLUE
    tokens = text.rstrip(".").split()
    keys = [metrics.normalize_answer(t) for t in tokens]
    new = [k not in _GLUE and k not in asked for k in keys]
    if not asked or len(asked & set(keys)) < len(asked) / 2 or not any(new):
        return ""
    end = max(i for i, is_new in enumerate(new) if is_new) + 1
    start = end - 1
    while start > 0 and (new[start - 1] or keys[start - 1] in _GLUE):
        start -= 1
    while not new[start]:
        start += 1
    return " ".join(tokens[start:end]).strip(" ,;:")


def has_answer_line(text: str) -> bool:
    """Whether a reply marks its final answer (an `Answer:` line or a \\boxed{} value)."""
    return metrics.extract_answer(text) != text.strip()


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
    return metrics.normalize_answer(text)


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


def _first_seen(answers: list[str]) -> dict[str, int]:
    """Each distinct normalised answer and the index of the sample that gave it first."""
    firsts: dict[str, int] = {}
    for i, answer in enumerate(answers):
        key = normalize(answer)
        if key and key not in firsts:
            firsts[key] = i
    return firsts


JudgeCall = Callable[[list[Message]], Awaitable[str]]
_NUMBER_IN = re.compile(r"\d+")


class JudgeSelect:
    """An LLM judge picks one of the distinct candidates. Without a disagreement there is
    no call; an unusable or failed judgement falls back to the majority vote."""

    name = "judge"

    def __init__(self, judge: JudgeCall) -> None:
        self.judge = judge

    async def aggregate(self, question: str, answers: list[str]) -> Selection:
        from orchestrator.graph.fencing import fence_tag, fence_text
        from orchestrator.prompts import render

        vote = majority(answers)
        firsts = list(_first_seen(answers).values())
        if len(firsts) < 2:
            return vote
        listing = fence_text("\n".join(f"{n}. {answers[i]}" for n, i in enumerate(firsts, 1)))
        fence = fence_tag("CANDIDATES", listing)
        messages = render("judge", question=question, fence=fence, candidates=listing)
        try:
            reply = await self.judge(messages)
        except Exception:  # a failed judge must not lose the samples
            return vote
        picked = _NUMBER_IN.search(extract_answer(reply))
        if picked is None or not 1 <= int(picked.group()) <= len(firsts):
            return vote
        index = firsts[int(picked.group()) - 1]
        return Selection(index=index, answer=answers[index], votes=vote.votes)


class Merge:
    """Keep every distinct candidate, most voted first, so the synthesizer sees them all;
    the selected sample is the majority's."""

    name = "merge"

    async def aggregate(self, question: str, answers: list[str]) -> Selection:
        vote = majority(answers)
        firsts = _first_seen(answers)
        if len(firsts) < 2:
            return vote
        total = sum(vote.votes.values())
        ranked = sorted(firsts, key=lambda key: -vote.votes[key])  # stable: ties keep order
        listed = "; ".join(f"{answers[firsts[k]]} ({vote.votes[k]} of {total})" for k in ranked)
        return Selection(index=vote.index, answer=f"candidates: {listed}", votes=vote.votes)


AGGREGATORS = ("vote", "judge", "merge")


def make_aggregator(name: str, judge: JudgeCall | None = None) -> Aggregator:
    """The aggregator called `name`; `judge` is the metered model call judge-select uses."""
    if name == "vote":
        return MajorityVote()
    if name == "merge":
        return Merge()
    from orchestrator.errors import ConfigError

    if name == "judge":
        if judge is None:
            raise ConfigError("the judge aggregator needs a judge model call")
        return JudgeSelect(judge)
    raise ConfigError(f"unknown aggregator {name!r}; known: {', '.join(AGGREGATORS)}")
