"""How the capability router scores a pool: the tables it keeps (description rows, labelled
query rows, per-capability centroids, the BM25 index), the score parts for a batch of queries
over a pool, and the methods that combine them.

Parts, per query and capability: `desc` (best cosine over its description and examples),
`best` (best cosine over its labelled queries), `centroid` (cosine with their mean), `vote`
(its share of a softmax-weighted k-nearest-neighbour vote over labelled queries) and
`lexical` (BM25 over its texts, scaled by the query's best). A capability with no labelled
query is *cold*: its description score is shifted by the fitted `shift` so that it competes
with capabilities whose scores are raised by their labelled queries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrator.capabilities.index import EXACT_BELOW, Ints, Matrix, Rows
from orchestrator.capability import Capability
from orchestrator.errors import InputError

Bools = npt.NDArray[np.bool_]
LabelledRows = tuple[Matrix, Ints, Bools]  # vectors, owners, whether its query has several

METHODS: tuple[str, ...] = ("blend", "hybrid", "knn", "centroid", "utterance-max", "description")
DEFAULT_METHOD = "hybrid"
DEFAULTS: dict[str, Any] = {
    "k": 10,  # neighbours in the vote
    "temperature": 0.05,  # softmax temperature of the vote's weights
    "mix": 0.5,  # warm capabilities: (1 - mix) * desc + mix * centroid
    "vote_weight": 0.5,  # + vote_weight * vote
    "lexical_weight": 0.2,  # hybrid: + lexical_weight * lexical
    "residual": 1.0,  # rank 2 from the query less this share of its projection on rank 1
    "pair_weight": 0.5,  # rank 2: + pair_weight * the vote of labelled multi-capability queries
    "exact_below": EXACT_BELOW,  # rows; an approximate index above
}


def _tokens(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    tokens: list[list[str]] = bm25s.tokenize(
        list(texts), stopwords="en", return_ids=False, show_progress=False
    )
    return tokens


class Lexical:
    """BM25 (bm25s) over one document per capability: its texts and labelled queries."""

    def __init__(self, documents: Sequence[str]) -> None:
        import bm25s

        self.bm25 = bm25s.BM25()
        self.bm25.index(_tokens(documents), show_progress=False)

    def scores(self, texts: Sequence[str], caps: Ints) -> Matrix:
        out = np.zeros((len(texts), caps.size), dtype=np.float32)
        for i, tokens in enumerate(_tokens(texts)):
            row = np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)[caps] if tokens else 0
            out[i] = row
        top = out.max(axis=1, keepdims=True)
        return np.where(top > 0, out / np.maximum(top, 1e-9), 0.0).astype(np.float32)


@dataclass
class Tables:
    """What is searched: description rows and labelled rows (both owned by capability index),
    unit centroids of each capability's labelled queries (zero for a cold one), BM25."""

    n_caps: int
    desc: Rows
    labelled: Rows
    centroids: Matrix
    warm: Bools
    multi: Rows  # the labelled rows of queries with several relevant capabilities
    mean: Matrix  # the mean description row: a query's mean cosine over them is query @ mean
    lexical: Lexical | None = None


def build_tables(
    n_caps: int,
    desc: tuple[Matrix, Ints],
    labelled: LabelledRows,
    *,
    exact_below: int,
    documents: Sequence[str] | None = None,
) -> Tables:
    dim = desc[0].shape[1]
    desc_rows, labelled_rows = Rows(dim, exact_below), Rows(dim, exact_below)
    desc_rows.extend(*desc)
    labelled_rows.extend(labelled[0], labelled[1])
    multi = Rows(dim, exact_below)
    multi.extend(labelled[0][labelled[2]], labelled[1][labelled[2]])
    sums = np.zeros((n_caps, dim), dtype=np.float32)
    np.add.at(sums, labelled[1], labelled[0])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centroids = np.where(norms > 0, sums / np.maximum(norms, 1e-9), 0.0).astype(np.float32)
    warm = np.bincount(labelled[1], minlength=n_caps) > 0
    lexical = Lexical(documents) if documents is not None else None
    mean = desc_rows.vectors.mean(axis=0)
    return Tables(n_caps, desc_rows, labelled_rows, centroids, warm, multi, mean, lexical)


