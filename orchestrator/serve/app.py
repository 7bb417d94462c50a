"""The OpenAI-compatible HTTP server (FastAPI): `POST /v1/chat/completions` where `model`
names a policy (`orchestrator/wide`, `orchestrator/wide?alpha=0.4&width=4`, …) or a pool
model; `GET /v1/models`, `GET /health`, `GET /ready`. See docs/server.md.

    app = create_app("config.toml")            # or create_app(lambda graph: Orchestrator(...))
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException
from starlette.types import Receive

from orchestrator.api import EventHandler, check_question, new_run_id
from orchestrator.errors import OrchestratorError
from orchestrator.serve.passthrough import run_passthrough
from orchestrator.serve.requests import (
    POLICY_PREFIX,
    ApiError,
    ChatRequest,
    Policy,
    ServerLimits,
    parse_request,
    resolve_policy,
    split_messages,
)
from orchestrator.serve.runs import (
    ConfigSource,
    OrchestratorFactory,
    Outcome,
    Service,
    cost_headers,
    describe_error,
    run_policy,
    shared_factory,
)
from orchestrator.serve.stream import ChunkWriter, completion_body, stream_run
from orchestrator.serve.structured import structured_outcome

log = logging.getLogger("orchestrator.server")
DEFAULT_GRAPHS = ("wide", "deep", "single")


@dataclass
class ServerState:
    """What the routes share: the limits, and the service once it has loaded."""

    limits: ServerLimits
    service: Service | None = None
    error: str | None = None
    started: int = field(default_factory=lambda: int(time.time()))

    def ready(self) -> Service:
        if self.service is None:
            detail = f"failed to load: {self.error}" if self.error else "still loading"
            raise ApiError(503, f"not ready: {detail}", "server_error", None, "not_ready")
        return self.service


def create_app(
    source: ConfigSource | OrchestratorFactory = None,
    *,
    limits: ServerLimits | None = None,
    graphs: Sequence[str] = DEFAULT_GRAPHS,
) -> FastAPI:
    """The app. `source` is a Config, a TOML path, None (the embedded default) or a factory
    `graph name -> Orchestrator`. Models and router load in the background after startup;
    `/ready` answers 200 once they have, `/health` at once."""
    factory = source if callable(source) else shared_factory(source)
    state = ServerState(limits or ServerLimits())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(_load(state, factory, list(graphs)))
        yield
        loading.cancel()

    app = FastAPI(title="orchestrator", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.orchestrator = state
    _error_handlers(app)
    _routes(app, state)
    _chat_route(app, state)
    return app


async def _load(state: ServerState, factory: OrchestratorFactory, graphs: list[str]) -> None:
    try:
        state.service = await asyncio.to_thread(Service.build, factory, graphs)
    except Exception as exc:  # reported by /ready; the process stays up for /health
        state.error = f"{type(exc).__name__}: {exc}"
        log.error("orchestrator server not ready: %s", state.error)


def _error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return await api_error(request, ApiError(exc.status_code, str(exc.detail), kind))

    async def run_error(request: Request, exc: Exception) -> Response:
        status, kind, code = describe_error(exc)
        message = str(exc) if status < 500 or kind != "server_error" else "internal error"
        return await api_error(request, ApiError(status, message, kind, None, code))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(OrchestratorError, run_error)
    app.add_exception_handler(Exception, run_error)


def _routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> Response:
        service = state.ready()
        return JSONResponse(
            {
                "status": "ready",
                "policies": _policies(service),
                "models": service.pool,
                "router": service.router_name,
                "unavailable": service.skipped,
            }
        )

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        service = state.ready()
        data = [
            {"id": m, "object": "model", "created": state.started, "owned_by": owner}
            for owner, ids in (("orchestrator", _policies(service)), ("pool", service.pool))
            for m in ids
        ]
        return {"object": "list", "data": data}


def _chat_route(app: FastAPI, state: ServerState) -> None:
    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        service = state.ready()
        body = parse_request(await read_json(request, state.limits.max_body_bytes), state.limits)
        policy = resolve_policy(body.model, service.graphs, service.pool, state.limits)
        start = _starter(service, policy, body, state.limits.approve_tools)
        run_id, created = new_run_id(), int(time.time())
        if body.stream:
            chunks = ChunkWriter(run_id, created, policy.model or policy.name)
            frames = stream_run(
                lambda on_event: start(run_id, on_event), chunks, body.include_usage
            )
            headers = {"x-orchestrator-run-id": run_id, "cache-control": "no-cache"}
            return StreamingResponse(frames, media_type="text/event-stream", headers=headers)
        outcome = await until_disconnected(request.receive, start(run_id, None))
        return JSONResponse(completion_body(outcome, created), headers=cost_headers(outcome))


def _policies(service: Service) -> list[str]:
    return [POLICY_PREFIX + g for g in service.graphs]


Starter = Callable[[str, EventHandler | None], Awaitable[Outcome]]


def _starter(service: Service, policy: Policy, body: ChatRequest, approve: bool) -> Starter:
    """The run a request asks for, validated now so that bad input is a 400 before any
    stream starts."""
    if policy.graph is None:
        return lambda run_id, on_event: run_passthrough(service, policy, body, run_id, on_event)
    if body.wants_tools:
        raise ApiError(
            400,
            f"{policy.name} does not return tool calls (a policy answers in text, or in JSON "
            "with response_format); send tools to a pass-through model id instead: "
            + ", ".join(service.pool),
            param="tools",
            code="tools_not_supported",
        )
    question, context = split_messages(body.messages)
    check_question(question, service.config, policy.width)

    async def start(run_id: str, on_event: EventHandler | None) -> Outcome:
        if body.wants_json and on_event is not None:  # the synthesis is not the JSON
            on_event = _without_tokens(on_event)
        run = (question, context, run_id, on_event)
        outcome = await run_policy(service, policy, body, *run, approve=approve)
        if body.wants_json:
            outcome = await structured_outcome(service, body, question, outcome)
        return outcome

    return start


def _without_tokens(on_event: EventHandler) -> EventHandler:
    """Progress events only: a policy answering in JSON streams no synthesis text."""

    def forward(event: dict[str, Any]) -> None:
        if event.get("event") != "token":
            on_event(event)

    return forward


async def read_json(request: Request, limit: int) -> Any:
    """The body as JSON, refused with 413 past `limit` bytes (declared or actually sent)."""
    too_large = ApiError(413, f"the request body is over {limit} bytes", code="body_too_large")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError(400, "the request body is not valid JSON", code="invalid_json") from None


async def until_disconnected(receive: Receive, work: Awaitable[Outcome]) -> Outcome:
    """Await `work`, cancelling it (and so its pending model calls) if the client leaves."""
    run = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnect(receive))
    try:
        done, _ = await asyncio.wait({run, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        run.cancel()  # a no-op once it has finished
    if run in done:
        return run.result()
    raise ApiError(499, "the client closed the request", code="client_closed")


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
