"""Small local tools for agent workflows and the example: a safe arithmetic evaluator (parsed
with `ast`, never `eval`), a unit converter over a small table, and BM25 search (`bm25s`)
over a JSONL corpus of paragraphs. Each has a JSON schema in `SCHEMAS`; the example's
capabilities file points at them."""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError

SCHEMAS: dict[str, dict[str, Any]] = {
    "calculate": {
        "type": "object",
        "properties": {
            "expression": {
                "type": "string",
                "description": "arithmetic: numbers, + - * / // % ** ( ), sqrt, abs, round; "
                "'17.3% of 2,418' works too",
            }
        },
        "required": ["expression"],
    },
    "convert_units": {
        "type": "object",
        "properties": {
            "value": {"type": "number"},
            "from_unit": {"type": "string", "description": "e.g. mi, km, lb, kg, F, C, h"},
            "to_unit": {"type": "string"},
        },
        "required": ["value", "from_unit", "to_unit"],
    },
    "search": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "words to look for"},
            "k": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
        },
        "required": ["query"],
    },
}

# --- the calculator --------------------------------------------------------------------------

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"sqrt": math.sqrt, "abs": abs, "round": round}
_MAX_EXPONENT = 1000
_MAX_CHARS = 500


def calculate(expression: str) -> str:
    """The value of an arithmetic expression, as text (up to 12 significant digits).
    Thousands separators (`2,418`), `x`/`×`/`÷`/`^`, and percentages (`17.3% of 2,418`,
    `15%`) are understood; anything else than numbers, operators, parentheses and sqrt, abs
    or round is a `ValueError` naming it."""
    if len(expression) > _MAX_CHARS:
        raise ValueError(f"the expression is over {_MAX_CHARS} characters")
    text = _normalise(expression)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from None
    try:
        value = _evaluate(tree.body)
    except ZeroDivisionError:
        raise ValueError("division by zero") from None
    except OverflowError:
        raise ValueError("the result is too large") from None
    return _number(value)


def _normalise(expression: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", expression.strip())
    text = text.replace("×", "*").replace("÷", "/").replace("^", "**")
    text = re.sub(r"(?<=[\d)\s])x(?=[\s\d(])", "*", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*%\s*of\b", r"(\1/100)*", text)
    return re.sub(r"(\d+(?:\.\d+)?)\s*%(?!\s*[\d(.])", r"(\1/100)", text)


def _evaluate(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise ValueError(f"the exponent {right} is over {_MAX_EXPONENT}")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords
    if call and node.func.id in _FUNCTIONS:  # type: ignore[attr-defined]
        return _FUNCTIONS[node.func.id](*[_evaluate(a) for a in node.args])  # type: ignore[attr-defined]
    raise ValueError(f"not allowed in an arithmetic expression: {ast.unparse(node)!r}")


def _number(value: Any) -> str:
    if isinstance(value, complex):
        raise ValueError("the result is not a real number")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError("the result is not a finite number")
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.12g}"


# --- the unit converter ----------------------------------------------------------------------

# unit -> (dimension, factor to the base unit: metre, kilogram, second, litre)
_UNITS: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0), "km": ("length", 1000.0), "cm": ("length", 0.01),
    "mm": ("length", 0.001), "mi": ("length", 1609.344), "yd": ("length", 0.9144),
    "ft": ("length", 0.3048), "in": ("length", 0.0254), "nmi": ("length", 1852.0),
    "kg": ("mass", 1.0), "g": ("mass", 0.001), "mg": ("mass", 1e-6), "t": ("mass", 1000.0),
    "lb": ("mass", 0.45359237), "oz": ("mass", 0.028349523125), "st": ("mass", 6.35029318),
    "s": ("time", 1.0), "ms": ("time", 0.001), "min": ("time", 60.0), "h": ("time", 3600.0),
    "day": ("time", 86400.0), "week": ("time", 604800.0), "year": ("time", 31557600.0),
    "l": ("volume", 1.0), "ml": ("volume", 0.001), "gal": ("volume", 3.785411784),
    "c": ("temperature", 1.0), "f": ("temperature", 1.0), "k": ("temperature", 1.0),
}  # fmt: skip
_ALIASES = {
    "meter": "m", "metre": "m", "kilometer": "km", "kilometre": "km", "centimeter": "cm",
    "centimetre": "cm", "millimeter": "mm", "millimetre": "mm", "mile": "mi", "yard": "yd",
    "foot": "ft", "feet": "ft", "inch": "in", "inches": "in", "nautical mile": "nmi",
    "kilogram": "kg", "gram": "g", "milligram": "mg", "tonne": "t", "pound": "lb", "lbs": "lb",
    "ounce": "oz", "stone": "st", "second": "s", "sec": "s", "millisecond": "ms",
    "minute": "min", "hour": "h", "hr": "h", "d": "day", "wk": "week", "yr": "year",
    "liter": "l", "litre": "l", "milliliter": "ml", "millilitre": "ml", "gallon": "gal",
    "celsius": "c", "°c": "c", "fahrenheit": "f", "°f": "f", "kelvin": "k",
}  # fmt: skip


