"""Where an evaluation's questions run: in this process (`local`) or as Ray tasks (`ray`).

The Ray executor splits the questions still to answer into shards, one Ray task each. A
worker rebuilds the harness from the config, the embedder's name and the router, answers its
shard with the same code and seeds as the local executor, and sends each row to the driver
through a Ray queue as soon as it is scored. The driver alone appends to results.jsonl, so
resumability and the progress bar work as they do locally. Ray is imported lazily (the
`ray` extra); without an address a local runtime is started and stopped again.

Workers are fresh processes: an in-process engine registered in the driver (the scripted
fake, say) is not there. `setup`, an import path `module:function`, is called in the driver
and in each worker before any model is built to register it."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.errors import ConfigError, OrchestratorError
from orchestrator.eval.configurations import Configuration
from orchestrator.eval.harness import Harness, ResultsLog, RowHook
from orchestrator.llm.local_engine import THREADS_ENV, usable_cpus

if TYPE_CHECKING:
    from orchestrator.config import Config
    from orchestrator.protocols import Router
    from orchestrator.qa.data import QARecord

Key = tuple[str, str, str]
WORKER_ENV = (
    "LITELLM_LOCAL_MODEL_COST_MAP",
    "HF_HUB_OFFLINE",
    "ORCHESTRATOR_HOME",
    "ORCHESTRATOR_CACHE_DIR",
    THREADS_ENV,
)


class Executor(Protocol):
    async def run(
        self,
        harness: Harness,
        questions: Sequence[QARecord],
        configurations: Sequence[Configuration],
        log: ResultsLog,
        on_row: RowHook | None = None,
    ) -> int: ...


class LocalExecutor:
    """Everything in this process: `Harness.run` as it is."""

    async def run(
        self,
        harness: Harness,
        questions: Sequence[QARecord],
        configurations: Sequence[Configuration],
        log: ResultsLog,
        on_row: RowHook | None = None,
    ) -> int:
        return await harness.run(questions, configurations, log, on_row)


def call_setup(path: str | None) -> None:
    """Import `module:function` (from PYTHONPATH or the current directory) and call it."""
    if not path:
        return
    if os.getcwd() not in sys.path:  # as `python -m` would; console scripts leave it out
        sys.path.append(os.getcwd())
    module, sep, name = path.partition(":")
    try:
        function = getattr(importlib.import_module(module), name) if sep and name else None
    except ImportError as exc:
        raise ConfigError(f"setup {path!r}: cannot import {module} ({exc})") from None
    if not callable(function):
        raise ConfigError(f"setup {path!r} is not MODULE:FUNCTION naming a function")
    function()


def make_executor(kind: str, address: str | None = None, setup: str | None = None) -> Executor:
    """The executor for `--executor`; `setup` runs here at once (and in each Ray worker)."""
    if address and kind != "ray":
        raise ConfigError("--address only applies with --executor ray")
    call_setup(setup)
    if kind == "local":
        return LocalExecutor()
    if kind == "ray":
        return RayExecutor(address, setup)
    raise ConfigError(f"unknown executor {kind!r}; known: local, ray")


@dataclass(frozen=True)
class Shard:
    """Everything a worker needs to rebuild the harness and answer its questions."""

    config: Config
    embedder: str
    router: Router | None
    concurrency: int
    share_calls: bool
    questions: list[QARecord]
    configurations: list[Configuration]
    done: frozenset[Key]
    setup: str | None


class QueueLog(ResultsLog):
    """A worker's view of results.jsonl: what was done before, and a queue to the driver."""

    def __init__(self, queue: Any, done: frozenset[Key]) -> None:
        super().__init__(os.devnull)
        self.queue, self._done = queue, done

    def rows(self) -> list[dict[str, Any]]:
        return []

    def done(self) -> set[Key]:
        return set(self._done)

    def append(self, row: dict[str, Any]) -> None:
        self.queue.put(row)


def run_shard(shard: Shard, queue: Any) -> int:
    """The Ray task: answer one shard, each row put on `queue` as soon as it is scored."""
    from orchestrator.embeddings.embedders import make_embedder

    call_setup(shard.setup)
    harness = Harness(
        shard.config,
        make_embedder(shard.embedder),
        shard.router,
        shard.concurrency,
        shard.share_calls,
    )
    log = QueueLog(queue, shard.done)
    return asyncio.run(harness.run(shard.questions, shard.configurations, log))


