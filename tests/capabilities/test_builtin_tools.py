"""The example's local tools: the safe calculator, the unit converter and paragraph search,
and the capabilities file that points at them, run through the tool runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.capabilities import ToolRuntime, check_arguments, load_jsonl
from orchestrator.capabilities.builtin_tools import (
    SCHEMAS,
    ParagraphSearch,
    calculate,
    convert_units,
)
from orchestrator.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "examples" / "data" / "hotpotqa_paragraphs.jsonl"


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("17.3% of 2,418", "418.314"),
        ("6 * 7", "42"),
        ("(1 + 2) * 3 / 4", "2.25"),
        ("2 ** 10", "1024"),
        ("2^10", "1024"),
        ("10 % 3", "1"),
        ("15%", "0.15"),
        ("1,250 x 12", "15000"),
        ("-3 + +4", "1"),
        ("7 // 2", "3"),
        ("sqrt(16) + abs(-2) + round(2.6)", "9"),
        ("1 / 3", "0.333333333333"),
        ("1958 - 1841", "117"),
    ],
)
def test_calculator_evaluates_arithmetic(expression, value):
    assert calculate(expression) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('true')", "not allowed in an arithmetic expression"),
        ("open('/etc/passwd')", "not allowed in an arithmetic expression: \"open('/etc/passwd')\""),
        ("x + 1", "not allowed in an arithmetic expression: 'x'"),
        ("(1).real", "not allowed"),
        ("'a' * 3", "not allowed"),
        ("1 / 0", "division by zero"),
        ("2 ** 100000", "the exponent 100000 is over 1000"),
        ("10.0 ** 999", "the result is too large"),
        ("1 +", "not an arithmetic expression"),
        ("1" * 501, "over 500 characters"),
    ],
)
def test_calculator_refuses_anything_else_by_name(expression, message):
    with pytest.raises(ValueError) as info:
        calculate(expression)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("value", "source", "target", "result"),
    [
        (393, "mi", "km", "632.472192 km"),
        (1, "mile", "feet", "5280 feet"),
        (100, "F", "C", "37.77777778 C"),
        (0, "celsius", "kelvin", "273.15 kelvin"),
        (2, "hours", "minutes", "120 minutes"),
        (12, "stone", "kg", "76.20351816 kg"),
        (1, "gallon", "l", "3.785411784 l"),
    ],
)
def test_unit_converter(value, source, target, result):
    assert convert_units(value, source, target) == result


def test_unit_converter_names_what_it_cannot_do():
    with pytest.raises(ValueError, match="cannot convert length \\(km\\) to mass \\(kg\\)"):
        convert_units(1, "km", "kg")
    with pytest.raises(ValueError, match="unknown unit 'furlong'"):
        convert_units(1, "furlong", "m")


def test_paragraph_search_finds_the_paragraph_best_first():
    search = ParagraphSearch(CORPUS)
    assert len(search.paragraphs) == 40
    hits = search("Otterington railway station", k=2).split("\n\n")
    assert hits[0].startswith("[Otterington railway station] ")
    assert len(hits) == 2
    assert search("zzqx nothing like this", k=3) == "no paragraph matches"


def test_paragraph_search_refuses_a_bad_corpus(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "no text"}\n')
    with pytest.raises(InputError, match="expected lines with title and text"):
        ParagraphSearch(bad)


def test_every_schema_accepts_a_good_call_and_names_a_bad_one():
    assert check_arguments(SCHEMAS["calculate"], '{"expression": "1+1"}')[0] is not None
    assert check_arguments(SCHEMAS["convert_units"], '{"value": 1, "from_unit": "m"}')[1] == (
        "arguments: 'to_unit' is a required property"
    )
    assert check_arguments(SCHEMAS["search"], '{"query": "x", "k": 50}')[1] == (
        "k: 50 is greater than the maximum of 10"
    )


async def test_the_example_capabilities_run_through_the_runtime(monkeypatch):
    monkeypatch.chdir(ROOT)  # the search's callable is a path relative to the repository
    capabilities = {c.id: c for c in load_jsonl(ROOT / "examples" / "data" / "agent_tools.jsonl")}
    assert sorted(capabilities) == ["calculator", "paragraph_search", "unit_converter"]
    async with ToolRuntime() as tools:
        calc = await tools.call(capabilities["calculator"], {"expression": "17.3% of 2,418"})
        miles = await tools.call(
            capabilities["unit_converter"], {"value": 393, "from_unit": "mi", "to_unit": "km"}
        )
        found = await tools.call(capabilities["paragraph_search"], {"query": "Otterington", "k": 1})
    assert (calc.output, miles.output) == ("418.314", "632.472192 km")
    assert found.output.startswith("[Otterington railway station]")
