"""Static word embeddings (WordLlama): a token-embedding lookup and average pool, about 100×
faster than MiniLM on a CPU. The PyPI package `wordllama` ships its weights and tokenizer,
so it loads offline; its loader finds the tokenizer only with `cache_dir` pointed at the
package folder, and downloads are disabled so a missing file fails instead of fetching."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

from orchestrator.errors import ConfigError, ModelPackageError

Matrix = npt.NDArray[np.float32]
# Matryoshka dimensions the shipped 256-d weights can be truncated to.
WORDLLAMA_DIMS = (64, 128, 256)


def _package_dir() -> Path:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise ModelPackageError("embedder 'wordllama' needs the package: pip install wordllama")
    return Path(next(iter(spec.submodule_search_locations)))


class WordLlamaEmbedder:
    """`wordllama-<dim>` (dim 64, 128 or 256): the l2_supercat model, L2-normalised."""

    def __init__(self, dim: int = 256, batch_size: int = 32) -> None:
        if dim not in WORDLLAMA_DIMS:
            raise ConfigError(f"wordllama dimension must be one of {WORDLLAMA_DIMS}, got {dim}")
        self.name = f"wordllama-{dim}"
        self.dim = dim
        self._batch_size = batch_size
        self._model: object | None = None

    def _load(self) -> object:
        if self._model is None:
            folder = _package_dir()
            from wordllama import WordLlama

            try:
                self._model = WordLlama.load(
                    config="l2_supercat",
                    dim=256,
                    trunc_dim=None if self.dim == 256 else self.dim,
                    cache_dir=folder,
                    disable_download=True,
                )
            except FileNotFoundError as exc:
                raise ModelPackageError(f"wordllama files missing in {folder}: {exc}") from None
        return self._model

    def embed(self, texts: list[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vectors = model.embed(  # type: ignore[attr-defined]
            texts, norm=False, batch_size=self._batch_size
        )
        out = np.nan_to_num(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def wordllama_dim(name: str) -> int | None:
    """The dimension if `name` names a WordLlama embedder (`wordllama` or `wordllama-<dim>`)."""
    match = re.fullmatch(r"wordllama(?:-(\d+))?", name)
    if match is None:
        return None
    return int(match.group(1) or 256)
