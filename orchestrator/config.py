"""Configuration: one TOML file validated by pydantic, and the built-in embedded default."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from orchestrator.capability import Capability, Kind, version_specifier
from orchestrator.errors import ConfigError, OrchestratorError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelConfig(_Strict):
    id: str = Field(min_length=1, description="a litellm model id, or local/<name>")
    input_usd_per_mtok: float = Field(ge=0)
    output_usd_per_mtok: float = Field(ge=0)
    context_window: int = Field(default=8192, gt=0)
    api_base: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_usd_per_mtok + completion_tokens * self.output_usd_per_mtok
        ) / 1e6


class EmbedderConfig(_Strict):
    name: str = "all-MiniLM-L6-v2"


class RouterConfig(_Strict):
    path: str | None = Field(default=None, description="router artifact; shipped default if unset")
    default_model: str | None = None
    alpha: float = Field(default=1.0, ge=0, le=1)


class GraphConfig(_Strict):
    width: int = Field(default=3, ge=1, le=64)
    temperature: float = Field(default=0.7, ge=0, le=2)
    max_subqueries: int = Field(default=5, ge=1, le=50)
    max_question_chars: int = Field(default=4000, ge=1)
    planner_model: str | None = None
    synthesizer_model: str | None = None
    aggregator: str = "vote"
    sample_max_tokens: int = Field(default=256, ge=1)
    plan_max_tokens: int = Field(default=384, ge=1)
    synth_max_tokens: int = Field(default=256, ge=1)
    max_concurrency: int = Field(default=16, ge=1)
    depth: int = Field(default=1, ge=0, le=16, description="critique/revise rounds (deep graph)")
    budget_tokens: int | None = Field(
        default=None, ge=1, description="completion tokens per question, divided by the graph"
    )
    judge_max_tokens: int = Field(default=64, ge=1)
    evidence_paragraphs: int = Field(
        default=3, ge=0, description="paragraphs ranked into each sub-query's prompt (0: all)"
    )


class BudgetConfig(_Strict):
    max_cost_usd: float = Field(default=1.0, ge=0)
    max_llm_calls: int = Field(default=100, ge=1)
    max_completion_tokens: int = Field(default=20000, ge=1)
    max_wall_s: float = Field(default=600.0, gt=0)


class CapabilityRouterConfig(_Strict):
    """`[capability_router]`: the fitted capability router the graph uses and the policy it
    routes under (orchestrator.capabilities.policy.policy_from_config builds the Policy)."""

    artifact: str | None = Field(
        default=None, description="capability router artifact folder; unset: no capability routing"
    )
    top_k: int = Field(default=5, ge=1, le=100)
    abstain_below: float | None = Field(
        default=None, ge=0, le=1, description="probability threshold replacing the fitted one"
    )
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()
    pins: dict[str, str] = {}
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_latency_s: float | None = Field(default=None, ge=0)

    @field_validator("allow", "deny")
    @classmethod
    def _patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        if any(not p.strip() for p in patterns):
            raise ValueError("an empty pattern matches nothing; give an id, a tag or a glob")
        return patterns

    @field_validator("pins")
    @classmethod
    def _pins(cls, pins: dict[str, str]) -> dict[str, str]:
        for capability_id, spec in pins.items():
            try:
                version_specifier(spec)
            except ValueError as exc:
                raise ValueError(f"pin for {capability_id!r}: {exc}") from None
        return pins

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        both = sorted(set(self.allow) & set(self.deny))
        if both:
            raise ValueError(f"allow and deny both name {both}: deny would win; keep one")
        return self


class Config(_Strict):
    models: list[ModelConfig] = Field(min_length=1)
    embedder: EmbedderConfig = EmbedderConfig()
    router: RouterConfig = RouterConfig()
    graph: GraphConfig = GraphConfig()
    budget: BudgetConfig = BudgetConfig()
    capability_router: CapabilityRouterConfig = CapabilityRouterConfig()
    capabilities: list[Capability] = Field(
        default=[],
        description="tools, agents, graphs and MCP tools the capability router may route to "
        "(`[[capabilities]]` tables; more come from `orchestrator.capabilities`' loaders)",
    )

    @model_validator(mode="after")
    def _references_exist(self) -> Self:
        ids = [m.id for m in self.models]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate model id in models: {ids}")
        for field, ref in (
            ("router.default_model", self.router.default_model),
            ("graph.planner_model", self.graph.planner_model),
            ("graph.synthesizer_model", self.graph.synthesizer_model),
        ):
            if ref is not None and ref not in ids:
                raise ValueError(f"{field} = {ref!r} is not in the model pool {ids}")
        return self

    def amended(
        self, *, router: dict[str, Any] | None = None, graph: dict[str, Any] | None = None
    ) -> Config:
        """A copy with these fields of the router and graph sections replaced."""
        return self.model_copy(
            update={
                "router": self.router.model_copy(update=router or {}),
                "graph": self.graph.model_copy(update=graph or {}),
            }
        )

    def model(self, model_id: str) -> ModelConfig:
        for m in self.models:
            if m.id == model_id:
                return m
        raise ConfigError(f"unknown model {model_id!r}; the pool has {self.model_ids}")

    @property
    def model_ids(self) -> list[str]:
        return [m.id for m in self.models]

    @property
    def default_model(self) -> str:
        return self.router.default_model or self.models[0].id

    @property
    def planner_model(self) -> str:
        return self.graph.planner_model or self.default_model

    @property
    def synthesizer_model(self) -> str:
        return self.graph.synthesizer_model or self.planner_model


# Local models are priced in proportion to their size (see orchestrator.local_models), so that
# cost trade-offs mean something without a hosted provider.
DEFAULT_CONFIG: dict[str, Any] = {
    "models": [
        {
            "id": "local/smollm2-135m",
            "input_usd_per_mtok": 0.0135,
            "output_usd_per_mtok": 0.0135,
            "context_window": 4096,
            "timeout_s": 600,
        },
        {
            "id": "local/qwen2.5-coder-0.5b",
            "input_usd_per_mtok": 0.05,
            "output_usd_per_mtok": 0.05,
            "context_window": 4096,
            "timeout_s": 600,
        },
        {
            "id": "local/qwen2.5-coder-1.5b",
            "input_usd_per_mtok": 0.15,
            "output_usd_per_mtok": 0.15,
            "context_window": 4096,
            "timeout_s": 600,
        },
    ],
    "router": {"default_model": "local/qwen2.5-coder-0.5b"},
    "graph": {"planner_model": "local/qwen2.5-coder-1.5b"},
}


def parse_config(data: dict[str, Any], source: str = "config") -> Config:
    """Validate a config mapping; the first bad field is named in a one-line ConfigError."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(f"{source}: {where}: {err['msg']}") from None


