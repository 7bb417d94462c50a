"""Helpers for tests that go over HTTP to the fake OpenAI-compatible server."""

import json
import threading
from collections.abc import Callable
from typing import Any

from support import kind_of

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.protocols import RouteDecision
from orchestrator.testing.fake_openai import FakeOpenAI, Reply, Request

SECRET = "sk-live-7f3a9c2e41b8d05f6a1e9b7c3d2f8a40"  # key-shaped, set as FAKE_KEY
PLAN_1 = {"subqueries": [{"id": "q1", "question": "Where did Alan Turing study?"}]}
PLAN_2 = {
    "subqueries": [
        {"id": "q1", "question": "Where did Alan Turing study?"},
        {"id": "q2", "question": "Where is #1?"},
    ]
}
SYNTH = "The sub-answers agree.\nAnswer: University of Cambridge"
SAMPLE = "Turing studied at King's College.\nAnswer: Cambridge"


stage = kind_of  # which node sent a request, read from its system prompt


def sample_idx(request: Request) -> int:
    """The sample index encoded in a sampling request's seed (run seed 0)."""
    return int(request.get("seed")) % 1009


def graph_responder(
    plan: dict[str, Any] | str = PLAN_1,
    sample: Callable[[Request], Reply | None] | None = None,
) -> Callable[[Request], Reply]:
    """Plan -> `plan`; synthesize -> SYNTH; sample -> `sample(request)` or SAMPLE."""
    plan_text = plan if isinstance(plan, str) else json.dumps(plan)

    def respond(request: Request) -> Reply:
        kind = stage(request)
        if kind == "plan":
            return Reply.ok(plan_text)
        if kind == "synthesize":
            return Reply.ok(SYNTH)
        return (sample(request) if sample else None) or Reply.ok(SAMPLE)

    return respond


def fake_config(server: FakeOpenAI, **sections: Any) -> dict[str, Any]:
    """Two models on the fake server, priced $1 and $2 per million input/output tokens for
    `big` and half that for `small`; retries fast (the fake replies in milliseconds)."""

    def model(name: str, price: float) -> dict[str, Any]:
        return {
            "id": f"openai/{name}",
            "api_base": server.base_url,
            "api_key_env": "FAKE_KEY",
            "input_usd_per_mtok": price,
            "output_usd_per_mtok": 2 * price,
            "max_retries": 2,
            "timeout_s": 10,
        }

    base: dict[str, Any] = {
        "models": [model("big", 1.0), model("small", 0.5)],
        "embedder": {"name": "hashing-64"},
        "router": {"default_model": "openai/big"},
        "graph": {"width": 1},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return base


def unit_cost(price: float = 1.0, prompt: int = 10, completion: int = 5) -> float:
    """The cost of one default fake reply (10 prompt, 5 completion tokens) at `price`."""
    return (prompt * price + completion * 2 * price) / 1e6


class RankedRouter:
    """Routes everything to `big`, with `small` ranked next (the fallback)."""

    embedder_name = "hashing-64"
    models = ["openai/big", "openai/small"]

    def route(self, vector: Any, alpha: float = 1.0) -> RouteDecision:
        return RouteDecision(
            "openai/big",
            clusters=[3],
            weights=[1.0],
            scores={"openai/big": 0.9, "openai/small": 0.6},
        )


def orchestrator(server: FakeOpenAI, router: Any = None, **sections: Any) -> Orchestrator:
    return Orchestrator.from_config(parse_config(fake_config(server, **sections)), router=router)


def once(reply: Reply, when: Callable[[Request], bool]) -> Callable[[Request], Reply | None]:
    """A sample hook answering `reply` to the first request matching `when`, then None."""
    lock, fired = threading.Lock(), []

    def hook(request: Request) -> Reply | None:
        with lock:
            if fired or not when(request):
                return None
            fired.append(request)
        return reply

    return hook
