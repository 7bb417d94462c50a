"""An on-disk embedding cache keyed by text hash, so re-running a fit or an evaluation does
not re-embed. Vectors are computed in batches; each batch lands in its own shard
(`<id>.npy` plus `<id>.keys`, the keys written last so a half-written shard is ignored),
under a folder named for the embedder."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from orchestrator.protocols import Embedder

Matrix = npt.NDArray[np.float32]
Progress = Callable[[int, int], None]


def default_cache_dir() -> Path:
    """`$ORCHESTRATOR_CACHE_DIR/embeddings`, else `~/.cache/orchestrator/embeddings`."""
    root = os.environ.get("ORCHESTRATOR_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "orchestrator"
    return base / "embeddings"


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class DiskCachedEmbedder:
    """Wraps an embedder; vectors persist under `cache_dir/<embedder name>/`."""

    def __init__(
        self,
        inner: Embedder,
        cache_dir: str | Path | None = None,
        batch_size: int = 256,
        progress: Progress | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", inner.name)
        self.folder = Path(cache_dir or default_cache_dir()) / safe
        self.batch_size = batch_size
        self.progress = progress

    def _load(self) -> dict[str, Matrix]:
        vectors: dict[str, Matrix] = {}
        if not self.folder.is_dir():
            return vectors
        for keys_file in sorted(self.folder.glob("*.keys")):
            try:
                keys = keys_file.read_text(encoding="ascii").split()
                matrix = np.load(keys_file.with_suffix(".npy"), allow_pickle=False)
            except (OSError, ValueError, EOFError):
                continue  # a damaged shard is recomputed, never trusted
            if matrix.ndim == 2 and matrix.shape[0] == len(keys):
                vectors.update(zip(keys, matrix.astype(np.float32), strict=True))
        return vectors

    def _store(self, keys: list[str], matrix: Matrix) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        shard = self.folder / uuid.uuid4().hex
        np.save(shard.with_suffix(".npy"), matrix.astype(np.float32))
        tmp = shard.with_suffix(".keys.tmp")
        tmp.write_text("\n".join(keys) + "\n", encoding="ascii")
        os.replace(tmp, shard.with_suffix(".keys"))

    def embed(self, texts: list[str]) -> Matrix:
        keys = [text_key(t) for t in texts]
        cached = self._load()
        todo = list(dict.fromkeys(k for k in keys if k not in cached))
        first_text = {k: t for k, t in zip(keys, texts, strict=True)}
        done = len(set(keys)) - len(todo)
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            matrix = self.inner.embed([first_text[k] for k in batch])
            self._store(batch, matrix)
            cached.update(zip(batch, matrix, strict=True))
            done += len(batch)
            if self.progress is not None:
                self.progress(done, len(set(keys)))
        self.dim = self.inner.dim if todo else self.dim
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.stack([cached[k] for k in keys]).astype(np.float32)
        self.dim = int(out.shape[1])
        return out
