"""The capability router: a request's vector → capabilities best first, or abstain.

Zero-shot from descriptions (a capability added is routable at once) and learning from
labelled queries where they exist (scoring.py: the methods; calibration.py: the cold shift and
the abstention threshold). A policy's `allowed` keys and a request's `candidates` form the
pool before anything is ranked. Exact numpy scoring for small pools; above `exact_below`
rows, an HNSW shortlist (index.py) is scored exactly instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.capabilities import artifact
from orchestrator.capabilities.calibration import NEVER, Labelled, calibrate
from orchestrator.capabilities.decision import CapabilityDecision, LabelledQuery, Ranked
from orchestrator.capabilities.index import Ints, Matrix
from orchestrator.capabilities.scoring import (
    DEFAULT_METHOD,
    METHODS,
    Tables,
    build_tables,
    combine,
    description_rows,
    grow,
    options_for,
    parts,
)
from orchestrator.capability import Capability
from orchestrator.errors import InputError

__all__ = ["DEFAULT_METHOD", "METHODS", "CapabilityRouter"]

Embed = Callable[[list[str]], np.ndarray]
NONE: Ints = np.zeros(0, dtype=np.int64)


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
        labelled: tuple[Matrix, Ints],
        labelled_texts: Sequence[str],
        shift: float = 0.0,
        threshold: float = NEVER,
    ) -> None:
        self.capabilities: list[Capability] = list(capabilities)
        keys = [c.key for c in self.capabilities]
        if len(set(keys)) != len(keys):
            raise InputError(
                f"capabilities registered twice: {sorted({k for k in keys if keys.count(k) > 1})}"
            )
        self.embedder_name, self.dim, self.method = embedder_name, dim, method
        self.options = options_for(method, options)
        self.shift, self.threshold = shift, threshold
        self._desc, self._labelled, self._labelled_texts = desc, labelled, list(labelled_texts)
        self._index_names()
        self.tables: Tables = self._build(self._labelled, self._labelled_texts)

    def _index_names(self) -> None:
        self._position = {c.key: i for i, c in enumerate(self.capabilities)}
        self._by_id: dict[str, list[int]] = {}
        for i, c in enumerate(self.capabilities):
            self._by_id.setdefault(c.id, []).append(i)

    def _build(self, labelled: tuple[Matrix, Ints], texts: Sequence[str]) -> Tables:
        documents = None
        if self.method == "hybrid":
            docs = [[c.text(), *c.examples] for c in self.capabilities]
            for owner, text in zip(labelled[1], texts, strict=True):
                docs[int(owner)].append(text)
            documents = ["\n".join(d) for d in docs]
        n = len(self.capabilities)
        return build_tables(
            n,
            self._desc,
            labelled,
            exact_below=int(self.options["exact_below"]),
            documents=documents,
        )

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
            labelled=(np.zeros((0, dim), np.float32), NONE),
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
        data = Labelled(vectors, texts, owners, pools)
        query_of = np.repeat(np.arange(len(labelled)), [o.size for o in owners])
        row_owner = np.concatenate([NONE, *owners]).astype(np.int64)

        def rows(train: Sequence[int], cold: set[int]) -> tuple[Matrix, Ints, list[str]]:
            keep = np.isin(query_of, np.asarray(train, dtype=np.int64))
            keep &= ~np.isin(row_owner, np.asarray(sorted(cold), dtype=np.int64))
            return vectors[query_of[keep]], row_owner[keep], [texts[q] for q in query_of[keep]]

        def build(train: Sequence[int], cold: set[int]) -> Tables:
            matrix, owner, row_texts = rows(train, cold)
            return self._build((matrix, owner), row_texts)

        fitted = calibrate(data, build, row_owner.tolist(), self.method, self.options)
        self.shift, self.threshold = fitted.shift, fitted.threshold
        matrix, owner, row_texts = rows(range(len(labelled)), set())
        self._labelled, self._labelled_texts = (matrix, owner), row_texts
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

    def _shortlist(self, vector: Matrix, top_k: int) -> Ints:
        fetch = max(64, 8 * top_k)
        near = self.tables.desc.owners[self.tables.desc.nearest(vector, fetch)]
        k = int(self.options["k"])
        votes = self.tables.labelled.owners[self.tables.labelled.nearest(vector, 4 * k)]
        return np.unique(np.concatenate([near, votes]))

    def _narrow(self, vector: Matrix, pool: Ints | None, top_k: int) -> Ints:
        """The capabilities to score: the pool, or a shortlist of it where the pool is big."""
        size = len(self.capabilities) if pool is None else pool.size
        if not self.tables.desc.approximate or size < int(self.options["exact_below"]):
            return np.arange(size, dtype=np.int64) if pool is None else pool
        shortlist = self._shortlist(vector, top_k)
        if pool is None:
            return shortlist
        kept = shortlist[np.isin(shortlist, pool)]
        return kept if kept.size >= top_k else pool  # too few allowed: scan the allowed set

    def route(
        self,
        vector: np.ndarray,
        text: str,
        *,
        top_k: int = 5,
        candidates: Sequence[str] | None = None,
        allowed: set[str] | None = None,
    ) -> CapabilityDecision:
        """Capabilities for one request, best first (the pool is filtered before ranking)."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        caps = self._narrow(query, self._pool(candidates, allowed), top_k)
        if not caps.size:
            return CapabilityDecision([], True, self._why(0, None))
        p = parts(self.tables, query[None, :], caps, self.options, [text])
        return self._decide(combine(self.method, p, self.shift, self.options)[0], caps, top_k)

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
            chunk = list(texts[start : start + 512])
            p = parts(self.tables, matrix[start : start + 512], caps, self.options, chunk)
            scores = combine(self.method, p, self.shift, self.options)
            out.extend(self._decide(row, caps, top_k) for row in scores)
        return out

    def _why(self, pool: int, top: float | None) -> dict[str, object]:
        threshold = None if self.threshold == NEVER else self.threshold
        return {
            "method": self.method,
            "threshold": threshold,
            "shift": self.shift,
            "pool": pool,
            "top_score": top,
        }

    def _decide(self, scores: np.ndarray, caps: Ints, top_k: int) -> CapabilityDecision:
        order = np.argsort(-scores, kind="stable")
        ranked: list[Ranked] = []
        seen: set[str] = set()
        for j in order:
            cap = self.capabilities[int(caps[j])]
            if cap.id not in seen:
                seen.add(cap.id)
                ranked.append(Ranked(cap.id, cap.version, float(scores[j])))
            if len(ranked) == top_k:
                break
        top = float(scores[order[0]])
        return CapabilityDecision(ranked, top < self.threshold, self._why(caps.size, top))

    def add(self, capabilities: Sequence[Capability], embed: Embed) -> CapabilityRouter:
        """Register capabilities, routable at once from their descriptions (no refit)."""
        clash = [c.key for c in capabilities if c.key in self._position]
        if clash:
            raise InputError(f"capabilities already registered: {clash}")
        first = len(self.capabilities)
        vectors, owners = description_rows(capabilities, embed, first)
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
            "embedder_name": self.embedder_name,
            "dim": self.dim,
            "method": self.method,
            "options": self.options,
            "shift": self.shift,
            "threshold": None if self.threshold == NEVER else self.threshold,
            "capabilities": [c.model_dump(mode="json") for c in self.capabilities],
            "labelled_texts": self._labelled_texts,
        }
        arrays: dict[str, np.ndarray] = {
            "desc_vectors": self._desc[0],
            "desc_owners": self._desc[1],
            "labelled_vectors": self._labelled[0],
            "labelled_owners": self._labelled[1],
        }
        return artifact.write(directory, header, arrays)

    @classmethod
    def load(
        cls, directory: str | Path, *, embedder_name: str | None = None, dim: int | None = None
    ) -> CapabilityRouter:
        """Read an artifact; a different embedder name or dimension is an InputError."""
        header, arrays = artifact.read(directory)
        artifact.check_embedder(header, embedder_name, dim, str(directory))
        threshold = header["threshold"]
        return cls(
            [Capability.model_validate(c) for c in header["capabilities"]],
            embedder_name=header["embedder_name"],
            dim=int(header["dim"]),
            method=header["method"],
            options=header["options"],
            desc=(arrays["desc_vectors"], arrays["desc_owners"]),
            labelled=(arrays["labelled_vectors"], arrays["labelled_owners"]),
            labelled_texts=header["labelled_texts"],
            shift=float(header["shift"]),
            threshold=NEVER if threshold is None else float(threshold),
        )
