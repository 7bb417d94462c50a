"""The registry: duplicates refused, versions (newest by default, a pin selects, an
unsatisfiable pin is a clear error), and the policy applied before ranking (denied ids and
tags, kinds, cost and latency limits never routable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.capabilities import Capability, Policy, Registry, load_jsonl, load_toml, parse_pin
from orchestrator.capabilities.policy import policy_from_config
from orchestrator.config import CapabilityRouterConfig
from orchestrator.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"


def _cap(id_: str, version: str = "0", **fields: object) -> Capability:
    return Capability.model_validate(
        {"id": id_, "version": version, "description": f"{id_} does things", **fields}
    )


@pytest.fixture
def registry() -> Registry:
    """The config fixture's weather (1.4.0, 2.1.0, 3.0.0rc1), send_email and research."""
    return Registry(load_toml(DATA / "capabilities" / "config.toml"))


def _keys(caps: list[Capability]) -> list[str]:
    return [c.key for c in caps]


def test_registry_holds_every_version(registry: Registry) -> None:
    assert len(registry) == 5
    assert registry.ids == ["weather", "send_email", "research"]
    assert _keys(registry.versions("weather")) == [
        "weather@1.4.0",
        "weather@2.1.0",
        "weather@3.0.0rc1",
    ]
    assert "weather" in registry and "snow" not in registry


def test_duplicate_id_at_version_is_an_error(registry: Registry) -> None:
    with pytest.raises(InputError, match=r"extra\.jsonl: weather@2\.1\.0: duplicate id@version"):
        registry.add(_cap("weather", "2.1.0"), source="extra.jsonl")
    with pytest.raises(InputError, match="duplicate"):
        registry.add(_cap("weather", "2.1"))  # the same version, spelt shorter
    registry.add(_cap("weather", "2.2.0"))
    assert registry.get("weather").version == "2.2.0"


def test_duplicates_within_one_source_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "tools.jsonl"
    path.write_text('{"id": "a", "description": "x"}\n{"id": "a", "description": "y"}\n')
    with pytest.raises(InputError, match=r"tools\.jsonl: a@0: duplicate"):
        Registry(load_jsonl(path), source=str(path))


def test_newest_release_by_default_and_a_pin_selects(registry: Registry) -> None:
    assert registry.get("weather").version == "2.1.0"  # the release candidate is not newest
    assert registry.get("weather", "<2").version == "1.4.0"
    assert registry.get("weather", ">=2,<3").version == "2.1.0"
    assert registry.get("weather@>=3.0.0rc1").version == "3.0.0rc1"
    assert registry.get("weather", "1.4.0").version == "1.4.0"  # a bare version pins it
    routable = {c.id: c.version for c in registry.routable()}
    assert routable == {"weather": "2.1.0", "send_email": "0", "research": "0"}
    assert registry.routable(pins=["weather@<2"])[0].key == "weather@1.4.0"
    assert registry.routable(pins={"weather": "~=1.4"})[0].key == "weather@1.4.0"


def test_only_prereleases_then_newest_prerelease() -> None:
    registry = Registry([_cap("beta", "1.0a1"), _cap("beta", "1.0b2")])
    assert registry.get("beta").version == "1.0b2"


def test_unsatisfiable_or_unknown_pin_is_a_clear_error(registry: Registry) -> None:
    with pytest.raises(InputError, match=r"weather@>=5: no registered version matches "):
        registry.routable(pins=["weather@>=5"])
    with pytest.raises(InputError, match=r"have 1\.4\.0, 2\.1\.0, 3\.0\.0rc1"):
        registry.get("weather", ">=5")
    with pytest.raises(InputError, match="unknown capability 'snow'"):
        registry.routable(pins=["snow@1"])
    with pytest.raises(InputError, match="not a version specifier"):
        parse_pin("weather@>=two")
    with pytest.raises(InputError, match="expected id@specifier"):
        parse_pin("weather")
    assert parse_pin("weather@>=2,<3") == ("weather", parse_pin("x@<3,>=2")[1])


def test_policy_denies_ids_and_tags_with_globs(registry: Registry) -> None:
    denied = Policy(deny=("side-effects", "re*"))
    assert _keys(registry.routable(denied)) == ["weather@2.1.0"]
    assert registry.refusals(denied)["send_email@0"] == "denied by 'side-effects'"
    allowed = Policy(allow=("weather",))
    assert _keys(registry.routable(allowed)) == ["weather@2.1.0"]
    both = Policy(allow=("*",), deny=("weather",))
    assert [c.id for c in registry.routable(both)] == ["send_email", "research"]


def test_policy_limits_cost_latency_and_kinds(registry: Registry) -> None:
    cheap = Policy(max_cost_usd=0.0015)
    # weather 2.1.0 costs 0.002: the newest version within budget is routed to instead
    assert _keys(registry.routable(cheap)) == ["weather@1.4.0", "send_email@0"]
    assert "over max_cost_usd" in registry.refusals(cheap)["research@0"]
    quick = Policy(max_latency_s=10)
    assert "research" not in [c.id for c in registry.routable(quick)]
    agents = Policy(kinds=("agent",))
    assert _keys(registry.routable(agents)) == ["research@0"]
    assert _keys(registry.routable(Policy(kinds=("mcp",)))) == []


def test_policy_pins_and_request_pins(registry: Registry) -> None:
    pinned = Policy(pins={"weather": "<2"})
    assert registry.routable(pinned)[0].key == "weather@1.4.0"
    # a request's pin overrides the policy's
    assert registry.routable(pinned, pins=["weather@>=2"])[0].key == "weather@2.1.0"
    # a pin the policy leaves nothing for: that id is not routable
    assert "weather" not in [
        c.id for c in registry.routable(Policy(max_cost_usd=0.0), ["weather@2.1.0"])
    ]
    with pytest.raises(InputError, match="not a version specifier"):
        Policy(pins={"weather": "newest"})


def test_policy_is_strict() -> None:
    with pytest.raises(ValueError, match="max_costs"):
        Policy.model_validate({"max_costs": 1})
    with pytest.raises(ValueError, match="kinds"):
        Policy.model_validate({"kinds": ["robot"]})


def test_policy_from_config_section_polices_the_registry(registry: Registry) -> None:
    section = CapabilityRouterConfig(
        deny=("side-effects",), pins={"weather": "<2"}, max_latency_s=10, kinds=("tool",)
    )
    policy = policy_from_config(section)
    assert policy == Policy(
        deny=("side-effects",), pins={"weather": "<2"}, max_latency_s=10, kinds=("tool",)
    )
    # send_email is denied, research is an agent: only weather, at its pinned version
    assert _keys(registry.routable(policy)) == ["weather@1.4.0"]
    assert registry.refusals(policy)["send_email@0"] == "denied by 'side-effects'"
