"""Question-answering data in the ../shared/data/qa format, read into typed records.

One JSON object a line: `{"id", "question", "answers": [...], ["context"], ["choices"],
["labels"], ["supporting_facts"], ["decomposition"], "meta"}`. The dataset is the file's
stem (gsm8k, arc_challenge, hotpotqa_distractor, musique_context, …) and picks the metric.
Context paragraphs come as HotpotQA's `{"title", "sentences"}` or MuSiQue's
`{"title", "text", "is_supporting"}`; closed-book sets have none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError
from orchestrator.jsonl import json_lines


@dataclass(frozen=True)
class Paragraph:
    title: str
    text: str
    supporting: bool = False


@dataclass(frozen=True)
class QARecord:
    """One question with its gold answers (aliases), options and evidence."""

    id: str
    dataset: str
    question: str
    answers: tuple[str, ...]
    choices: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    paragraphs: tuple[Paragraph, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def prompt(self) -> str:
        """The question as the graph is asked it: multiple choice lists its options."""
        if not self.choices:
            return self.question
        options = "\n".join(f"{lab}. {c}" for lab, c in zip(self.labels, self.choices, strict=True))
        return f"{self.question}\n\nOptions:\n{options}\n\nAnswer with the option letter."

    def context(self) -> str:
        """The evidence paragraphs, formatted for a sub-query prompt ('' when closed-book)."""
        return format_paragraphs(self.paragraphs)


def format_paragraphs(paragraphs: Sequence[Paragraph]) -> str:
    """Numbered `[n] Title: text` blocks, in the dataset's order (gold and distractors
    mixed, as the benchmark gives them)."""
    return "\n\n".join(f"[{n}] {p.title}: {p.text}" for n, p in enumerate(paragraphs, start=1))


def _paragraphs(raw: Any, supporting_facts: Any) -> tuple[Paragraph, ...]:
    if not isinstance(raw, list):
        return ()
    gold = {str(fact[0]) for fact in supporting_facts or [] if isinstance(fact, list) and fact}
    out = []
    for para in raw:
        if not isinstance(para, dict):
            continue
        title = str(para.get("title", "")).strip()
        sentences = para.get("sentences")
        text = "".join(sentences) if isinstance(sentences, list) else str(para.get("text", ""))
        supporting = bool(para.get("is_supporting")) or title in gold
        out.append(Paragraph(title, " ".join(text.split()), supporting))
    return tuple(out)


def parse_record(row: Any, dataset: str, where: str) -> QARecord:
    """One row as a record, or an InputError naming the line and the field."""
    if not isinstance(row, dict) or not isinstance(row.get("question"), str):
        raise InputError(f"{where}: each line needs a string 'question'")
    answers = row.get("answers")
    if not isinstance(answers, list) or not answers:
        raise InputError(f"{where}: 'answers' must be a non-empty list")
    choices = tuple(str(c) for c in row.get("choices") or [])
    labels = tuple(str(x) for x in row.get("labels") or []) or tuple(
        chr(ord("A") + i) for i in range(len(choices))
    )
    if len(labels) != len(choices):
        raise InputError(f"{where}: {len(choices)} choices but {len(labels)} labels")
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    return QARecord(
        id=str(row.get("id", where)),
        dataset=dataset,
        question=row["question"],
        answers=tuple(str(a) for a in answers),
        choices=choices,
        labels=labels,
        paragraphs=_paragraphs(row.get("context"), row.get("supporting_facts")),
        meta=dict(meta or {}),
    )


def read_qa(
    path: str | Path, limit: int | None = None, dataset: str | None = None
) -> list[QARecord]:
    """The first `limit` records of a QA file (all when None); the dataset is the stem
    unless given. A limit under 1 is an input error, not "all"."""
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be at least 1, not {limit}")
    file = Path(path)
    name = dataset or file.stem
    records = [
        parse_record(row, name, f"{file}:{number}")
        for number, row in islice(json_lines(file), limit)
    ]
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise InputError(f"{file}: question ids repeat; results could not be told apart")
    return records
