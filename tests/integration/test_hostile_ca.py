"""A hostile or broken CA: Pebble 2.10 behind tools/testbed/hostile.py, which rewrites chosen answers.

Every refused answer proves three things: the message says what went wrong, nothing was installed,
and the certificate in place before is intact and still served by nginx.
"""

from __future__ import annotations

import json
import os
import urllib.request
import ssl

import pytest

from tools.testbed import https_check
from tools.testbed.hostile import (Forger, Rule, Upstream, answer, certificates, csr_public_key, drip, pem, record,
                                   reset, rewrite, throttle)

from .conftest import ADDRESS, PROXY_PORT, fqdn, run_module

SERVED = "hostile"
FORGER = Forger()


@pytest.fixture(scope="module")
def served(testbed):
    """A certificate issued by Pebble itself and served by nginx on 443: every attack must leave it."""
    issued = run_module(testbed.args(SERVED))
    assert not issued.get("failed"), issued.get("msg")
    paths = issued["paths"]
    with open(os.path.join(testbed.nginx.sites, f"{SERVED}.conf"), "w") as f:
        f.write(f"server {{ listen {ADDRESS}:443 ssl; server_name {fqdn(SERVED)}; "
                f"ssl_certificate {paths['fullchain']}; ssl_certificate_key {paths['privkey']}; "
                "location / { return 200 'ok'; } }\n")
    testbed.nginx.reload()
    root = os.path.join(testbed.state, "pebble-root.pem")
    with open(root, "wb") as f:
        f.write(testbed.pebble.root_pem())
    return {"serial": issued["serial"], "root": root}


def _state(testbed) -> tuple[str, list[str]]:
    live = os.path.join(testbed.state, "live")
    return os.readlink(os.path.join(live, fqdn(SERVED))), sorted(os.listdir(os.path.join(live, ".versions", fqdn(SERVED))))


def _attack(testbed, proxy, served, rules: list[Rule], **extra) -> str:
    """Renew the served certificate through the proxy with `rules`; return the failure's message,
    after checking that nothing was installed and nginx still serves the same certificate."""
    before = _state(testbed)
    proxy.rules = rules
    result = run_module(testbed.args(SERVED, directory_url=proxy.directory_url, force=True, **extra))
    assert result.get("failed") is True, result
    assert "Traceback" not in result["msg"] and "MODULE FAILURE" not in result["msg"], result["msg"]
    assert _state(testbed) == before, "something was installed"
    assert https_check.check(ADDRESS, fqdn(SERVED), served["root"])["serial"] == served["serial"]
    return result["msg"]


# The certificate the CA sends -------------------------------------------------------------------


def _swap(make_chain):
    """Rules that record the finalize request's CSR, then replace the certificate download."""
    finalized: list = []

    def change(upstream: Upstream, exchange) -> Upstream:
        if upstream.status != 200:  # Pebble's deliberate badNonce answers pass as they are
            return upstream
        return Upstream(upstream.status, upstream.headers, make_chain(upstream.body, finalized))

    # Several times: Pebble rejects 5% of nonces, and the request sent again must meet the same CA.
    return [Rule("POST", "/finalize-order/", record(finalized), times=9),
            Rule("POST", "/certZ/", rewrite(change), times=9)]


def _for_another_key(real: bytes, finalized) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ec

    return FORGER.chain(ec.generate_private_key(ec.SECP256R1()).public_key(), [fqdn(SERVED)])


def _for_other_names(real: bytes, finalized) -> bytes:
    return FORGER.chain(csr_public_key(finalized[-1]), [fqdn("other")])


def _issuer_replaced(real: bytes, finalized) -> bytes:
    return pem(certificates(real)[0]) + pem(FORGER.ca)


def _issuer_impostor(real: bytes, finalized) -> bytes:
    leaf, intermediate = certificates(real)[:2]
    return pem(leaf) + pem(FORGER.impostor_of(intermediate))


def _not_ascii(real: bytes, finalized) -> bytes:
    return real.replace(b"-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----\n\u00e9\n".encode(), 1)


def _broken_body(real: bytes, finalized) -> bytes:
    lines = real.split(b"\n")
    lines[3] = b"*" + lines[3][1:]
    return b"\n".join(lines)


