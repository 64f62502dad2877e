"""The parts of the ACME session that are ours, not the library's: tests plugins/module_utils/client.py.

The protocol itself is exercised against a real Pebble in tests/integration.
"""

from __future__ import annotations

import pytest
from acme import messages

from ansible_collections.zerodowntime.acme.plugins.module_utils import client, keys
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import CAError, ChallengeError


def test_the_account_key_becomes_the_jwk_of_its_type(tmp_path):
    path = tmp_path / "accounts" / "ca.pem"
    jwk, alg = client._account_jwk(str(path))
    assert alg.name == "ES256"
    assert client._account_jwk(str(path))[0].thumbprint() == jwk.thumbprint()
    rsa = tmp_path / "rsa.pem"
    rsa.write_bytes(keys.to_pem(keys.generate("rsa2048")))
    assert client._account_jwk(str(rsa))[1].name == "RS256"


def _bare_session() -> client.Session:
    session = object.__new__(client.Session)
    session.directory_url = "https://ca.test/dir"
    session.warnings = []
    return session


GOOD = {"newNonce": "https://ca.test/nonce", "newAccount": "https://ca.test/acct", "newOrder": "https://ca.test/order"}


@pytest.mark.parametrize("answer, words", [
    (["not", "an", "object"], "not a JSON object"),
    ({"newAccount": "https://ca.test/acct", "newOrder": "https://ca.test/order"}, "newNonce is missing"),
    (dict(GOOD, newOrder=42), "newOrder is not an https URL"),
    (dict(GOOD, newOrder="http://ca.test/order"), "newOrder is not an https URL"),
    (dict(GOOD, newAccount="https://ca.test/acct\nX: y"), "newAccount is not an https URL"),
])
def test_a_directory_without_usable_required_urls_is_a_ca_error(answer, words):
    with pytest.raises(CAError, match=words):
        _bare_session()._checked_directory(answer)


@pytest.mark.parametrize("field, value", [
    ("renewalInfo", 12), ("renewalInfo", "not a url"), ("keyChange", ["x"]),
    ("meta", "text"), ("meta", {"profiles": ["classic"]}), ("meta", {"externalAccountRequired": "yes"}),
    ("meta", {"termsOfService": {"url": "x"}}),
])
def test_a_wrong_optional_field_is_dropped_with_a_warning(field, value):
    session = _bare_session()
    checked = session._checked_directory(dict(GOOD, **{field: value}))
    assert field not in checked or checked[field] == {}
    assert len(session.warnings) == 1 and "ignored" in session.warnings[0]


def test_a_good_directory_is_kept_whole():
    meta = {"profiles": {"classic": "90 days"}, "externalAccountRequired": False}
    answer = dict(GOOD, renewalInfo="https://ca.test/ari", meta=meta)
    session = _bare_session()
    assert session._checked_directory(answer) == answer and session.warnings == []


@pytest.mark.parametrize("body", [None, [], {"contact": "mailto:a@x.test"}, {"contact": [1]}, {"status": 3}])
def test_an_account_answer_of_the_wrong_shape_is_a_ca_error(body):
    with pytest.raises(CAError, match="not an ACME account object"):
        client._account("https://ca.test/acct/1", body)


class _Answers:
    """Stands in for the library's ClientV2 transport: each POST-as-GET gets the next JSON answer."""

    def __init__(self, *bodies):
        self.bodies = list(bodies)

    def _post_as_get(self, url):
        import json

        import requests

        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]).encode()
        return response


CHALLENGE_URL = "https://ca.test/chall/1"


def _authz(authz_status: str, challenge_status: str, error: dict | None = None) -> dict:
    challenge = {"type": "http-01", "url": CHALLENGE_URL, "status": challenge_status, "token": "a" * 43}
    if error:
        challenge["error"] = error
    return {"identifier": {"type": "dns", "value": "a.example"}, "status": authz_status, "challenges": [challenge]}


def _polling_session(answers: _Answers, seconds: float) -> client.Session:
    import time
    import types

    session = _bare_session()
    session._client = answers
    session._net = types.SimpleNamespace(throttled_until=None)
    session.timeout = int(seconds) or 1
    session.deadline = time.monotonic() + seconds
    return session


def _pending(session: client.Session) -> client.Pending:
    challb = messages.ChallengeBody.from_json({"type": "http-01", "url": CHALLENGE_URL, "status": "pending",
                                               "token": "a" * 43})
    return client.Pending("a.example", "a" * 43, "key-authz", "https://ca.test/authz/1", challb)


REFUSED = {"type": "urn:ietf:params:acme:error:unauthorized", "detail": "404 for /.well-known/acme-challenge/x"}


@pytest.mark.parametrize("authz_status, challenge_status", [
    ("pending", "invalid"),  # Caddy and step-ca: the authorization stays pending
    ("pending", "pending"),  # an error on a challenge back to pending: the CA will not try again by itself
    ("invalid", "invalid"),  # Let's Encrypt, Pebble
])
def test_a_failed_challenge_is_final_at_once(authz_status, challenge_status):
    session = _polling_session(_Answers(_authz(authz_status, challenge_status, REFUSED)), seconds=60)
    with pytest.raises(ChallengeError, match="could not validate a.example: unauthorized: 404 for"):
        session.wait_valid(_pending(session))