def _unit(name: str) -> str:
    key = name.strip().lower().replace("degrees ", "").replace("degree ", "")
    for candidate in (key, key.removesuffix("s"), key.removesuffix("es")):
        unit = _ALIASES.get(candidate, candidate)
        if unit in _UNITS:
            return unit
    raise ValueError(f"unknown unit {name!r}; known: {', '.join(_UNITS)}")


def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """`value` in `from_unit` expressed in `to_unit` (length, mass, time, volume,
    temperature), as `<number> <to_unit>` with up to 10 significant digits."""
    source, target = _unit(from_unit), _unit(to_unit)
    (dimension, factor), (target_dimension, target_factor) = _UNITS[source], _UNITS[target]
    if dimension != target_dimension:
        raise ValueError(
            f"cannot convert {dimension} ({from_unit}) to {target_dimension} ({to_unit})"
        )
    if dimension == "temperature":
        kelvin = {"c": value + 273.15, "f": (value - 32) * 5 / 9 + 273.15, "k": value}[source]
        result = {"c": kelvin - 273.15, "f": (kelvin - 273.15) * 9 / 5 + 32, "k": kelvin}[target]
    else:
        result = value * factor / target_factor
    return f"{result:.10g} {to_unit}"


# --- paragraph search ------------------------------------------------------------------------


class ParagraphSearch:
    """BM25 search (`bm25s`) over a JSONL corpus of `{"title", "text"}` paragraphs; a call
    `search(query, k=3)` returns the best `k` as `[title] text` blocks, best first."""

    def __init__(self, corpus: str | Path) -> None:
        import bm25s

        path = Path(corpus)
        try:
            rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"paragraph corpus {path}: {exc}") from None
        if not rows or not all("title" in r and "text" in r for r in rows):
            raise InputError(f"paragraph corpus {path}: expected lines with title and text")
        self.paragraphs = [(str(r["title"]), str(r["text"])) for r in rows]
        self._retriever = bm25s.BM25()
        tokens = bm25s.tokenize([f"{t} {x}" for t, x in self.paragraphs], show_progress=False)
        self._retriever.index(tokens, show_progress=False)

    def __call__(self, query: str, k: int = 3) -> str:
        import bm25s

        k = max(1, min(int(k), len(self.paragraphs)))
        tokens = bm25s.tokenize([query], show_progress=False)
        found, scores = self._retriever.retrieve(tokens, k=k, show_progress=False)
        hits = [int(i) for i, s in zip(found[0], scores[0], strict=True) if s > 0]
        if not hits:
            return "no paragraph matches"
        return "\n\n".join(f"[{self.paragraphs[i][0]}] {self.paragraphs[i][1]}" for i in hits)