@pytest.mark.parametrize("make_chain, words", [
    (_for_another_key, "for another public key than the private key it goes with"),
    (_for_other_names, f"is for {fqdn('other')}, not for the names ordered ({fqdn(SERVED)})"),
    (_issuer_replaced, "the chain the CA sent is broken: certificate 2 (CN=Hostile Test CA) is not the issuer"),
    (_issuer_impostor, "the signature of certificate 1 does not verify with the key of certificate 2"),
    (_not_ascii, "is not ASCII PEM"),
    (_broken_body, "certificate 1 of the certificate chain the CA sent has a broken PEM body"),
], ids=["another-key", "other-names", "wrong-issuer", "impostor-issuer", "not-ascii", "broken-pem"])
def test_a_certificate_that_does_not_fit_is_never_installed(testbed, proxy, served, make_chain, words):
    message = _attack(testbed, proxy, served, _swap(make_chain))
    assert words in message and "nothing was installed" in message, message


# Answers that break the rules of HTTP and ACME ----------------------------------------------------


def _directory(field: str, value):
    def change(upstream: Upstream, exchange) -> Upstream:
        body = json.loads(upstream.body)
        body[field] = value
        return Upstream(upstream.status, upstream.headers, json.dumps(body).encode())
    return [Rule("GET", "/dir", rewrite(change))]


def test_a_retry_after_of_a_hundred_years_fails_at_once_and_says_when(testbed, proxy, served):
    message = _attack(testbed, proxy, served, [Rule("GET", "/dir", throttle(503, "9" * 40), times=5)])
    assert "fetching the ACME directory failed" in message and "not to be asked again before" in message, message
    assert len(proxy.requests_to("GET", "/dir")) == 1


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_that_keeps_failing_is_given_up_after_three_retries(testbed, proxy, served, status):
    message = _attack(testbed, proxy, served,
                      [Rule("POST", "/order-plz", answer(status, b"<html>gateway trouble</html>"), times=9)])
    assert "placing the order failed" in message and f"answered HTTP {status}" in message, message
    assert len(proxy.requests_to("POST", "/order-plz")) == 4


def test_a_connection_that_keeps_being_reset_is_given_up_after_three_retries(testbed, proxy, served):
    message = _attack(testbed, proxy, served, [Rule("GET", "/dir", reset(), times=9)])
    assert "fetching the ACME directory failed: cannot reach" in message, message
    assert len(proxy.requests_to("GET", "/dir")) == 4


def test_a_body_that_drips_is_cut_off_at_the_timeout(testbed, proxy, served):
    message = _attack(testbed, proxy, served, [Rule("GET", "/dir", drip(0.2))], timeout=3)
    assert "did not send its whole answer in time" in message, message


def test_a_redirect_to_plain_http_is_refused(testbed, proxy, served):
    message = _attack(testbed, proxy, served,
                      [Rule("GET", "/dir", answer(302, Location=f"http://127.0.0.1:{PROXY_PORT}/dir"))])
    assert "refusing to leave https for plain http" in message, message


def test_a_huge_answer_is_refused(testbed, proxy, served):
    huge = b'{"padding": "' + b"x" * (2 << 20) + b'"}'
    message = _attack(testbed, proxy, served, [Rule("GET", "/dir", answer(200, huge, **{"Content-Type": "application/json"}))])
    assert "refusing more than 1048576" in message, message


@pytest.mark.parametrize("field, value, words", [
    ("newOrder", 42, "its newOrder is not an https URL"),
    ("newNonce", "http://127.0.0.1:14000/nonce-plz", "its newNonce is not an https URL"),
])
def test_a_directory_without_usable_urls_is_refused(testbed, proxy, served, field, value, words):
    message = _attack(testbed, proxy, served, _directory(field, value))
    assert words in message, message


def test_a_plain_http_directory_is_refused_before_any_request(testbed, served):
    requests_before = testbed.pebble.request_count()
    result = run_module(testbed.args(SERVED, directory_url=f"http://127.0.0.1:{testbed.pebble.acme_port}/dir",
                                     force=True))
    assert result["failed"] and "RFC 8555 requires ACME over HTTPS" in result["msg"], result
    assert testbed.pebble.request_count() == requests_before


# Trouble that passes ------------------------------------------------------------------------------


