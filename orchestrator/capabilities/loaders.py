"""Capabilities from where they are described: the tools JSONL (`{"id", "description",
["name"], ["parameters"], ...}`, one a line), `[[capabilities]]` tables in a TOML file or the
config, OpenAI function/tool specs, A2A agent cards (one capability per skill) and LangChain
tools. MCP servers' tools are listed by `orchestrator.capabilities.mcp_tools`.

Every bad entry is an `InputError` naming the source, the entry (line, index or id) and the
field; nothing is dropped. BFCL's parameters keep their own dialect (`"type": "dict"`,
`"float"`); `normalise_schema` turns them into JSON schema for validation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from orchestrator.capability import Capability
from orchestrator.config import Config, read_toml
from orchestrator.errors import InputError
from orchestrator.jsonl import json_lines

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

# Provenance fields of the shared tools JSONL: not part of a capability, left out on loading.
PROVENANCE = frozenset({"source"})
_DIALECT = {"dict": "object", "float": "number", "tuple": "array"}


def capability_from(data: object, source: str, entry: str) -> Capability:
    """Validate one entry; an `InputError` `<source>: <entry>: <field>: <problem>` if bad."""
    if not isinstance(data, Mapping):
        raise InputError(f"{source}: {entry}: expected an object, got {type(data).__name__}")
    try:
        return Capability.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "entry"
        named = f" (id {data['id']!r})" if isinstance(data.get("id"), str) else ""
        if first["type"] == "missing":
            raise InputError(f"{source}: {entry}{named}: missing field {field!r}") from None
        raise InputError(f"{source}: {entry}{named}: {field}: {first['msg']}") from None


def load_jsonl(path: str | Path) -> list[Capability]:
    """The tools JSONL: one capability object a line (blank lines skipped); `source` and
    the other provenance fields are left out."""
    file = Path(path)
    capabilities = []
    for number, row in json_lines(file, "capabilities"):
        if isinstance(row, dict):
            row = {k: v for k, v in row.items() if k not in PROVENANCE}
        capabilities.append(capability_from(row, str(file), f"line {number}"))
    return capabilities


def normalise_schema(schema: Any) -> Any:
    """A copy of a parameters schema in JSON schema: BFCL's `dict` → `object`, `float` →
    `number`, `tuple` → `array`, `any` → no type constraint; standard schemas are unchanged."""
    if isinstance(schema, list):
        return [normalise_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: normalise_schema(value) for key, value in schema.items()}
    kind = schema.get("type")
    if kind == "any":
        del out["type"]
    elif isinstance(kind, str):
        out["type"] = _DIALECT.get(kind, kind)
    return out


def load_toml(path: str | Path) -> list[Capability]:
    """The `[[capabilities]]` tables of a TOML file (a config file or one of its own)."""
    file = Path(path)
    tables = read_toml(file, "capabilities file", InputError).get("capabilities", [])
    if not isinstance(tables, list):
        raise InputError(f"{file}: capabilities: expected [[capabilities]] tables")
    return [capability_from(t, str(file), f"capabilities[{i}]") for i, t in enumerate(tables)]


def from_config(config: Config) -> list[Capability]:
    """The capabilities a loaded config lists (validated with the config)."""
    return list(config.capabilities)


def load_openai(specs: str | Path | list[Any] | dict[str, Any]) -> list[Capability]:
    """OpenAI tool specs: a JSON file (or the parsed value) holding a list of
    `{"type": "function", "function": {"name", "description", "parameters"}}` or of bare
    function objects (one object alone works too). The id is the function's name."""
    source, value = _json_source(specs, "OpenAI tool specs")
    items = value if isinstance(value, list) else [value]
    capabilities = []
    for index, item in enumerate(items):
        entry = f"[{index}]"
        if isinstance(item, dict) and item.get("type") == "function" and "function" in item:
            item, entry = item["function"], f"[{index}].function"
        if not isinstance(item, dict):
            raise InputError(f"{source}: {entry}: expected a function object")
        if "name" not in item:
            raise InputError(f"{source}: {entry}: missing field 'name'")
        fields = {k: item[k] for k in ("description", "parameters") if k in item}
        extra = set(item) - {"name", "description", "parameters", "strict"}
        if extra:
            raise InputError(f"{source}: {entry}: {sorted(extra)[0]}: not a function field")
        data = {"id": item["name"], "name": item["name"], **fields}
        capabilities.append(capability_from(data, source, entry))
    return capabilities


