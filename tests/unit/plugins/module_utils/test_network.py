"""Retries on rejected nonces and on Retry-After: tests plugins/module_utils/network.py.

The HTTP session is scripted (the network is what these tests fake around); the signing, nonce
handling and problem parsing in between are the library's, for real.
"""

from __future__ import annotations

import datetime
import json

import josepy as jose
import pytest
import requests
from acme import errors as acme_errors
from acme import messages
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.zerodowntime.acme.plugins.module_utils import network

URL = "https://ca.test/order"
NONCE_URL = "https://ca.test/nonce"


def _response(status: int, body: dict | None = None, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    response.headers["Replay-Nonce"] = jose.b64encode(b"nonce-%d" % id(response)).decode()
    if body is not None:
        response.headers["Content-Type"] = "application/problem+json" if status >= 400 else "application/json"
    response.headers.update(headers)
    return response


def _problem(status: int, code: str, **headers: str) -> requests.Response:
    return _response(status, {"type": f"urn:ietf:params:acme:error:{code}", "detail": code}, **headers)


class _Session:
    """Answers each GET or POST with the next scripted response (a HEAD for a nonce always works),
    and records what was asked."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests: list[tuple[str, str, bytes | None]] = []

    def request(self, method, url, *args, **kwargs):
        if method == "HEAD":
            return _response(200)
        self.requests.append((method, url, kwargs.get("data")))
        return self.answers.pop(0)


@pytest.fixture
def sleeps(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(network.time, "sleep", waited.append)
    return waited


def _network(answers) -> tuple[network.Network, _Session]:
    key = jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))
    net = network.Network(key=key, alg=jose.ES256, user_agent="test")
    session = _Session(answers)
    net.session = session
    return net, session


def _post(net: network.Network) -> requests.Response:
    return net.post(URL, messages.NewOrder(identifiers=(messages.Identifier(typ=messages.IDENTIFIER_FQDN, value="a.test"),)), new_nonce_url=NONCE_URL)


def test_several_rejected_nonces_in_a_row_are_survived(sleeps):
    net, session = _network([_problem(400, "badNonce")] * 3 + [_response(201, {})])
    assert _post(net).status_code == 201
    assert [m for m, _u, _d in session.requests] == ["POST"] * 4
    assert sleeps == []


def test_rejected_nonces_are_retried_a_bounded_number_of_times(sleeps):
    net, session = _network([_problem(400, "badNonce")] * (network.BAD_NONCE_RETRIES + 1))
    with pytest.raises(messages.Error, match="badNonce"):
        _post(net)
    assert len(session.requests) == network.BAD_NONCE_RETRIES + 1


def test_other_problems_are_not_retried(sleeps):
    net, session = _network([_problem(403, "unauthorized"), _response(201, {})])
    with pytest.raises(messages.Error, match="unauthorized"):
        _post(net)
    assert len(session.requests) == 1


def test_a_rate_limited_post_waits_its_retry_after_and_is_signed_anew(sleeps):
    net, session = _network([_problem(429, "rateLimited", **{"Retry-After": "2"}),
                             _response(201, {})])
    assert _post(net).status_code == 201
    assert sleeps == [2.0]
    first, second = session.requests[0][2], session.requests[1][2]
    assert first != second  # a fresh nonce, hence a new signature
    assert net.throttled_until is not None


def test_a_busy_server_on_get_is_waited_out_with_an_http_date(sleeps):
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
    http_date = soon.strftime("%a, %d %b %Y %H:%M:%S GMT")
    net, session = _network([_response(503, None, **{"Retry-After": http_date}), _response(200, {"ok": True})])
    assert net.get(URL).json() == {"ok": True}
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


def test_a_503_without_retry_after_waits_the_default(sleeps):
    net, _session = _network([_response(503), _response(200, {})])
    net.get(URL)
    assert sleeps == [network.DEFAULT_WAIT.total_seconds()]


def test_a_long_retry_after_fails_at_once_and_says_until_when(sleeps):
    net, session = _network([_problem(429, "rateLimited", **{"Retry-After": "3600"})])
    with pytest.raises(messages.Error, match="rateLimited"):
        _post(net)
    assert sleeps == [] and len(session.requests) == 1
    wait = net.throttled_until - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(minutes=59) < wait <= datetime.timedelta(hours=1)


def test_throttling_retries_are_bounded(sleeps):
    busy = [_response(503, None, **{"Retry-After": "1"})] * (network.THROTTLE_RETRIES + 1)
    net, session = _network(busy)
    with pytest.raises(acme_errors.ClientError):
        net.get(URL)
    assert len(sleeps) == network.THROTTLE_RETRIES
    assert len(session.requests) == network.THROTTLE_RETRIES + 1


def test_a_successful_answer_clears_nothing_but_needs_no_wait(sleeps):
    net, _session = _network([_response(200, {})])
    net.get(URL)
    assert net.throttled_until is None and sleeps == []


@pytest.mark.parametrize("value, expected", [
    ("120", datetime.timedelta(seconds=120)),
    ("", datetime.timedelta(seconds=7)),
    ("soon", datetime.timedelta(seconds=7)),
    ("Sun, 29 Nov 2026 12:00:00 GMT", datetime.timedelta(0)),  # in the past: no wait
])
def test_retry_after_values(value, expected):
    now = datetime.datetime(2026, 11, 29, 12, 1, tzinfo=datetime.timezone.utc)
    response = _response(429, None, **{"Retry-After": value})
    assert network.retry_after(response, datetime.timedelta(seconds=7), now) == expected
