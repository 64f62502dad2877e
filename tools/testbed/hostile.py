"""A hostile or broken CA: a loopback HTTPS proxy in front of Pebble that rewrites chosen answers.

Pebble validates for real and answers by the book. This proxy, on 127.0.0.1, forwards every request
with the Host header unchanged (so Pebble builds its URLs on the proxy's address, and the JWS `url`
the client signs matches what Pebble checks), and lets a test change what comes back, the way a
rate-limiting, overloaded, broken or malicious CA would:

- answer with a status of its own (throttle(): 429/503 with a Retry-After; answer(): anything),
- rewrite the upstream answer (rewrite(): swap a certificate, break a chain or a JSON field),
- send the upstream answer a byte at a time (drip()), reset the connection (reset()),
- redirect elsewhere (answer(302, Location=...)).

Each Rule applies to its first `times` matching requests. Every request is recorded with its time.
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import socket
import ssl
import struct
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


@dataclass
class Upstream:
    """An answer: Pebble's, or the one a rule makes of it."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Seen:
    method: str
    path: str
    status: int
    at: float


class Exchange:
    """One request as a rule sees it: its method, path and body, and what it can do about it."""

    def __init__(self, proxy: "Hostile", handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        self.proxy, self.handler, self.body = proxy, handler, body
        self.method, self.path = handler.command, handler.path

    def forward(self) -> Upstream:
        headers = {k: v for k, v in self.handler.headers.items() if k.lower() not in HOP_BY_HOP}
        request = urllib.request.Request(self.proxy.upstream + self.path, data=self.body or None,
                                         method=self.method, headers=headers)
        try:
            with urllib.request.urlopen(request, context=self.proxy._upstream_tls, timeout=30) as response:
                answer = Upstream(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            answer = Upstream(error.code, dict(error.headers.items()), error.read())
        dropped = {h.lower() for h in self.proxy.drop_headers}
        answer.headers = {k: v for k, v in answer.headers.items() if k.lower() not in dropped}
        return answer

    def send(self, answer: Upstream, drip: float = 0.0) -> None:
        self.proxy.seen.append(Seen(self.method, self.path, answer.status, time.monotonic()))
        handler = self.handler
        handler.send_response(answer.status)
        for name, value in answer.headers.items():
            if name.lower() not in HOP_BY_HOP:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        if self.method == "HEAD":
            return
        try:
            if not drip:
                handler.wfile.write(answer.body)
                return
            for i in range(len(answer.body)):
                handler.wfile.write(answer.body[i:i + 1])
                handler.wfile.flush()
                time.sleep(drip)
        except OSError:  # the client gave up: that is what a drip test wants
            handler.close_connection = True

    def reset(self) -> None:
        """Drop the connection without an answer (RST), as an overloaded balancer does."""
        self.proxy.seen.append(Seen(self.method, self.path, 0, time.monotonic()))
        raw = self.handler.connection
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        self.handler.close_connection = True

    def jws_payload(self) -> dict:
        """The JSON payload of the JWS this request carries ({} for POST-as-GET)."""
        payload = json.loads(self.body)["payload"]
        return json.loads(_b64decode(payload)) if payload else {}


Action = Callable[[Exchange], None]


@dataclass
class Rule:
    method: str
    path: str  # a prefix of the request path, such as "/order-plz"
    act: Action
    times: int = 1


def answer(status: int, body: bytes = b"", **headers: str) -> Action:
    return lambda exchange: exchange.send(Upstream(status, headers, body))


def throttle(status: int, retry_after: str | None) -> Action:
    """A rate-limiting or busy CA's answer: a problem document, with a Retry-After when given."""
    problem = json.dumps({"type": "urn:ietf:params:acme:error:rateLimited",
                          "detail": f"the test proxy answers {status}"}).encode()
    headers = {"Content-Type": "application/problem+json"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return lambda exchange: exchange.send(Upstream(status, headers, problem))


def rewrite(change: Callable[[Upstream, Exchange], Upstream]) -> Action:
    return lambda exchange: exchange.send(change(exchange.forward(), exchange))


def drip(seconds_per_byte: float) -> Action:
    return lambda exchange: exchange.send(exchange.forward(), drip=seconds_per_byte)


def reset() -> Action:
    return lambda exchange: exchange.reset()


def record(into: list[Exchange]) -> Action:
    """Forward as is, and keep the exchange (for example to read a finalize request's CSR)."""
    def act(exchange: Exchange) -> None:
        into.append(exchange)
        exchange.send(exchange.forward())
    return act


@dataclass
class Hostile:
    """Start with `with Hostile(upstream, port, cert, key, ca_bundle) as proxy:`; set proxy.rules."""

    upstream: str  # https://127.0.0.1:14000
    port: int
    cert: str
    key: str
    ca_bundle: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    drop_headers: set[str] = field(default_factory=set)  # removed from every answer that is forwarded

    @property
    def directory_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/dir"

    def __enter__(self) -> "Hostile":
        proxy = self
        self._upstream_tls = ssl.create_default_context(cafile=self.ca_bundle)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                exchange = Exchange(proxy, self, body)
                rule = proxy._take_rule(self.command, self.path)
                if rule is not None:
                    rule.act(exchange)
                else:
                    exchange.send(exchange.forward())

            do_GET = do_POST = do_HEAD = _handle

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

    def _take_rule(self, method: str, path: str) -> Rule | None:
        for rule in self.rules:
            if rule.times > 0 and rule.method == method and path.startswith(rule.path):
                rule.times -= 1
                return rule
        return None

    def requests_to(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(path)]


# Certificates a hostile CA might hand out ---------------------------------------------------------


class Forger:
    """A CA of the proxy's own, to make certificates that are well-formed but wrong."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hostile Test CA")])
        self.ca = self._sign(self.name, self.key.public_key(), [], ca=True)

    def chain(self, public_key, names: list[str], not_before: datetime.datetime | None = None,
              lifetime: datetime.timedelta = datetime.timedelta(days=30)) -> bytes:
        """A leaf for `names` and `public_key` (valid from `not_before`, for `lifetime`), followed
        by this CA's certificate."""
        leaf = self._sign(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]), public_key, names,
                          not_before=not_before, lifetime=lifetime)
        return pem(leaf) + pem(self.ca)

    def impostor_of(self, cert: x509.Certificate) -> x509.Certificate:
        """A CA certificate with the same subject as `cert`, but another key."""
        return self._sign(cert.subject, ec.generate_private_key(ec.SECP256R1()).public_key(), [], ca=True)

    def _sign(self, subject: x509.Name, public_key, names: list[str], ca: bool = False,
              not_before: datetime.datetime | None = None,
              lifetime: datetime.timedelta = datetime.timedelta(days=3650)) -> x509.Certificate:
        start = not_before or datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.name).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(start)
                   .not_valid_after(start + lifetime)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                                            critical=False)
        return builder.sign(self.key, hashes.SHA256())


def csr_public_key(finalize: Exchange):
    """The public key of the CSR in a finalize request."""
    return csr_of(finalize).public_key()


def csr_of(finalize: Exchange) -> x509.CertificateSigningRequest:
    return x509.load_der_x509_csr(_b64decode(finalize.jws_payload()["csr"]))


def certificates(chain_pem: bytes) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(b"-----BEGIN CERTIFICATE-----" + block)
            for block in chain_pem.split(b"-----BEGIN CERTIFICATE-----")[1:]]


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
