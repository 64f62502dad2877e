"""Certificates for IP addresses (RFC 8738) from Pebble 2.10, validated over http-01 for real: the CA
fetches http://127.0.0.5/ and http://[::1]/ from nginx."""

from __future__ import annotations

import datetime
import json
import os
import socket
import ssl

import pytest
from cryptography import x509

from ansible_collections.zerodowntime.acme.plugins.module_utils import cli
from tools.testbed.procs import wait_for_port

from .conftest import fqdn, run_module

IPV4 = "127.0.0.5"
IPV6 = "::1"


@pytest.fixture(scope="module")
def served(testbed):
    """nginx answers the challenge on 127.0.0.5:80 and [::1]:80; the sites it serves over HTTPS
    with each certificate are added by the tests. Everything goes at the end."""
    sites = []

    def site(name: str, text: str) -> None:
        path = os.path.join(testbed.nginx.sites, f"{name}.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        sites.append(path)
        testbed.nginx.reload()

    site("ip-challenge", f"server {{ listen {IPV4}:80; listen [{IPV6}]:80; server_name _; "
                         f"location ^~ /.well-known/acme-challenge/ {{ root {testbed.webroot}; default_type text/plain; }} }}\n")
    yield site
    for path in sites:
        os.unlink(path)
    testbed.nginx.reload()


def _root(testbed) -> str:
    path = os.path.join(testbed.state, "pebble-root.pem")
    with open(path, "wb") as f:
        f.write(testbed.pebble.root_pem())
    return path


def _serve_and_fetch(testbed, served, result: dict, address: str) -> x509.Certificate:
    """Serve the certificate on address:443 and connect as a client that checks the address."""
    listen = f"[{address}]" if ":" in address else address
    served(result["name"], f"server {{ listen {listen}:443 ssl; ssl_certificate {result['paths']['fullchain']}; "
                           f"ssl_certificate_key {result['paths']['privkey']}; location / {{ return 200 'ok'; }} }}\n")
    wait_for_port(address, 443)
    context = ssl.create_default_context(cafile=_root(testbed))  # checks the IP SAN against `address`
    with socket.create_connection((address, 443), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=address) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def _lifetime(result: dict) -> datetime.timedelta:
    return _parse(result["not_after"]) - _parse(result["not_before"])


def _parse(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ip_args(testbed, *domains: str, **extra) -> dict:
    return testbed.args("unused", domains=list(domains), **extra)


def test_an_ipv4_certificate_is_issued_in_shortlived_served_by_nginx_and_not_ordered_again(testbed, served):
    issued = run_module(_ip_args(testbed, IPV4))
    assert issued["changed"] is True, issued
    assert issued["name"] == "ip-127-0-0-5" and issued["domains"] == [IPV4]
    # No profile given: the CA offers shortlived, so the order asked for it, and the module says so.
    assert any("asked for 'shortlived'" in w for w in issued.get("warnings", [])), issued
    assert datetime.timedelta(hours=159) <= _lifetime(issued) <= datetime.timedelta(hours=161)
    leaf = _serve_and_fetch(testbed, served, issued, IPV4)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == [IPV4]
    assert san.get_values_for_type(x509.DNSName) == []
    assert format(leaf.serial_number, "x") == issued["serial"]

    requests_before = testbed.pebble.request_count()
    again = run_module(_ip_args(testbed, IPV4))
    assert again["changed"] is False and again["serial"] == issued["serial"], again
    assert testbed.pebble.request_count() == requests_before
    # Renewed around the middle of its life (Pebble's ARI window, or the half-life rule).
    due = (_parse(again["renew_at"]) - _parse(again["not_before"])) / _lifetime(again)
    assert 0.4 <= due <= 0.8, due


@pytest.mark.controller_independent  # the host CLI in-process
def test_cron_renews_the_ip_certificate_when_its_renewal_time_comes_and_not_before(testbed, served, tmp_path):
    current = run_module(_ip_args(testbed, IPV4))  # issued by the test above, or now when run alone
    config = tmp_path / "config"
    (config / "certificates").mkdir(parents=True)
    options = dict(_ip_args(testbed, IPV4), name=current["name"])
    (config / "certificates" / f"{current['name']}.json").write_text(json.dumps(options))
    nginx = ["nginx", "-p", testbed.nginx.prefix, "-c", testbed.nginx.conf]
    (config / "renew.json").write_text(json.dumps({"validate": [*nginx, "-t", "-q"], "reload": [*nginx, "-s", "reload"]}))
    renew_at = _parse(current["renew_at"])

    before = (renew_at - datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli.main(["--config-dir", str(config), "--now", before, "renew"]) == 0
    assert run_module(_ip_args(testbed, IPV4))["serial"] == current["serial"]

    after = (renew_at + datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli.main(["--config-dir", str(config), "--now", after, "renew"]) == 0
    renewed = run_module(_ip_args(testbed, IPV4))
    assert renewed["serial"] != current["serial"] and renewed["domains"] == [IPV4]


def test_an_ipv6_certificate_is_validated_over_ipv6_and_served(testbed, served):
    issued = run_module(_ip_args(testbed, IPV6))
    assert issued["changed"] is True, issued
    assert issued["name"] == "ip6-0-0-0-0-0-0-0-1" and issued["domains"] == [IPV6]
    leaf = _serve_and_fetch(testbed, served, issued, IPV6)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == [IPV6]


def test_dns_names_and_addresses_in_one_certificate(testbed, served):
    issued = run_module(_ip_args(testbed, fqdn("withip"), IPV4, profile="default"))
    assert issued["changed"] is True, issued
    assert issued["name"] == fqdn("withip") and issued["domains"] == [fqdn("withip"), IPV4]
    # A profile given is kept: no shortlived, no warning about it.
    assert not any("shortlived" in w for w in issued.get("warnings", []))
    assert datetime.timedelta(days=89) <= _lifetime(issued) <= datetime.timedelta(days=91)
    assert run_module(_ip_args(testbed, fqdn("withip"), IPV4, profile="default"))["changed"] is False


def test_a_wrong_answer_on_the_address_fails_the_self_check_before_the_ca_validates(testbed, served):
    # An address no test validates (Pebble reuses valid authorizations, which skip the challenge).
    unserved = "127.0.0.6"
    wrong = os.path.join(testbed.nginx.sites, "ip-wrong.conf")
    with open(wrong, "w", encoding="utf-8") as f:
        f.write(f"server {{ listen {unserved}:80; location / {{ return 404; }} }}\n")
    testbed.nginx.reload()
    try:
        result = run_module(_ip_args(testbed, unserved))
    finally:
        os.unlink(wrong)
        testbed.nginx.reload()
    assert result.get("failed") is True, result
    assert f"http://{unserved}/.well-known/acme-challenge/" in result["msg"] and "HTTP 404" in result["msg"]
    assert "No challenge was answered" in result["msg"]
    assert not os.path.exists(os.path.join(testbed.state, "live", "ip-127-0-0-6"))
