"""Limits and retries of the CA connection: tests plugins/module_utils/network.py.

The HTTP session is scripted (the network is what these tests fake around); the signing, nonce
handling and problem parsing in between are the library's, for real.
"""

from __future__ import annotations

import datetime
import io
import json
import time
from time import sleep as _real_sleep

import josepy as jose
import pytest
import requests
from acme import errors as acme_errors
from acme import messages
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.zerodowntime.acme.plugins.module_utils import network, problems

URL = "https://ca.test/order"
NONCE_URL = "https://ca.test/nonce"


class _Body(io.BytesIO):
    """A response body as urllib3 hands it out: read1() pieces, release_conn()."""

    def __init__(self, data: bytes, piece: int = 65536, delay: float = 0.0) -> None:
        super().__init__(data)
        self.piece, self.delay = piece, delay

    def read1(self, size: int = -1) -> bytes:
        if self.delay:
            _real_sleep(self.delay)
        return super().read1(min(size, self.piece))

    def release_conn(self) -> None:
        pass


def _response(status: int, body: dict | bytes | None = None, *, piece: int = 65536, delay: float = 0.0,
              **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    response.raw = _Body(data, piece, delay)
    response.headers["Replay-Nonce"] = jose.b64encode(b"nonce-%d" % id(response)).decode()
    if isinstance(body, dict):
        response.headers["Content-Type"] = "application/problem+json" if status >= 400 else "application/json"
    response.headers.update(headers)
    return response


def _problem(status: int, code: str, **headers: str) -> requests.Response:
    return _response(status, {"type": f"urn:ietf:params:acme:error:{code}", "detail": code}, **headers)


class _Session:
    """Answers each GET or POST with the next scripted answer (a response, or an exception to
    raise); a HEAD for a nonce always works. Records what was asked."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests: list[tuple[str, str, bytes | None]] = []
        self.kwargs: list[dict] = []

    def request(self, method, url, *args, **kwargs):
        if method == "HEAD":
            return _response(200)
        self.requests.append((method, url, kwargs.get("data")))
        self.kwargs.append(kwargs)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def sleeps(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(network.time, "sleep", waited.append)
    return waited


def _network(answers, deadline: float | None = None) -> tuple[network.Network, _Session]:
    key = jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))
    net = network.Network(key=key, alg=jose.ES256, user_agent="test", deadline=deadline)
    session = _Session(answers)
    net.session = session
    return net, session


def _post(net: network.Network) -> requests.Response:
    return net.post(URL, messages.NewOrder(identifiers=(messages.Identifier(typ=messages.IDENTIFIER_FQDN, value="a.test"),)), new_nonce_url=NONCE_URL)


def test_several_rejected_nonces_in_a_row_are_survived(sleeps):
    net, session = _network([_problem(400, "badNonce") for _i in range(3)] + [_response(201, {})])
    assert _post(net).status_code == 201
    assert [m for m, _u, _d in session.requests] == ["POST"] * 4
    assert sleeps == []


def test_rejected_nonces_are_retried_a_bounded_number_of_times(sleeps):
    net, session = _network([_problem(400, "badNonce") for _i in range(network.BAD_NONCE_RETRIES + 1)])
    with pytest.raises(messages.Error, match="badNonce"):
        _post(net)
    assert len(session.requests) == network.BAD_NONCE_RETRIES + 1


def test_other_problems_are_not_retried(sleeps):
    net, session = _network([_problem(403, "unauthorized"), _response(201, {})])
    with pytest.raises(messages.Error, match="unauthorized"):
        _post(net)
    assert len(session.requests) == 1


def test_a_rate_limited_post_waits_its_retry_after_and_is_signed_anew(sleeps):
    net, session = _network([_problem(429, "rateLimited", **{"Retry-After": "2"}), _response(201, {})])
    assert _post(net).status_code == 201
    assert sleeps == [2.0]
    first, second = session.requests[0][2], session.requests[1][2]
    assert first != second  # a fresh nonce, hence a new signature
    assert net.throttled_until is None  # the CA answered in the end


def test_a_busy_server_on_get_is_waited_out_with_an_http_date(sleeps):
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
    http_date = soon.strftime("%a, %d %b %Y %H:%M:%S GMT")
    net, session = _network([_response(503, None, **{"Retry-After": http_date}), _response(200, {"ok": True})])
    assert net.get(URL).json() == {"ok": True}
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


@pytest.mark.parametrize("value", [None, "soon", "-5", "１２", "99999999999999999999999999999999999"])
def test_a_503_with_no_usable_short_retry_after_never_crashes(sleeps, value):
    headers = {"Retry-After": value} if value is not None else {}
    net, _session = _network([_response(503, None, **headers), _response(200, {})])
    if value and value.startswith("9"):  # clamped to a day: longer than a run waits, so no retry
        with pytest.raises(acme_errors.ClientError):
            net.get(URL)
        assert sleeps == [] and net.throttled_until is not None
        return
    net.get(URL)
    assert sleeps == [network.PAUSES[0].total_seconds()]


def test_a_long_retry_after_fails_at_once_and_says_until_when(sleeps):
    net, session = _network([_problem(429, "rateLimited", **{"Retry-After": "3600"})])
    with pytest.raises(messages.Error, match="rateLimited"):
        _post(net)
    assert sleeps == [] and len(session.requests) == 1
    wait = net.throttled_until - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(minutes=59) < wait <= datetime.timedelta(hours=1)


def test_throttling_retries_are_bounded(sleeps):
    busy = [_response(503, None, **{"Retry-After": "1"}) for _i in range(network.RETRIES + 1)]
    net, session = _network(busy)
    with pytest.raises(acme_errors.ClientError):
        net.get(URL)
    assert len(sleeps) == network.RETRIES
    assert len(session.requests) == network.RETRIES + 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_on_get_are_retried_with_growing_pauses_then_given_up(sleeps, status):
    net, session = _network([_response(status, b"<html>bad gateway</html>") for _i in range(network.RETRIES + 1)])
    with pytest.raises(acme_errors.ClientError):
        net.get(URL)
    assert sleeps == [p.total_seconds() for p in network.PAUSES]
    assert len(session.requests) == network.RETRIES + 1


def test_a_server_error_on_post_is_retried_signed_anew(sleeps):
    net, session = _network([_response(502, b"bad gateway"), _problem(500, "serverInternal"), _response(201, {})])
    assert _post(net).status_code == 201
    assert sleeps == [network.PAUSES[0].total_seconds(), network.PAUSES[1].total_seconds()]
    assert len({data for _m, _u, data in session.requests}) == 3


@pytest.mark.parametrize("error", [requests.exceptions.ConnectionError("reset by peer"),
                                   requests.exceptions.ReadTimeout("read timed out")])
def test_broken_connections_are_retried_on_get_and_post(sleeps, error):
    net, session = _network([error, _response(200, {"ok": True})])
    assert net.get(URL).json() == {"ok": True}
    net, session = _network([error, _response(201, {})])
    assert _post(net).status_code == 201
    assert session.requests[0][2] != session.requests[1][2]


def test_a_retry_that_would_pass_the_deadline_is_not_made(sleeps):
    net, session = _network([_response(503, None, **{"Retry-After": "30"}), _response(200, {})],
                            deadline=time.monotonic() + 10)
    with pytest.raises(acme_errors.ClientError):
        net.get(URL)
    assert sleeps == [] and len(session.requests) == 1


def test_each_request_gets_the_time_left_of_the_run_at_most(sleeps):
    net, session = _network([_response(200, {})], deadline=time.monotonic() + 5)
    net.get(URL)
    connect, read = session.kwargs[0]["timeout"]
    assert 4 < read <= 5 and connect <= read and session.kwargs[0]["stream"] is True


def test_no_request_is_sent_once_the_deadline_has_passed(sleeps):
    net, session = _network([_response(200, {})], deadline=time.monotonic() - 1)
    with pytest.raises(problems.Refused, match="no time was left"):
        net.get(URL)
    assert session.requests == []


def test_a_body_that_drips_is_cut_off_at_the_deadline(sleeps, monkeypatch):
    monkeypatch.setattr(network, "NETWORK_TIMEOUT", 0.3)
    dripping = _response(200, b"x" * 1000, piece=1, delay=0.02)
    net, _session = _network([dripping])
    start = time.monotonic()
    with pytest.raises(problems.Refused, match="did not send its whole answer in time"):
        net.get(URL)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_the_limit_is_refused(sleeps, declared):
    big = _response(200, b"x" * (network.MAX_BODY + 1))
    if declared:
        big.headers["Content-Length"] = str(network.MAX_BODY + 1)
    net, _session = _network([big])
    with pytest.raises(problems.Refused, match="bytes"):
        net.get(URL)


@pytest.mark.parametrize("target, refused", [
    ("http://ca.test/dir", True), ("HTTP://ca.test/dir", True), ("ftp://ca.test/dir", True),
    ("https://other.test/dir", False), ("/dir2", False),
])
def test_redirects_from_https_may_not_leave_https(target, refused):
    session = network._NoDowngradeSession()
    response = requests.Response()
    response.url = "https://ca.test/dir"
    response.status_code = 302
    response.headers["Location"] = target
    if refused:
        with pytest.raises(problems.Refused, match="refusing to leave https"):
            session.get_redirect_target(response)
    else:
        assert session.get_redirect_target(response) == target


def test_identity_encoding_is_asked_for(sleeps):
    net, session = _network([_response(200, {})])
    net.get(URL)
    assert session.kwargs[0]["headers"]["Accept-Encoding"] == "identity"


@pytest.mark.parametrize("urllib3_read1", [True, False], ids=["urllib3-read1", "http.client-read1"])
def test_bodies_are_read_so_that_the_connection_serves_the_next_request(monkeypatch, urllib3_read1):
    # A real keep-alive server on loopback. Without urllib3's read1 (urllib3 < 2.3, as on Debian 12)
    # the body is read through http.client's; the connection must still go back to the pool ready,
    # or its next request is sent, then refused (ResponseNotReady), and a POST would go out twice.
    import http.server
    import threading

    import urllib3

    if not urllib3_read1:
        for cls in (urllib3.response.HTTPResponse, urllib3.response.BaseHTTPResponse):
            monkeypatch.delattr(cls, "read1")
    clients: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            clients.append(self.client_address)
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        net = network.Network(key=None, user_agent="test")
        for _i in range(3):
            assert net.get(f"http://127.0.0.1:{server.server_address[1]}/x").json() == {"ok": True}
    finally:
        server.shutdown()
        server.server_close()
    assert len(clients) == 3 and len(set(clients)) == 1, clients
