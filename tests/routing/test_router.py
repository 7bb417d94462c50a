import math

import numpy as np
import pytest
from support import MODELS, A, B, edit_json, fit_hand, hand_table, two_groups

from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.errors import InputError, RouterArtifactError
from orchestrator.protocols import Router
from orchestrator.routing.artifact import load_router, save_router
from orchestrator.routing.cluster_tables import choose_k
from orchestrator.routing.router import ClusterRouter, FixedRouter


def test_alpha_one_picks_the_most_accurate_and_alpha_zero_the_cheapest():
    router = fit_hand()
    assert router.route(A, 1.0).model == "big"
    assert router.route(B, 1.0).model == "small"
    assert router.route(A, 0.0).model == "small"
    assert router.route(B, 0.0).model == "small"


def test_scores_follow_the_rule_arithmetic():
    router = fit_hand()
    decision = router.route(A, 0.5)
    # p̃ = (1, .5, 0); q̃ = ((10-1)/9, (2-1)/9, 0) → x = .5·p̃ + .5·(1 − q̃)
    expected = {"big": 0.5, "mid": 0.25 + 0.5 * (1 - 1 / 9), "small": 0.5}
    assert decision.scores == pytest.approx(expected, abs=1e-5)
    assert decision.model == "mid"
    assert len(decision.clusters) == 1 and decision.weights == [1.0]


def test_table_scale_keeps_accuracy_gaps_their_size_and_cluster_scale_does_not():
    x = two_groups()
    # in A the small model is nearly as good as the big one, in B it is useless
    scores = np.array([[1.0, 0.9]] * 10 + [[1.0, 0.0]] * 10)
    costs = np.array([[10.0, 1.0]] * 20)
    fit = {"embedder_name": "t", "k": 2, "top_p": 1, "bags": 1}
    table = ClusterRouter.fit(x, scores, costs, ["big", "small"], **fit)
    paper = ClusterRouter.fit(x, scores, costs, ["big", "small"], scale="cluster", **fit)
    assert table.config.scale == "table" and paper.config.scale == "cluster"
    # table: p̃ = p over [0, 1]; thrift 1 − (q − 1)/9 → A: .6·(1, .9) + .4·(0, 1)
    assert table.route(A, 0.6).scores == pytest.approx({"big": 0.6, "small": 0.94}, abs=1e-5)
    assert [table.route(v, 0.6).model for v in (A, B)] == ["small", "big"]
    # within each cluster the small model's 0.9 and 0.0 both normalise to 0
    assert [paper.route(v, 0.6).model for v in (A, B)] == ["big", "big"]
    for router in (table, paper):
        assert [router.route(v, 1.0).model for v in (A, B)] == ["big", "big"]
        assert [router.route(v, 0.0).model for v in (A, B)] == ["small", "small"]


def test_table_scale_counts_every_dataset_equally():
    x = np.vstack([two_groups(30)[:30], two_groups(30)[30:40]])  # 30 queries near A, 10 near B
    datasets = ["large"] * 30 + ["small"] * 10
    scores = np.array([[1.0, 0.8]] * 40)  # the same table in both datasets
    costs = np.array([[10.0, 1.0]] * 40)
    fit = {"embedder_name": "t", "k": 2, "top_p": 1, "bags": 1, "clustering": "global"}
    router = ClusterRouter.fit(x, scores, costs, ["big", "small"], datasets=datasets, **fit)
    # a query of a dataset with n_d of N queries in D datasets weighs N / (D·n_d)
    assert router.tables.weights.tolist() == pytest.approx([40 / 60, 40 / 20])
    # thrift divided by the weight: the large dataset saves first, the small one keeps accuracy
    assert router.route(A, 0.5).scores == pytest.approx({"big": 0.5, "small": 0.75}, abs=1e-5)
    assert [router.route(v, 0.5).model for v in (A, B)] == ["small", "big"]
    paper = ClusterRouter.fit(
        x, scores, costs, ["big", "small"], datasets=datasets, scale="cluster", **fit
    )
    assert paper.route(A, 0.55).model == paper.route(B, 0.55).model == "big"


def test_cluster_weights_are_a_softmax_of_cosine_distance():
    router = fit_hand(top_p=2, beta=9.0)
    q = np.array([0.8, 0.6, 0.0], dtype=np.float32)
    decision = router.route(q, 1.0)
    sims = router.tables.centroids @ q
    expected = np.exp(-9.0 * (1 - sims[decision.clusters]))
    assert decision.weights == pytest.approx((expected / expected.sum()).tolist())
    table = router.table(1.0)[decision.clusters]
    assert list(decision.scores.values()) == pytest.approx(list(np.array(decision.weights) @ table))
    assert decision.weights[0] > decision.weights[1]  # the nearer cluster weighs more


