"""Evidence per sub-query: the question's paragraphs ranked against each sub-query with the
embedder, so a few reach its prompt rather than all of them, and the sentence of those
paragraphs that supports a sub-answer, which the synthesis sees beside it."""

from __future__ import annotations

import re

import numpy as np

from orchestrator.protocols import Embedder
from orchestrator.qa.scoring import normalize_answer

_HEADER = re.compile(r"^\[\d+\]\s*[^:\n]{0,200}:\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def paragraphs_of(context: str) -> list[str]:
    """The context's paragraphs: blocks separated by blank lines (`[n] Title: text` each,
    as the QA data formats them)."""
    return [p.strip() for p in re.split(r"\n\s*\n", context) if p.strip()]


def top_paragraphs(
    embedder: Embedder, queries: list[str], paragraphs: list[str], k: int
) -> list[list[int]]:
    """For each query, the indices of its k most similar paragraphs in document order (all
    of them when k is 0 or there are no more than k). One embedding call for everything."""
    if k <= 0 or len(paragraphs) <= k:
        return [list(range(len(paragraphs))) for _ in queries]
    vectors = embedder.embed([*queries, *paragraphs])
    sims = vectors[: len(queries)] @ vectors[len(queries) :].T
    return [sorted(int(i) for i in np.argsort(-row, kind="stable")[:k]) for row in sims]


def sentences_of(paragraph: str) -> list[str]:
    """A paragraph's sentences, its `[n] Title:` header left out."""
    body = _HEADER.sub("", paragraph, count=1)
    return [s.strip() for s in _SENTENCE_END.split(body) if s.strip()]


def supporting_sentence(
    embedder: Embedder, question: str, answer: str, paragraphs: list[str]
) -> str:
    """The sentence of `paragraphs` that best supports `answer` to `question`: among those
    that contain the answer (all, when none does), the most similar to question + answer."""
    key = normalize_answer(answer)
    sentences = [s for p in paragraphs for s in sentences_of(p)]
    if not key or not sentences:
        return ""
    pool = [s for s in sentences if f" {key} " in f" {normalize_answer(s)} "] or sentences
    if len(pool) == 1:
        return pool[0]
    vectors = embedder.embed([f"{question} {answer}", *pool])
    return pool[int(np.argmax(vectors[1:] @ vectors[0]))]
