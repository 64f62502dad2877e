"""A reverse proxy in front of Pebble that answers chosen requests with 429 or 503 first.

Pebble has no rate limits of its own. This proxy, on 127.0.0.1, forwards every request to Pebble
with the Host header unchanged, so Pebble builds its URLs (directory, orders, Location headers) on
the proxy's address and the client stays on it; the JWS `url` it signs then matches what Pebble
checks. Each fault answers its first `times` matching requests with `status` and a Retry-After, as
a busy or rate-limiting CA would, and the proxy records every request with its time.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


@dataclass
class Fault:
    method: str
    path: str  # a prefix of the request path, such as "/order-plz"
    status: int
    retry_after: str
    times: int = 1


@dataclass
class Seen:
    method: str
    path: str
    status: int
    at: float


@dataclass
class Throttle:
    """Start with `with Throttle(pebble, port, faults) as proxy:`; then use proxy.directory_url."""

    upstream: str  # https://127.0.0.1:14000
    port: int
    cert: str
    key: str
    ca_bundle: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    @property
    def directory_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/dir"

    def __enter__(self) -> "Throttle":
        proxy = self
        upstream_tls = ssl.create_default_context(cafile=self.ca_bundle)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._take_fault(self.command, self.path)
                if fault is not None:
                    problem = json.dumps({"type": "urn:ietf:params:acme:error:rateLimited",
                                          "detail": f"the test proxy answers {fault.status}"}).encode()
                    self._send(fault.status, {"Content-Type": "application/problem+json",
                                              "Retry-After": fault.retry_after}, problem)
                    return
                request = urllib.request.Request(proxy.upstream + self.path, data=body or None, method=self.command,
                                                 headers={k: v for k, v in self.headers.items()
                                                          if k.lower() not in HOP_BY_HOP})
                try:
                    with urllib.request.urlopen(request, context=upstream_tls, timeout=30) as response:
                        self._send(response.status, dict(response.headers.items()), response.read())
                except urllib.error.HTTPError as error:
                    self._send(error.code, dict(error.headers.items()), error.read())

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                proxy.seen.append(Seen(self.command, self.path, status, time.monotonic()))
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(self.cert, self.key)
        self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and path.startswith(fault.path):
                fault.times -= 1
                return fault
        return None

    def requests_to(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(path)]
