"""The registry: every registered version of every capability, keyed by `id@version`. A
request is routed to the newest version that its pin (if any) and the policy allow."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from packaging.specifiers import SpecifierSet

from orchestrator.capabilities.policy import Policy, pins_of, specifier
from orchestrator.capability import Capability
from orchestrator.errors import InputError


class Registry:
    """Capabilities by id, each with its versions. Adding an `id@version` that is already
    registered is an `InputError`."""

    def __init__(self, capabilities: Iterable[Capability] = (), source: str = "registry") -> None:
        self._by_id: dict[str, dict[str, Capability]] = {}
        self.extend(capabilities, source)

    def add(self, capability: Capability, source: str = "registry") -> None:
        """Register one version; `source` names where it came from in the duplicate error."""
        versions = self._by_id.setdefault(capability.id, {})
        same = next(
            (v for v in versions.values() if v.parsed_version == capability.parsed_version), None
        )
        if same is not None:
            raise InputError(
                f"{source}: {capability.key}: duplicate id@version (already registered)"
            )
        versions[capability.version] = capability

    def extend(self, capabilities: Iterable[Capability], source: str = "registry") -> None:
        for capability in capabilities:
            self.add(capability, source)

    def __len__(self) -> int:
        """The number of registered versions."""
        return sum(len(v) for v in self._by_id.values())

    def __iter__(self) -> Iterator[Capability]:
        """Every registered version, by id, oldest version first."""
        for capability_id in self.ids:
            yield from self.versions(capability_id)

    def __contains__(self, capability_id: object) -> bool:
        return capability_id in self._by_id

    @property
    def ids(self) -> list[str]:
        """The registered ids, in the order they were first registered."""
        return list(self._by_id)

    def versions(self, capability_id: str) -> list[Capability]:
        """Every registered version of an id, oldest first; unknown id: `InputError`."""
        if capability_id not in self._by_id:
            raise InputError(f"unknown capability {capability_id!r}")
        return sorted(self._by_id[capability_id].values(), key=lambda c: c.parsed_version)

    def get(self, capability_id: str, spec: str | SpecifierSet | None = None) -> Capability:
        """The newest version of an id that `spec` allows (`>=2,<3`; none: the newest; a
        pre-release only when nothing else matches, or when the spec names one). An
        `id@spec` string works too. No matching version: an `InputError` listing what is there."""
        if spec is None and "@" in capability_id and capability_id not in self._by_id:
            capability_id, _, spec = capability_id.rpartition("@")
        wanted = specifier(spec) if isinstance(spec, str) else spec or SpecifierSet()
        found = self._newest(self.versions(capability_id), wanted)
        if found is None:
            have = ", ".join(c.version for c in self.versions(capability_id))
            raise InputError(
                f"{capability_id}@{wanted}: no registered version matches (have {have})"
            )
        return found

    def routable(
        self,
        policy: Policy | None = None,
        pins: Mapping[str, str] | Iterable[str] | None = None,
    ) -> list[Capability]:
        """For each id, the newest version that its pin (`pins` over the policy's) allows and
        the policy admits; ids with none are left out. A pin naming an unknown id, or one no
        registered version satisfies, is an `InputError`."""
        policy = policy or Policy()
        wanted = {**pins_of(policy.pins), **pins_of(pins)}
        for capability_id in wanted:
            self.get(capability_id, wanted[capability_id])  # unknown or unsatisfiable: an error
        routable = []
        for capability_id in self.ids:
            allowed = [c for c in self.versions(capability_id) if policy.admits(c)]
            newest = self._newest(allowed, wanted.get(capability_id, SpecifierSet()))
            if newest is not None:
                routable.append(newest)
        return routable

    def refusals(self, policy: Policy) -> dict[str, str]:
        """`id@version` → why the policy refuses it, for every refused version (for traces)."""
        return {c.key: why for c in self if (why := policy.refusal(c)) is not None}

    @staticmethod
    def _newest(candidates: list[Capability], spec: SpecifierSet) -> Capability | None:
        by_version = {c.parsed_version: c for c in candidates}
        matching = list(spec.filter(by_version))
        return by_version[max(matching)] if matching else None
