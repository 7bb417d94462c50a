"""What the capability router answers, and the labelled queries it learns from and is scored on."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Ranked:
    """One capability in a ranking: its id, the version routed to, and its score."""

    id: str
    version: str
    score: float


@dataclass(frozen=True)
class CapabilityDecision:
    """The router's answer for one request: capabilities best first (at most top_k), and
    whether it abstains (no capability fits well enough: the request goes to a model).
    `why` says how the scores were made (method, threshold), for the trace."""

    ranked: list[Ranked]
    abstain: bool
    why: dict[str, object] = field(default_factory=dict)

    @property
    def best(self) -> Ranked | None:
        return None if self.abstain or not self.ranked else self.ranked[0]


class LabelledQuery(BaseModel):
    """A request labelled with the capabilities that serve it (`relevant: []`: none of those
    offered fits), optionally with the candidates it was offered (as BFCL offers them)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    query: str = Field(min_length=1)
    relevant: tuple[str, ...] = ()
    candidates: tuple[str, ...] | None = None
    dataset: str = ""
