import numpy as np
import pytest
from support import CountingEmbedder

from orchestrator.embeddings.embedders import CachedEmbedder, HashingEmbedder, make_embedder
from orchestrator.errors import ConfigError


def test_hashing_embedder_is_deterministic_and_normalised():
    embedder = HashingEmbedder(128)
    a = embedder.embed(["Alan Turing studied at Cambridge", "Harvard was founded in 1636"])
    b = HashingEmbedder(128).embed(["Alan Turing studied at Cambridge"])
    assert a.shape == (2, 128) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert np.array_equal(a[0], b[0])
    assert float(a[0] @ a[1]) < 0.9


def test_cache_embeds_each_text_once():
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner)
    first = cached.embed(["a", "b", "a"])
    second = cached.embed(["b", "c"])
    assert inner.seen == ["a", "b", "c"]
    assert np.array_equal(first[0], first[2]) and np.array_equal(first[1], second[0])
    assert cached.embed([]).shape == (0, 16)


def test_unknown_embedder_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown embedder 'nope'"):
        make_embedder("nope")


@pytest.mark.slow
def test_real_minilm_embedder_offline():
    embedder = make_embedder("all-MiniLM-L6-v2")
    vectors = embedder.embed(
        [
            "Where did Alan Turing study?",
            "Alan Turing's university",
            "How many legs does a spider have?",
        ]
    )
    assert vectors.shape == (3, 384) and embedder.dim == 384 and embedder.name == "all-MiniLM-L6-v2"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
