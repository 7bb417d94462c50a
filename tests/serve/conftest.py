"""The live server fixture: `create_app` on an ephemeral loopback port, stopped after the test."""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from orchestrator.serve.app import create_app

Serve = Callable[..., str]


class _Live:
    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, wait_ready: bool) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        while wait_ready and httpx.get(f"{base}/ready").status_code != 200:
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.02)
        return base

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start create_app(source, **kw) on an ephemeral loopback port; returns its base URL."""
    started: list[_Live] = []

    def start(source: Any = None, wait_ready: bool = True, **kw: Any) -> str:
        live = _Live(create_app(source, **kw))
        started.append(live)
        return live.start(wait_ready)

    yield start
    for live in started:
        live.stop()