def test_cluster_means_and_counts():
    router = fit_hand()
    j = router.route(A).clusters[0]
    assert router.tables.scores[j].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert router.tables.costs[j].tolist() == pytest.approx([10.0, 2.0, 1.0])
    assert router.tables.counts[j].tolist() == [10, 10, 10]
    assert router.tables.sizes.tolist() == [10, 10]


def test_missing_records_average_over_what_exists():
    x, scores, costs = hand_table()
    scores[:5, 0] = np.nan  # big lacks half of group A: its mean there is over the other 5
    scores[:, 1] = np.nan
    scores[10, 1] = 1.0  # mid measured once, in group B only
    costs[:, 2] = np.nan  # small's cost unknown everywhere
    router = ClusterRouter.fit(x, scores, costs, MODELS, embedder_name="t", k=2, top_p=1)
    a, b = router.route(A).clusters[0], router.route(B).clusters[0]
    assert router.tables.counts[a].tolist() == [5, 0, 10]
    assert math.isnan(router.tables.scores[a, 1]) and router.tables.scores[b, 1] == 1.0
    assert router.route(A, 1.0).model in MODELS  # imputed, no crash
    assert all(math.isfinite(v) for v in router.route(A, 0.3).scores.values())
    # mid's only record (1.0) stands in for cluster A, where it ties big at α=1
    assert router.route(A, 1.0).scores["mid"] == pytest.approx(router.route(A, 1.0).scores["big"])


def test_a_model_without_any_record_is_refused():
    x, scores, costs = hand_table()
    scores[:, 2] = np.nan
    with pytest.raises(InputError, match="no scored record for model"):
        ClusterRouter.fit(x, scores, costs, MODELS, embedder_name="t", k=2)


def test_min_accuracy_filter_and_cost_over_max_variant():
    assert fit_hand(min_accuracy=0.6).route(A, 0.0).model == "big"  # the only one ≥ 0.6
    router = fit_hand(cost_norm="max")
    # q / max q = (1, .2, .1) → at α=0 thrift (0, .8, .9): still the cheapest
    assert router.route(A, 0.0).scores == pytest.approx(
        {"big": 0.0, "mid": 0.8, "small": 0.9}, abs=1e-5
    )


def test_rank_vote_gives_reciprocal_ranks():
    router = fit_hand(vote="rank")
    assert router.route(A, 1.0).scores == pytest.approx({"big": 1.0, "mid": 0.5, "small": 1 / 3})


def test_route_batch_agrees_with_route():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    scores = (rng.random((300, 4)) < 0.5).astype(float)
    costs = rng.random((300, 4))
    models = ["a", "b", "c", "d"]
    for vote in ("weighted", "rank"):
        router = ClusterRouter.fit(x, scores, costs, models, embedder_name="t", k=8, vote=vote)
        for alpha in (0.0, 0.3, 1.0):
            batch = router.route_batch(x, alpha, chunk=64)
            single = [models.index(router.route(v, alpha).model) for v in x]
            assert batch.tolist() == single


def test_router_protocol_and_input_checks():
    router: Router = fit_hand()  # satisfies the seam (checked by mypy where tests are typed)
    assert router.embedder_name == "test-3" and router.models == MODELS
    with pytest.raises(InputError, match="dimension 4 does not match"):
        router.route(np.ones(4, dtype=np.float32))
    with pytest.raises(InputError, match="alpha"):
        router.route(A, 1.5)
    assert FixedRouter("m").route(A).model == "m"


def test_default_k_keeps_about_thirty_queries_per_cluster():
    assert choose_k(100, None) == 3
    assert choose_k(10_000, None) == 60
    assert choose_k(10, None) == 1
    assert choose_k(5, 60) == 5


def test_update_adds_a_model_over_the_existing_centroids():
    router = fit_hand(clustering="global", datasets=["a"] * 15 + ["b"] * 5)
    x, _, _ = hand_table()
    new_scores = np.array([[1.0]] * 10 + [[np.nan]] * 10)  # measured on group A only
    updated = router.update(x, new_scores, np.full((20, 1), 0.5), ["new"])
    assert updated.models == [*MODELS, "new"]
    assert np.array_equal(updated.tables.centroids, router.tables.centroids)
    assert updated.tables.weights.tolist() == router.tables.weights.tolist() != [1.0, 1.0]
    assert updated.route(A, 1.0).model == "new"  # as accurate as big, and cheaper
    assert updated.route(A, 0.0).model == "new"  # cost .5 is the cheapest
    assert updated.tables.counts[:, 3].tolist() in ([10, 0], [0, 10])
    remeasured = router.update(x, np.zeros((20, 1)), None, ["big"])
    assert remeasured.models == MODELS and remeasured.route(A, 1.0).model == "mid"


