"""Which capabilities a request may be routed to, decided before any ranking: allow and deny
lists (ids or tags, glob patterns), version pins (`weather@>=2,<3`), cost and latency limits,
and the kinds allowed. A capability whose cost or latency is unknown passes those limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from packaging.specifiers import SpecifierSet
from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.capability import Capability, Kind, version_specifier
from orchestrator.config import CapabilityRouterConfig
from orchestrator.errors import InputError


class Policy(BaseModel):
    """What may be routed to. `allow` (empty: everything) and `deny` hold patterns matched
    against a capability's id and each of its tags (`weather`, `finance.*`, `side-effects`);
    deny wins. `pins` maps an id to a version specifier (`">=2,<3"`). `kinds` (empty: all)
    limits the kinds; `max_cost_usd` and `max_latency_s` bound the per-call estimates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    pins: dict[str, str] = {}
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_latency_s: float | None = Field(default=None, ge=0)
    kinds: tuple[Kind, ...] = ()

    @field_validator("pins")
    @classmethod
    def _specifiers(cls, pins: dict[str, str]) -> dict[str, str]:
        for capability_id, spec in pins.items():
            specifier(spec, f"pin for {capability_id!r}")
        return pins

    def refusal(self, capability: Capability) -> str | None:
        """Why the policy refuses this capability (one line), or None when it passes."""
        if self.kinds and capability.kind not in self.kinds:
            return f"kind {capability.kind!r} is not among {list(self.kinds)}"
        if denied := _matching(self.deny, capability):
            return f"denied by {denied!r}"
        if self.allow and not _matching(self.allow, capability):
            return f"not allowed by any of {list(self.allow)}"
        if _over(capability.cost_usd, self.max_cost_usd):
            return f"costs {capability.cost_usd} USD, over max_cost_usd = {self.max_cost_usd}"
        if _over(capability.latency_s, self.max_latency_s):
            return f"takes {capability.latency_s} s, over max_latency_s = {self.max_latency_s}"
        return None

    def admits(self, capability: Capability) -> bool:
        """Whether the policy lets this capability be routed to (pins aside)."""
        return self.refusal(capability) is None


def _matching(patterns: Iterable[str], capability: Capability) -> str | None:
    names = (capability.id, *capability.tags)
    return next((p for p in patterns if any(fnmatchcase(n, p) for n in names)), None)


def _over(value: float | None, limit: float | None) -> bool:
    return value is not None and limit is not None and value > limit


def specifier(text: str, what: str = "version pin") -> SpecifierSet:
    """A version specifier (`>=2,<3`, `==1.2.0`, `~=2.1`; a bare version means `==` it)."""
    try:
        return version_specifier(text)
    except ValueError as exc:
        raise InputError(f"{what}: {exc}") from None


def parse_pin(text: str) -> tuple[str, SpecifierSet]:
    """`weather@>=2,<3` → (`weather`, `>=2,<3`); `weather@2.1.0` pins exactly that version."""
    capability_id, at, spec = text.rpartition("@")
    if not at or not capability_id or not spec.strip():
        raise InputError(f"version pin {text!r}: expected id@specifier, e.g. weather@>=2,<3")
    return capability_id, specifier(spec, f"version pin {text!r}")


def pins_of(pins: Mapping[str, str] | Iterable[str] | None) -> dict[str, SpecifierSet]:
    """Pins given as a mapping (id → specifier) or as `id@specifier` strings, parsed."""
    if pins is None:
        return {}
    if isinstance(pins, Mapping):
        return {k: specifier(v, f"pin for {k!r}") for k, v in pins.items()}
    return dict(parse_pin(p) for p in pins)


def policy_from_config(section: CapabilityRouterConfig) -> Policy:
    """The policy a `[capability_router]` section sets (allow, deny, kinds, pins, limits)."""
    return Policy(
        allow=section.allow,
        deny=section.deny,
        pins=dict(section.pins),
        max_cost_usd=section.max_cost_usd,
        max_latency_s=section.max_latency_s,
        kinds=section.kinds,
    )