def load_a2a(card: str | Path | dict[str, Any]) -> list[Capability]:
    """An A2A agent card (`name`, `description`, `url`, `version`, `skills`): one capability
    of kind `agent` a skill, id `<agent>/<skill id>` (the agent's name in lower case, runs of
    other characters than letters, digits, `.`, `_` and `-` made `-`), at the card's url."""
    source, value = _json_source(card, "A2A agent card")
    if not isinstance(value, dict):
        raise InputError(f"{source}: expected an agent card object")
    for field in ("name", "url", "skills"):
        if field not in value:
            raise InputError(f"{source}: card: missing field {field!r}")
    if not isinstance(value["skills"], list) or not value["skills"]:
        raise InputError(f"{source}: card: skills: expected a non-empty list")
    agent = re.sub(r"[^a-z0-9._-]+", "-", str(value["name"]).lower()).strip("-")
    return [_skill(value, agent, skill, source, i) for i, skill in enumerate(value["skills"])]


def _skill(card: dict[str, Any], agent: str, skill: object, source: str, i: int) -> Capability:
    entry = f"skills[{i}]"
    if not isinstance(skill, dict) or not skill.get("id"):
        raise InputError(f"{source}: {entry}: missing field 'id'")
    data = {
        "id": f"{agent}/{skill['id']}",
        "kind": "agent",
        "name": skill.get("name"),
        "description": skill.get("description"),
        "examples": skill.get("examples", []),
        "tags": skill.get("tags", []),
        "version": card.get("version", "0"),
        "location": {"api_base": card["url"]},
    }
    return capability_from({k: v for k, v in data.items() if v is not None}, source, entry)


def load_langchain(tools: Iterable[BaseTool], version: str = "0") -> list[Capability]:
    """LangChain tools: name, description, the argument schema as `parameters` (JSON
    schema); `location.callable` is `module:attr` when the tool can be imported by it."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    capabilities = []
    for tool in tools:
        function = convert_to_openai_tool(tool)["function"]
        data = {
            "id": tool.name,
            "name": tool.name,
            "description": tool.description,
            "parameters": function.get("parameters"),
            "version": version,
            "location": {"callable": _import_path(tool)},
        }
        capabilities.append(capability_from(data, "LangChain tools", repr(tool.name)))
    return capabilities


def _import_path(tool: BaseTool) -> str | None:
    """`module:attr` where the tool itself is found, or None (a tool made at run time)."""
    func = getattr(tool, "func", None) or getattr(tool, "coroutine", None)
    candidates = [(type(tool).__module__, tool.name)]
    if func is not None:
        candidates.insert(0, (func.__module__, func.__name__))
    for module_name, attr in candidates:
        try:
            if getattr(import_module(module_name), attr, None) is tool:
                return f"{module_name}:{attr}"
        except ImportError:
            continue
    return None


def load_path(path: str | Path) -> list[Capability]:
    """Capabilities from a file, by its form: `.jsonl` the tools JSONL, `.toml` its
    `[[capabilities]]`, `.json` an A2A agent card (an object with `skills`) or OpenAI specs."""
    file = Path(path)
    if file.suffix == ".jsonl":
        return load_jsonl(file)
    if file.suffix == ".toml":
        return load_toml(file)
    if file.suffix == ".json":
        _, value = _json_source(file, "capabilities file")
        is_card = isinstance(value, dict) and "skills" in value
        return load_a2a(file) if is_card else load_openai(file)
    raise InputError(f"{file}: unknown capabilities format (expected .jsonl, .toml or .json)")


def _json_source(value: object, what: str) -> tuple[str, Any]:
    """(the name errors use, the parsed value) for a path to a JSON file or a parsed value."""
    if isinstance(value, str | Path):
        file = Path(value)
        try:
            return str(file), json.loads(_read(file))
        except json.JSONDecodeError as exc:
            raise InputError(f"{file}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    return what, value


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"capabilities file not found: {file}") from None
    except UnicodeDecodeError:
        raise InputError(f"{file}: not UTF-8 text") from None
