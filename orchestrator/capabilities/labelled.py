"""Reading labelled queries for the capability router: one JSON object a line, `query` (the
request), `relevant` (the capability ids that serve it; `[]`: none of those offered does),
optionally `candidates` (the pool it was offered) and `dataset` (default: the file's stem).
Every problem is an `InputError` naming the file and the line."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.capabilities.decision import LabelledQuery
from orchestrator.errors import InputError
from orchestrator.jsonl import json_lines

_VERSION = re.compile(r"@v?\d[\w.+!-]*$")


def bare_id(capability_id: str) -> str:
    """The id without an `@version` suffix: `weather@1.2.0` → `weather`."""
    return _VERSION.sub("", capability_id)


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}"


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "row"
    if first["type"] == "missing":
        return f"missing field {field!r}"
    return f"{field}: {first['msg']}"


def parse_query(row: Any, path: Path, line: int) -> LabelledQuery:
    """One parsed line of a labelled-query file; an `InputError` naming the place if it is
    unusable."""
    if not isinstance(row, dict):
        raise InputError(f"{_where(path, line)}: expected a JSON object")
    if isinstance(row.get("query"), str) and not row["query"].strip():
        raise InputError(f"{_where(path, line)}: empty query")
    row.setdefault("dataset", path.stem)
    try:
        query = LabelledQuery.model_validate(row)
    except ValidationError as exc:
        raise InputError(f"{_where(path, line)}: {_problem(exc)}") from None
    if query.candidates is not None:
        offered = {bare_id(c) for c in query.candidates}
        stray = [r for r in query.relevant if bare_id(r) not in offered]
        if stray:
            raise InputError(f"{_where(path, line)}: relevant id {stray[0]!r} not in candidates")
    return query


def _numbered(path: Path) -> list[tuple[int, LabelledQuery]]:
    numbered = [
        (number, parse_query(row, path, number)) for number, row in json_lines(path, "queries")
    ]
    if not numbered:
        raise InputError(f"{path}: no queries")
    return numbered


def read_queries(path: str | Path) -> list[LabelledQuery]:
    """The labelled queries of one JSONL file, in order (blank lines skipped)."""
    return [query for _, query in _numbered(Path(path))]


def read_many(paths: Iterable[str | Path]) -> tuple[list[LabelledQuery], list[tuple[Path, int]]]:
    """The queries of several files in order, and for each the (file, line) it came from."""
    queries: list[LabelledQuery] = []
    places: list[tuple[Path, int]] = []
    for name in paths:
        path = Path(name)
        for number, query in _numbered(path):
            queries.append(query)
            places.append((path, number))
    return queries, places


def check_known(
    queries: Sequence[LabelledQuery], places: Sequence[tuple[Path, int]], known: Collection[str]
) -> None:
    """Refuse a query naming a capability (relevant or candidate) that is not in the pool."""
    pool = {bare_id(k) for k in known}
    for query, (path, line) in zip(queries, places, strict=True):
        for capability_id in (*query.relevant, *(query.candidates or ())):
            if bare_id(capability_id) not in pool:
                raise InputError(
                    f"{_where(path, line)}: unknown capability id {capability_id!r} "
                    "(not in the router's pool)"
                )