def test_a_challenge_still_processing_is_waited_for_and_its_error_named_at_the_timeout(monkeypatch):
    monkeypatch.setattr(client.time, "sleep", lambda seconds: None)
    session = _polling_session(_Answers(_authz("pending", "processing", REFUSED)), seconds=0.5)
    with pytest.raises(CAError) as failure:
        session.wait_valid(_pending(session))
    message = str(failure.value)
    assert "did not validate a.example (the challenge reports unauthorized: 404 for" in message
    assert "within the timeout" in message


def test_a_valid_authorization_ends_the_wait(monkeypatch):
    monkeypatch.setattr(client.time, "sleep", lambda seconds: None)
    session = _polling_session(_Answers(_authz("pending", "processing"), _authz("valid", "valid")), seconds=30)
    session.wait_valid(_pending(session))
    assert session._client.bodies == [_authz("valid", "valid")]


class _Clock:
    """time.sleep and time.monotonic for the polling schedule: sleeping moves the clock."""

    def __init__(self, monkeypatch):
        self.now = 1000.0
        self.sleeps = []
        monkeypatch.setattr(client.time, "monotonic", lambda: self.now)
        monkeypatch.setattr(client.time, "sleep", self.sleep)

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


class _Polls(_Answers):
    """Counts the polls, and answers with a Retry-After header when given one."""

    def __init__(self, *bodies, retry_after=None):
        super().__init__(*bodies)
        self.polls = 0
        self.retry_after = retry_after

    def _post_as_get(self, url):
        self.polls += 1
        response = super()._post_as_get(url)
        if self.retry_after is not None:
            response.headers["Retry-After"] = self.retry_after
        return response


def _session_at(clock, answers, seconds):
    session = _polling_session(answers, seconds)
    session.deadline = clock.now + seconds
    return session


def test_the_first_poll_goes_out_at_once_then_the_pauses_double_from_a_tenth_of_a_second_up_to_two(monkeypatch):
    clock = _Clock(monkeypatch)
    answers = _Polls(*[_authz("pending", "processing")] * 8, _authz("valid", "valid"))
    session = _session_at(clock, answers, 300)
    session.wait_valid(_pending(session))
    assert answers.polls == 9
    assert clock.sleeps == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]


def test_a_valid_answer_at_the_first_poll_costs_no_sleep(monkeypatch):
    clock = _Clock(monkeypatch)
    answers = _Polls(_authz("valid", "valid"))
    session = _session_at(clock, answers, 300)
    session.wait_valid(_pending(session))
    assert answers.polls == 1 and clock.sleeps == []


def test_the_cas_retry_after_wins_over_the_schedule(monkeypatch):
    clock = _Clock(monkeypatch)
    answers = _Polls(_authz("pending", "processing"), _authz("pending", "processing"), _authz("valid", "valid"),
                     retry_after="3")
    session = _session_at(clock, answers, 300)
    session.wait_valid(_pending(session))
    assert clock.sleeps == [3.0, 3.0]


@pytest.mark.parametrize("seconds, words, sleeps", [
    (3600, "did not validate a.example after 20 polls", [0.1, 0.2, 0.4, 0.8, 1.6] + [2.0] * 14),  # the bound
    (5, "within the timeout", [0.1, 0.2, 0.4, 0.8, 1.6]),  # no pause runs past the deadline
])
def test_an_authorization_that_stays_pending_is_polled_at_most_twenty_times_within_the_deadline(
        monkeypatch, seconds, words, sleeps):
    clock = _Clock(monkeypatch)
    answers = _Polls(_authz("pending", "processing"))
    session = _session_at(clock, answers, seconds)
    with pytest.raises(CAError, match=words):
        session.wait_valid(_pending(session))
    assert clock.sleeps == sleeps and answers.polls == len(sleeps) + 1 <= client.MAX_POLLS == 20


def _order(status, certificate=None):
    body = {"status": status, "identifiers": [{"type": "dns", "value": "a.example"}],
            "authorizations": ["https://ca.test/authz/1"], "finalize": "https://ca.test/order/1/finalize"}
    if certificate:
        body["certificate"] = certificate
    return body


def _finalizing(monkeypatch, *polled, seconds=300):
    """A session whose finalize request answers "processing", then `polled` at each poll."""
    import json

    import requests

    clock = _Clock(monkeypatch)
    answers = _Polls(*polled)

    def post(url, obj):  # the finalize request
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(_order("processing")).encode()
        return response

    answers._post = post
    order = messages.OrderResource(body=messages.Order.from_json(_order("ready")), uri="https://ca.test/order/1")
    return clock, answers, _session_at(clock, answers, seconds), order


def test_an_order_still_processing_is_polled_at_once_then_on_the_same_schedule(monkeypatch):
    clock, answers, session, order = _finalizing(monkeypatch, *[_order("processing")] * 3,
                                                 _order("valid", "https://ca.test/cert/1"))
    session.finalize(order, b"csr")
    # The finalize answer says processing: a poll at once (a fast CA has issued by then), two more
    # processing polls, the valid one, then the certificate's download.
    assert clock.sleeps == [0.1, 0.2, 0.4] and answers.polls == 5


def test_an_order_that_stays_processing_is_polled_at_most_twenty_times(monkeypatch):
    clock, answers, session, order = _finalizing(monkeypatch, _order("processing"), seconds=3600)
    with pytest.raises(CAError, match="did not issue the certificate after 20 polls"):
        session.finalize(order, b"csr")
    assert answers.polls == client.MAX_POLLS and clock.sleeps == [0.1, 0.2, 0.4, 0.8, 1.6] + [2.0] * 14
