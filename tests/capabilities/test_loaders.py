"""Every importer on a small fixture, and bad entries named: the shared tools JSONL, TOML and
the config's [[capabilities]], OpenAI tool specs, A2A agent cards and LangChain tools."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from langchain_core.tools import tool

from orchestrator.capabilities import (
    from_config,
    load_a2a,
    load_jsonl,
    load_langchain,
    load_openai,
    load_path,
    load_toml,
    normalise_schema,
)
from orchestrator.capability import Capability
from orchestrator.config import load_config, parse_config, to_toml
from orchestrator.errors import ConfigError, InputError

DATA = Path(__file__).resolve().parents[1] / "data"
TOOLS = DATA / "tools"
FIXTURES = DATA / "capabilities"


@tool
def word_count(text: str, unique: bool = False) -> int:
    """Count the words in a text (only distinct words when unique is set)."""
    words = text.split()
    return len(set(words) if unique else words)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shared tools JSONL ------------------------------------------------------------------


def test_jsonl_loads_metatool_and_bfcl_rows_as_given() -> None:
    metatool = load_jsonl(TOOLS / "metatool_capabilities.jsonl")
    bfcl = load_jsonl(TOOLS / "bfcl_capabilities.jsonl")
    assert [c.id for c in metatool] == [
        "timeport",
        "airqualityforeast",
        "copilot",
        "tira",
        "calculator",
    ]
    assert metatool[4].description.startswith("A calculator app")
    assert all(c.kind == "tool" and c.version == "0" and c.parameters is None for c in metatool)
    assert len(bfcl) == 5 and bfcl[0].id == "triangle_properties.get"
    assert bfcl[0].name == "triangle_properties.get"
    # BFCL's dialect is kept as given
    assert bfcl[0].parameters is not None and bfcl[0].parameters["type"] == "dict"
    assert bfcl[0].parameters["required"] == ["side1", "side2", "side3"]


def test_normalise_schema_turns_bfcl_dialect_into_json_schema() -> None:
    bfcl = load_jsonl(TOOLS / "bfcl_capabilities.jsonl")
    raw = json.dumps([c.parameters for c in bfcl])
    assert '"dict"' in raw and '"float"' in raw
    normal = json.dumps(normalise_schema([c.parameters for c in bfcl]))
    assert '"dict"' not in normal and '"float"' not in normal
    assert normalise_schema(bfcl[0].parameters)["type"] == "object"
    schema = {
        "type": "dict",
        "properties": {
            "x": {"type": "float"},
            "pair": {"type": "tuple", "items": {"type": "integer"}},
            "anything": {"type": "any", "description": "kept"},
        },
    }
    assert normalise_schema(schema) == {
        "type": "object",
        "properties": {
            "x": {"type": "number"},
            "pair": {"type": "array", "items": {"type": "integer"}},
            "anything": {"description": "kept"},
        },
    }
    assert schema["type"] == "dict"  # a copy: the capability keeps its own


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('{"id": "x"}', "line 2 (id 'x'): missing field 'description'"),
        ('{"id": "x", "description": "d", "version": "v-two"}', "line 2 (id 'x'): version:"),
        ('{"id": "x", "description": "d", "kind": "robot"}', "line 2 (id 'x'): kind:"),
        ('{"id": "x", "description": "d", "colour": "red"}', "line 2 (id 'x'): colour:"),
        ('{"id": "x", "description": ', "bad.jsonl:2: not valid JSON"),
        ('["x"]', "line 2: expected an object"),
    ],
)
def test_jsonl_bad_entry_names_file_line_and_field(tmp_path: Path, row: str, message: str) -> None:
    good = '{"id": "ok", "description": "fine", "source": "test"}'
    path = _write(tmp_path, "bad.jsonl", f"{good}\n{row}\n")
    with pytest.raises(InputError) as caught:
        load_jsonl(path)
    assert str(path) in str(caught.value) and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_jsonl(tmp_path / "nowhere.jsonl")


# --- TOML and the config ---------------------------------------------------------------------


def test_toml_and_config_give_the_same_capabilities() -> None:
    from_file = load_toml(FIXTURES / "config.toml")
    config = load_config(FIXTURES / "config.toml")
    assert from_config(config) == from_file
    assert [c.key for c in from_file] == [
        "weather@1.4.0",
        "weather@2.1.0",
        "weather@3.0.0rc1",
        "send_email@0",
        "research@0",
    ]
    weather = from_file[1]
    assert weather.location.mcp_command == ["python", "weather_server.py"]
    assert weather.parameters == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    assert from_file[3].requires_approval and from_file[3].location.callable
    assert from_file[4].kind == "agent" and from_file[4].location.model == "researcher"


def test_config_without_capabilities_has_none() -> None:
    assert load_config().capabilities == []


def test_config_round_trips_through_to_toml(tmp_path: Path) -> None:
    config = load_config(FIXTURES / "config.toml")
    text = to_toml(config)
    assert text.count("[[capabilities]]") == 5
    again = parse_config(tomllib.loads(text))
    assert again.capabilities == config.capabilities


def test_bad_toml_entry_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "caps.toml",
        '[[capabilities]]\nid = "a"\ndescription = "fine"\n\n'
        '[[capabilities]]\nid = "b"\ndescription = "x"\nversion = "latest"\n',
    )
    with pytest.raises(InputError, match=r"caps\.toml: capabilities\[1\] \(id 'b'\): version:"):
        load_toml(path)
    with pytest.raises(ConfigError, match=r"capabilities\.1\.version"):
        parse_config(
            {
                "models": [{"id": "m", "input_usd_per_mtok": 0, "output_usd_per_mtok": 0}],
                **tomllib.loads(path.read_text()),
            }
        )


# --- OpenAI tool specs -----------------------------------------------------------------------


def test_openai_specs_wrapped_and_bare() -> None:
    caps = load_openai(FIXTURES / "openai_tools.json")
    assert [(c.id, c.name, c.kind) for c in caps] == [
        ("get_weather", "get_weather", "tool"),
        ("convert_currency", "convert_currency", "tool"),
    ]
    assert caps[0].parameters is not None and caps[0].parameters["required"] == ["city"]
    assert load_path(FIXTURES / "openai_tools.json") == caps
    single = {"name": "ping", "description": "Check that a host answers."}
    assert [c.id for c in load_openai(single)] == ["ping"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "function", "function": {"name": "f"}}, r"\[0\]\.function \(id 'f'\): missing"),
        ({"description": "no name"}, r"\[0\]: missing field 'name'"),
        ({"name": "f", "description": "d", "returns": {}}, r"\[0\]: returns: not a function"),
    ],
)
def test_openai_bad_spec_is_named(tmp_path: Path, spec: dict[str, object], message: str) -> None:
    path = _write(tmp_path, "tools.json", json.dumps([spec]))
    with pytest.raises(InputError, match=message):
        load_openai(path)


# --- A2A agent cards -------------------------------------------------------------------------


def test_a2a_card_gives_one_agent_capability_per_skill() -> None:
    caps = load_a2a(FIXTURES / "a2a_card.json")
    assert [c.key for c in caps] == [
        "travel-agent/book_flight@1.2.0",
        "travel-agent/plan_itinerary@1.2.0",
    ]
    assert all(c.kind == "agent" for c in caps)
    assert all(c.location.api_base == "http://127.0.0.1:9999/a2a" for c in caps)
    assert caps[0].name == "Book a flight"
    assert caps[0].tags == ("travel", "side-effects")
    assert caps[1].examples == ("Plan three days in Lisbon", "What should I see in Kyoto?")
    assert load_path(FIXTURES / "a2a_card.json") == caps


def test_a2a_bad_skill_is_named(tmp_path: Path) -> None:
    card = json.loads((FIXTURES / "a2a_card.json").read_text())
    del card["skills"][1]["description"]
    path = _write(tmp_path, "card.json", json.dumps(card))
    with pytest.raises(InputError, match=r"card\.json: skills\[1\] \(id 'travel-agent/plan_"):
        load_a2a(path)
    card["version"] = "one"
    with pytest.raises(InputError, match=r"skills\[0\] \(id '.*'\): version: .*not a version"):
        load_a2a(card)
    with pytest.raises(InputError, match="card: missing field 'url'"):
        load_a2a({"name": "x", "skills": []})


# --- LangChain tools -------------------------------------------------------------------------


def test_langchain_tool_becomes_a_capability_with_its_schema_and_path() -> None:
    (cap,) = load_langchain([word_count], version="1.0.0")
    assert cap.id == "word_count" and cap.key == "word_count@1.0.0"
    assert cap.description.startswith("Count the words in a text")
    assert cap.parameters is not None
    assert set(cap.parameters["properties"]) == {"text", "unique"}
    assert cap.parameters["required"] == ["text"]
    assert cap.location.callable == f"{__name__}:word_count"


def test_langchain_tool_made_at_run_time_has_no_import_path() -> None:
    @tool
    def shout(text: str) -> str:
        """Repeat a text in capitals."""
        return text.upper()

    (cap,) = load_langchain([shout])
    assert cap.id == "shout" and cap.location.callable is None
    assert cap.parameters is not None and cap.parameters["required"] == ["text"]


def test_unknown_file_form_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown capabilities format"):
        load_path(_write(tmp_path, "tools.yaml", "x: 1"))


def test_capability_text_reads_name_description_and_parameters() -> None:
    """What the router embeds: the name in words, the description, each parameter with its
    description (a parameter without one by name only); no parameters, no suffix."""
    spec = Capability(
        id="Events_3_FindEvents#85ba96e8",
        name="Events_3_FindEvents",
        description="Find cultural events.",
        parameters={
            "type": "object",
            "properties": {
                "event_type": {"type": "string", "description": "Music or Theater."},
                "cityName": {"type": "string"},
            },
        },
    )
    assert spec.text() == (
        "Events 3 Find Events: Find cultural events. "
        "Parameters: event type (Music or Theater.); city Name"
    )
    plain = Capability(id="weather.get", description="Current weather.")
    assert plain.text() == "weather get: Current weather."
