import json
import math
from pathlib import Path

import numpy as np
import pytest
from support import CountingEmbedder

from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.embeddings.store import DiskCachedEmbedder
from orchestrator.errors import InputError
from orchestrator.routing.evaluation import (
    DEFAULT_ALPHAS,
    Scorer,
    SweepPoint,
    aiq,
    cheapest_matching,
    evaluate,
    format_report,
    mix_accuracy,
    pareto_front,
    sweep,
)
from orchestrator.routing.labelled import load_prices, read_labelled
from orchestrator.routing.router import ClusterRouter

DATA = Path(__file__).parents[1] / "data"
TINY = DATA / "routing_tiny.jsonl"


def tiny_router_report(alphas=(0.0, 0.4, 1.0)):
    table = read_labelled([TINY])
    x = HashingEmbedder(64).embed(table.texts)
    router = ClusterRouter.fit(
        x, table.scores, table.costs, table.models, embedder_name="hashing-64", k=1
    )
    return evaluate(router, x, table, alphas)


def test_report_on_a_table_computed_by_hand():
    report = tiny_router_report()
    assert report.n == 6 and report.datasets == {"math": 4, "trivia": 2}
    # big: math 3/4, trivia 1/2 → macro .625; small: math 2/4, trivia 1/2 → .5
    assert report.models["big"] == pytest.approx({"accuracy": 0.625, "cost": 0.08})
    assert report.models["small"] == pytest.approx({"accuracy": 0.5, "cost": 0.008})
    assert report.best_single == pytest.approx({"model": "big", "accuracy": 0.625, "cost": 0.08})
    # oracle: big on m1, m4; the cheaper small wherever both tie (m2, t1, t2) or small wins (m3)
    assert report.oracle == pytest.approx({"accuracy": 0.75, "cost": 0.026})
    by_alpha = {p.alpha: p for p in report.sweep}
    assert by_alpha[1.0].accuracy == pytest.approx(0.625)
    assert by_alpha[1.0].accuracy_micro == pytest.approx(4 / 6)
    assert by_alpha[1.0].cost == pytest.approx(0.08)
    assert by_alpha[1.0].model_share == {"big": 1.0, "small": 0.0}
    assert by_alpha[0.4].model_share == {"big": 0.0, "small": 1.0}
    assert by_alpha[0.0].cost == pytest.approx(0.008) and by_alpha[0.0].accuracy == 0.5
    assert report.pareto == [
        {"alpha": 0.0, "accuracy": 0.5, "cost": pytest.approx(0.008)},
        {"alpha": 1.0, "accuracy": 0.625, "cost": pytest.approx(0.08)},
    ]
    assert report.aiq == pytest.approx((0.5 + 0.625) / 2)  # the hull is one straight segment
    text = format_report(report)
    assert "best single  big: accuracy 0.6250" in text and "AIQ          0.5625" in text


def test_report_json_has_the_documented_keys():
    document = json.loads(json.dumps(tiny_router_report().to_json()))
    assert set(document) >= {
        "n",
        "datasets",
        "models",
        "best_single",
        "oracle",
        "sweep",
        "pareto",
        "aiq",
    }
    assert set(document["sweep"][0]) == {
        "alpha",
        "accuracy",
        "accuracy_micro",
        "cost",
        "model_share",
    }


def test_missing_records_are_left_out_of_the_averages():
    table = read_labelled([DATA / "routerbench_rows.jsonl"])
    x = HashingEmbedder(32).embed(table.texts)
    router = ClusterRouter.fit(
        x, table.scores, table.costs, table.models, embedder_name="hashing-32", k=1
    )
    report = evaluate(router, x, table, [1.0])
    gpt4 = report.models["gpt-4-1106-preview"]
    # gpt-4 has records on rows 1 (arc, 1.0) and 3 (mbpp); row 2 is null and left out
    assert gpt4["accuracy"] == pytest.approx((1.0 + table.scores[2, 5]) / 2)
    assert math.isfinite(report.sweep[0].accuracy)


