"""The capability router: zero-shot from descriptions, learning from labelled queries,
abstaining, filtering the pool before ranking, growing without a refit, its artifact, and the
approximate index agreeing with the exact scan."""

from pathlib import Path

import numpy as np
import pytest

from orchestrator.capabilities import Capability, LabelledQuery
from orchestrator.capabilities.router import DEFAULT_METHOD, METHODS, CapabilityRouter
from orchestrator.errors import InputError

# a hand-made embedder: each word group is one axis, so meaning is fixed and visible
AXES = [
    {"weather", "rain", "forecast", "sunny"},
    {"calculator", "calculate", "sum", "arithmetic", "multiply"},
    {"email", "mail", "send", "inbox"},
    {"tip"},
    {"poem", "poetry", "sonnet"},
    {"translate", "translation", "french"},
]


def embed(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), len(AXES) + 1), dtype=np.float32)
    for i, text in enumerate(texts):
        words = {w.strip(".,:?!").lower() for w in text.split()}
        for axis, group in enumerate(AXES):
            out[i, axis] = len(words & group)
        out[i, -1] = 0.3  # shared by every text: no vector is zero
    return out / np.linalg.norm(out, axis=1, keepdims=True)


POOL = [
    Capability(id="weather", description="Weather forecast: rain or sunny, for a city"),
    Capability(id="calculator", description="Calculate arithmetic: sum, multiply"),
    Capability(id="email", description="Send an email to an inbox"),
]
TIPS = [LabelledQuery(query=f"tip {n}", relevant=("calculator",)) for n in range(6)]
OTHERS = [
    LabelledQuery(query="will it rain", relevant=("weather",)),
    LabelledQuery(query="send mail", relevant=("email",)),
    LabelledQuery(query="sum these", relevant=("calculator",)),
]
NONE_FITS = [LabelledQuery(query=f"a poem {n}", relevant=()) for n in range(6)]


def route(router: CapabilityRouter, text: str, **kwargs: object) -> list[str]:
    decision = router.route(embed([text])[0], text, **kwargs)  # type: ignore[arg-type]
    return [r.id for r in decision.ranked]


def test_methods_name_the_default() -> None:
    assert DEFAULT_METHOD in METHODS


@pytest.mark.parametrize("method", METHODS)
def test_zero_shot_routes_by_description(method: str) -> None:
    router = CapabilityRouter.fit(POOL, embed, embedder_name="axes", method=method)
    assert route(router, "will it rain tomorrow?")[0] == "weather"
    assert route(router, "multiply 6 by 7")[0] == "calculator"
    assert route(router, "check my inbox")[0] == "email"
    decision = router.route(embed(["rain"])[0], "rain", top_k=2)
    assert len(decision.ranked) == 2 and not decision.abstain


def test_labelled_queries_change_a_decision() -> None:
    cold = CapabilityRouter.fit(POOL, embed, embedder_name="axes")
    learned = CapabilityRouter.fit(POOL, embed, embedder_name="axes", labelled=TIPS + OTHERS)
    assert route(cold, "tip for dinner")[0] != "calculator"
    assert route(learned, "tip for dinner")[0] == "calculator"


def test_abstains_below_the_fitted_probability() -> None:
    labelled = OTHERS * 3 + NONE_FITS
    router = CapabilityRouter.fit(POOL, embed, embedder_name="axes", labelled=labelled)
    assert set(router.abstention) == {"open"}  # no labelled query came with candidates
    threshold = router.abstention["open"].threshold
    assert 0 < threshold < 1
    poem = router.route(embed(["write a sonnet"])[0], "write a sonnet")
    assert poem.abstain and poem.best is None and poem.ranked
    assert poem.probability is not None and poem.probability < threshold
    assert poem.why["threshold"] == threshold
    rain = router.route(embed(["rain forecast"])[0], "rain forecast")
    assert not rain.abstain and rain.best is not None and rain.best.id == "weather"
    assert rain.probability is not None and rain.probability >= threshold
    # a caller's threshold replaces the fitted one for that call
    strict = router.route(embed(["rain forecast"])[0], "rain forecast", abstain_below=1.0)
    assert strict.abstain and strict.why["threshold"] == 1.0
    lenient = router.route(embed(["write a sonnet"])[0], "write a sonnet", abstain_below=0.0)
    assert not lenient.abstain


