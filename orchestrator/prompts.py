"""Prompts live one per Markdown file (`## system` / `## user` sections, $placeholders)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

from orchestrator.protocols import Message

_PACKAGED = Path(__file__).parent / "prompts"
_SOURCE = Path(__file__).parent.parent / "prompts"


@cache
def _sections(name: str) -> dict[str, str]:
    folder = _PACKAGED if _PACKAGED.is_dir() else _SOURCE
    text = (folder / f"{name}.md").read_text(encoding="utf-8")
    sections: dict[str, str] = {}
    for chunk in text.split("## ")[1:]:
        role, _, body = chunk.partition("\n")
        sections[role.strip()] = body.strip()
    return sections


def context_block(paragraphs: str) -> str:
    """The `$context` of a sub-query prompt: the evidence paragraphs, or nothing closed-book."""
    return f"Context:\n{paragraphs}\n\n" if paragraphs else ""


def render(name: str, **values: object) -> list[Message]:
    """The chat messages of prompt `name` with its $placeholders filled."""
    strings = {k: str(v) for k, v in values.items()}
    return [
        {"role": role, "content": Template(body).safe_substitute(strings)}
        for role, body in _sections(name).items()
    ]