def split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """Contiguous, near-equal, non-empty chunks, in order."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [list(items[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray: pip install 'orchestrator[ray]'") from None
    return ray


class RayExecutor:
    """Shards of questions as Ray tasks (one CPU each) on a cluster at `address`, or on a
    local runtime of `num_cpus` CPUs (default: every CPU this process may use) started for
    the run."""

    def __init__(
        self,
        address: str | None = None,
        setup: str | None = None,
        *,
        num_cpus: int | None = None,
        shards_per_cpu: int = 2,
        poll_s: float = 0.05,
    ) -> None:
        self.address, self.setup, self.num_cpus = address, setup, num_cpus or usable_cpus()
        self.shards_per_cpu, self.poll_s = shards_per_cpu, poll_s

    async def run(
        self,
        harness: Harness,
        questions: Sequence[QARecord],
        configurations: Sequence[Configuration],
        log: ResultsLog,
        on_row: RowHook | None = None,
    ) -> int:
        """Answer every (question, configuration) pair not yet in `log`; rows are appended
        by this process as workers score them. Returns the number of rows written."""
        ray = _ray()
        done = frozenset(log.done())
        todo = [
            q
            for q in questions
            if any((q.dataset, q.id, c.key) not in done for c in configurations)
        ]
        for conf in configurations:
            harness.orchestrator(conf)  # bad graphs and models fail before any task starts
        if not todo:
            return 0
        owned = self._connect(ray, harness.config)
        try:
            shards = split(todo, self.shards_per_cpu * _cpus(ray))
            specs = [self._shard(harness, s, configurations, done) for s in shards]
            return await self._dispatch(ray, specs, log, on_row)
        finally:
            if owned:
                ray.shutdown()

    def _connect(self, ray: Any, config: Config) -> bool:
        """Join the cluster (or start a local runtime); True when this call started it."""
        if ray.is_initialized():
            return False
        ray.init(
            address=self.address,
            num_cpus=None if self.address else self.num_cpus,
            include_dashboard=False,
            runtime_env={"env_vars": worker_env(config, self.address)},
            log_to_driver=False,
        )
        return True

    def _shard(
        self,
        harness: Harness,
        questions: list[QARecord],
        configurations: Sequence[Configuration],
        done: frozenset[Key],
    ) -> Shard:
        return Shard(
            harness.config,
            harness.embedder.name,
            harness.router,
            harness.concurrency,
            harness.shared is not None,
            questions,
            list(configurations),
            done,
            self.setup,
        )

    async def _dispatch(
        self, ray: Any, shards: list[Shard], log: ResultsLog, on_row: RowHook | None
    ) -> int:
        from ray.util.queue import Queue

        queue = Queue()
        task = ray.remote(num_cpus=1, max_retries=0)(run_shard)
        pending = [task.remote(shard, queue) for shard in shards]
        written = 0
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=len(pending), timeout=0)
                written += _drain(queue, log, on_row)
                _raise_failed(ray, ready)
                if pending:
                    await asyncio.sleep(self.poll_s)
            return written + _drain(queue, log, on_row)
        finally:
            for ref in pending:  # a failure, or the driver was interrupted
                ray.cancel(ref, force=True)
            queue.shutdown()


def worker_env(config: Config, address: str | None) -> dict[str, str]:
    """What a worker inherits from the driver: the offline switches, the orchestrator's
    folders, the API keys the config names, and, on a local runtime, the driver's import
    path. A task holds one CPU, so its local models run on one thread unless
    `ORCHESTRATOR_THREADS` says otherwise."""
    names = [*WORKER_ENV, *(m.api_key_env for m in config.models if m.api_key_env)]
    env = {k: os.environ[k] for k in names if k in os.environ}
    env.setdefault(THREADS_ENV, "1")
    if address is None:  # local workers can import what the driver's cwd holds
        path = [os.getcwd(), os.environ.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    return env


def _cpus(ray: Any) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _drain(queue: Any, log: ResultsLog, on_row: RowHook | None) -> int:
    """Append the rows workers have sent so far; each counts on the progress bar."""
    size = queue.qsize()
    rows = queue.get_nowait_batch(size) if size else []
    for row in rows:
        log.append(row)
        if on_row is not None:
            on_row(row)
    return len(rows)


def _raise_failed(ray: Any, finished: list[Any]) -> None:
    for ref in finished:
        try:
            ray.get(ref)
        except Exception as exc:
            message = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            raise OrchestratorError(f"a Ray shard failed: {message}") from None