def test_save_load_gives_identical_decisions(tmp_path):
    embedder = HashingEmbedder(32)
    texts = [f"question {i} about topic {i % 7}" for i in range(120)]
    x = embedder.embed(texts)
    rng = np.random.default_rng(3)
    scores = (rng.random((120, 3)) < 0.6).astype(float)
    scores[rng.random((120, 3)) < 0.1] = np.nan
    router = ClusterRouter.fit(
        x,
        scores,
        rng.random((120, 3)),
        MODELS,
        embedder_name=embedder.name,
        k=6,
        meta={"text_field": "query"},
    )
    save_router(router, tmp_path / "r")
    loaded = load_router(tmp_path / "r", embedder_name=embedder.name, embedder_dim=32)
    assert loaded.models == MODELS and loaded.config == router.config
    assert loaded.tables.weights.tolist() == router.tables.weights.tolist()
    assert loaded.meta == {"text_field": "query"}
    for alpha in (0.0, 0.25, 0.5, 1.0):
        assert loaded.route_batch(x, alpha).tolist() == router.route_batch(x, alpha).tolist()
        assert loaded.route(x[0], alpha) == router.route(x[0], alpha)


def test_an_artifact_from_before_table_scale_keeps_the_in_cluster_rule(tmp_path):
    old = fit_hand(scale="cluster", clustering="global", datasets=["a"] * 15 + ["b"] * 5)
    save_router(old, tmp_path)

    def strip(document):
        document["config"].pop("scale")
        for cluster in document["clusters"]:
            cluster.pop("weight")

    edit_json(tmp_path, strip)
    loaded = load_router(tmp_path)
    assert loaded.config.scale == "cluster" and loaded.tables.weights.tolist() == [1.0, 1.0]
    for alpha in (0.0, 0.5, 1.0):
        assert loaded.route(A, alpha) == old.route(A, alpha)


@pytest.fixture
def artifact(tmp_path):
    folder = tmp_path / "router"
    save_router(fit_hand(), folder)
    return folder


def test_loading_under_another_embedder_says_so(artifact):
    with pytest.raises(RouterArtifactError, match="fitted with embedder 'test-3' \\(dim 3\\)"):
        load_router(artifact, embedder_name="all-MiniLM-L6-v2", embedder_dim=384)
    with pytest.raises(RouterArtifactError, match="--embedder hashing-3"):
        load_router(artifact, embedder_name="hashing-3")
    with pytest.raises(RouterArtifactError, match=r"dim 3.*dim 4"):
        load_router(artifact, embedder_dim=4)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda f: (f / "router.json").write_text((f / "router.json").read_text()[:200]),
            "not valid JSON at line",
        ),
        (lambda f: (f / "centroids.npy").unlink(), "centroids.npy is missing"),
        (
            lambda f: (f / "centroids.npy").write_bytes((f / "centroids.npy").read_bytes()[:90]),
            "checksum differs",
        ),
        (lambda f: (f / "router.json").unlink(), "no router at"),
        (
            lambda f: edit_json(f, lambda d: d["clusters"][0]["scores"].update(big=1.5)),
            "scores\\['big'\\] = 1.5 is not a number in \\[0.0, 1.0\\]",
        ),
        (lambda f: edit_json(f, lambda d: d["clusters"][1].update(size=0)), "cluster 1 is empty"),
        (lambda f: edit_json(f, lambda d: d["clusters"].pop()), "expected \\(1, 3\\)"),
        (
            lambda f: edit_json(f, lambda d: d["clusters"][0]["costs"].pop("mid")),
            "must list exactly the models",
        ),
        (lambda f: edit_json(f, lambda d: d.update(format_version=7)), "format_version 7"),
        (lambda f: edit_json(f, lambda d: d["config"].update(vote="loud")), "invalid config"),
        (lambda f: edit_json(f, lambda d: d.pop("models")), "field 'models' is missing"),
        (lambda f: edit_json(f, lambda d: d["embedder"].update(dim="3")), "'dim' is missing"),
        (
            lambda f: edit_json(f, lambda d: d["clusters"][0].update(bag=-1)),
            "bag = -1 is not a clustering number",
        ),
        (
            lambda f: edit_json(f, lambda d: d["clusters"][0].update(weight=0)),
            "weight = 0 is not a number in",
        ),
        (lambda f: edit_json(f, lambda d: d["config"].update(scale="galaxy")), "invalid config"),
        (
            lambda f: edit_json(f, lambda d: d["clusters"][0].update(bag=1)),
            "tables hold 2 clusterings, the config 1",
        ),
    ],
)
def test_damaged_artifacts_give_one_clear_error(artifact, damage, message):
    damage(artifact)
    with pytest.raises(RouterArtifactError, match=message) as info:
        load_router(artifact)
    text = str(info.value)
    assert "\n" not in text and str(artifact) in text
    assert "refit" in text or "fit one" in text


