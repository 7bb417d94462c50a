"""A capability: something a sub-query can be sent to other than a model (a tool, an agent, a
graph, an MCP server's tool), described well enough to be routed to, policed and called.

A root module (it imports nothing of the package) so that the config's `[[capabilities]]`
tables can be validated by it; `orchestrator.capabilities` re-exports it."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["tool", "agent", "graph", "mcp"]


def version_specifier(text: str) -> SpecifierSet:
    """A version specifier (`>=2,<3`, `==1.2.0`, `~=2.1`; a bare version means `==` it); a
    ValueError names the text that is not one."""
    text = text.strip()
    if text and text[0].isdigit():
        text = f"=={text}"
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"not a version specifier: {text!r} (e.g. >=2,<3)") from None


class Location(BaseModel):
    """Where a capability lives; exactly one of the fields is set for a callable capability,
    none for one known only by its description (e.g. a benchmark's pool)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    callable: str | None = None  # "package.module:attr", a Python callable or LangChain tool
    mcp_command: list[str] | None = None  # the MCP server's command line (stdio)
    mcp_tool: str | None = None  # the tool's name on that server (default: the capability's)
    api_base: str | None = None  # an agent behind an OpenAI-compatible endpoint
    model: str | None = None  # the model id that endpoint serves
    api_key_env: str | None = None  # the variable holding that endpoint's API key
    graph: str | None = None  # a graph spec, "path.py:attr" or "package.module:attr"

    @model_validator(mode="after")
    def _one_place(self) -> Location:
        places = [self.callable, self.mcp_command, self.api_base, self.graph]
        if sum(p is not None for p in places) > 1:
            raise ValueError("set one of callable, mcp_command, api_base or graph")
        return self

    def __str__(self) -> str:
        """The set fields as a TOML inline table (`{}` when none is set)."""
        fields = self.model_dump(exclude_none=True)
        return "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in fields.items()) + "}"


class Capability(BaseModel):
    """One routable capability. `id` is unique per version; `examples` are requests it
    serves (extra utterances for the router); `parameters` is the JSON schema of its
    arguments; `cost_usd` and `latency_s` are per-call estimates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: Kind = "tool"
    name: str | None = None  # a display name; the id when unset
    description: str = Field(min_length=1)
    examples: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    version: str = "0"
    parameters: dict[str, Any] | None = None
    cost_usd: float | None = Field(default=None, ge=0)
    latency_s: float | None = Field(default=None, ge=0)
    requires_approval: bool = False
    location: Location = Location()

    @field_validator("version")
    @classmethod
    def _semantic(cls, value: str) -> str:
        try:
            Version(value)
        except InvalidVersion:
            raise ValueError(f"not a version: {value!r} (e.g. 1.2.0)") from None
        return value

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)

    @property
    def key(self) -> str:
        """`id@version`: what identifies one registered version."""
        return f"{self.id}@{self.version}"

    def text(self) -> str:
        """What the router embeds for the capability itself: its name in words, its
        description and its parameters (each name with its description), as in
        `get_weather: Current weather. Parameters: city (the city's name); units`."""
        name = spoken(self.name or self.id)
        arguments = parameter_text(self.parameters)
        return f"{name}: {self.description}" + (f" Parameters: {arguments}" if arguments else "")


def spoken(name: str) -> str:
    """An identifier as words: `Events_3_FindEvents#85ba96e8` → `Events 3 Find Events`."""
    name = name.split("#")[0]
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return re.sub(r"[._\-]+", " ", name).strip()


def parameter_text(schema: dict[str, Any] | None) -> str:
    """A JSON schema's top-level properties as `name (description); name …`."""
    properties = (schema or {}).get("properties") or {}
    if not isinstance(properties, dict):
        return ""
    out = []
    for key, spec in properties.items():
        about = spec.get("description", "") if isinstance(spec, dict) else ""
        about = about.strip() if isinstance(about, str) else ""
        out.append(f"{spoken(key)} ({about})" if about else spoken(key))
    return "; ".join(out)