def test_passing_trouble_is_retried_and_the_renewal_goes_through(testbed, proxy):
    proxy.rules = [Rule("GET", "/dir", reset()),
                   Rule("POST", "/order-plz", answer(502, b"bad gateway")),
                   Rule("POST", "/order-plz", answer(504, b"gateway timeout")),
                   Rule("GET", "/dir", throttle(503, "soon"))]
    result = run_module(testbed.args("transient", directory_url=proxy.directory_url, force=True))
    assert result["changed"] is True, result.get("msg")
    directory = proxy.requests_to("GET", "/dir")
    assert [s.status for s in directory[:3]] == [0, 503, 200]  # reset, busy, then answered
    orders = [s.status for s in proxy.requests_to("POST", "/order-plz")]
    assert orders[:2] == [502, 504] and orders[-1] == 201, orders


@pytest.mark.parametrize("value", ["soon", "-30", "\u00e9t\u00e9"])
def test_a_retry_after_that_makes_no_sense_counts_as_absent(testbed, proxy, value):
    proxy.rules = [Rule("GET", "/dir", throttle(503, value))]
    result = run_module(testbed.args("transient", directory_url=proxy.directory_url, force=True))
    assert not result.get("failed"), result.get("msg")
    first, second = proxy.requests_to("GET", "/dir")[:2]
    assert (first.status, second.status) == (503, 200)
    assert 1 <= second.at - first.at < 10  # the first pause of the schedule, not the value sent


def test_a_wrong_optional_directory_field_is_dropped_with_a_warning(testbed, proxy):
    proxy.rules = _directory("renewalInfo", 12)
    result = run_module(testbed.args("transient", directory_url=proxy.directory_url, force=True))
    assert result["changed"] is True, result.get("msg")
    assert any("renewalInfo that is not an https URL" in w for w in result.get("warnings", [])), result


# Renewal information (ARI) and `replaces` ---------------------------------------------------------


def _renewal_info_path(testbed) -> str:
    context = ssl.create_default_context(cafile=testbed.pebble.ca_bundle)
    with urllib.request.urlopen(testbed.pebble.directory_url, context=context, timeout=10) as response:
        url = json.load(response)["renewalInfo"]
    return "/" + url.split("/", 3)[3]


@pytest.mark.parametrize("window, words", [
    ({"start": 1700000000, "end": 1700086400}, "without a usable suggestedWindow"),
    ({"start": "2027-01-02T00:00:00Z", "end": "2027-01-01T00:00:00Z"}, "before it starts"),
    ("tomorrow", "without a usable suggestedWindow"),
])
def test_a_malformed_renewal_window_leaves_the_decision_to_the_lifetime(testbed, proxy, window, words):
    issued = run_module(testbed.args("ariproxy", directory_url=proxy.directory_url, profile="default"))
    assert not issued.get("failed"), issued.get("msg")
    folder = os.path.realpath(os.path.dirname(issued["paths"]["cert"]))
    state = json.load(open(os.path.join(folder, "ari.json")))
    state["retry_after"] = "2000-01-01T00:00:00Z"  # time to ask the CA again
    with open(os.path.join(folder, "ari.json"), "w") as f:
        json.dump(state, f)
    body = json.dumps({"suggestedWindow": window}).encode()
    proxy.rules = [Rule("GET", _renewal_info_path(testbed), answer(200, body, **{"Content-Type": "application/json"}))]
    result = run_module(testbed.args("ariproxy", directory_url=proxy.directory_url, profile="default"))
    assert result["changed"] is False and result["serial"] == issued["serial"], result
    warnings = " ".join(result.get("warnings", []))
    assert "could not refresh the renewal window (ARI)" in warnings and words in warnings, warnings


def test_replaces_refused_as_unauthorized_is_ordered_again_without_it(testbed, proxy):
    issued = run_module(testbed.args("replacesproxy", directory_url=proxy.directory_url, profile="default"))
    assert not issued.get("failed"), issued.get("msg")
    orders: list = []
    refusal = json.dumps({"type": "urn:ietf:params:acme:error:unauthorized",
                          "detail": "the account is not the one that holds the certificate"}).encode()

    def refuse(exchange) -> None:
        orders.append(exchange.jws_payload())
        answer(403, refusal, **{"Content-Type": "application/problem+json"})(exchange)

    proxy.rules = [Rule("POST", "/order-plz", refuse)]
    result = run_module(testbed.args("replacesproxy", directory_url=proxy.directory_url, profile="default",
                                     force=True))
    assert result["changed"] is True and "replaces" not in result, result
    assert orders and "replaces" in orders[0]
    assert any("refused the order that replaces" in w and "unauthorized" in w for w in result.get("warnings", []))