def lexical_documents(
    capabilities: Sequence[Capability], owners: Ints, texts: Sequence[str]
) -> list[str]:
    """BM25's document per capability: its text, examples and labelled queries (`texts`)."""
    docs = [[c.text(), *c.examples] for c in capabilities]
    for owner, text in zip(owners, texts, strict=True):
        docs[int(owner)].append(text)
    return ["\n".join(d) for d in docs]


def grow(tables: Tables, vectors: Matrix, owners: Ints, count: int) -> None:
    """Append `count` cold capabilities whose description rows are `vectors`."""
    tables.desc.extend(vectors, owners)
    tables.n_caps += count
    new = np.zeros((count, tables.centroids.shape[1]), dtype=np.float32)
    tables.centroids = np.concatenate([tables.centroids, new])
    tables.warm = np.concatenate([tables.warm, np.zeros(count, dtype=bool)])
    tables.mean = tables.desc.vectors.mean(axis=0)


@dataclass
class Parts:
    desc: Matrix
    best: Matrix
    centroid: Matrix
    vote: Matrix
    warm: Bools
    lexical: Matrix | None


def _segment_max(sims: Matrix, column: Ints, width: int, fill: float) -> Matrix:
    """Per-column-group maximum of `sims` (rows' columns sorted by group)."""
    out = np.full((sims.shape[0], width), fill, dtype=np.float32)
    if not column.size:
        return out
    present, starts = np.unique(column, return_index=True)
    out[:, present] = np.maximum.reduceat(sims, starts, axis=1)
    return out


def _vote(sims: Matrix, column: Ints, width: int, k: int, temperature: float) -> Matrix:
    vote = np.zeros((sims.shape[0], width), dtype=np.float32)
    kk = min(k, sims.shape[1])
    if kk == 0:
        return vote
    top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk] if kk < sims.shape[1] else None
    top = np.broadcast_to(np.arange(sims.shape[1]), sims.shape) if top is None else top
    near = np.take_along_axis(sims, top, axis=1)
    weights = np.exp((near - near.max(axis=1, keepdims=True)) / temperature)
    weights /= weights.sum(axis=1, keepdims=True)
    rows = np.repeat(np.arange(sims.shape[0]), top.shape[1])
    np.add.at(vote, (rows, column[top].ravel()), weights.ravel().astype(np.float32))
    return vote


def parts(
    tables: Tables,
    queries: Matrix,
    caps: Ints,
    options: dict[str, Any],
    texts: Sequence[str] | None = None,
) -> Parts:
    """Score parts for a batch of query vectors over the capabilities `caps` (sorted)."""
    desc_rows, desc_col = tables.desc.span(caps)
    desc = _segment_max(queries @ tables.desc.vectors[desc_rows].T, desc_col, caps.size, -1.0)
    lab_rows, lab_col = tables.labelled.span(caps)
    lab_sims = queries @ tables.labelled.vectors[lab_rows].T
    best = _segment_max(lab_sims, lab_col, caps.size, -1.0)
    vote = _vote(lab_sims, lab_col, caps.size, int(options["k"]), float(options["temperature"]))
    centroid = queries @ tables.centroids[caps].T
    lexical = None
    if tables.lexical is not None and texts is not None:
        lexical = tables.lexical.scores(texts, caps)
    return Parts(desc, best, centroid, vote, tables.warm[caps], lexical)


def combine(method: str, p: Parts, shift: float, options: dict[str, Any]) -> Matrix:
    """One method's scores from the parts (higher is better; comparable across a pool)."""
    cold = p.desc + shift
    if method == "description":
        return p.desc
    if method == "utterance-max":
        return np.maximum(p.desc, p.best).astype(np.float32)
    if method == "centroid":
        return np.where(p.warm, p.centroid, cold).astype(np.float32)
    if method == "knn":
        return (p.vote + 0.01 * p.desc).astype(np.float32)
    mix, beta = float(options["mix"]), float(options["vote_weight"])
    scores: Matrix = np.where(p.warm, (1 - mix) * p.desc + mix * p.centroid, cold) + beta * p.vote
    if method == "hybrid" and p.lexical is not None:
        scores = scores + float(options["lexical_weight"]) * p.lexical
    if method in ("blend", "hybrid"):
        return scores.astype(np.float32, copy=False)
    raise ValueError(f"unknown method {method!r}: one of {', '.join(METHODS)}")


