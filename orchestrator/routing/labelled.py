"""Labelled queries: the JSONL format routers are fitted and evaluated on.

One query per line: `{"query", ["query_last"], "dataset", "index", "records": {model: score
or null}, ["usages": {model: {"cost": usd, ["prompt_tokens"], ["completion_tokens"],
["estimated"]}}]}`. Scores lie in [0, 1]; a null or absent record means "not measured" and is
kept as NaN, never as 0. When a cost is missing, a price table (USD per 1M tokens) estimates it
from token counts, and the table is marked as holding estimated costs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrator.errors import InputError
from orchestrator.jsonl import json_lines

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Prices:
    """USD per 1M input/output tokens per model, and how to guess token counts from text."""

    per_mtok: dict[str, tuple[float, float]]
    chars_per_token: float = 4.0
    completion_tokens: int = 0

    def estimate(self, model: str, prompt: str, usage: dict[str, Any]) -> float | None:
        """Cost of one call from its token counts (or the text's length); None if unpriced."""
        if model not in self.per_mtok:
            return None
        tokens_in = usage.get("prompt_tokens")
        if not isinstance(tokens_in, int | float):
            tokens_in = math.ceil(len(prompt) / self.chars_per_token)
        tokens_out = usage.get("completion_tokens")
        if not isinstance(tokens_out, int | float):
            tokens_out = self.completion_tokens
        price_in, price_out = self.per_mtok[model]
        return (float(tokens_in) * price_in + float(tokens_out) * price_out) / 1e6


def load_prices(path: str | Path) -> Prices:
    """A price table in TOML: `[[models]]` entries with `id`, `input_usd_per_mtok` and
    `output_usd_per_mtok` (the config file's format, so a config file works as one), and an
    optional `[estimate]` table with `chars_per_token` and `completion_tokens`."""
    from orchestrator.config import read_toml

    file = Path(path)
    data = read_toml(file, "price file", InputError)
    per_mtok: dict[str, tuple[float, float]] = {}
    for n, entry in enumerate(data.get("models", [])):
        try:
            prices = (float(entry["input_usd_per_mtok"]), float(entry["output_usd_per_mtok"]))
            per_mtok[str(entry["id"])] = prices
        except (KeyError, TypeError, ValueError):
            raise InputError(
                f"{file}: models[{n}] needs id, input_usd_per_mtok and output_usd_per_mtok"
            ) from None
    if not per_mtok:
        raise InputError(f"{file}: no [[models]] entries with prices")
    estimate = data.get("estimate", {})
    return Prices(
        per_mtok,
        chars_per_token=float(estimate.get("chars_per_token", 4.0)),
        completion_tokens=int(estimate.get("completion_tokens", 0)),
    )


@dataclass(frozen=True)
class LabelledTable:
    """Labelled queries as arrays: `scores` and `costs` are (n, m) with NaN where unknown."""

    texts: list[str]
    datasets: list[str]
    indices: list[Any]
    models: list[str]
    scores: FloatMatrix
    costs: FloatMatrix
    cost_estimated: bool = False
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, rows: Sequence[int] | npt.NDArray[np.int64]) -> LabelledTable:
        """The table restricted to `rows`, in that order."""
        picked = np.asarray(rows, dtype=np.int64)
        return LabelledTable(
            texts=[self.texts[i] for i in picked],
            datasets=[self.datasets[i] for i in picked],
            indices=[self.indices[i] for i in picked],
            models=list(self.models),
            scores=self.scores[picked],
            costs=self.costs[picked],
            cost_estimated=self.cost_estimated,
            sources=list(self.sources),
        )

    def with_models(self, models: Sequence[str]) -> LabelledTable:
        """The table with columns in the order of `models` (NaN for models it lacks)."""
        scores = np.full((len(self), len(models)), np.nan)
        costs = np.full((len(self), len(models)), np.nan)
        for out, model in enumerate(models):
            if model in self.models:
                scores[:, out] = self.scores[:, self.models.index(model)]
                costs[:, out] = self.costs[:, self.models.index(model)]
        return LabelledTable(
            list(self.texts),
            list(self.datasets),
            list(self.indices),
            list(models),
            scores,
            costs,
            self.cost_estimated,
            list(self.sources),
        )


@dataclass
class _Rows:
    texts: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    indices: list[Any] = field(default_factory=list)
    scores: list[dict[str, float]] = field(default_factory=list)
    costs: list[dict[str, float]] = field(default_factory=list)
    estimated: bool = False


def _number(value: Any, where: str, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}: {what} must be a number or null, got {value!r}")
    return float(value)


def _parse_row(row: Any, where: str, text_field: str, prices: Prices | None, out: _Rows) -> None:
    if not isinstance(row, dict) or not isinstance(row.get("query"), str):
        raise InputError(f"{where}: each line must be an object with a string 'query'")
    records = row.get("records", {})
    if not isinstance(records, dict):
        raise InputError(f"{where}: 'records' must be an object {{model: score or null}}")
    usages: dict[str, Any] = row["usages"] if isinstance(row.get("usages"), dict) else {}
    text = row[text_field] if isinstance(row.get(text_field), str) else row["query"]
    scores: dict[str, float] = {}
    costs: dict[str, float] = {}
    for model, raw in records.items():
        score = _number(raw, where, f"records[{model!r}]")
        if score is not None and not 0.0 <= score <= 1.0:
            raise InputError(f"{where}: records[{model!r}] = {score} is outside [0, 1]")
        scores[model] = math.nan if score is None else score
        usage: dict[str, Any] = usages[model] if isinstance(usages.get(model), dict) else {}
        cost = _number(usage.get("cost"), where, f"usages[{model!r}].cost")
        if cost is None and prices is not None:
            cost = prices.estimate(model, row["query"], usage)
            out.estimated |= cost is not None
        out.estimated |= bool(usage.get("estimated")) and cost is not None
        costs[model] = math.nan if cost is None else cost
    out.texts.append(text)
    out.datasets.append(str(row.get("dataset", "default")))
    out.indices.append(row.get("index", len(out.texts) - 1))
    out.scores.append(scores)
    out.costs.append(costs)


def _read_file(path: Path, text_field: str, prices: Prices | None, out: _Rows) -> None:
    for number, row in json_lines(path):
        _parse_row(row, f"{path}:{number}", text_field, prices, out)


def _matrix(rows: list[dict[str, float]], models: list[str]) -> FloatMatrix:
    matrix = np.full((len(rows), len(models)), np.nan)
    column = {m: i for i, m in enumerate(models)}
    for r, values in enumerate(rows):
        for model, value in values.items():
            matrix[r, column[model]] = value
    return matrix


def read_labelled(
    paths: Sequence[str | Path],
    text_field: str = "query_last",
    prices: Prices | None = None,
    require_records: bool = True,
) -> LabelledTable:
    """Read labelled-query JSONL files (several are concatenated; models are their union).

    `text_field` names the field to embed; rows without it use `query`. With
    `require_records=False` plain queries (no `records`) are accepted, e.g. for routing."""
    out = _Rows()
    for path in paths:
        _read_file(Path(path), text_field, prices, out)
    if not out.texts:
        raise InputError(f"no labelled queries in {', '.join(str(p) for p in paths)}")
    models = list(dict.fromkeys(m for row in out.scores for m in row))
    if not models and require_records:
        raise InputError("the labelled queries have no model records")
    return LabelledTable(
        texts=out.texts,
        datasets=out.datasets,
        indices=out.indices,
        models=models,
        scores=_matrix(out.scores, models),
        costs=_matrix(out.costs, models),
        cost_estimated=out.estimated,
        sources=[str(p) for p in paths],
    )