def test_without_none_fits_queries_it_never_abstains() -> None:
    router = CapabilityRouter.fit(POOL, embed, embedder_name="axes", labelled=OTHERS * 3)
    assert all(m.threshold == float("-inf") for m in router.abstention.values())
    assert not router.route(embed(["sonnet"])[0], "sonnet").abstain
    zero_shot = CapabilityRouter.fit(POOL, embed, embedder_name="axes")
    decision = zero_shot.route(embed(["sonnet"])[0], "sonnet", abstain_below=0.9)
    assert decision.probability is None and not decision.abstain


def test_within_candidates_abstention_is_fitted_on_candidate_decisions() -> None:
    """Queries offered candidates calibrate the `pool` model, the others the `open` one; a
    single offered candidate that does not fit is abstained on, one that fits is not."""
    offered = ("weather", "calculator", "email")
    pooled = [q.model_copy(update={"candidates": offered}) for q in OTHERS * 3]
    unfit = [q.model_copy(update={"candidates": ("email",)}) for q in NONE_FITS]
    router = CapabilityRouter.fit(POOL, embed, embedder_name="axes", labelled=pooled + unfit)
    assert set(router.abstention) == {"pool"}
    sonnet = router.route(embed(["a sonnet"])[0], "a sonnet", candidates=["email"])
    assert sonnet.abstain and sonnet.probability is not None
    mail = router.route(embed(["send mail"])[0], "send mail", candidates=["email"])
    assert not mail.abstain and mail.best is not None and mail.best.id == "email"
    # with no candidates there is no `open` model: the router answers, it cannot abstain
    assert router.route(embed(["a sonnet"])[0], "a sonnet").probability is None


def test_second_place_serves_what_the_first_leaves_out() -> None:
    """A two-part request: rank 2 is chosen for the query less its projection on rank 1."""
    pool = [*POOL, Capability(id="weather-alerts", description="Weather warnings: rain")]
    text = "rain forecast, sunny? and mail it"
    plain = CapabilityRouter.fit(pool, embed, embedder_name="axes", residual=0.0)
    residual = CapabilityRouter.fit(pool, embed, embedder_name="axes")
    first = route(plain, text)[0]
    assert route(plain, text)[:2] == [first, ({"weather", "weather-alerts"} - {first}).pop()]
    assert route(residual, text)[:2] == [first, "email"]
    assert sorted(route(residual, text)) == sorted(route(plain, text))  # same ids, reordered


def test_allowed_and_candidates_bound_the_pool() -> None:
    versions = [*POOL, Capability(id="weather", version="2", description="Weather forecast v2")]
    router = CapabilityRouter.fit(versions, embed, embedder_name="axes", labelled=OTHERS)
    only_email = router.route(embed(["rain"])[0], "rain", allowed={"email@0"})
    assert [(r.id, r.version) for r in only_email.ranked] == [("email", "0")]
    pinned = router.route(embed(["rain"])[0], "rain", allowed={"weather@2", "email@0"})
    assert pinned.ranked[0].version == "2"
    assert route(router, "rain", candidates=["calculator", "email"])[0] != "weather"
    assert set(route(router, "rain", candidates=["calculator", "email"])) <= {"calculator", "email"}
    assert router.route(embed(["rain"])[0], "rain", candidates=["nothing"]).abstain
    batch = router.route_batch(
        embed(["rain", "sum"]), ["rain", "sum"], candidates=[["email"], None]
    )
    assert [d.ranked[0].id for d in batch] == ["email", "calculator"]


