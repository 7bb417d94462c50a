"""The capability router: a request's vector → capabilities best first, or abstain.

Zero-shot from descriptions (a capability added is routable at once) and learning from
labelled queries where they exist (scoring.py: the methods; calibration.py: the cold shift;
confidence.py: the probability that the top one is right, and abstention). A policy's
`allowed` keys and a request's `candidates` form the pool before anything is ranked. Rank 2
is chosen for what rank 1 leaves unexplained (scoring.residual). Exact numpy scoring for small
pools; above `exact_below` rows, an HNSW shortlist (index.py) is scored exactly instead."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.capabilities import artifact, confidence
from orchestrator.capabilities.calibration import Labelled, calibrate
from orchestrator.capabilities.confidence import Confidence
from orchestrator.capabilities.decision import CapabilityDecision, LabelledQuery, ranking
from orchestrator.capabilities.index import Ints, Matrix
from orchestrator.capabilities.scoring import (
    DEFAULT_METHOD,
    METHODS,
    Bools,
    LabelledRows,
    Tables,
    build_tables,
    combine,
    description_rows,
    grow,
    lexical_documents,
    narrow,
    options_for,
    parts,
    second_place,
)
from orchestrator.capability import Capability
from orchestrator.errors import InputError

__all__ = ["DEFAULT_METHOD", "METHODS", "CapabilityRouter"]

Embed = Callable[[list[str]], np.ndarray]
NONE: Ints = np.zeros(0, dtype=np.int64)
SAVED = ("embedder_name", "dim", "method", "options", "shift")  # attributes in the header


class CapabilityRouter:
    """Routes request vectors to capabilities; see the module's docstring."""

    def __init__(
        self,
        capabilities: Sequence[Capability],
        *,
        embedder_name: str,
        dim: int,
        method: str,
        options: dict[str, Any],
        desc: tuple[Matrix, Ints],
        labelled: tuple[Matrix, Ints, Bools],
        labelled_texts: Sequence[str],
        shift: float = 0.0,
        abstention: dict[str, Confidence] | None = None,
    ) -> None:
        self.capabilities: list[Capability] = list(capabilities)
        twice = sorted(k for k, n in Counter(c.key for c in self.capabilities).items() if n > 1)
        if twice:
            raise InputError(f"capabilities registered twice: {twice}")
        self.embedder_name, self.dim, self.method = embedder_name, dim, method
        self.options = options_for(method, options)
        self.shift, self.abstention = shift, dict(abstention or {})
        self._desc, self._labelled, self._labelled_texts = desc, labelled, list(labelled_texts)
        self._index_names()
        self.tables: Tables = self._build(self._labelled, self._labelled_texts)

    def _index_names(self) -> None:
        self._position = {c.key: i for i, c in enumerate(self.capabilities)}
        self._by_id: dict[str, list[int]] = {}
        for i, c in enumerate(self.capabilities):
            self._by_id.setdefault(c.id, []).append(i)
        self._groups = confidence.name_groups(self.capabilities)

    def _build(self, labelled: tuple[Matrix, Ints, Bools], texts: Sequence[str]) -> Tables:
        lexical = self.method == "hybrid"
        documents = lexical_documents(self.capabilities, labelled[1], texts) if lexical else None
        exact_below = int(self.options["exact_below"])
        n = len(self.capabilities)
        return build_tables(n, self._desc, labelled, exact_below=exact_below, documents=documents)

    @classmethod
    def fit(
        cls,
        capabilities: Sequence[Capability],
        embed: Embed,
        *,
        embedder_name: str,
        labelled: Sequence[LabelledQuery] | None = None,
        method: str = DEFAULT_METHOD,
        **options: Any,
    ) -> CapabilityRouter:
        """Embed the capabilities (and labelled queries); fit the cold shift and threshold."""
        if not capabilities:
            raise InputError("no capabilities to route to")
        desc = description_rows(capabilities, embed, 0)
        dim = int(desc[0].shape[1])
        router = cls(
            capabilities,
            embedder_name=embedder_name,
            dim=dim,
            method=method,
            options=options,
            desc=desc,
            labelled=(np.zeros((0, dim), np.float32), NONE, np.zeros(0, dtype=bool)),
            labelled_texts=[],
        )
        if labelled:
            router._learn(list(labelled), embed)
        return router

    def _learn(self, labelled: list[LabelledQuery], embed: Embed) -> None:
        texts = [q.query for q in labelled]
        vectors = np.asarray(embed(texts), dtype=np.float32)
        owners = [self._ids(q.relevant) for q in labelled]
        pools = [None if q.candidates is None else self._ids(q.candidates) for q in labelled]
        query_of = np.repeat(np.arange(len(labelled)), [o.size for o in owners])
        row_owner = np.concatenate([NONE, *owners]).astype(np.int64)
        several = np.array([o.size > 1 for o in owners], dtype=bool)

        def rows(train: Sequence[int], cold: set[int]) -> tuple[LabelledRows, list[str]]:
            keep = np.isin(query_of, np.asarray(train, dtype=np.int64))
            keep &= ~np.isin(row_owner, np.asarray(sorted(cold), dtype=np.int64))
            kept = query_of[keep]
            return (vectors[kept], row_owner[keep], several[kept]), [texts[q] for q in kept]

        def build(train: Sequence[int], cold: set[int]) -> Tables:
            return self._build(*rows(train, cold))

        fitted = calibrate(
            Labelled(vectors, texts, owners, pools),
            build,
            row_owner.tolist(),
            self.method,
            self.options,
            self._features,
        )
        self.shift, self.abstention = fitted.shift, fitted.confidence
        self._labelled, self._labelled_texts = rows(range(len(labelled)), set())
        self.tables = self._build(self._labelled, self._labelled_texts)

    def _ids(self, ids: Sequence[str]) -> Ints:
        found = sorted({i for name in ids for i in self._by_id.get(name, ())})
        return np.asarray(found, dtype=np.int64)

    def _pool(self, candidates: Sequence[str] | None, allowed: set[str] | None) -> Ints | None:
        if candidates is None and allowed is None:
            return None
        pool = np.arange(len(self.capabilities)) if candidates is None else self._ids(candidates)
        if allowed is not None:
            pool = pool[[self.capabilities[i].key in allowed for i in pool]]
        return pool.astype(np.int64)

    def route(
        self,
        vector: np.ndarray,
        text: str,
        *,
        top_k: int = 5,
        candidates: Sequence[str] | None = None,
        allowed: set[str] | None = None,
        abstain_below: float | None = None,
    ) -> CapabilityDecision:
        """Capabilities for one request, best first (the pool is filtered before ranking).
        `abstain_below` replaces the fitted probability threshold for this call."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        caps = narrow(self.tables, self.options, query, self._pool(candidates, allowed), top_k)
        if not caps.size:
            return CapabilityDecision([], True, self._why(0, None, None))
        scores = self._scores(query[None, :], caps, [text])
        second = self._second(query[None, :], scores, caps, [text], top_k)
        kind = "open" if candidates is None else "pool"
        return self._decide(query, (scores[0], caps, int(second[0])), top_k, kind, abstain_below)

    def route_batch(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        *,
        top_k: int = 5,
        candidates: Sequence[Sequence[str] | None] | None = None,
    ) -> list[CapabilityDecision]:
        """`route` for many requests (one matrix product per chunk where the pool is shared)."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if candidates is not None or self.tables.desc.approximate:
            pools = candidates if candidates is not None else [None] * len(texts)
            return [
                self.route(v, t, top_k=top_k, candidates=c)
                for v, t, c in zip(matrix, texts, pools, strict=True)
            ]
        caps = np.arange(len(self.capabilities), dtype=np.int64)
        out: list[CapabilityDecision] = []
        for start in range(0, len(texts), 512):
            chunk, rows = list(texts[start : start + 512]), matrix[start : start + 512]
            scores = self._scores(rows, caps, chunk)
            second = self._second(rows, scores, caps, chunk, top_k)
            out.extend(
                self._decide(q, (row, caps, int(s)), top_k, "open", None)
                for q, row, s in zip(rows, scores, second, strict=True)
            )
        return out

    def _second(
        self, queries: Matrix, scores: Matrix, caps: Ints, texts: list[str], top_k: int
    ) -> Ints:
        def score(vectors: Matrix) -> Matrix:
            return self._scores(vectors, caps, texts)

        return second_place(self.tables, self.options, score, (queries, scores, caps), top_k)

    def _scores(self, queries: Matrix, caps: Ints, texts: list[str]) -> Matrix:
        p = parts(self.tables, queries, caps, self.options, texts)
        return combine(self.method, p, self.shift, self.options)

    def _features(self, query: Matrix, top: int, score: float) -> np.ndarray:
        return confidence.features(self.tables, self._groups, query, top, score)

    def _why(self, pool: int, top: float | None, threshold: float | None) -> dict[str, object]:
        fields = ("method", "threshold", "shift", "pool", "top_score")
        return dict(zip(fields, (self.method, threshold, self.shift, pool, top), strict=True))

    def _decide(
        self,
        query: Matrix,
        scored: tuple[np.ndarray, Ints, int],
        top_k: int,
        kind: str,
        abstain_below: float | None,
    ) -> CapabilityDecision:
        scores, caps, second = scored
        first, ranked = ranking(self.capabilities, scores, caps, top_k, second)
        top = float(scores[first])
        model = self.abstention.get(kind)
        probability, threshold = None, abstain_below
        if model is not None:
            features = self._features(query, int(caps[first]), top)
            probability = float(model.probability(features[None, :])[0])
            threshold = model.threshold if threshold is None else threshold
        abstain = probability is not None and threshold is not None and probability < threshold
        why = self._why(caps.size, top, None if threshold == confidence.NEVER else threshold)
        return CapabilityDecision(ranked, abstain, why, probability)

    def add(self, capabilities: Sequence[Capability], embed: Embed) -> CapabilityRouter:
        """Register capabilities, routable at once from their descriptions (no refit)."""
        clash = [c.key for c in capabilities if c.key in self._position]
        if clash:
            raise InputError(f"capabilities already registered: {clash}")
        vectors, owners = description_rows(capabilities, embed, len(self.capabilities))
        self.capabilities.extend(capabilities)
        self._index_names()
        self._desc = (
            np.concatenate([self._desc[0], vectors]),
            np.concatenate([self._desc[1], owners]),
        )
        grow(self.tables, vectors, owners, len(capabilities))
        if self.tables.lexical is not None:
            self.tables.lexical = self._build(self._labelled, self._labelled_texts).lexical
        return self

    def save(self, directory: str | Path) -> Path:
        """Write the artifact; returns the JSON file's path."""
        header = {
            **{name: getattr(self, name) for name in SAVED},
            "abstention": {k: m.to_json() for k, m in self.abstention.items()},
            "capabilities": [c.model_dump(mode="json") for c in self.capabilities],
            "labelled_texts": self._labelled_texts,
        }
        return artifact.write(directory, header, (*self._desc, *self._labelled))

    @classmethod
    def load(
        cls, directory: str | Path, *, embedder_name: str | None = None, dim: int | None = None
    ) -> CapabilityRouter:
        """Read an artifact; a different embedder name or dimension is an InputError."""
        header, arrays = artifact.read(directory)
        artifact.check_embedder(header, embedder_name, dim, str(directory))
        return cls(
            [Capability.model_validate(c) for c in header["capabilities"]],
            **{name: header[name] for name in ("embedder_name", "method", "options")},
            dim=int(header["dim"]),
            desc=(arrays["desc_vectors"], arrays["desc_owners"]),
            labelled=(
                arrays["labelled_vectors"],
                arrays["labelled_owners"],
                arrays["labelled_multi"],
            ),
            labelled_texts=header["labelled_texts"],
            shift=float(header["shift"]),
            abstention=confidence.from_header(header.get("abstention", {})),
        )