def test_per_dataset_clustering_never_mixes_datasets():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(90, 8)).astype(np.float32)  # no structure: global k-means would mix
    datasets = ["gsm8k"] * 60 + ["mmlu"] * 30
    scores = rng.random((90, 2))
    router = ClusterRouter.fit(
        x,
        scores,
        None,
        ["a", "b"],
        embedder_name="t",
        k=6,
        bags=1,
        clustering="per-dataset",
        datasets=datasets,
    )
    assert router.k == 6 and router.config.clustering == "per-dataset"
    # clusters 0-3 hold exactly gsm8k's 60 queries (k shared out by size), 4-5 mmlu's 30
    assert router.tables.sizes[:4].sum() == 60 and router.tables.sizes[4:].sum() == 30
    glob = ClusterRouter.fit(
        x, scores, None, ["a", "b"], embedder_name="t", k=6, bags=1, clustering="global"
    )
    assert glob.tables.sizes[:4].sum() != 60 or glob.tables.sizes[4:].sum() != 30
    with pytest.raises(InputError, match="one dataset name per query"):
        ClusterRouter.fit(x, scores, None, ["a", "b"], embedder_name="t", datasets=["gsm8k"])
    unlabelled = ClusterRouter.fit(x, scores, None, ["a", "b"], embedder_name="t", k=6, bags=1)
    assert np.array_equal(unlabelled.tables.centroids, glob.tables.centroids)  # one dataset


def random_table(n: int = 300, m: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 16)).astype(np.float32)
    return x, (rng.random((n, m)) < 0.5).astype(float), rng.random((n, m))


def test_bagged_router_averages_the_votes_of_its_clusterings(tmp_path):
    x, scores, costs = random_table()
    models = ["a", "b", "c", "d"]
    fit = {"embedder_name": "t", "k": 8, "clustering": "global"}
    bagged = ClusterRouter.fit(x, scores, costs, models, bags=3, seed=4, **fit)
    alone = [
        ClusterRouter.fit(x, scores, costs, models, seed=4 + b, bags=1, **fit) for b in range(3)
    ]
    assert bagged.k == 24 and bagged.tables.bags.tolist() == [0] * 8 + [1] * 8 + [2] * 8
    assert bagged.tables.sizes.sum() == 3 * len(x)  # every query is in one cluster per bag
    for v in x[:40]:
        for alpha in (0.0, 0.6, 1.0):
            decision = bagged.route(v, alpha)
            mean = np.mean([list(r.route(v, alpha).scores.values()) for r in alone], axis=0)
            assert list(decision.scores.values()) == pytest.approx(mean.tolist())
            assert len(decision.clusters) == 12 and sum(decision.weights) == pytest.approx(1.0)
    assert bagged.route_batch(x, 0.5, chunk=64).tolist() == [
        models.index(bagged.route(v, 0.5).model) for v in x
    ]
    save_router(bagged, tmp_path / "r")
    loaded = load_router(tmp_path / "r")
    assert (
        loaded.config.bags == 3 and loaded.route_batch(x).tolist() == bagged.route_batch(x).tolist()
    )


def test_update_of_a_bagged_router_fills_the_new_column_in_every_clustering():
    x, scores, costs = random_table()
    router = ClusterRouter.fit(x, scores, costs, list("abcd"), embedder_name="t", k=8, bags=2)
    updated = router.update(x, np.ones((len(x), 1)), np.zeros((len(x), 1)), ["e"])
    assert updated.tables.counts[:, 4].sum() == 2 * len(x)  # each query counted once per bag
    assert updated.tables.counts[:8, 4].sum() == updated.tables.counts[8:, 4].sum() == len(x)
    assert set(updated.route_batch(x, 1.0).tolist()) == {4}  # always right, and free


def test_cluster_size_splits_every_dataset_by_its_own_size():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(660, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    scores = rng.integers(0, 2, size=(660, 2)).astype(float)
    datasets = ["small"] * 60 + ["large"] * 600
    shared = ClusterRouter.fit(
        x, scores, None, ["a", "b"], embedder_name="e", datasets=datasets, bags=1, k=11
    )
    sized = ClusterRouter.fit(
        x, scores, None, ["a", "b"], embedder_name="e", datasets=datasets, bags=1, cluster_size=30
    )
    assert shared.k == 11  # the small dataset's share of k=11 is one cluster
    assert sized.k == 60 // 30 + 600 // 30 == 22
    with pytest.raises(InputError, match="cluster_size"):
        ClusterRouter.fit(x, scores, None, ["a", "b"], embedder_name="e", cluster_size=0)
