"""The graph routes with a configured router artifact; bad artifacts fail at start-up."""

import json

import numpy as np
import pytest
from support import kind_of, scripted_config

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.errors import ConfigError, RouterArtifactError
from orchestrator.routing.artifact import save_router
from orchestrator.routing.router import ClusterRouter

MATH = [f"What is the sum of {i} and {i + 3} in arithmetic?" for i in range(12)]
HISTORY = [f"In which year was university number {i} founded in history?" for i in range(12)]
PLAN = {
    "subqueries": [
        {"id": "q1", "question": "What is the sum of 40 and 2 in arithmetic?"},
        {"id": "q2", "question": "In which year was university number 7 founded in history?"},
    ]
}


def fitted(tmp_path, models=("scripted/big", "scripted/small"), dim=64):
    texts = MATH + HISTORY
    # small is right on arithmetic, big on history; both cost the same
    scores = np.array([[0.0, 1.0]] * len(MATH) + [[1.0, 0.0]] * len(HISTORY))
    router = ClusterRouter.fit(
        HashingEmbedder(dim).embed(texts),
        scores,
        np.ones_like(scores),
        list(models),
        embedder_name=f"hashing-{dim}",
        k=2,
        top_p=1,
    )
    save_router(router, tmp_path / "router")
    return tmp_path / "router"


def responder(call):
    if kind_of(call) == "plan":
        return json.dumps(PLAN)
    return "Answer: 42"


async def test_sub_queries_go_to_their_cluster_best_model(scripted, tmp_path):
    engine = scripted(responder)
    cfg = parse_config(scripted_config(router={"path": str(fitted(tmp_path))}, graph={"width": 2}))
    answer = await Orchestrator.from_config(cfg).aask("Two facts?")
    assert {s.subquery_id: s.model for s in answer.steps} == {
        "q1": "scripted/small",
        "q2": "scripted/big",
    }
    assert all(s.cluster is not None for s in answer.steps)
    small = [c.prompt for c in engine.calls_to("small") if kind_of(c) == "sample"]
    assert len(small) == 2 and all(p.endswith(PLAN["subqueries"][0]["question"]) for p in small)


def test_router_fitted_with_another_embedder_fails_at_start(scripted, tmp_path):
    scripted()
    cfg = parse_config(
        scripted_config(router={"path": str(fitted(tmp_path))}, embedder={"name": "hashing-32"})
    )
    with pytest.raises(RouterArtifactError, match="fitted with embedder 'hashing-64'"):
        Orchestrator.from_config(cfg)


def test_missing_router_fails_at_start(scripted, tmp_path):
    scripted()
    cfg = parse_config(scripted_config(router={"path": str(tmp_path / "nowhere")}))
    with pytest.raises(RouterArtifactError, match="nowhere"):
        Orchestrator.from_config(cfg)


def test_router_for_models_outside_the_pool_fails_at_start(scripted, tmp_path):
    scripted()
    path = fitted(tmp_path, models=("scripted/big", "scripted/other"))
    cfg = parse_config(scripted_config(router={"path": str(path)}))
    with pytest.raises(ConfigError, match=r"routes to \['scripted/other'\]"):
        Orchestrator.from_config(cfg)


def test_the_embedded_pool_routes_with_the_shipped_router():
    from orchestrator.routing.shipped import SHIPPED_ROUTER

    orchestrator = Orchestrator.from_config()
    assert isinstance(orchestrator.router, ClusterRouter)
    assert set(orchestrator.router.models) == set(orchestrator.config.model_ids)
    assert (SHIPPED_ROUTER / "centroids.npy").is_file()


@pytest.mark.slow
def test_shipped_router_sends_task_types_to_their_best_local_model():
    orchestrator = Orchestrator.from_config()
    vectors = orchestrator.embedder.embed(
        [
            "Is it possible to walk from Paris to London?",
            "Which gas do plants absorb from the air? A. oxygen B. carbon dioxide C. helium D. neon",
        ]
    )
    yes_no, choice = (orchestrator.router.route(v, 1.0) for v in vectors)
    # in data/local_router/outcomes.jsonl the 0.5B is best on StrategyQA, the 1.5B on ARC
    assert yes_no.model == "local/qwen2.5-coder-0.5b" and yes_no.clusters
    assert choice.model == "local/qwen2.5-coder-1.5b"
