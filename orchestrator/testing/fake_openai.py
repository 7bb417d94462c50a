"""A fake OpenAI-compatible HTTP server on 127.0.0.1, for tests and benchmarks.

It is a real server (stdlib `http.server`, one thread per connection, ephemeral port), so
litellm reaches it as `openai/<name>` with `api_base=server.base_url` and the real HTTP
client, retries and timeouts are exercised. Each request is answered by the first of:
the `responder` (when it returns a Reply), the next scripted Reply, the default Reply.
Every request is recorded (path, headers, JSON body, arrival time).

    with FakeOpenAI() as server:
        server.script(Reply.error(429, retry_after=1), Reply.ok("Answer: 4"))
        ...  # point a model at server.base_url
        assert len(server.chat_requests) == 2
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted behaviour. Build it with the class methods."""

    status: int = 200
    text: str = "Answer: ok"
    finish_reason: str = "stop"
    prompt_tokens: int = 10
    completion_tokens: int = 5
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None  # sent verbatim instead of a completion (malformed bodies)
    empty_choices: bool = False
    truncate_stream_after: int | None = None  # SSE: drop the connection after n chunks

    @classmethod
    def ok(cls, text: str = "Answer: ok", **kw: Any) -> Reply:
        return cls(text=text, **kw)

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "scripted error",
        *,
        retry_after: float | None = None,
        delay_s: float = 0.0,
    ) -> Reply:
        body = {"error": {"message": message, "type": _error_type(status), "code": status}}
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return cls(status=status, raw_body=json.dumps(body), headers=headers, delay_s=delay_s)

    @classmethod
    def malformed(cls, body: str = '{"id": "chatcmpl-x", "choices": [') -> Reply:
        return cls(raw_body=body)

    @classmethod
    def no_choices(cls) -> Reply:
        return cls(empty_choices=True)

    @classmethod
    def length(cls, text: str = "Answer: cut off mid", **kw: Any) -> Reply:
        return cls(text=text, finish_reason="length", **kw)

    @classmethod
    def hang(cls, seconds: float = 60.0) -> Reply:
        return cls(delay_s=seconds)

    @classmethod
    def truncated_stream(cls, text: str = "Answer: never finished", after: int = 2) -> Reply:
        return cls(text=text, truncate_stream_after=after)


def _error_type(status: int) -> str:
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
    }.get(status, "server_error")


@dataclass(frozen=True)
class Request:
    """One request as it reached the server."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    received_at: float  # time.monotonic()

    @property
    def model(self) -> str:
        return str((self.body or {}).get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def system(self) -> str:
        return next((str(m["content"]) for m in self.messages if m["role"] == "system"), "")

    @property
    def prompt(self) -> str:
        return str(self.messages[-1]["content"]) if self.messages else ""

    def get(self, key: str) -> Any:
        """A field of the JSON body (seed, temperature, max_tokens, stream, ...)."""
        return (self.body or {}).get(key)


Responder = Callable[[Request], "Reply | None"]


class FakeOpenAI:
    """The server. Use as a context manager, or call start() and close()."""

    def __init__(
        self,
        default: Reply | None = None,
        responder: Responder | None = None,
        models: list[str] | None = None,
    ) -> None:
        self.default = default or Reply()
        self.responder = responder
        self.models = models or ["fake"]
        self.requests: list[Request] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _handler_class(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def script(self, *replies: Reply) -> None:
        """Queue replies, consumed one per chat request, first in first out."""
        with self._lock:
            self._script.extend(replies)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # wakes handlers sleeping in a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _choose(self, request: Request) -> Reply:
        chosen = self.responder(request) if self.responder else None
        if chosen is not None:
            return chosen
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is closing; False when it closed meanwhile."""
        return not self._closing.wait(seconds) if seconds > 0 else True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # close() never waits for a handler stuck in a delay
    request_queue_size = 1024  # many clients connect at once under load


def _handler_class(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        fake = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stalls
    fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._request(None)
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.fake.models]
            self._send(200, json.dumps({"object": "list", "data": data}))
        else:
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        request = self._request(body if isinstance(body, dict) else None)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
            return
        reply = self.fake._choose(request)
        if not self.fake._sleep(reply.delay_s):
            self.close_connection = True
            return
        if reply.raw_body is not None or reply.status != 200:
            self._send(reply.status, reply.raw_body or "{}", reply.headers)
        elif request.get("stream"):
            self._stream(request, reply)
        else:
            self._send(200, json.dumps(_completion(request, reply)), reply.headers)

    def _request(self, body: dict[str, Any] | None) -> Request:
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, self.path, headers, body, time.monotonic())
        self.fake._record(request)
        return request

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, request: Request, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for n, event in enumerate(_stream_events(request, reply)):
            if reply.truncate_stream_after is not None and n >= reply.truncate_stream_after:
                self.wfile.flush()
                self.close_connection = True  # no terminating chunk: a truncated body
                return
            data = event.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.write(b"0\r\n\r\n")


def _completion(request: Request, reply: Reply) -> dict[str, Any]:
    choices = (
        []
        if reply.empty_choices
        else [
            {
                "index": 0,
                "finish_reason": reply.finish_reason,
                "message": {"role": "assistant", "content": reply.text},
            }
        ]
    )
    usage = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": choices,
        "usage": usage,
    }


def _stream_events(request: Request, reply: Reply) -> list[str]:
    """SSE frames: one chunk per word, then the finish reason with usage, then [DONE]."""
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return f"data: {json.dumps({**base, 'choices': [choice], **extra})}\n\n"

    words = reply.text.split(" ")
    frames = [chunk({"role": "assistant", "content": ""})]
    frames += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
    frames.append(chunk({}, reply.finish_reason, usage=_completion(request, reply)["usage"]))
    return [*frames, "data: [DONE]\n\n"]
