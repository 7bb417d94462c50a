"""The near-copy memory (`near_copy`): a query that nearly repeats a fitted one is scored with
that query's own records blended into its clusters' scores; below the threshold, or without
the option, the cluster rule alone decides."""

import json

import numpy as np
import pytest
from support import MODELS, edit_json, hand_table

from orchestrator.errors import InputError, RouterArtifactError
from orchestrator.routing import ClusterConfig
from orchestrator.routing.artifact import load_router, save_router
from orchestrator.routing.router import ClusterRouter

# Close to group A's centre (1, 0, 0) but at cosine < 0.95 to every fitted query.
AWAY = np.array([1.0, 0.0, 0.45], dtype=np.float32)


def fit_odd(**options):
    """The hand table with one query of group A (row 0) where only the small model is right:
    A's cluster means still say big (0.9, 0.45, 0.1)."""
    x, scores, costs = hand_table()
    scores[0] = [0.0, 0.0, 1.0]
    options = {"k": 2, "top_p": 1, "bags": 1, **options}
    return x, ClusterRouter.fit(x, scores, costs, MODELS, embedder_name="test-3", **options)


def test_a_near_copy_is_routed_by_its_own_records_blended_with_the_clusters():
    x, router = fit_odd(near_copy=0.99, near_copy_weight=0.6)
    decision = router.route(x[0], 1.0)
    # cluster A at α=1: p̃ = (0.9, 0.45, 0.1); the copy's records: (0, 0, 1)
    expected = {"big": 0.4 * 0.9, "mid": 0.4 * 0.45, "small": 0.4 * 0.1 + 0.6}
    assert decision.scores == pytest.approx(expected, abs=1e-4)
    assert decision.model == "small"
    assert router.route(x[1], 1.0).model == "big"  # its nearest fitted query is itself: big


def test_below_the_threshold_or_without_the_option_the_clusters_decide():
    x, plain = fit_odd()
    _, light = fit_odd(near_copy=0.99, near_copy_weight=0.3)
    _, strict = fit_odd(near_copy=0.99, near_copy_weight=0.6)
    assert plain.memory is None and plain.route(x[0], 1.0).model == "big"
    assert light.route(x[0], 1.0).model == "big"  # 0.63 for big against 0.37 for small
    assert strict.route(AWAY, 1.0).model == "big"
    assert strict.route(AWAY, 1.0).scores == plain.route(AWAY, 1.0).scores
    assert float(np.max(x[:10] @ (AWAY / np.linalg.norm(AWAY)))) < 0.95


def test_route_batch_agrees_with_route():
    x, router = fit_odd(near_copy=0.99)
    probes = np.vstack([x, AWAY[np.newaxis, :]])
    for alpha in (0.0, 0.5, 1.0):
        one_by_one = [MODELS.index(router.route(v, alpha).model) for v in probes]
        assert router.route_batch(probes, alpha).tolist() == one_by_one


def test_save_then_load_gives_identical_decisions(tmp_path):
    x, router = fit_odd(near_copy=0.99)
    save_router(router, tmp_path)
    saved = json.loads((tmp_path / "router.json").read_text())
    assert saved["config"]["near_copy"] == 0.99
    assert saved["near_copies"]["offsets"] == router.memory.offsets.tolist()
    np.load(tmp_path / "near_copy_vectors.npy", allow_pickle=False)  # no pickle
    loaded = load_router(tmp_path)
    probes = np.vstack([x, AWAY[np.newaxis, :]])
    for alpha in (0.0, 0.3, 1.0):
        for v in probes:
            assert loaded.route(v, alpha) == router.route(v, alpha)
        assert (
            loaded.route_batch(probes, alpha).tolist() == router.route_batch(probes, alpha).tolist()
        )
    assert loaded.route(x[0], 1.0).model == "small"


def test_an_edited_memory_file_or_a_config_without_the_threshold_is_refused(tmp_path):
    _, router = fit_odd(near_copy=0.99)
    save_router(router, tmp_path)
    np.save(tmp_path / "near_copy_scores.npy", np.zeros((20, 3)))
    with pytest.raises(RouterArtifactError, match="checksum differs"):
        load_router(tmp_path)
    save_router(router, tmp_path)
    edit_json(tmp_path, lambda doc: doc["config"].update(near_copy=None))
    with pytest.raises(RouterArtifactError, match="near-copy memory go together"):
        load_router(tmp_path)


def test_update_keeps_the_records_of_models_it_does_not_replace():
    x, router = fit_odd(near_copy=0.99)
    scores, costs = np.ones((len(x), 2)), np.ones((len(x), 2))
    updated = router.update(x, scores, costs, ["small", "tiny"])
    assert updated.models == ["big", "mid", "small", "tiny"]
    memory = updated.memory
    assert np.isnan(memory.scores[:, 2:]).all()  # replaced and new: no per-query record
    assert np.array_equal(memory.scores[:, :2], router.memory.scores[:, :2])


@pytest.mark.parametrize("knobs", [{"near_copy": 1.5}, {"near_copy": 0.0}, {"near_copy_weight": 2}])
def test_bad_near_copy_knobs_are_refused(knobs):
    with pytest.raises(InputError, match="near_copy"):
        ClusterConfig(**knobs)
