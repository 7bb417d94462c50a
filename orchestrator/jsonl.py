"""JSON lines: the one reader behind the JSONL files the project takes (routing tables, QA
records, capabilities, labelled queries), with errors that name the file and the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError


def json_lines(path: str | Path, what: str = "data") -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line of `path`; an `InputError` names
    a missing or unreadable file (`<what> file not found: …`) or the line that is not JSON."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} file not found: {file}") from None
    except UnicodeDecodeError:
        raise InputError(f"{file}: not UTF-8 text; expected JSON lines") from None
    except OSError as exc:
        raise InputError(f"{file}: cannot read ({exc.strerror or exc})") from None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{file}:{number}: not valid JSON ({exc.msg})") from None
        yield number, value
