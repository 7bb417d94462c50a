import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine

PLAN_3 = {
    "subqueries": [
        {"id": "q1", "question": "Where did Alan Turing study?", "depends_on": []},
        {"id": "q2", "question": "When was Harvard founded?", "depends_on": []},
        {
            "id": "q3",
            "question": "Which is older, the answer to q1 or Harvard?",
            "depends_on": ["q1", "q2"],
        },
    ]
}


def kind_of(call: ScriptedCall) -> str:
    """Which stage sent a scripted call, read from its system prompt."""
    if "planner" in call.system:
        return "plan"
    if "final answer" in call.system:
        return "synthesize"
    return "sample"


def default_responder(plan: dict[str, Any] = PLAN_3) -> Callable[[ScriptedCall], str]:
    def respond(call: ScriptedCall) -> str:
        stage = kind_of(call)
        if stage == "plan":
            return json.dumps(plan)
        if stage == "synthesize":
            return "The sub-answers say so.\nAnswer: University of Cambridge"
        return "Reasoning briefly.\nAnswer: Cambridge"

    return respond


@pytest.fixture
def scripted() -> Callable[..., ScriptedEngine]:
    """Register a fresh scripted engine as the `scripted/` provider and return it."""
    from orchestrator.llm.boundary import register_engine

    def make(
        responder: Callable[[ScriptedCall], Any] | None = None,
        delay_s: float = 0.0,
        piece_delay_s: float = 0.0,
    ) -> ScriptedEngine:
        engine = ScriptedEngine(responder or default_responder(), delay_s, piece_delay_s)
        register_engine("scripted", engine)
        return engine

    return make


def scripted_config(**sections: Any) -> dict[str, Any]:
    """A config over two scripted models, priced so costs are easy to check by hand."""
    base: dict[str, Any] = {
        "models": [
            {"id": "scripted/big", "input_usd_per_mtok": 10.0, "output_usd_per_mtok": 30.0},
            {"id": "scripted/small", "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0},
        ],
        "embedder": {"name": "hashing-64"},
        "router": {"default_model": "scripted/big"},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return base


class CountingEmbedder(HashingEmbedder):
    """A 16-dimensional hashing embedder that records every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__(16)
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> Any:
        self.seen += texts
        return super().embed(texts)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path for fake weight packages."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root
