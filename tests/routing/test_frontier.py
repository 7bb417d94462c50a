"""The cost-accuracy frontier: which models a fit with `frontier=True` routes among."""

import json

import numpy as np
import pytest
from support import MODELS, A, B, edit_json, fit_hand, hand_table, two_groups

from orchestrator.errors import InputError, RouterArtifactError
from orchestrator.routing.artifact import load_router, save_router
from orchestrator.routing.frontier import frontier_models, upper_hull
from orchestrator.routing.router import ClusterRouter

NAMES = ["cheap", "dear", "below", "beaten", "niche"]
# dataset x: (cost, accuracy) cheap (1, .5), dear (10, .9), below (5, .6) under the chord
# from cheap to dear (.72 at cost 5), beaten (2, .4): dearer and worse than cheap; niche
# (4, .3). dataset y: the same, but niche (4, .95) is the most accurate there.
MEANS = {
    "x": [(1, 0.5), (10, 0.9), (5, 0.6), (2, 0.4), (4, 0.3)],
    "y": [(1, 0.5), (10, 0.9), (5, 0.6), (2, 0.4), (4, 0.95)],
}


def table(means=MEANS, rows=4):
    scores, costs, groups = [], [], []
    for name, points in means.items():
        for _ in range(rows):
            costs.append([c for c, _ in points])
            scores.append([a for _, a in points])
            groups.append(name)
    return np.array(scores), np.array(costs, dtype=float), groups


def kept(mask):
    return [n for n, k in zip(NAMES, mask, strict=True) if k]


def test_a_model_is_kept_when_it_is_on_some_datasets_frontier():
    assert kept(frontier_models(*table())) == ["cheap", "dear", "niche"]
    only_x = {"x": MEANS["x"]}
    assert kept(frontier_models(*table(only_x))) == ["cheap", "dear"]


def test_the_hull_keeps_points_on_the_chord_and_ties():
    cost, accuracy = np.array([1.0, 2.0, 3.0, 3.0]), np.array([0.5, 0.6, 0.7, 0.65])
    assert upper_hull(cost, accuracy) == [0, 1, 2]  # (2, .6) lies on the chord: kept
    scores = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])  # the same means for all three
    assert frontier_models(scores, np.ones((2, 3)), ["d", "d"]).all()
    dearer = np.array([[1.0, 1.0, 2.0]] * 2)  # the third: as accurate, dearer
    assert frontier_models(scores, dearer, ["d", "d"]).tolist() == [True, True, False]


def test_without_costs_or_records_nothing_is_judged():
    scores, costs, groups = table()
    assert frontier_models(scores, np.full_like(costs, np.nan), groups).all()
    assert frontier_models(scores, np.zeros_like(costs), groups).all()
    costs[:, 3] = np.nan  # beaten's cost is never known: kept
    assert kept(frontier_models(scores, costs, groups)) == ["cheap", "dear", "beaten", "niche"]
    scores, costs, groups = table()
    scores[:4, 4] = np.nan  # niche has no record in x: judged on y alone
    assert kept(frontier_models(scores, costs, groups)) == ["cheap", "dear", "niche"]


def frontier_router(**options):
    scores, costs, groups = table(rows=10)
    return ClusterRouter.fit(
        two_groups(),
        scores,
        costs,
        NAMES,
        embedder_name="t",
        k=2,
        top_p=1,
        bags=1,
        datasets=groups,
        **{"frontier": True, **options},
    )


def test_a_fit_never_routes_to_an_excluded_model_at_any_alpha():
    router = frontier_router()
    assert router.excluded == ("below", "beaten")
    x = two_groups()
    for alpha in np.linspace(0, 1, 41):
        assert {router.route(v, alpha).model for v in x} <= {"cheap", "dear", "niche"}
        assert {NAMES[i] for i in router.route_batch(x, alpha)} <= {"cheap", "dear", "niche"}
    assert set(router.route(A, 0.5).scores) == {"cheap", "dear", "niche"}
    assert router.route(B, 1.0).model == "niche" and router.route(A, 0.0).model == "cheap"
    everyone = frontier_router(frontier=False)
    assert everyone.excluded == () and set(everyone.route(A, 0.5).scores) == set(NAMES)


def test_exclusion_wins_over_the_minimum_accuracy_filter():
    # in A only dear (.9) passes 0.8; in B niche and dear do; beaten and below never route
    router = frontier_router(min_accuracy=0.8)
    assert router.route(A, 0.0).model == "dear" and router.route(B, 0.0).model == "niche"
    filtered_out = frontier_router(min_accuracy=0.99)  # nobody passes: every routable model
    assert filtered_out.route(A, 0.0).model == "cheap"


def test_excluded_models_survive_save_and_load(tmp_path):
    router = frontier_router()
    save_router(router, tmp_path)
    assert json.loads((tmp_path / "router.json").read_text())["excluded"] == ["below", "beaten"]
    loaded = load_router(tmp_path)
    assert loaded.excluded == router.excluded
    for alpha in (0.0, 0.3, 1.0):
        assert loaded.route(A, alpha) == router.route(A, alpha)


def test_an_artifact_from_before_the_frontier_routes_among_every_model(tmp_path):
    old = fit_hand()
    save_router(old, tmp_path)
    edit_json(tmp_path, lambda d: d.pop("excluded"))
    assert load_router(tmp_path).excluded == ()


@pytest.mark.parametrize(
    ("excluded", "message"),
    [
        ("big", "'excluded' must be a list"),
        (["huge"], "\\['huge'\\] are not among the models"),
        (MODELS, "every model is excluded"),
    ],
)
def test_a_bad_excluded_field_is_one_clear_error(tmp_path, excluded, message):
    save_router(fit_hand(), tmp_path)
    edit_json(tmp_path, lambda d: d.update(excluded=excluded))
    with pytest.raises(RouterArtifactError, match=message):
        load_router(tmp_path)


def test_models_given_to_update_become_routable():
    router = frontier_router()
    x, _, _ = hand_table()
    updated = router.update(x, np.ones((20, 1)), np.full((20, 1), 3.0), ["below"])
    assert updated.excluded == ("beaten",)
    assert updated.route(A, 1.0).model == "below"  # 1.0 in A now, the most accurate
    added = router.update(x, np.ones((20, 1)), None, ["new"])
    assert added.excluded == router.excluded and added.route(A, 1.0).model == "new"
    with pytest.raises(InputError, match="every model is excluded"):
        ClusterRouter(
            router.embedder_name, NAMES, router.config, router.tables, excluded=tuple(NAMES)
        )
