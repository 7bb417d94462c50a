"""What the capability router answers, and the labelled queries it learns from and is scored on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.capability import Capability


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
    `why` says how the scores were made (method, threshold), for the trace; `probability`
    is the calibrated probability that the top one is right (None: no model fitted for
    this kind of decision, e.g. a router without labelled queries)."""

    ranked: list[Ranked]
    abstain: bool
    why: dict[str, object] = field(default_factory=dict)
    probability: float | None = None

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


def ranking(
    capabilities: Sequence[Capability],
    scores: np.ndarray,
    caps: np.ndarray,
    top_k: int,
    second: int = -1,
) -> tuple[int, list[Ranked]]:
    """The top_k distinct ids of `caps` (indices into `capabilities`) by score, with the one
    at position `second` (-1: none) ranked second; also the position of the first."""
    order = np.argsort(-scores, kind="stable")
    if second >= 0 and second != order[0]:
        order = np.concatenate([order[:1], [second], order[1:][order[1:] != second]])
    ranked: list[Ranked] = []
    seen: set[str] = set()
    for j in order:
        cap = capabilities[int(caps[j])]
        if cap.id not in seen:
            seen.add(cap.id)
            ranked.append(Ranked(cap.id, cap.version, float(scores[j])))
        if len(ranked) == top_k:
            break
    return int(order[0]), ranked