def test_aiq_and_pareto_by_hand():
    # hull of (0, .2), (1, .6), (2, .5), (3, .9): (1, .6) lies above the chord (0,.2)-(3,.9)
    points = [(0.0, 0.2), (1.0, 0.6), (2.0, 0.5), (3.0, 0.9)]
    area = (0.2 + 0.6) / 2 + 2 * (0.6 + 0.9) / 2
    assert aiq(points) == pytest.approx(area / 3)
    # non-decreasing: after the best point the curve stays flat
    assert aiq([(0.0, 0.5), (1.0, 0.9), (2.0, 0.4)]) == pytest.approx((0.7 + 0.9) / 2)
    assert aiq([(1.0, 0.3), (1.0, 0.7)]) == 0.7
    sweep = [
        SweepPoint(a, acc, acc, cost, {})
        for a, acc, cost in [(0.0, 0.5, 1.0), (0.5, 0.5, 2.0), (0.7, 0.8, 3.0), (1.0, 0.7, 4.0)]
    ]
    assert [p["alpha"] for p in pareto_front(sweep)] == [0.0, 0.7]
    assert cheapest_matching(sweep, 0.6).alpha == 0.7
    assert cheapest_matching(sweep, 0.95) is None


def test_mix_accuracy_follows_the_rising_hull():
    # (9, .083), (33, .087), (95, .21): the middle point lies under the outer chord
    points = [(9.0, 0.083), (33.0, 0.087), (95.0, 0.21)]
    assert mix_accuracy(points, 39.0) == pytest.approx(0.083 + 0.127 * 30 / 86)
    assert mix_accuracy(points, 5.0) == 0.083  # cheaper than any point: the cheapest one
    assert mix_accuracy(points, 200.0) == 0.21
    # a cheap point better than a dearer one caps the mix from its cost on
    assert mix_accuracy([(1.0, 0.6), (2.0, 0.4)], 1.5) == 0.6
    assert math.isnan(mix_accuracy([(1.0, float("nan"))], 1.0))


class ThresholdRouter:
    """Sends query i to "big" (column 0) once α passes its own threshold."""

    models = ["big", "small"]

    def __init__(self, thresholds: list[float]) -> None:
        self.thresholds = np.array(thresholds)
        self.calls: list[float] = []

    def route_batch(self, matrix, alpha=1.0, chunk=8192):
        self.calls.append(alpha)
        return np.where(alpha > self.thresholds, 0, 1).astype(np.int64)


def test_sweep_bisects_only_where_the_routing_changes():
    scorer = Scorer(read_labelled([TINY]))
    thresholds = [0.123456, 0.5, 0.5, 0.5, 0.777, 2.0]  # the last query never flips
    router = ThresholdRouter(thresholds)
    points = sweep(router, np.zeros((6, 1)), scorer, DEFAULT_ALPHAS, refine=1000)
    alphas = [p.alpha for p in points]
    assert alphas == sorted(alphas) and len(alphas) == len(router.calls)
    extra = [a for a in alphas if a not in DEFAULT_ALPHAS]
    # every bisection lands in a step of the even grid where some query flips
    steps = [(0.12, 0.13), (0.5, 0.51), (0.77, 0.78)]
    assert extra and all(any(lo < a < hi for lo, hi in steps) for a in extra)
    for t in (0.123456, 0.5, 0.777):  # each flip is pinned down to a step of at most 1e-4
        below = max(a for a in alphas if a <= t)
        above = min(a for a in alphas if a > t)
        assert above - below <= 1e-4
    assert len(extra) <= 3 * 7  # 0.01 halved 7 times is under 1e-4: then the bisecting stops


def test_sweep_spends_at_most_its_refine_budget_on_the_largest_jumps():
    scorer = Scorer(read_labelled([TINY]))
    router = ThresholdRouter([0.123456, 0.5, 0.5, 0.5, 0.777, 2.0])

    def alphas(refine: int) -> list[float]:
        points = sweep(router, np.zeros((6, 1)), scorer, [0.0, 0.5, 1.0], refine=refine)
        return [p.alpha for p in points]

    # accuracy jumps by its whole range in (0, 0.5) and cost by 83% of its range in (0.5, 1)
    assert alphas(0) == [0.0, 0.5, 1.0]
    assert alphas(1) == [0.0, 0.25, 0.5, 1.0]
    assert alphas(2) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_evaluate_sweeps_exactly_the_given_alphas_and_refines_by_default():
    assert [p.alpha for p in tiny_router_report((0.0, 0.4, 1.0)).sweep] == [0.0, 0.4, 1.0]
    alphas = [p.alpha for p in tiny_router_report(None).sweep]
    assert set(DEFAULT_ALPHAS) < set(alphas)