def load_config(path: str | Path | None = None) -> Config:
    """The config in a TOML file, or the built-in embedded default when path is None."""
    if path is None:
        return parse_config(DEFAULT_CONFIG, "built-in default")
    return parse_config(read_toml(path, "config file", ConfigError), str(path))


def read_toml(path: str | Path, what: str, error: type[OrchestratorError]) -> dict[str, Any]:
    """A TOML file's content; a missing or malformed file is a one-line `error`."""
    file = Path(path)
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{what} not found: {file}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{file}: not valid TOML: {exc}") from None


def to_toml(config: Config) -> str:
    """The effective config as TOML (secrets never live in it: keys are env var names)."""
    from orchestrator.secrets import redact

    data = config.model_dump(exclude_none=True)
    lines: list[str] = []
    for array in ("models", "capabilities"):
        for entry in data.pop(array):
            lines += [f"[[{array}]]", *(f"{k} = {_toml_value(v)}" for k, v in entry.items()), ""]
    for table, values in data.items():
        lines += [f"[{table}]", *(f"{k} = {_toml_value(v)}" for k, v in values.items()), ""]
    return redact("\n".join(lines))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table; TOML has no null: None values are left out
        pairs = [
            f"{_toml_value(str(k))} = {_toml_value(v)}" for k, v in value.items() if v is not None
        ]
        return "{" + ", ".join(pairs) + "}"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