def test_added_capability_is_routable_at_once() -> None:
    router = CapabilityRouter.fit(POOL, embed, embedder_name="axes", labelled=TIPS + OTHERS)
    assert route(router, "translate to french")[0] != "translator"
    router.add([Capability(id="translator", description="Translate text into French")], embed)
    assert route(router, "translate to french")[0] == "translator"
    with pytest.raises(InputError, match="already registered"):
        router.add([Capability(id="translator", description="again")], embed)


def test_save_load_gives_identical_decisions(tmp_path: Path) -> None:
    labelled = TIPS + OTHERS + NONE_FITS
    router = CapabilityRouter.fit(POOL, embed, embedder_name="axes", labelled=labelled)
    router.add([Capability(id="translator", description="Translate text into French")], embed)
    path = router.save(tmp_path / "caps")
    assert path.suffix == ".json" and not list(tmp_path.rglob("*.pkl"))
    loaded = CapabilityRouter.load(tmp_path / "caps", embedder_name="axes", dim=router.dim)
    texts = ["rain", "tip please", "a sonnet", "translate french", "send mail now"]
    assert loaded.route_batch(embed(texts), texts) == router.route_batch(embed(texts), texts)
    assert loaded.capabilities == router.capabilities and loaded.method == router.method


def test_load_with_another_embedder_is_an_error(tmp_path: Path) -> None:
    CapabilityRouter.fit(POOL, embed, embedder_name="axes").save(tmp_path)
    with pytest.raises(InputError, match="fitted with embedder 'axes', not 'other'"):
        CapabilityRouter.load(tmp_path, embedder_name="other")
    with pytest.raises(InputError, match="7-dimensional vectors, not 384"):
        CapabilityRouter.load(tmp_path, dim=384)


def test_approximate_index_agrees_with_exact_scan() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    caps = [Capability(id=f"c{i}", description=f"capability {i}") for i in range(3000)]
    lookup = dict(zip((c.text() for c in caps), vectors, strict=True))

    def fixed(texts: list[str]) -> np.ndarray:
        return np.stack([lookup[t] for t in texts])

    approximate = CapabilityRouter.fit(caps, fixed, embedder_name="x", exact_below=1000)
    exact = CapabilityRouter.fit(caps, fixed, embedder_name="x", exact_below=10**9)
    assert approximate.tables.desc.approximate and not exact.tables.desc.approximate
    queries = vectors[:60] + 0.05 * rng.standard_normal((60, 32)).astype(np.float32)
    for q in queries:
        a, e = approximate.route(q, "q", top_k=3), exact.route(q, "q", top_k=3)
        assert a.ranked[0] == e.ranked[0]
    allowed = {f"c{i}@0" for i in range(0, 3000, 7)}
    for q in queries[:20]:
        ids = [r.id for r in approximate.route(q, "q", allowed=allowed).ranked]
        assert ids and all(f"{i}@0" in allowed for i in ids)
        assert ids[0] == exact.route(q, "q", allowed=allowed).ranked[0].id


def test_labelled_pairs_vote_for_the_second_place() -> None:
    """A labelled two-capability query votes for both: its partner comes second."""
    pair = LabelledQuery(query="rain forecast then send mail", relevant=("weather", "email"))
    labelled = [*OTHERS, pair]
    text = "rain forecast sunny"
    alone = CapabilityRouter.fit(
        POOL, embed, embedder_name="axes", labelled=labelled, pair_weight=0
    )
    paired = CapabilityRouter.fit(
        POOL, embed, embedder_name="axes", labelled=labelled, pair_weight=3.0
    )
    assert paired.tables.multi.owners.tolist() == [0, 2]  # the pair's rows: weather, email
    assert route(alone, text)[:2] == ["weather", "calculator"]
    assert route(paired, text)[:2] == ["weather", "email"]