def test_evaluate_refuses_data_without_the_routed_models():
    table = read_labelled([TINY])
    x = HashingEmbedder(64).embed(table.texts)
    router = ClusterRouter.fit(x, table.scores, table.costs, ["a", "b"], embedder_name="h", k=1)
    with pytest.raises(InputError, match="no records for routed model"):
        evaluate(router, x, table)
    with pytest.raises(InputError, match="5 embeddings for 6"):
        evaluate(router, x[:5], table)


def test_labelled_reader_keeps_nulls_and_uses_query_last():
    table = read_labelled([DATA / "routerbench_rows.jsonl"])
    assert len(table) == 3 and len(table.models) == 11
    assert table.texts[1].startswith("An animal has six legs.")
    assert np.isnan(table.scores[1]).sum() == 10 and table.scores[1, 4] == 0.0
    assert table.costs[1, 5] == pytest.approx(0.00953)
    assert not table.cost_estimated
    plain = read_labelled([DATA / "routerbench_rows.jsonl"], text_field="query")
    assert plain.texts[1] != table.texts[1]


def test_prices_estimate_missing_costs(tmp_path):
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[[models]]\nid = "big"\ninput_usd_per_mtok = 10.0\noutput_usd_per_mtok = 30.0\n'
        "[estimate]\nchars_per_token = 2.0\ncompletion_tokens = 100\n"
    )
    data = tmp_path / "d.jsonl"
    data.write_text(
        json.dumps({"query": "abcdefgh", "dataset": "d", "records": {"big": 1, "small": None}})
        + "\n"
        + json.dumps(
            {
                "query": "x",
                "dataset": "d",
                "records": {"big": 0.5},
                "usages": {"big": {"prompt_tokens": 1000, "completion_tokens": 10}},
            }
        )
        + "\n"
    )
    table = read_labelled([data], prices=load_prices(prices))
    assert table.cost_estimated
    # 8 chars / 2 = 4 prompt tokens × $10 + 100 completion tokens × $30, per million
    assert table.costs[0, 0] == pytest.approx((4 * 10 + 100 * 30) / 1e6)
    assert table.costs[1, 0] == pytest.approx((1000 * 10 + 10 * 30) / 1e6)
    assert np.isnan(table.costs[0, 1])  # no price for small: unknown, not zero


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "d.jsonl:1: not valid JSON"),
        ('{"query": "q", "records": {"m": 2}}', "outside \\[0, 1\\]"),
        ('{"query": "q", "records": {"m": "yes"}}', "must be a number or null"),
        ('{"records": {"m": 1}}', "string 'query'"),
        ('{"query": "q", "records": {}}', "no model records"),
    ],
)
def test_labelled_reader_errors_name_the_line(tmp_path, line, message):
    data = tmp_path / "d.jsonl"
    data.write_text(line + "\n")
    with pytest.raises(InputError, match=message):
        read_labelled([data])


def test_disk_cache_embeds_each_text_once_across_instances(tmp_path):
    first_inner = CountingEmbedder()
    first = DiskCachedEmbedder(first_inner, tmp_path, batch_size=2).embed(["a", "b", "c", "a"])
    assert first_inner.seen == ["a", "b", "c"]
    assert len(list((tmp_path / "hashing-16").glob("*.keys"))) == 2  # batches of 2
    second_inner = CountingEmbedder()
    again = DiskCachedEmbedder(second_inner, tmp_path).embed(["c", "a", "d"])
    assert second_inner.seen == ["d"]
    assert np.array_equal(again[0], first[2]) and np.array_equal(again[1], first[0])
    # a half-written shard (no .keys) is ignored, never trusted
    (tmp_path / "hashing-16" / "torn.npy").write_bytes(b"\x93NUMPY")
    assert DiskCachedEmbedder(CountingEmbedder(), tmp_path).embed(["a"]).shape == (1, 16)