def pair_vote(tables: Tables, queries: Matrix, caps: Ints, options: dict[str, Any]) -> Matrix:
    """The softmax-weighted vote of the nearest labelled multi-capability queries, each for
    all of its relevant capabilities (2k rows: about k queries of two)."""
    rows, column = tables.multi.span(caps)
    sims = queries @ tables.multi.vectors[rows].T
    k, temperature = 2 * int(options["k"]), float(options["temperature"])
    return _vote(sims, column, caps.size, k, temperature)


def residual(tables: Tables, queries: Matrix, tops: Ints, alpha: float) -> Matrix:
    """Each query with `alpha` of its projection on its top capability removed (its centroid
    where warm, else its first description row), renormalised: what a second capability
    would have to serve (a two-tool request's other half)."""
    first = np.searchsorted(tables.desc.owners, tops)
    warm = tables.warm[tops][:, None]
    anchors = np.where(warm, tables.centroids[tops], tables.desc.vectors[first])
    along = np.sum(queries * anchors, axis=1, keepdims=True)
    rest = queries - alpha * along * anchors
    norms = np.linalg.norm(rest, axis=1, keepdims=True)
    unit: Matrix = (rest / np.maximum(norms, 1e-9)).astype(np.float32)
    return unit


def _shortlist(tables: Tables, options: dict[str, Any], vector: Matrix, top_k: int) -> Ints:
    near = tables.desc.owners[tables.desc.nearest(vector, max(64, 8 * top_k))]
    votes = tables.labelled.owners[tables.labelled.nearest(vector, 4 * int(options["k"]))]
    return np.unique(np.concatenate([near, votes]))


def narrow(
    tables: Tables, options: dict[str, Any], vector: Matrix, pool: Ints | None, top_k: int
) -> Ints:
    """The capabilities to score: the pool (None: all), or a shortlist of it where it is big
    (the approximate index's nearest description rows and labelled queries' owners)."""
    size = tables.n_caps if pool is None else pool.size
    if not tables.desc.approximate or size < int(options["exact_below"]):
        return np.arange(size, dtype=np.int64) if pool is None else pool
    shortlist = _shortlist(tables, options, vector, top_k)
    if pool is None:
        return shortlist
    kept = shortlist[np.isin(shortlist, pool)]
    return kept if kept.size >= top_k else pool  # too few allowed: scan the allowed set


def second_place(
    tables: Tables,
    options: dict[str, Any],
    score: Callable[[Matrix], Matrix],
    scored: tuple[Matrix, Matrix, Ints],
    top_k: int,
) -> Ints:
    """Rank 2 for each query (a position in the pool `caps`; -1: none), chosen for what rank
    1 leaves unexplained: the scores (`score`) of the query less `residual` of its projection
    on rank 1, plus `pair_weight` times the vote of labelled multi-capability queries."""
    queries, scores, caps = scored
    alpha = float(options["residual"])
    if alpha <= 0 or top_k < 2 or caps.size < 2:
        return np.full(len(scores), -1, dtype=np.int64)
    best = scores.argmax(axis=1)
    again = score(residual(tables, queries, caps[best], alpha))
    again += float(options["pair_weight"]) * pair_vote(tables, queries, caps, options)
    again[np.arange(len(best)), best] = -np.inf
    return np.asarray(again.argmax(axis=1), dtype=np.int64)


def options_for(method: str, options: dict[str, Any]) -> dict[str, Any]:
    if method not in METHODS:
        raise InputError(f"unknown capability routing method {method!r}: one of {METHODS}")
    known = {*DEFAULTS, "seed", "calibration_queries", "cold_share", "folds"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"unknown capability router options {unknown}: known {sorted(known)}")
    return {**DEFAULTS, **options}


def description_rows(
    capabilities: Sequence[Capability], embed: Callable[[list[str]], np.ndarray], first: int
) -> tuple[Matrix, Ints]:
    texts = [[c.text(), *c.examples] for c in capabilities]
    owners = np.repeat(np.arange(first, first + len(texts)), [len(t) for t in texts])
    flat = [text for group in texts for text in group]
    return np.asarray(embed(flat), dtype=np.float32), owners.astype(np.int64)
