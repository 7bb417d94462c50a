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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from orchestrator.testing.replies import Reply, Request, Responder, completion, stream_events


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
            self._send(200, json.dumps(completion(request, reply)), reply.headers)

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
        for n, event in enumerate(stream_events(request, reply)):
            if reply.truncate_stream_after is not None and n >= reply.truncate_stream_after:
                self.wfile.flush()
                self.close_connection = True  # no terminating chunk: a truncated body
                return
            data = event.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.write(b"0\r\n\r\n")
